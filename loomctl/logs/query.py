"""The KQL behind `loomctl logs` for both log destinations, and its rows as `LogLine`s."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from loomctl.core.timeutil import parse_iso
from loomctl.logs.kql import literals as lit
from loomctl.logs.kql.catalogue import Scope, prelude


@dataclass
class LogQuery:
    apps: list[str]
    start: dt.datetime
    end: dt.datetime
    destination: str = "log-analytics"
    system: bool = False
    errors: bool = False
    grep: str | None = None
    replica: str = ""
    revision: str = ""
    limit: int = 200
    ascending: bool = False


COLUMNS_CONSOLE = ["TimeGenerated", "App", "Revision", "Replica", "Container", "Stream", "Log"]
COLUMNS_SYSTEM = ["TimeGenerated", "App", "Revision", "Replica", "Reason", "Level", "Log"]


def build_query(q: LogQuery) -> str:
    """The KQL for `loomctl logs`: newest `limit` lines in the window, shown oldest first."""
    view = "SystemLogs" if q.system else "ConsoleLogs"
    scope = Scope(destination=q.destination, start=q.start, end=q.end, since=None, apps=q.apps,
                  replica=q.replica or "", revision=q.revision or "")
    filters = []
    if q.errors:
        filters.append("| where _is_error(Log)")
    if q.grep:
        filters.append(f"| where Log contains {lit.string(q.grep)}")
    body = "\n".join([view, *filters,
                      f"| top {lit.integer(max(1, int(q.limit)))} by TimeGenerated desc",
                      "| order by TimeGenerated asc"])
    head = f"// loomctl logs ({'system' if q.system else 'console'}, {q.destination})"
    return f"{head}\n{prelude(scope, [], [view], body)}\n{body}\n"


@dataclass
class LogLine:
    time: dt.datetime | None
    app: str
    replica: str
    revision: str
    message: str
    stream: str = ""  # console: stdout/stderr; system: the reason
    level: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.time, self.app, self.replica, self.message)

    def to_json(self) -> dict[str, Any]:
        from loomctl.core.timeutil import utc_iso

        return {"time": utc_iso(self.time) if self.time else None, "app": self.app, "replica": self.replica,
                "revision": self.revision, "stream": self.stream, "level": self.level, "message": self.message}


def to_lines(columns: list[str], rows: list[list[Any]], system: bool) -> list[LogLine]:
    idx = {c: i for i, c in enumerate(columns)}

    def cell(row: list[Any], name: str) -> Any:
        i = idx.get(name)
        return row[i] if i is not None and i < len(row) else None

    out = []
    for row in rows:
        t = cell(row, "TimeGenerated")
        if isinstance(t, str):
            t = parse_iso(t)
        out.append(LogLine(
            time=t, app=str(cell(row, "App") or ""), replica=str(cell(row, "Replica") or ""),
            revision=str(cell(row, "Revision") or ""), message=str(cell(row, "Log") or "").rstrip("\n"),
            stream=str(cell(row, "Reason" if system else "Stream") or ""),
            level=str(cell(row, "Level") or "")))
    return out
