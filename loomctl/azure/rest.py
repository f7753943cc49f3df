"""Reads over azure-core's public pipeline, without the management or monitor SDKs (imported only when used).

`build_pipeline(endpoint, credential, scope)` is the request pipeline the generated SDK clients build for
themselves, assembled from azure-core's public policies: request id, headers, user agent, proxy, JSON decoding,
redirects, retries (429 and 5xx, honouring `Retry-After`; the session's `client_kwargs()` sets their number, the
backoff and the timeouts), the bearer token for `scope` (with CAE claims challenges answered, as ARM's own policy
does), and the HTTP log that `--debug` shows (Authorization redacted). The session keeps one per (endpoint, scope)
(`AzureSession.pipeline`). A 401 that is not a claims challenge drops the token kept for the scope
(`CachedCredential.forget`), so that the next run signs in afresh instead of sending the refused token again.

`send` runs one request and raises an error answer as azure-core does (`ResourceNotFoundError` for a 404,
`HttpResponseError` otherwise, each with the ARM error's code and message), for `azure/errors.py` `sdk_errors`
to turn into a LoomError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# headers the HTTP log may show (besides azure-core's own list): ARM's request ids, throttling and paging
_LOGGED_HEADERS = {"x-ms-request-id", "x-ms-correlation-request-id", "x-ms-routing-request-id",
                   "x-ms-ratelimit-remaining-subscription-reads", "x-ms-ratelimit-remaining-subscription-writes",
                   "x-ms-ratelimit-remaining-tenant-reads", "Retry-After", "Azure-AsyncOperation", "Location"}


def _auth_policy(credential: Any, scope: str) -> Any:
    from azure.core.pipeline.policies import BearerTokenCredentialPolicy

    class Policy(BearerTokenCredentialPolicy):
        """The bearer token; a 401 without a claims challenge drops the kept token (CachedCredential.forget)."""

        def on_response(self, request: Any, response: Any) -> None:
            http = response.http_response
            if http.status_code != 401:
                return
            header = http.headers.get("WWW-Authenticate") or ""
            if "insufficient_claims" in header and "claims=" in header:
                return  # a CAE challenge: on_challenge gets a token with the claims, which replaces the kept one
            forget = getattr(credential, "forget", None)
            if forget is not None:
                forget(*self._scopes)

    return Policy(credential, scope)


def build_pipeline(endpoint: str, credential: Any, scope: str, transport: dict[str, Any]) -> Any:
    """A PipelineClient for `endpoint` whose requests carry a token for `scope`, with the transport settings
    `transport` (the session's `client_kwargs()`: retries, backoff, timeouts, `connection_verify`)."""
    from azure.core import PipelineClient
    from azure.core.pipeline import policies as p

    kwargs = dict(transport, sdk_moniker="loomctl")
    logging = p.HttpLoggingPolicy(**kwargs)
    for name in _LOGGED_HEADERS:
        logging.allowed_header_names.add(name)
    pipeline = [
        p.RequestIdPolicy(**kwargs),
        p.HeadersPolicy(**kwargs),
        p.UserAgentPolicy(**kwargs),
        p.ProxyPolicy(**kwargs),
        p.ContentDecodePolicy(**kwargs),
        p.RedirectPolicy(**kwargs),
        p.RetryPolicy(**kwargs),
        _auth_policy(credential, scope),
        p.CustomHookPolicy(**kwargs),
        p.NetworkTraceLoggingPolicy(**kwargs),
        p.DistributedTracingPolicy(**kwargs),
        p.SensitiveHeaderCleanupPolicy(**kwargs),
        logging,
    ]
    return PipelineClient(base_url=endpoint, policies=pipeline, **kwargs)


def send(client: Any, method: str, url: str, *, params: dict[str, str] | None = None,
         json_body: Any = None, headers: dict[str, str] | None = None, stream: bool = False,
         on_headers: Callable[[Any], None] | None = None) -> Any:
    """One request through `client`'s pipeline; an answer >= 400 raises as the SDK raises it (after retries).
    With `stream` the caller reads (and closes) the body and judges the status itself. `on_headers` sees the final
    answer's headers first (error or not)."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
    from azure.core.rest import HttpRequest

    request = HttpRequest(method, url, params=params, json=json_body,
                          headers={"Accept": "application/json", **(headers or {})})
    response = client.send_request(request, stream=stream)
    if on_headers is not None:
        on_headers(response.headers)
    if stream:
        return response
    if response.status_code == 404:
        raise ResourceNotFoundError(response=response)
    if response.status_code >= 400:
        raise HttpResponseError(response=response)
    return response


def body(response: Any) -> Any:
    """The JSON of a 2xx answer ({} when it has none); a body that is not JSON raises azure-core's DecodeError, as
    the SDK clients do (`azure/errors.py` reports it as an answer that is not valid JSON)."""
    from azure.core.exceptions import DecodeError

    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError as exc:
        raise DecodeError("the answer is not valid JSON", response=response) from exc
