"""Azure Resource Graph for the local Azure: `POST /providers/Microsoft.ResourceGraph/resources` (CONTRACT.md).

The `resources` table is built from the server's own state: the main deployment (`state["environment"]`,
`state["apps"]`) and every deployment in `state["fleet"]` (each shaped like `topology.healthy()`). A row is
ARM-shaped as Resource Graph shows it: id, name, type (lower case), location (lower case, no spaces),
resourceGroup, subscriptionId, tags, properties (as ARM GET returns them: write-only values removed). Only the
environments and container apps are rows: environment storages, revisions and replicas are not (see CONTRACT.md).

The query text is executed, not matched: duckdb-kql translates the KQL to SQL and DuckDB runs it over that table.
Paging: `options.$top` (default and at most 1000) rows a page, `$skipToken` (opaque to clients: base64 of the
offset) for the next one. Scope: `subscriptions`; none given = every subscription of the state (tenant scope).
A listed subscription in `state["rg_denied"]` makes the whole request 403 AccessDenied. Throttling: a quota of
`state["rg_quota"]` (default 15) queries per `state["rg_window"]` seconds (default 5); every answer carries
`x-ms-user-quota-remaining` / `x-ms-user-quota-resets-after`; a query over quota is 429 with `Retry-After`.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import threading
import time
from typing import Any

from tests.fakeazure import contract

TENANT = "72f988bf-0000-4000-8000-000000000001"  # server.TENANT (imported lazily there: no import cycle)

PATH = r"/providers/Microsoft\.ResourceGraph/resources"
API_VERSIONS = ("2021-03-01", "2022-10-01", "2024-04-01")
MAX_TOP = 1000
# the columns of Resource Graph's `resources` table that these resources fill (JSON ones are `dynamic` in KQL)
COLUMNS = ("id", "name", "type", "tenantId", "kind", "location", "resourceGroup", "subscriptionId", "managedBy",
           "sku", "identity", "zones", "tags", "properties")
JSON_COLUMNS = ("sku", "identity", "zones", "tags", "properties")


def _location(text: str | None) -> str:
    return (text or "").replace(" ", "").lower()


def _row(resource: dict[str, Any], kind: str) -> dict[str, Any]:
    body = contract.view(kind, resource)
    rid = str(body.get("id", ""))
    parts = rid.split("/")
    return {"id": rid, "name": body.get("name"), "type": str(body.get("type", "")).lower(),
            "location": _location(body.get("location")), "resourceGroup": parts[4] if len(parts) > 4 else "",
            "subscriptionId": parts[2] if len(parts) > 2 else "", "tags": body.get("tags") or {},
            "properties": body.get("properties") or {}, "tenantId": TENANT, "kind": body.get("kind") or "",
            "managedBy": body.get("managedBy") or "", "sku": body.get("sku"), "identity": body.get("identity"),
            "zones": body.get("zones")}


def deployments(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The main deployment and the fleet's, each a state dict with `environment` and `apps`."""
    return ([state] if state.get("environment") else []) + list(state.get("fleet") or [])


