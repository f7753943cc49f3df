"""loomctl query list | show NAME | run NAME"""

from __future__ import annotations

from typing import Any

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.options import common_options, local_options


def _queries() -> list[str]:
    from loomctl.logs.kql.catalogue import load_all

    return sorted(load_all())


class _QueryName(click.ParamType):
    name = "NAME"

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(n) for n in _queries() if n.startswith(incomplete)]


QUERY_NAME = _QueryName()


@click.group()
def query() -> None:
    """Canned KQL queries: list, show, run.

    \b
    Examples:
      loomctl query list
      loomctl query show sync-latency
      loomctl query run peer-errors --since 6h --app node
    """


@query.command("list")
@local_options
@pass_loom
def list_(loom: LoomContext) -> None:
    """List the canned queries with their parameters."""
    from loomctl.logs.kql.catalogue import load_all
    from loomctl.output.views.query import query_list

    rows = [{"name": q.name, "description": q.description, "tables": q.views,
             "params": [{"name": p.name, "type": p.type, "default": p.default, "description": p.description}
                        for p in q.params]} for q in load_all().values()]
    loom.output.emit(rows, table=query_list)


def _scope_options(func: Any) -> Any:
    opts = [
        click.option("--since", metavar="DURATION", help="Window ending now: 30m, 1h (default), 2d."),
        click.option("--start", metavar="TIME", help="Window start, ISO 8601 (local time without an offset)."),
        click.option("--end", metavar="TIME", help="Window end (default now)."),
        click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
                     help="Set a declared parameter (repeatable); values become escaped KQL literals."),
        click.option("--app", metavar="relay|node|NAME", help="Only this app (default both LoomDB apps)."),
        click.option("--replica", metavar="NAME", default="", help="Only this replica."),
        click.option("--destination", type=click.Choice(["log-analytics", "azure-monitor"]), default=None,
                     help="Log tables: log-analytics (*_CL) or azure-monitor. Default: from the environment."),
        click.option("--metrics-source", type=click.Choice(["AppMetrics", "customMetrics"], case_sensitive=False),
                     default=None, help="Table with LoomMesh metrics (default AppMetrics)."),
    ]
    for o in reversed(opts):
        func = o(func)
    return func


def _apps(loom: LoomContext, q: Any, app: str | None) -> list[str]:
    """--app, else both LoomDB apps for log queries; metric queries default to every app (role names vary)."""
    from loomctl.logs.target import app_names

    if app or any(v in q.views for v in ("ConsoleLogs", "SystemLogs")):
        return app_names(loom, app)
    return []


@query.command("show")
@click.argument("name", type=QUERY_NAME)
@_scope_options
@local_options
@pass_loom
def show(loom: LoomContext, name: str, since: str | None, start: str | None, end: str | None,
         params: tuple[str, ...], app: str | None, replica: str, destination: str | None,
         metrics_source: str | None) -> None:
    """Print the exact KQL of a canned query, ready to paste into the portal's Logs blade.

    Offline: the destination comes from --destination or the profile (default log-analytics).
    """
    from loomctl.core.timeutil import resolve_range
    from loomctl.logs.kql import catalogue as cat
    from loomctl.logs.target import check_destination, check_metrics_source

    q = cat.get(name)
    rng = resolve_range(since, start, end)
    s = loom.settings
    scope = cat.Scope(destination=check_destination(destination or s.get("logs_destination")) or "log-analytics",
                      metrics_source=check_metrics_source(metrics_source or s.get("metrics_source")),
                      start=None if rng.since else rng.start, end=None if rng.since else rng.end, since=rng.since,
                      apps=_apps(loom, q, app), replica=replica,
                      params=cat.parse_assignments(params, q))
    text = cat.render(q, scope)
    from loomctl.output.formats import Format

    if loom.output_format in (None, Format.TABLE) and not loom.output.query:
        click.echo(text, nl=False)
    else:
        loom.output.emit({"name": q.name, "description": q.description, "destination": scope.destination,
                          "kql": text})


@query.command("run")
@click.argument("name", type=QUERY_NAME)
@_scope_options
@click.option("--workspace-id", metavar="ID", help="Log Analytics workspace (customer) id.")
@click.option("--show-query", is_flag=True, help="Print the KQL sent to stderr.")
@common_options
@pass_loom
def run(loom: LoomContext, name: str, since: str | None, start: str | None, end: str | None,
        params: tuple[str, ...], app: str | None, replica: str, destination: str | None,
        metrics_source: str | None, workspace_id: str | None, show_query: bool) -> None:
    """Run a canned query against the Log Analytics workspace and show the rows.

    Exit 1 when Log Analytics returned only part of the result (PartialError).
    """
    from loomctl.azure.loganalytics import run_query
    from loomctl.core.timeutil import resolve_range
    from loomctl.logs.kql import catalogue as cat
    from loomctl.logs.target import resolve_target
    from loomctl.output.views.results import emit_result

    q = cat.get(name)
    assignments = cat.parse_assignments(params, q)
    rng = resolve_range(since, start, end)
    target = resolve_target(loom, workspace_id, destination, metrics_source)
    scope = cat.Scope(destination=target.destination, metrics_source=target.metrics_source, start=rng.start,
                      end=rng.end, since=None, apps=_apps(loom, q, app), replica=replica,
                      params=assignments)
    text = cat.render(q, scope)
    if show_query:
        click.echo(text, err=True)
    from loomctl.output.formats import Format

    raw_times = loom.output.format is Format.JSON and not loom.output.query  # streamed as the service sent them
    result = run_query(loom.azure, target.workspace_id, text, rng.start, rng.end, target.destination,
                       raw_times=raw_times)
    emit_result(loom, result, q.chart, title=f"{q.name}: {q.description}")
