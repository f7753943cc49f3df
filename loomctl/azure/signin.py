"""A failed sign-in as its cause: Microsoft Entra ID names it with an AADSTS code in the error description
("AADSTS7000215: Invalid client secret provided. ..."), which azure-identity keeps in its
ClientAuthenticationError text ("EnvironmentCredential: Authentication failed: AADSTS7000215: ...").
An unknown tenant fails earlier, at OpenID discovery, where MSAL drops the code ("Unable to get authority
configuration for https://login.microsoftonline.com/<tenant>").
"""

from __future__ import annotations

import re

from loomctl.core.errors import AuthError

# AADSTS code -> (what is wrong, how to fix it). Codes and meanings: learn.microsoft.com, "Microsoft Entra
# authentication and authorization error codes".
CAUSES: dict[str, tuple[str, str]] = {
    "7000215": ("the client secret is not valid",
                "set AZURE_CLIENT_SECRET to the secret's value (not its ID); a new one: "
                "`az ad app credential reset --id <client id> --append`"),
    "7000222": ("the client secret has expired",
                "create a new secret (`az ad app credential reset --id <client id> --append`) and set "
                "AZURE_CLIENT_SECRET to it"),
    "700016": ("no application with this client id in the tenant",
               "check AZURE_CLIENT_ID (the app registration's application (client) ID) and AZURE_TENANT_ID"),
    "90002": ("the tenant was not found",
              "check AZURE_TENANT_ID (`az account show --query tenantId`); for a national cloud set "
              "AZURE_AUTHORITY_HOST"),
    "65001": ("the application has no consent to sign in to Azure Resource Manager",
              "an administrator grants consent for the app registration (`az ad app permission admin-consent "
              "--id <client id>`)"),
    "50034": ("the user account does not exist in the tenant",
              "sign in with an account of this tenant (`az login --tenant <tenant>`), or check AZURE_TENANT_ID"),
    "50126": ("the user name or password is wrong",
              "check AZURE_USERNAME and AZURE_PASSWORD, or sign in with `az login`"),
    "50076": ("the tenant requires multi-factor authentication for this sign-in",
              "sign in interactively with `az login`, or use a service principal or managed identity"),
    "700082": ("the saved sign-in has expired",
               "sign in again with `az login`"),
}

_CODE = re.compile(r"AADSTS(\d+)")
_APP = re.compile(r"identifier '([^']+)' was not found in the directory '([^']+)'")
_DISCOVERY = re.compile(r"Unable to get authority configuration for (\S+?)\.?\s")


def sign_in_error(text: str) -> AuthError | None:
    """The sign-in failure named in an azure-identity error text, as an AuthError with its cause and fix (its
    `.code` is "AADSTS<n>"), else None."""
    m = _CODE.search(text)
    if m is None and (d := _DISCOVERY.search(text)) is not None:  # an unknown tenant, before any token request
        tenant = d.group(1).rstrip("/").rsplit("/", 1)[-1]
        what, fix = CAUSES["90002"]
        return _error(f"Azure sign-in failed: {what} (tenant '{tenant}')", fix, "AADSTS90002")
    if m is None:
        return None
    code = m.group(1)
    if code in CAUSES:
        what, fix = CAUSES[code]
        if code == "700016" and (app := _APP.search(text)) is not None:
            what = f"no application with client id '{app.group(1)}' in tenant '{app.group(2)}'"
        return _error(f"Azure sign-in failed: {what} (AADSTS{code})", fix, f"AADSTS{code}")
    said = text[m.start():].split("\n")[0].split(". ")[0].rstrip(".")
    return _error(f"Azure sign-in failed: {said[:200]}",
                  f"see https://login.microsoftonline.com/error?code={code} for the cause and its fix",
                  f"AADSTS{code}")


def _error(message: str, hint: str, code: str) -> AuthError:
    from loomctl.core import environment

    if (client := environment.get("AZURE_CLIENT_ID")) and "<client id>" in hint:
        hint = hint.replace("<client id>", client)  # the fix as it can be typed
    err = AuthError(message, hint)
    err.code = code
    return err
