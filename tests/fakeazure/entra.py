"""Sign-in failures as Microsoft Entra ID answers them, as `Fault`s for the fake's sign-in endpoints.

Entra ID's token endpoint answers an error with the OAuth 2.0 error body (RFC 6749 section 5.2: `error`,
`error_description`) plus its own fields: `error_codes`, `timestamp`, `trace_id`, `correlation_id`,
`error_uri`; the description starts with "AADSTS<code>: " (learn.microsoft.com, "Microsoft Entra
authentication and authorization error codes"). `invalid_client` is answered with 401, the others with 400.
An unknown tenant already fails at OpenID discovery (`/<tenant>/v2.0/.well-known/openid-configuration`).
"""

from __future__ import annotations

from typing import Any

from tests.fakeazure.server import CLIENT_ID, TENANT, Fault

TOKEN = r"/oauth2/v2\.0/token$"
DISCOVERY = r"/v2\.0/\.well-known/openid-configuration$"

# AADSTS code -> (HTTP status, error, description, path), descriptions as Entra ID words them
CAUSES: dict[int, tuple[int, str, str, str]] = {
    7000215: (401, "invalid_client", "Invalid client secret provided. Ensure the secret being sent in the request is "
              f"the client secret value, not the client secret ID, for a secret added to app '{CLIENT_ID}'.", TOKEN),
    7000222: (401, "invalid_client", f"The provided client secret keys for app '{CLIENT_ID}' are expired. Visit the "
              "Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using "
              "certificate credentials for added security: https://aka.ms/certCreds.", TOKEN),
    700016: (400, "unauthorized_client", f"Application with identifier '{CLIENT_ID}' was not found in the directory "
             f"'{TENANT}'. This can happen if the application has not been installed by the administrator of the "
             "tenant or consented to by any user in the tenant. You may have sent your authentication request to "
             "the wrong tenant.", TOKEN),
    90002: (400, "invalid_tenant", f"Tenant '{TENANT}' not found. Check to make sure you have the correct tenant ID "
            "and are signing into the correct cloud. Check with your subscription administrator, this may happen "
            "if there are no active subscriptions for the tenant.", DISCOVERY),
    65001: (400, "invalid_grant", f"The user or administrator has not consented to use the application with ID "
            f"'{CLIENT_ID}' named 'loomctl-ci'. Send an interactive authorization request for this user and "
            "resource.", TOKEN),
}


def error_body(code: int, error: str, description: str) -> dict[str, Any]:
    trace, corr = "0f5a1d2e-8c1b-4e57-9a0b-5c3d2e1f0a00", "6b7c8d9e-0f1a-4b2c-8d3e-4f5a6b7c8d9e"
    stamp = "2026-01-15 10:20:30Z"
    return {"error": error,
            "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {corr} "
                                 f"Timestamp: {stamp}",
            "error_codes": [code], "timestamp": stamp, "trace_id": trace, "correlation_id": corr,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}"}


def sign_in_fault(code: int) -> Fault:
    """A Fault that makes the sign-in fail with AADSTS `code` (one of `CAUSES`), as Entra ID answers it."""
    status, error, description, path = CAUSES[code]
    return Fault(path, status=status, body=error_body(code, error, description))
