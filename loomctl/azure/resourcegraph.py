"""Azure Resource Graph: one KQL query over many subscriptions, paged, throttling honoured.

`POST /providers/Microsoft.ResourceGraph/resources` (api-version 2022-10-01): body `{subscriptions, query,
options: {$top, $skipToken, resultFormat}}`, answer `{totalRecords, count, data, $skipToken, resultTruncated}`.
Pages: `$top` rows (at most 1,000) and a `$skipToken` while more follow. Throttling: every answer carries
`x-ms-user-quota-remaining` and `x-ms-user-quota-resets-after` (hh:mm:ss); when the quota is spent, the next
request waits until it resets. A 429 is retried by the session's pipeline after its `Retry-After`.

A 403 for a request over several subscriptions names none of them: the scope is halved until the subscriptions
that cannot be read are found (each is reported, the others' rows are kept). Any other error ends the query.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PATH = "/providers/Microsoft.ResourceGraph/resources"
API_VERSION = "2022-10-01"
PAGE_SIZE = 1000


@dataclass
class QueryResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0  # POSTs answered (pages, and the halving of a refused scope)
    pages: int = 0  # pages read
    denied: dict[str, str] = field(default_factory=dict)  # subscription -> Azure's refusal ("403 AccessDenied")
    truncated: bool = False  # Resource Graph said resultTruncated
    waited_s: float = 0.0  # time spent waiting for the quota to reset


def resets_after(text: str | None) -> float:
    """`x-ms-user-quota-resets-after` (hh:mm:ss) in seconds; 0 when absent or unreadable."""
    try:
        h, m, s = (float(p) for p in str(text).split(":"))
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, h * 3600 + m * 60 + s)


class Throttle:
    """Waits before a request when the last answer said the quota was spent."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep):
        self.sleep = sleep
        self.wait_s = 0.0
        self.waited_s = 0.0

    def observe(self, headers: Any) -> None:
        remaining = headers.get("x-ms-user-quota-remaining") if headers is not None else None
        if remaining is not None and str(remaining).strip() == "0":
            self.wait_s = resets_after(headers.get("x-ms-user-quota-resets-after"))

    def before_request(self) -> None:
        if self.wait_s > 0:
            self.sleep(self.wait_s)
            self.waited_s += self.wait_s
            self.wait_s = 0.0


def query(session: Any, kql: str, subscriptions: list[str] | None, page_size: int = PAGE_SIZE,
          throttle: Throttle | None = None) -> QueryResult:
    """Every row of `kql` over `subscriptions` (None: every subscription the caller can read)."""
    from loomctl.core.errors import AzureError

    throttle = throttle or Throttle()
    out = QueryResult()
    scopes: list[list[str] | None] = [list(subscriptions) if subscriptions is not None else None]
    while scopes:
        scope = scopes.pop(0)
        try:
            _pages(session, kql, scope, page_size, throttle, out)
        except AzureError as exc:
            if exc.status != 403 or not scope:
                raise
            if len(scope) == 1:
                out.denied[scope[0]] = " ".join(str(p) for p in (exc.status, exc.code) if p)  # 403 AccessDenied
            else:
                half = len(scope) // 2
                scopes[:0] = [scope[:half], scope[half:]]
    out.waited_s = throttle.waited_s
    return out


def _post(session: Any, body: dict[str, Any], throttle: Throttle) -> dict[str, Any]:
    """The POST, its headers shown to the throttle. A session whose `arm_post` takes no `on_headers` still
    works: its pipeline retries a 429 after Retry-After, only the quota headers go unseen."""
    try:
        return session.arm_post(PATH, API_VERSION, body, on_headers=throttle.observe)
    except TypeError as exc:
        if "on_headers" not in str(exc):
            raise
        return session.arm_post(PATH, API_VERSION, body)


def _pages(session: Any, kql: str, scope: list[str] | None, page_size: int, throttle: Throttle,
           out: QueryResult) -> None:
    token: str | None = None
    rows: list[dict[str, Any]] = []
    while True:
        options: dict[str, Any] = {"$top": page_size, "resultFormat": "objectArray"}
        if token:
            options["$skipToken"] = token
        body: dict[str, Any] = {"query": kql, "options": options}
        if scope is not None:
            body["subscriptions"] = scope
        throttle.before_request()
        out.requests += 1
        answer = _post(session, body, throttle)
        out.pages += 1
        data = answer.get("data")
        rows.extend(r for r in (data if isinstance(data, list) else []) if isinstance(r, dict))
        out.truncated = out.truncated or str(answer.get("resultTruncated", "false")).lower() == "true"
        token = answer.get("$skipToken") or None
        if not token:
            break
    out.rows.extend(rows)  # a scope's rows count only once all its pages were read
