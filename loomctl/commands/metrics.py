"""loomctl metrics"""

from __future__ import annotations

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import ProblemsFound
from loomctl.core.options import common_options


@click.command()
@click.option("--since", metavar="DURATION", help="Window ending now: 1h (default), 6h, 2d.")
@click.option("--start", metavar="TIME", help="Window start, ISO 8601 (local time without an offset).")
@click.option("--end", metavar="TIME", help="Window end (default now).")
@click.option("--bin", "bin_size", metavar="DURATION", help="Width of a time bin (default: about 30 bins).")
@click.option("--app", metavar="relay|node|NAME", help="Only this app (default every app reporting metrics).")
@click.option("--metrics-source", type=click.Choice(["AppMetrics", "customMetrics"], case_sensitive=False),
              default=None, help="Table with LoomMesh metrics (default AppMetrics).")
@click.option("--workspace-id", metavar="ID", help="Log Analytics workspace (customer) id.")
@click.option("--show-query", is_flag=True, help="Print the KQL sent to stderr.")
@common_options
@pass_loom
def metrics(loom: LoomContext, since: str | None, start: str | None, end: str | None, bin_size: str | None,
            app: str | None, metrics_source: str | None, workspace_id: str | None, show_query: bool) -> None:
    """LoomMesh metrics per time bin: peers connected, graph size, sync latency p50/p95/p99.

    Reads gun.peers.connected, gun.nodes.count and gun.sync.latency_ms from Application Insights
    (AppMetrics in the workspace, or customMetrics) and draws each series as a sparkline.

    \b
    Examples:
      loomctl metrics
      loomctl metrics --since 24h --bin 1h --app node
      loomctl metrics -o json
    """
    from loomctl.logs.metrics import collect
    from loomctl.output.views.metrics import render_metrics

    doc = collect(loom, since=since, start=start, end=end, bin_size=bin_size, app=app,
                  metrics_source=metrics_source, workspace_id=workspace_id, show_query=show_query)
    loom.output.emit(doc, table=render_metrics)
    if doc["partial_errors"]:
        from loomctl.output import ui

        for p in doc["partial_errors"]:
            ui.warn(f"partial result: {p}")
        raise ProblemsFound()  # the warnings above say it
