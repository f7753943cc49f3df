"""What `loomctl metrics` shows: the time bins as a table and each series as a sparkline."""

from __future__ import annotations

from typing import Any

from loomctl.core.timeutil import local_time, parse_iso


def render_metrics(doc: dict[str, Any]) -> list[Any]:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from loomctl.output.views.results import cell_text, sparkline

    def when(v: Any) -> str:
        if isinstance(v, str):
            v = parse_iso(v)
        return local_time(v)

    rows = doc["bins"]
    if not rows:
        return [Text(f"no LoomMesh metrics between {when(doc['start'])} and {when(doc['end'])} in {doc['source']}: "
                     "do the apps export gun.* metrics to Application Insights?")]
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold",
              title=f"LoomMesh metrics ({doc['source']}, {doc['bin_seconds'] // 60} min bins)",
              title_justify="left", title_style="bold")
    cols = [("time", "Time"), ("peers_min", "Peers min"), ("peers_avg", "Peers avg"), ("nodes_max", "Graph nodes"),
            ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"), ("p99_ms", "p99 ms"), ("samples", "Samples")]
    for key, head in cols:
        t.add_column(head, justify="left" if key == "time" else "right", no_wrap=True)
    for r in rows:
        t.add_row(*[when(r[k]) if k == "time" else cell_text(r[k]) for k, _ in cols])
    grid = Table.grid(padding=(0, 2))
    for _ in range(3):
        grid.add_column()
    for key, head in cols[1:-1]:
        values = [r[key] for r in rows]
        nums = [v for v in values if isinstance(v, (int, float))]
        if nums:
            grid.add_row(Text(head, style="bold"), sparkline(values),
                         f"min {cell_text(min(nums))}  max {cell_text(max(nums))}  last {cell_text(nums[-1])}")
    return [t, grid]
