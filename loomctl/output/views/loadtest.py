"""What `loomctl loadtest` shows: live progress (rich Live on a terminal, plain lines when piped) and the summary
(percentiles per writer peer and overall, a latency histogram, thresholds)."""

from __future__ import annotations

from typing import Any

from loomctl.output.views.peers import short

BAR = 40  # characters of the longest histogram bar


def _ms(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v / 1000:.2f} s" if v >= 10000 else f"{v:.1f} ms"


def _rate(asked: float | None) -> str:
    return "as fast as acks allow" if asked is None else f"{asked:g}/s"


def start_line(plan: Any) -> str:
    what = f"{plan.count} writes" if plan.count is not None else f"{plan.duration_s:g}s"
    warm = f" after a {plan.warmup_s:g}s warm-up" if plan.warmup_s else ""
    return (f"loadtest {plan.run_id}: {plan.writers} writer(s), {plan.readers} reader(s) over "
            f"{len(plan.peers)} peer(s), {_rate(plan.rate)}, {what}{warm}, {plan.size} B values; writing under "
            f"{plan.prefix}/ (GUN cannot delete: these writes stay)")


def progress_line(s: Any) -> str:
    return (f"{s.elapsed_s:6.1f}s {s.phase:<6} writes {s.writes:>7}  rate {s.rate:8.1f}/s"
            f"{'' if s.asked is None else f' of {s.asked:g}'}  ack p95 {_ms(s.ack_p95_ms):>9}  "
            f"propagation p95 {_ms(s.propagation_p95_ms):>9}  errors {s.errors}  reconnects {s.reconnects}  "
            f"connected {s.connected}/{s.connections}")


def progress_panel(s: Any) -> Any:
    from rich.table import Table

    t = Table(box=None, show_header=True, header_style="bold", pad_edge=False, title="loadtest", title_justify="left")
    for col in ("Elapsed", "Phase", "Writes", "Rate", "Ack p95", "Propagation p95", "Errors", "Reconnects",
                "Connected"):
        t.add_column(col, justify="right")
    rate = f"{s.rate:.1f}/s" + ("" if s.asked is None else f" of {s.asked:g}")
    t.add_row(f"{s.elapsed_s:.1f}s", s.phase, str(s.writes), rate, _ms(s.ack_p95_ms), _ms(s.propagation_p95_ms),
              str(s.errors), str(s.reconnects), f"{s.connected}/{s.connections}")
    return t


class Progress:
    """Live progress on stderr: a rich Live panel on a terminal, else one plain line per second."""

    def __init__(self, live: bool):
        self.live = None
        self.last = 0.0
        if live:
            from rich.live import Live

            from loomctl.output import ui

            self.live = Live(console=ui.console(stderr=True), auto_refresh=False, transient=False)

    def __enter__(self) -> Progress:
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)

    def update(self, snap: Any) -> None:
        if self.live is not None:
            self.live.update(progress_panel(snap), refresh=True)
            return
        if snap.phase == "done" or snap.elapsed_s - self.last >= 1.0 or self.last == 0.0:
            from loomctl.output import ui

            self.last = max(snap.elapsed_s, 0.01)
            ui.info(progress_line(snap))


def _dist_cells(d: dict[str, Any]) -> list[str]:
    return [_ms(d[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")]


def render_histogram(h: dict[str, Any]) -> list[Any]:
    from rich.text import Text

    buckets = h.get("buckets") or []
    if not buckets:
        return [Text("no propagation samples", style="dim")]
    top = max(b["count"] for b in buckets) or 1
    lines = []
    for b in buckets:
        bar = "█" * max(1 if b["count"] else 0, round(b["count"] / top * BAR))
        lines.append(Text.assemble(f"  {_ms(b['lo_ms']):>9} – {_ms(b['hi_ms']):<9} ", (bar, "cyan"),
                                   f" {b['count']}"))
    return lines


def render_summary(doc: dict[str, Any]) -> list[Any]:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    out: list[Any] = []
    asked = doc["rate_asked"]
    ratio = f" ({doc['rate_achieved'] / asked:.0%} of {asked:g}/s asked)" if asked else " (as fast as acks allow)"
    out.append(Text(f"Load test {doc['run_id']}: {doc['measured']} measured writes ({doc['writes']} in all) of "
                    f"{doc['size']} B in {doc['elapsed_s']:.1f}s, {doc['rate_achieved']:.1f}/s{ratio}",
                    style="bold"))
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    t.add_column("Writer peer", no_wrap=True, min_width=22)
    for col in ("Writes", f"Latency ({doc['propagation_scope']})", "Samples", "P50", "P95", "P99", "Max", "Lost"):
        t.add_column(col, justify="left" if col.startswith("Latency") else "right", no_wrap=True)
    loss = doc["loss"]
    rows = [(short(p["peer"]) + ("" if p["role"] == "peer" else f" ({p['role']})"), p, p["lost"])
            for p in doc["per_peer"] if p["writers"]]
    rows.append(("overall", doc, loss["lost"]))
    for i, (name, d, lost) in enumerate(rows):
        label = Text(name, style="bold") if name == "overall" else name
        writes = d["measured"] if name == "overall" else d["writes"]
        t.add_row(label, str(writes), "ack", str(d["ack"]["count"]), *_dist_cells(d["ack"]), "", end_section=False)
        t.add_row("", "", "propagation", str(d["propagation"]["count"]),
                  *_dist_cells(d["propagation"]), Text(str(lost), style="red" if lost else ""),
                  end_section=i == len(rows) - 2)
    out.append(t)
    out.append(Text(f"Propagation latency ({doc['propagation_scope']}, {doc['propagation']['count']} samples):"))
    out.extend(render_histogram(doc["histogram"]))
    lost_style = "red" if loss["lost"] else "green"
    out.append(Text.assemble("\nLoss: ", (f"{loss['lost']} of {loss['expected']} arrivals ({loss['rate']:.2%}); "
                                          f"{loss['lost_writes']} write(s) not seen by every reader", lost_style),
                             f"; unacked puts: {doc['unacked']}; errors: {doc['error_count']}; "
                             f"reconnects: {doc['reconnects']}"))
    for e in doc["errors"]:
        out.append(Text(f"  {e}", style="red"))
    if doc["stopped_at_cap"]:
        out.append(Text("stopped writing at the byte cap (--max-bytes)", style="yellow"))
    for th in doc["thresholds"]:
        mark = Text("✓ ", style="green") if th["ok"] else Text("✗ ", style="red")
        value = "no samples" if th["value"] is None else _ms(th["value"]) if th["unit"] == "ms" else \
            f"{th['value']:.2%}" if th["threshold"].lower().startswith("loss.rate") else f"{th['value']:g}"
        out.append(Text.assemble(mark, f"threshold {th['threshold']}: {value}"))
    out.append(Text(f"{doc['bytes_written']} bytes written under {doc['soul_prefix']}/", style="dim"))
    out.append(Text(f"{doc['note']}.", style="dim"))
    return out
