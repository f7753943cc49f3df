"""Credential, request pipelines and Azure SDK clients for one command, built lazily from the resolved settings.

Reads (`arm_get`, `arm_post`, `arm_list`, and Log Analytics through `pipeline`) go over azure-core's pipeline
(azure/rest.py); the management SDK is built only for writes (`containerapps`). Every Azure import lives inside a
function here so that importing loomctl stays cheap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from loomctl.core import environment
from loomctl.core.clouds import is_public_authority
from loomctl.core.errors import ConfigError
from loomctl.core.once import OncePerKey

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.core.settings import Settings


def http_timeout() -> float:
    return environment.get("LOOMCTL_HTTP_TIMEOUT")


def client_kwargs() -> dict[str, Any]:
    """Transport settings shared by every client: bounded retries (429/5xx honour Retry-After) and timeouts."""
    kwargs: dict[str, Any] = {
        "retry_total": environment.get("LOOMCTL_RETRIES"),
        "retry_backoff_factor": environment.get("LOOMCTL_RETRY_BACKOFF"),
        "retry_backoff_max": 20,
        "connection_timeout": min(10.0, http_timeout()),
        "read_timeout": http_timeout(),
    }
    bundle = environment.get("REQUESTS_CA_BUNDLE")
    if bundle:
        kwargs["connection_verify"] = bundle
    return kwargs


class AzureSession:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()  # the credential
        self._credential: Any = None
        self._clients = OncePerKey()

    # -- credential ------------------------------------------------------------------------------------------
    @property
    def credential(self) -> Any:
        """The CachedCredential (azure/tokens.py). DefaultAzureCredential, and azure-identity with it, is built only
        when a token must be acquired: a run whose tokens are all in the cache never imports it."""
        with self._lock:
            if self._credential is None:
                authority = self.settings.authority_host
                if not authority.startswith("https://"):
                    raise ConfigError(f"the sign-in authority '{authority}' is not an https URL",
                                      "set AZURE_AUTHORITY_HOST (or authority_host) to an https:// URL")
                # azure-core whole, by this one thread (under the lock) before any thread of the command uses a part
                # of it: its modules import one another, and two threads entering at different modules deadlock
                import azure.core  # noqa: F401

                from loomctl.azure.tokens import CachedCredential

                persist = self.settings.get("token_cache") is not False
                self._credential = CachedCredential(lambda: _default_credential(authority), authority, persist)
            return self._credential

    def token(self, scope: str | None = None) -> Any:
        return self.credential.get_token(scope or self.settings.arm_scope)

    # -- clients ---------------------------------------------------------------------------------------------
    def _require_subscription(self) -> str:
        self.settings.require("subscription")
        return str(self.settings.subscription)

    def _prefetch_token(self) -> None:
        """Sign in on a thread while the management SDK imports (~0.3 s): requests asking meanwhile wait for this
        one token (azure/tokens.py)."""
        cred = self.credential

        def fetch() -> None:
            try:
                cred.get_token(self.settings.arm_scope)
            except Exception:  # noqa: BLE001 - the real call reports it
                pass

        threading.Thread(target=fetch, daemon=True, name="token-prefetch").start()

    def client(self, name: str, factory: Callable[[], Any]) -> Any:
        """The session's client called `name`, built by `factory` once (other threads asking meanwhile wait for
        it). Each name has its own lock, so a factory may ask for another client or the credential."""
        return self._clients.get(name, factory)

    def containerapps(self) -> Any:
        """The Container Apps management client, for writes only (azure/writes.py): reads go through `arm_get`."""
        def build() -> Any:
            self._prefetch_token()
            from azure.mgmt.appcontainers import ContainerAppsAPIClient

            return ContainerAppsAPIClient(
                credential=self.credential, subscription_id=self._require_subscription(),
                base_url=self.settings.arm_endpoint, credential_scopes=[self.settings.arm_scope], **client_kwargs())

        return self.client("app", build)

    def pipeline(self, endpoint: str, scope: str) -> Any:
        """azure-core's request pipeline for `endpoint` with tokens for `scope` (azure/rest.py), built once per
        session; concurrent callers wait for the one build."""
        def build() -> Any:
            from loomctl.azure.rest import build_pipeline

            return build_pipeline(endpoint, self.credential, scope, client_kwargs())

        return self.client(f"pipeline {endpoint} {scope}", build)

    def arm(self) -> Any:
        """The pipeline for Azure Resource Manager."""
        return self.pipeline(self.settings.arm_endpoint, self.settings.arm_scope)

    def arm_get(self, path: str, api_version: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        """GET an ARM path (auth, retries honouring Retry-After, TLS). An error answer raises AzureError (with
        `.status` and `.code`); sign-in and network failures raise their LoomErrors."""
        return self._arm("GET", path, api_version, params=params)

    def arm_post(self, path: str, api_version: str, body: dict[str, Any] | None,
                 on_headers: Callable[[Any], None] | None = None) -> dict[str, Any]:
        """POST `body` as JSON to an ARM path (an action such as getAuthToken, or a Resource Graph query at tenant
        level: no subscription needed), with the errors, retries (429 and 5xx, honouring Retry-After) and sign-in of
        `arm_get`. `on_headers` sees the final answer's headers, error or not (Resource Graph's throttling
        headers). An answer without a body (204) is {}."""
        return self._arm("POST", path, api_version, body=body, on_headers=on_headers)

    def arm_list(self, path: str, api_version: str) -> list[dict[str, Any]]:
        """Every item of an ARM list: its `value`, following `nextLink` to the last page."""
        items: list[dict[str, Any]] = []
        page = self._arm("GET", path, api_version)
        while True:
            value = page.get("value")
            if value is not None and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
                from loomctl.azure.errors import describe_list, not_the_resource

                raise not_the_resource(*describe_list(path))
            items.extend(value or [])
            link = page.get("nextLink")
            if not link:
                return items
            page = self._arm("GET", str(link), None)

    def _arm(self, method: str, path: str, api_version: str | None, *, params: dict[str, str] | None = None,
             body: Any = None, on_headers: Callable[[Any], None] | None = None) -> dict[str, Any]:
        from loomctl.azure import rest
        from loomctl.azure.errors import sdk_errors

        url = path if path.startswith("https://") else f"{self.settings.arm_endpoint}{path}"
        query = dict(params or {})
        if api_version:
            query["api-version"] = api_version
        with sdk_errors():
            if path.startswith("/subscriptions"):
                self._require_subscription()
            response = rest.send(self.arm(), method, url, params=query or None, json_body=body,
                                 on_headers=on_headers)
            doc = rest.body(response)
        if not isinstance(doc, dict):  # valid JSON, but not a resource (a proxy, another API): not a crash later
            from loomctl.azure.errors import describe_resource, not_the_resource

            if method == "POST":
                raise not_the_resource(f"the answer of POST {path}", "a JSON object")
            kind, name, _ = describe_resource(url)
            raise not_the_resource(f"{kind} '{name}'", f"a {kind}")
        return doc


def _default_credential(authority: str) -> Any:
    """DefaultAzureCredential for `authority` with loomctl's TLS settings (imports azure-identity)."""
    from azure.identity import DefaultAzureCredential

    kwargs: dict[str, Any] = {"authority": authority, "exclude_interactive_browser_credential": True}
    kwargs.update({k: v for k, v in client_kwargs().items() if k in ("connection_verify",)})
    if not is_public_authority(authority):
        # MSAL would otherwise ask login.microsoftonline.com about this authority
        kwargs["disable_instance_discovery"] = True
    return DefaultAzureCredential(**kwargs)
