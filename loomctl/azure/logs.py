"""Log Analytics queries through azure-monitor-query's `LogsQueryClient` (imported only when used).

The client is built from the session's credential with the configured endpoint, the audience the token is for
(the endpoint itself, as the SDK does for sovereign clouds) and loomctl's transport settings (retries,
timeouts, REQUESTS_CA_BUNDLE). Cells arrive as strings for long/real/bool columns; `convert_cell` types them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loomctl.errors import AzureError, ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.azure.session import AzureSession


@dataclass
class QueryResult:
    columns: list[str]
    types: list[str]
    rows: list[list[Any]]
    partial_error: str | None = None
    kql: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    extra_tables: int = 0

    def records(self) -> list[dict[str, Any]]:
        cols = self.columns
        return [dict(zip(cols, row)) for row in self.rows]


def convert_cell(kind: str, value: Any) -> Any:
    """Log Analytics sends long, int, real and bool cells as strings ("1", "0.5", "true")."""
    if value is None or not isinstance(value, str):
        return value
    try:
        if kind in ("long", "int"):
            return int(value)
        if kind in ("real", "decimal", "double"):
            return float(value)
        if kind == "bool":
            return value.lower() == "true" if value.lower() in ("true", "false") else bool(int(value))
        if kind == "datetime":
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if kind == "dynamic" and value[:1] in "[{":
            import json

            return json.loads(value)
    except (ValueError, TypeError):
        return value
    return value


def logs_client(session: "AzureSession") -> Any:
    from azure.monitor.query import LogsQueryClient

    from loomctl.azure.session import client_kwargs

    endpoint = session.settings.logs_endpoint
    if not endpoint.startswith("https://"):
        raise ConfigError(f"the Log Analytics endpoint '{endpoint}' is not an https URL",
                          "set LOOMCTL_LOGS_ENDPOINT (or logs_endpoint) to an https:// URL")
    kwargs = client_kwargs()
    return LogsQueryClient(session.credential, endpoint=endpoint, audience=endpoint, **kwargs)


def _table_hint(message: str, destination: str | None) -> str:
    m = re.search(r"named '([^']+)'", message)
    if m and m.group(1).startswith("ContainerApp"):
        other = "azure-monitor" if m.group(1).endswith("_CL") else "log-analytics"
        return (f"the workspace has no table {m.group(1)}: the environment may send logs to {other}; "
                f"pass --destination {other}, or check --workspace-id")
    if m and m.group(1) in ("AppMetrics", "customMetrics"):
        other = "customMetrics" if m.group(1) == "AppMetrics" else "AppMetrics"
        return (f"the workspace has no {m.group(1)} table (no workspace-based Application Insights?); "
                f"try --metrics-source {other}")
    return "`loomctl query show NAME` prints the KQL; paste it into the portal's Logs blade to see the error there"


def query_error(exc: Any, workspace: str, destination: str | None = None) -> Exception:
    """An HttpResponseError from the query API as a LoomError with advice."""
    from loomctl.azure.errors import map_exception

    status = getattr(exc, "status_code", None)
    model = getattr(exc, "model", None) or getattr(exc, "error", None)
    code = getattr(model, "code", None)
    message = (getattr(model, "message", None) or str(getattr(exc, "message", "") or exc)).strip()
    details = getattr(model, "details", None) or []
    inner = "; ".join(str(d.get("message") if isinstance(d, dict) else getattr(d, "message", d))
                      for d in details if d)[:300]
    text = (message.splitlines()[0] if message else "")[:300]
    if inner and inner not in text:
        text = f"{text} ({inner})" if text else inner
    if status == 400:
        return AzureError(f"Log Analytics rejected the query (400{', ' + code if code else ''}): {text}",
                          _table_hint(text, destination), status=400, code=code)
    if status == 403:
        return AzureError(f"access denied to Log Analytics workspace '{workspace}' (403{', ' + code if code else ''})",
                          "ask for the 'Log Analytics Reader' role on the workspace (or Reader on its resource "
                          "group); check --workspace-id", status=403, code=code)
    if status == 404:
        return AzureError(f"Log Analytics workspace '{workspace}' not found (404)",
                          "check --workspace-id / LOOMCTL_WORKSPACE_ID: it is the workspace's customer id (a GUID), "
                          "not its name", status=404, code=code)
    if status in (408, 504) or (code or "").lower() in ("gatewaytimeout", "querytimeout"):
        return AzureError(f"the query ran out of time in Log Analytics ({status}): {text}",
                          "narrow the range (--since 15m) or filter by --app / --replica", status=status, code=code)
    return map_exception(exc) or AzureError(f"Log Analytics error: {text}", "run again with --debug")


def run_query(session: "AzureSession", workspace: str, kql: str, start: dt.datetime, end: dt.datetime,
              destination: str | None = None, server_timeout: int | None = None) -> QueryResult:
    """Run `kql` over [start, end] and return the primary table with typed cells."""
    from azure.core.exceptions import HttpResponseError
    from azure.monitor.query import LogsQueryStatus

    client = logs_client(session)
    try:
        response = client.query_workspace(workspace, kql, timespan=(start, end), server_timeout=server_timeout)
    except HttpResponseError as exc:
        raise query_error(exc, workspace, destination) from exc
    partial: str | None = None
    if response.status == LogsQueryStatus.PARTIAL:
        err = response.partial_error
        partial = (getattr(err, "message", None) or str(err) or "partial result").strip()
        details = getattr(err, "details", None) or []
        more = [str(d.get("message") if isinstance(d, dict) else d) for d in details if d]
        if more:
            partial = f"{partial} ({'; '.join(more)[:300]})"
        tables = response.partial_data or []
    else:
        tables = response.tables or []
    if not tables:
        return QueryResult([], [], [], partial, kql, start, end)
    t = tables[0]
    types = list(t.columns_types)
    rows = [[convert_cell(types[i], v) for i, v in enumerate(row)] for row in t.rows]
    return QueryResult(list(t.columns), types, rows, partial, kql, start, end, extra_tables=len(tables) - 1)
