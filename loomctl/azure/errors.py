"""Azure SDK, sign-in, network and TLS exceptions as one line and a hint (imported only on error)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

from loomctl.azure.signin import sign_in_error
from loomctl.core import errors as core
from loomctl.core.errors import AuthError, AzureError, ExitCode, LoomError, NetworkError

_RESOURCE_NAMES = {
    "resourcegroups": "resource group",
    "managedenvironments": "Container Apps environment",
    "containerapps": "container app",
    "revisions": "revision",
    "replicas": "replica",
    "storages": "environment storage",
    "storageaccounts": "storage account",
    "shares": "file share",
    "workspaces": "Log Analytics workspace",
    "subscriptions": "subscription",
}


class OperationFailed(AzureError):
    """Azure answered with a success status but the SDK raised: a long-running operation that ended Failed or
    Canceled (azure-core raises with the last poll's response), or a body it could not read. The message is the
    one for the answer; `failure` is the SDK's own first line (the operation's error)."""

    def __init__(self, message: str, hint: str | None = None, *, failure: str = "", reason: str = ""):
        super().__init__(message, hint)
        self.failure = failure
        self.reason = reason  # the operation's own error, "CODE: message", when Azure gave one


_OPERATION_HINT = ("Azure's own error says why; `loomctl status` shows the resource as it is now, and "
                   "`loomctl deploy status` its revisions")


def describe_resource(url: str) -> tuple[str, str, str]:
    """From an ARM URL: (kind, name, scope). E.g. ("container app", "gun-relay", "/subscriptions/.../rg")."""
    path = urlparse(url).path
    parts = [p for p in path.split("/") if p]
    kind, name = "resource", path
    for i in range(len(parts) - 1):
        key = parts[i].lower()
        if key in _RESOURCE_NAMES:
            kind, name = _RESOURCE_NAMES[key], parts[i + 1]
    scope = path
    m = re.match(r"(/subscriptions/[^/]+(/resourceGroups/[^/]+)?)", path, re.I)
    if m:
        scope = m.group(1)
    return kind, name, scope


def could_not_read(exc: BaseException) -> bool:
    """The error says loomctl could not read Azure (sign-in, permission, throttling, a service or network failure,
    an answer that is not the resource), so a check failing with it judged nothing: the run ends as an Azure
    access error (exit 3), not as a finding. A 404 is a finding: the resource is not there."""
    from loomctl.core.errors import AuthError, NetworkError

    if isinstance(exc, (AuthError, NetworkError)):
        return True
    own = getattr(exc, "unreadable", None)  # an error class may say for itself (an exec session: the replica's state)
    if own is not None:
        return bool(own)
    if isinstance(exc, OperationFailed):  # an operation that ended Failed is Azure's verdict; a body not read is not
        return not exc.reason
    if not isinstance(exc, AzureError):
        return False
    return exc.status != 404


def not_the_resource(what: str, expected: str) -> AzureError:
    """A 2xx whose JSON is not what was asked for (a list, null, no name: a proxy or another API answered)."""
    return AzureError(f"Azure answered for {what} with JSON that is not {expected}",
                      "a proxy or endpoint may be answering instead of Azure; check LOOMCTL_ARM_ENDPOINT, "
                      "or run with --debug")


def http_error(status: int, url: str, method: str = "GET", code: str | None = None, detail: str | None = None,
               retry_after: str | None = None) -> AzureError:
    kind, name, scope = describe_resource(url)
    detail = f": {detail}" if detail else ""
    if status == 401:
        return AzureError(f"Azure rejected the sign-in for {kind} '{name}' (401){detail}",
                          "sign in again with `az login` (or check AZURE_CLIENT_ID/AZURE_CLIENT_SECRET); "
                          "`loomctl config logout` drops the tokens loomctl kept",
                          status=status, code=code)
    if status == 403:
        return AzureError(
            f"access denied to {kind} '{name}' (403{', ' + code if code else ''})",
            f"ask for the Reader role (or 'Container Apps Reader') on scope {scope}; "
            "check the subscription with --subscription",
            status=status, code=code)
    if status == 404:
        flag = {"resource group": "-g/--resource-group", "Container Apps environment": "--environment",
                "container app": "--relay-app/--node-app", "subscription": "--subscription"}.get(kind, "the name")
        return AzureError(f"{kind} '{name}' not found{detail}",
                          f"check {flag} and the subscription; list what exists with `az resource list -g <group>`",
                          status=status, code=code)
    if status == 429:
        wait = f" (the server asked to wait {retry_after} s)" if retry_after else ""
        return AzureError(f"Azure throttled requests to {kind} '{name}' (429) and retries did not help{wait}",
                          "wait a minute and try again; other tools in the same subscription share the quota",
                          status=status, code=code)
    if status >= 500:
        return AzureError(f"Azure answered {status} for {method} {kind} '{name}' after retries{detail}",
                          "a service-side problem: try again shortly and check https://azure.status.microsoft",
                          status=status, code=code)
    return AzureError(f"Azure answered {status} for {method} {kind} '{name}'{detail}",
                      "run again with --debug to see the request and response", status=status, code=code)


def map_exception(exc: BaseException) -> LoomError | None:
    try:
        from azure.core import exceptions as ce
    except ImportError:  # pragma: no cover
        ce = None  # type: ignore[assignment]
    name = type(exc).__name__
    text = str(exc)

    if name == "CredentialUnavailableError" or (ce and isinstance(exc, ce.ClientAuthenticationError)
                                                  and getattr(exc, "status_code", None) is None):
        first = text.strip().splitlines()[0] if text.strip() else name
        if core.is_tls(exc):
            return NetworkError(f"TLS verification failed while signing in: {first[:200]}",
                                "if a proxy or private cloud uses its own CA, set REQUESTS_CA_BUNDLE to its PEM file")
        if (cause := sign_in_error(text)) is not None:
            return cause
        return AuthError(
            "not signed in to Azure: no credential could get a token",
            "run `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service "
            "principal, or run where a managed or workload identity is available")

    if ce is not None and isinstance(exc, ce.HttpResponseError) and getattr(exc, "status_code", None):
        resp = getattr(exc, "response", None)
        url = str(getattr(getattr(resp, "request", None), "url", "") or "")
        method = str(getattr(getattr(resp, "request", None), "method", "GET") or "GET")
        retry_after = resp.headers.get("Retry-After") if resp is not None and hasattr(resp, "headers") else None
        err = getattr(exc, "error", None)
        code = getattr(err, "code", None)
        message = getattr(err, "message", None)
        if int(exc.status_code) < 400 and (code or message):  # a long-running operation that ended Failed
            reason = ": ".join(str(p).strip() for p in (code, message) if p)[:300]
            return OperationFailed(f"Azure could not finish the operation: {reason}", _OPERATION_HINT,
                                   failure=(text.strip().splitlines() or [""])[0][:300], reason=reason)
        if int(exc.status_code) < 400:  # a 2xx whose body could not be read
            kind, name, _ = describe_resource(url)
            return OperationFailed(f"Azure returned a response for {kind} '{name}' that is not valid JSON",
                                   "a proxy or endpoint may be answering instead of Azure; check "
                                   "LOOMCTL_ARM_ENDPOINT, or run with --debug",
                                   failure=(text.strip().splitlines() or [""])[0][:300])
        if isinstance(exc, ce.ClientAuthenticationError) and not url:
            return sign_in_error(text) or AuthError("Azure rejected the sign-in", "sign in again with `az login`")
        return http_error(int(exc.status_code), url, method, code, (message or "").strip()[:200] or None, retry_after)

    if ce is not None and isinstance(exc, ce.DecodeError):
        return AzureError("Azure returned a response that is not valid JSON",
                          "a proxy or endpoint may be answering instead of Azure; check LOOMCTL_ARM_ENDPOINT, "
                          "or run with --debug")

    if ce is not None and not core.is_tls(exc):
        if isinstance(exc, (ce.ServiceResponseError, ce.ServiceResponseTimeoutError)):
            return core.timeout_error(text)
        if isinstance(exc, ce.ServiceRequestError) and "timed out" not in text.lower():
            return core.connect_error(text)
    mapped = core.network_error(exc)
    if mapped is not None:
        return mapped

    if ce is not None and isinstance(exc, ce.AzureError):
        return AzureError(f"Azure error: {text.splitlines()[0][:200] if text else name}",
                          "run again with --debug for details")
    return None


def map_known(exc: BaseException) -> LoomError | None:
    """An Azure SDK, sign-in, HTTP-library or network exception as a LoomError, else None."""
    if (limit := core.fd_limit_in(exc)) is not None:  # whatever failed to open: this machine's limit
        return core.fd_limit_error(limit)
    root = type(exc).__module__.split(".")[0]
    if root in ("azure", "msal", "requests", "urllib3", "ssl", "socket") or isinstance(exc, (OSError, TimeoutError)):
        return map_exception(exc)
    return None


def as_loom_error(exc: BaseException) -> LoomError:
    """Any exception as a LoomError: Azure SDK exceptions here, everything else by `loomctl.core.errors`."""
    if isinstance(exc, LoomError):
        return exc
    return map_known(exc) or core.as_loom_error(exc)


def describe(exc: BaseException) -> tuple[str, str | None]:
    """The one-line message and the hint for any exception, as the CLI reports it (for a result that carries
    an error instead of ending the command: a failed check, a lost log stream)."""
    err = as_loom_error(exc)
    return err.message, err.hint


@contextmanager
def sdk_errors() -> Iterator[None]:
    """Exceptions of the Azure SDK (and the network under it) raised inside become LoomErrors: an error answer
    is an AzureError with `.status` and `.code`. Anything else passes through unchanged."""
    try:
        yield
    except LoomError:
        raise
    except Exception as exc:
        mapped = map_known(exc)
        if mapped is None:
            raise
        raise mapped from exc


__all__ = ["OperationFailed", "map_exception", "map_known", "as_loom_error", "describe", "sdk_errors", "http_error",
           "describe_resource", "ExitCode"]
