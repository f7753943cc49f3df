"""Credential and Azure SDK clients for one command, built lazily from the resolved settings.

Every Azure SDK import lives inside a function here so that importing loomctl stays cheap.
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
        with self._lock:
            if self._credential is None:
                from azure.identity import DefaultAzureCredential

                authority = self.settings.authority_host
                if not authority.startswith("https://"):
                    raise ConfigError(f"the sign-in authority '{authority}' is not an https URL",
                                      "set AZURE_AUTHORITY_HOST (or authority_host) to an https:// URL")
                kwargs: dict[str, Any] = {"authority": authority, "exclude_interactive_browser_credential": True}
                kwargs.update({k: v for k, v in client_kwargs().items() if k in ("connection_verify",)})
                if not is_public_authority(authority):
                    # MSAL would otherwise ask login.microsoftonline.com about this authority
                    kwargs["disable_instance_discovery"] = True
                from loomctl.azure.tokens import CachedCredential

                persist = self.settings.get("token_cache") is not False
                self._credential = CachedCredential(DefaultAzureCredential(**kwargs), authority, persist)
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

    def containerapps(self, tenant: bool = False) -> Any:
        """The Container Apps client; `tenant`: for tenant-level paths (Resource Graph), with no subscription of its
        own needed (its pipeline is all `arm_post` uses)."""
        def build() -> Any:
            self._prefetch_token()
            from azure.mgmt.appcontainers import ContainerAppsAPIClient

            sub = (self.settings.subscription or "tenant") if tenant else self._require_subscription()
            return ContainerAppsAPIClient(
                credential=self.credential, subscription_id=sub,
                base_url=self.settings.arm_endpoint, credential_scopes=[self.settings.arm_scope], **client_kwargs())

        return self.client("app-tenant" if tenant and not self.settings.subscription else "app", build)

    def arm_get(self, path: str, api_version: str) -> dict[str, Any]:
        """GET an ARM path through the management pipeline (auth, retries, TLS). An error answer raises
        AzureError (with `.status`); sign-in and network failures raise their LoomErrors."""
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
        from azure.core.rest import HttpRequest

        from loomctl.azure.errors import sdk_errors

        with sdk_errors():
            client = self.containerapps()
            request = HttpRequest("GET", f"{self.settings.arm_endpoint}{path}", params={"api-version": api_version})
            response = client._client.send_request(request)  # the SDK's own pipeline
            if response.status_code == 404:
                raise ResourceNotFoundError(response=response)
            if response.status_code >= 400:
                raise HttpResponseError(response=response)
            doc = response.json()
        if not isinstance(doc, dict):  # valid JSON, but not a resource (a proxy, another API): not a crash later
            from loomctl.azure.errors import describe_resource, not_the_resource

            kind, name, _ = describe_resource(path)
            raise not_the_resource(f"{kind} '{name}'", f"a {kind}")
        return doc

    def arm_post(self, path: str, api_version: str, body: dict[str, Any],
                 on_headers: Callable[[Any], None] | None = None) -> dict[str, Any]:
        """POST a JSON body to an ARM path through the same pipeline as `arm_get` (429/5xx retried, Retry-After
        honoured). An error answer raises AzureError (with `.status`). `on_headers` sees the answer's headers
        (Resource Graph's throttling headers)."""
        from azure.core.exceptions import HttpResponseError
        from azure.core.rest import HttpRequest

        from loomctl.azure.errors import sdk_errors

        with sdk_errors():
            client = self.containerapps(tenant=True)
            request = HttpRequest("POST", f"{self.settings.arm_endpoint}{path}", params={"api-version": api_version},
                                  json=body)
            response = client._client.send_request(request)
            if on_headers is not None:
                on_headers(response.headers)
            if response.status_code >= 400:
                raise HttpResponseError(response=response)
            doc = response.json()
        if not isinstance(doc, dict):
            from loomctl.azure.errors import not_the_resource

            raise not_the_resource(f"the answer of POST {path}", "a JSON object")
        return doc
