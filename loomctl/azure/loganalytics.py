"""Log Analytics queries (the query API's REST: POST /v1/workspaces/{id}/query) over azure-core's pipeline.

The session's pipeline for the configured endpoint carries a token for the audience the endpoint names (the
endpoint itself, as azure-monitor-query does for sovereign clouds) and loomctl's transport settings (retries
honouring Retry-After, timeouts, REQUESTS_CA_BUNDLE). Cells arrive as strings for long/real/bool columns;
`convert_cell` types them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loomctl.core.errors import AzureError, ConfigError
from loomctl.core.timeutil import parse_iso

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
            when = parse_iso(value)
            return value if when is None else when
        if kind == "dynamic" and value[:1] in "[{":
            import json

            return json.loads(value)
    except (ValueError, TypeError):
        return value
    return value


def logs_client(session: AzureSession) -> Any:
    """The request pipeline for the configured Log Analytics endpoint (azure/rest.py), with tokens for the audience
    the endpoint names (the endpoint itself, as azure-monitor-query does for sovereign clouds)."""
    endpoint = session.settings.logs_endpoint
    if not endpoint.startswith("https://"):
        raise ConfigError(f"the Log Analytics endpoint '{endpoint}' is not an https URL",
                          "set LOOMCTL_LOGS_ENDPOINT (or logs_endpoint) to an https:// URL")
    return session.pipeline(endpoint, endpoint + "/.default")


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


def _error_text(message: str, details: list[Any]) -> str:
    inner = "; ".join(str(d.get("message") if isinstance(d, dict) else getattr(d, "message", d))
                      for d in details if d)[:300]
    text = (message.splitlines()[0] if message else "")[:300]
    if inner and inner not in text:
        text = f"{text} ({inner})" if text else inner
    return text


def answer_error(status: int | None, code: str | None, text: str, workspace: str,
                 destination: str | None = None) -> AzureError | None:
    """The query API's error answer (status, code, first line of the message) as an AzureError with advice,
    or None for a status without specific advice."""
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
    return None


def query_error(exc: Any, workspace: str, destination: str | None = None) -> Exception:
    """An HttpResponseError from the query API as a LoomError with advice."""
    from loomctl.azure.errors import map_exception

    model = getattr(exc, "model", None) or getattr(exc, "error", None)
    code = getattr(model, "code", None)
    message = (getattr(model, "message", None) or str(getattr(exc, "message", "") or exc)).strip()
    text = _error_text(message, getattr(model, "details", None) or [])
    return (answer_error(exc.status_code, code, text, workspace, destination) or map_exception(exc)
            or AzureError(f"Log Analytics error: {text}", "run again with --debug"))


def _answer_failed(status: int, error: dict[str, Any], workspace: str, destination: str | None) -> AzureError:
    """The query API answered `status` >= 400 with `error` (its JSON error object)."""
    code = error.get("code")
    message = (error.get("message") or f"HTTP {status}").strip()
    details = error.get("details") or ([error["innererror"]] if error.get("innererror") else [])
    text = _error_text(message, details)
    return (answer_error(status, code, text, workspace, destination)
            or AzureError(f"Log Analytics error: {text}", "run again with --debug", status=status, code=code))


def _converters(types: list[str]) -> list[Any]:
    def as_int(v: Any) -> Any:
        return int(v) if isinstance(v, str) else v

    def as_float(v: Any) -> Any:
        return float(v) if isinstance(v, str) else v

    def as_time(v: Any) -> Any:
        if not isinstance(v, str):
            return v
        when = parse_iso(v)
        return v if when is None else when

    out: list[Any] = []
    for kind in types:
        if kind == "datetime":
            out.append(as_time)
        elif kind in ("long", "int"):
            out.append(as_int)
        elif kind in ("real", "double"):
            out.append(as_float)
        elif kind in ("bool", "dynamic", "decimal"):
            out.append(lambda v, k=kind: convert_cell(k, v))
        else:
            out.append(None)
    return out


def convert_rows(types: list[str], rows: list[list[Any]]) -> list[list[Any]]:
    """Type the cells of every row in place (string columns are left alone)."""
    conv = [(i, f) for i, f in enumerate(_converters(types)) if f is not None]
    for row in rows:
        for i, f in conv:
            try:
                row[i] = f(row[i])
            except (ValueError, TypeError, IndexError):
                pass
    return rows


def _not_a_result(doc: Any) -> str | None:
    """Why a 2xx JSON answer is not a query result (`{"tables": [{"columns": [...], "rows": [[...]]}]}`), or None."""
    if not isinstance(doc, dict):
        kind = {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(type(doc), "a number")
        return f"it is {kind}, not an object"
    tables = doc.get("tables") or []
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        return "'tables' is not a list of tables"
    for t in tables:
        columns, rows = t.get("columns") or [], t.get("rows") or []
        if not isinstance(columns, list) or not all(isinstance(c, dict) for c in columns):
            return "'columns' is not a list of columns"
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            return "'rows' is not a list of rows"
    return None


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def run_query(session: AzureSession, workspace: str, kql: str, start: dt.datetime, end: dt.datetime,
              destination: str | None = None, server_timeout: int | None = None,
              raw_times: bool = False) -> QueryResult:
    """Run `kql` over [start, end] and return the primary table with typed cells.

    raw_times: leave datetime cells as the service's UTC ISO 8601 text (for JSON output, which wants just that).

    The request goes through the session's pipeline for Log Analytics (token for its audience, retries, TLS) and
    the body is read here at once: azure-monitor-query's `query_workspace` builds a row object and deserialises
    every cell for each row, which takes over 10 s for 100,000 rows; this reads them in well under one.
    """
    import json

    from azure.core.exceptions import HttpResponseError
    from azure.core.rest import HttpRequest

    from loomctl.azure.errors import sdk_errors

    client = logs_client(session)
    url = f"{session.settings.logs_endpoint}/v1/workspaces/{workspace}/query"
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if server_timeout:
        headers["Prefer"] = f"wait={int(server_timeout)}"
    request = HttpRequest("POST", url, headers=headers,
                          content=json.dumps({"query": kql, "timespan": f"{_iso(start)}/{_iso(end)}"}))
    with sdk_errors():  # sign-in and network failures
        try:
            # stream=True: the body is read once, here, not decoded by the pipeline as well
            response = client.send_request(request, stream=True)
        except HttpResponseError as exc:  # the pipeline could not decode the body (DecodeError), or a status error
            if (exc.status_code or 0) < 400:
                raise AzureError("Log Analytics returned a response that is not valid JSON",
                                 "a proxy may be answering instead of Log Analytics; "
                                 "check LOOMCTL_LOGS_ENDPOINT") from exc
            raise query_error(exc, workspace, destination) from exc
    status = response.status_code
    unreadable = object()
    try:
        doc = json.loads(response.read())
    except ValueError:
        doc = unreadable
    finally:
        response.close()
    if status >= 400:
        error = doc.get("error") if isinstance(doc, dict) else None
        raise _answer_failed(status, error if isinstance(error, dict) else {"message": f"HTTP {status}"},
                             workspace, destination)
    if doc is unreadable:
        raise AzureError("Log Analytics returned a response that is not valid JSON",
                         "a proxy may be answering instead of Log Analytics; check LOOMCTL_LOGS_ENDPOINT")
    wrong = _not_a_result(doc)
    if wrong:
        raise AzureError(f"Log Analytics answered with JSON that is not a query result: {wrong}",
                         "a proxy may be answering instead of Log Analytics; check LOOMCTL_LOGS_ENDPOINT")
    partial: str | None = None
    err = doc.get("error")
    if isinstance(err, dict) and err:
        partial = (err.get("message") or err.get("code") or "partial result").strip()
        more = [str(d.get("message")) for d in err.get("details") or [] if isinstance(d, dict) and d.get("message")]
        if more:
            partial = f"{partial} ({'; '.join(more)[:300]})"
    tables = doc.get("tables") or []
    if not tables:
        return QueryResult([], [], [], partial, kql, start, end)
    t = tables[0]
    columns = [c.get("name", "") for c in t.get("columns") or []]
    types = [c.get("type", "string") for c in t.get("columns") or []]
    rows = convert_rows([("string" if raw_times and k == "datetime" else k) for k in types], t.get("rows") or [])
    return QueryResult(columns, types, rows, partial, kql, start, end, extra_tables=len(tables) - 1)
