"""A Log Analytics query route on the local HTTPS Azure: `POST /v1/workspaces/{id}/query`.

It records every query (workspace, KQL, timespan) and answers with tables shaped like Microsoft's official
example (`oms-post-example.json`): long/real/bool cells as strings, datetimes as ISO strings. A test sets
`answer(kql) -> Response | table dict` to serve rows, a PartialError (200 with `error`), or an error status.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.fakeazure.server import FakeAzure, Request, Response


@dataclass
class RecordedQuery:
    workspace: str
    kql: str
    timespan: str | None


def cell(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "datetime" and isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    if kind == "bool":
        return "true" if value else "false"
    if kind in ("long", "int", "real"):
        return str(value)
    return value


def table(columns: list[tuple[str, str]], rows: list[list[Any]], name: str = "PrimaryResult") -> dict[str, Any]:
    return {"name": name, "columns": [{"name": n, "type": t} for n, t in columns],
            "rows": [[cell(t, v) for (_, t), v in zip(columns, r)] for r in rows]}


def body(*tables: dict[str, Any], partial: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"tables": list(tables)}
    if partial:
        out["error"] = {"code": "PartialError", "message": "There were some errors when processing your query.",
                        "details": [{"code": "EngineError", "message": partial}]}
    return out


def query_error(status: int, code: str, message: str) -> Response:
    return Response(status, {"error": {"code": code, "message": message,
                                       "innererror": {"code": "SemanticError", "message": message}}})


CONSOLE = [("TimeGenerated", "datetime"), ("App", "string"), ("Revision", "string"), ("Replica", "string"),
           ("Container", "string"), ("Stream", "string"), ("Log", "string")]
SYSTEM = [("TimeGenerated", "datetime"), ("App", "string"), ("Revision", "string"), ("Replica", "string"),
          ("Reason", "string"), ("Level", "string"), ("Log", "string")]


class FakeLogAnalytics:
    def __init__(self, server: FakeAzure):
        self.server = server
        self.queries: list[RecordedQuery] = []
        self.answer: Callable[[str], Any] = lambda kql: body(table(CONSOLE, []))
        server.route("POST", r"/v1/workspaces/([^/]+)/query", self._handle)

    def _handle(self, req: Request, m: re.Match[str]) -> Any:
        doc = req.json()
        self.queries.append(RecordedQuery(m.group(1), doc.get("query", ""), doc.get("timespan")))
        return self.answer(doc.get("query", ""))

    @property
    def last(self) -> RecordedQuery:
        assert self.queries, "no query reached the Log Analytics route"
        return self.queries[-1]
