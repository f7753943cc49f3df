"""LoomMesh metrics over a range: one query per metric (run concurrently), merged per time bin."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.core.context import LoomContext

METRIC_QUERIES = {"peers": "peers-connected", "nodes": "graph-size", "latency": "sync-latency"}


def collect(loom: LoomContext, *, since: str | None, start: str | None, end: str | None, bin_size: str | None,
            app: str | None, metrics_source: str | None, workspace_id: str | None,
            show_query: bool = False) -> dict[str, Any]:
    import click

    from loomctl.azure.deployment import parallel
    from loomctl.azure.loganalytics import run_query
    from loomctl.core.timeutil import auto_bin, parse_duration, resolve_range
    from loomctl.logs.kql import catalogue as cat
    from loomctl.logs.target import app_names, resolve_target

    rng = resolve_range(since, start, end)
    width = parse_duration(bin_size, "--bin") if bin_size else auto_bin(rng.span)
    target = resolve_target(loom, workspace_id, None, metrics_source)
    apps = app_names(loom, app) if app else []
    texts = {}
    for key, name in METRIC_QUERIES.items():
        scope = cat.Scope(destination=target.destination, metrics_source=target.metrics_source, start=rng.start,
                          end=rng.end, since=None, apps=apps, params={"bin_size": f"{int(width.total_seconds())}s"})
        texts[key] = cat.render(cat.get(name), scope)
        if show_query:
            click.echo(texts[key], err=True)
    keys = list(texts)
    results = dict(zip(keys, parallel([lambda k=k: run_query(loom.azure, target.workspace_id, texts[k], rng.start,
                                                               rng.end, target.destination) for k in keys])))
    return build(results, rng.start, rng.end, width, target.metrics_source)


def build(results: dict[str, Any], start: dt.datetime, end: dt.datetime, width: dt.timedelta,
          source: str) -> dict[str, Any]:
    """Merge the three results into rows per time bin (peers and nodes summed over apps)."""
    bins: dict[dt.datetime, dict[str, Any]] = {}

    def row(t: dt.datetime) -> dict[str, Any]:
        return bins.setdefault(t, {"time": t, "peers_min": None, "peers_avg": None, "nodes_max": None,
                                   "p50_ms": None, "p95_ms": None, "p99_ms": None, "samples": None})

    for r in results["peers"].records():
        b = row(r["TimeGenerated"])
        b["peers_min"] = r["MinPeers"] if b["peers_min"] is None else min(b["peers_min"], r["MinPeers"])
        avgs = b.setdefault("_avgs", [])
        if isinstance(r.get("AvgPeers"), (int, float)):
            avgs.append(r["AvgPeers"])
        b["peers_avg"] = round(sum(avgs) / len(avgs), 1) if avgs else None
    for r in results["nodes"].records():
        b = row(r["TimeGenerated"])
        b["nodes_max"] = r["MaxNodes"] if b["nodes_max"] is None else max(b["nodes_max"], r["MaxNodes"])
    for r in results["latency"].records():
        b = row(r["TimeGenerated"])
        b.update(p50_ms=r.get("p50"), p95_ms=r.get("p95"), p99_ms=r.get("p99"), samples=r.get("Samples"))
    rows = [{k: v for k, v in bins[t].items() if not k.startswith("_")} for t in sorted(bins)]
    partial = [r.partial_error for r in results.values() if r.partial_error]
    return {"start": start, "end": end, "bin_seconds": int(width.total_seconds()), "source": source,
            "bins": rows, "partial_errors": partial}