def rows(state: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for dep in deployments(state):
        out.append(_row(dep["environment"], "environment"))
        out.extend(_row(app, "containerApp") for app in (dep.get("apps") or {}).values())
    return out


def _error(status: int, code: str, message: str, detail: str | None = None, **headers: str) -> Any:
    from tests.fakeazure.server import Response

    err: dict[str, Any] = {"code": code, "message": message}
    if detail:
        err["details"] = [{"code": code, "message": detail}]
    return Response(status, {"error": err}, dict(headers))


class ResourceGraph:
    """The route's handler; one per server. `executed` counts the queries run through DuckDB."""

    def __init__(self, server: Any):
        self.server = server
        self._lock = threading.Lock()
        self._window_start = 0.0
        self._used = 0
        self._con: Any = None
        self._loaded: int | None = None  # id of the state the table holds
        self._cache: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
        self.executed = 0

    def reset(self) -> None:
        with self._lock:
            self._window_start, self._used = 0.0, 0

    def _quota(self) -> tuple[bool, int, float]:
        state = self.server.state
        quota, window = int(state.get("rg_quota", 15)), float(state.get("rg_window", 5.0))
        now = time.monotonic()
        with self._lock:
            if now - self._window_start >= window:
                self._window_start, self._used = now, 0
            ok = self._used < quota
            if ok:
                self._used += 1
            return ok, max(0, quota - self._used), max(0.0, window - (now - self._window_start))

    def _table(self, state: dict[str, Any]) -> Any:
        import duckdb_kql

        if self._con is None or self._loaded != id(state):
            con = duckdb_kql.connect()
            with tempfile.TemporaryDirectory() as tmp:  # one bulk load (row inserts take seconds for a fleet)
                path = os.path.join(tmp, "resources.jsonl")
                with open(path, "w", encoding="utf-8") as f:
                    f.writelines(json.dumps(r) + "\n" for r in rows(state))
                columns = ", ".join(f"{c}: '{'JSON' if c in JSON_COLUMNS else 'VARCHAR'}'" for c in COLUMNS)
                con.execute(f"CREATE TABLE all_resources AS SELECT * FROM read_json('{path}', "
                            f"format = 'newline_delimited', columns = {{{columns}}})")
            self._con, self._loaded, self._cache = con, id(state), {}
        return self._con

    def _run(self, query: str, subscriptions: list[str]) -> list[dict[str, Any]]:
        """The query's rows over the subscriptions in scope (the same query and scope again: the same rows, so
        that pages of one query are cut from one result, as the $skipToken's "context of the query" says)."""
        import duckdb_kql

        state = self.server.state
        with self._lock:
            con = self._table(state)
            key = (query, tuple(sorted(s.lower() for s in subscriptions)))
            if key in self._cache:
                return self._cache[key]
            # the scope applies before the query: `resources` is the table limited to the subscriptions
            listed = ", ".join("'" + "".join(ch for ch in s if ch.isalnum() or ch == "-") + "'" for s in key[1])
            con.execute("CREATE OR REPLACE TEMP VIEW resources AS SELECT * FROM all_resources "
                        f"WHERE lower(subscriptionId) IN ({listed or 'NULL'})")
            self.executed += 1
            result = duckdb_kql.kql(con, query)
            names = [d[0] for d in result.description]
            types = [str(d[1]) for d in result.description]
            out = []
            for values in result.fetchall():
                out.append({name: json.loads(value) if kind == "JSON" and isinstance(value, str) else value
                            for name, kind, value in zip(names, types, values)})
            self._cache[key] = out
            return out

    def __call__(self, req: Any, m: Any) -> Any:
        if req.api_version not in API_VERSIONS:
            return _error(400, "InvalidApiVersionParameter", f"The api-version '{req.api_version}' is invalid.")
        ok, remaining, resets = self._quota()
        quota_headers = {"x-ms-user-quota-remaining": str(remaining),
                         "x-ms-user-quota-resets-after": time.strftime("%H:%M:%S", time.gmtime(int(resets + 0.999)))}
        if not ok:
            return _error(429, "RateLimiting", "Please provide below info when asking for support: the client "
                          "exceeded its Resource Graph quota.", "Too many requests. Please retry later.",
                          **{"Retry-After": str(max(1, int(resets + 0.999))), **quota_headers})
        try:
            body = req.json() or {}
        except ValueError:
            return _error(400, "BadRequest", "The request body is not JSON.")
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            return _error(400, "BadRequest", "The query is required.")
        subs = body.get("subscriptions")
        denied = set(self.server.state.get("rg_denied") or [])
        if subs is not None and denied & set(subs):
            return _error(403, "AccessDenied", "Please provide below info when asking for support: the caller "
                          "cannot read a subscription of the request.",
                          "Access is denied to the requested resource. The user might not have enough permission.",
                          **quota_headers)
        if subs is None:
            subs = sorted({d["subscription"] for d in deployments(self.server.state)} - denied)
        options = body.get("options") or {}
        top = int(options.get("$top") or MAX_TOP)
        if not 1 <= top <= MAX_TOP:
            return _error(400, "BadRequest", f"$top must be between 1 and {MAX_TOP}.")
        start = 0
        if options.get("$skipToken"):
            try:
                start = int(json.loads(base64.b64decode(options["$skipToken"]))["offset"])
            except (ValueError, KeyError, TypeError):
                return _error(400, "BadRequest", "The $skipToken is not valid.")
        try:
            data = self._run(query, subs)
        except Exception as exc:  # noqa: BLE001 - a query the engine rejects is the client's 400, as in Azure
            return _error(400, "BadRequest", "Query is invalid. Please refer to the documentation for the Azure "
                          "Resource Graph service and fix the error before retrying.", str(exc).splitlines()[0])
        page = data[start:start + top]
        answer: dict[str, Any] = {"totalRecords": len(data), "count": len(page), "data": page, "facets": [],
                                  "resultTruncated": "false"}
        if start + top < len(data):
            answer["$skipToken"] = base64.b64encode(json.dumps({"offset": start + top}).encode()).decode()
        from tests.fakeazure.server import Response

        return Response(200, answer, quota_headers)
