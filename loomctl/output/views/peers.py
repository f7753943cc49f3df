"""What `loomctl diagnose peers` shows: each peer stage by stage, the write probe's latency matrix and acks."""

from __future__ import annotations

from typing import Any

STAGE_TITLES = {"dns": "DNS", "tcp": "TCP", "websocket": "Upgrade", "hello": "Hello", "ping": "Ping", "read": "Read"}


def short(url: str) -> str:
    """A peer URL for a table cell: no http:// or ws:// (kept: https, wss) and no /gun."""
    for prefix in ("http://", "ws://"):
        if url.startswith(prefix):
            url = url[len(prefix):]
    return url[:-4] if url.endswith("/gun") else url


def render_peers(doc: dict[str, Any]) -> list[Any]:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    t.add_column("Peer", overflow="fold", min_width=15)
    for col in ("Role", "Result", *STAGE_TITLES.values(), "GUN pid", "Where"):
        t.add_column(col, justify="right" if col in STAGE_TITLES.values() else "left", no_wrap=True)
    out: list[Any] = [t]
    hints: list[Any] = []
    for r in doc["peers"]:
        cells = []
        by = {s["name"]: s for s in r["stages"]}
        for name in STAGE_TITLES:
            s = by.get(name)
            if s is None:
                cells.append(Text("-", style="dim"))
            elif s["ok"]:
                cells.append(Text(f"{s['duration_ms']:.1f} ms"))
            else:
                cells.append(Text(f"✗ {s['duration_ms']:.0f} ms", style="red"))
        result = Text("ok", style="green") if r["ok"] else Text(f"failed: {r['failed_stage']}", style="red")
        t.add_row(short(r["url"]), r["role"], result, *cells, r["pid"] or "-", r["where"])
        if not r["ok"]:
            hints.append(Text.assemble((f"{r['url']}", "bold"), f" [{r['failed_stage']}] {r['error']}"))
            hints.append(Text.assemble(("  hint: ", "cyan"), r["hint"] or ""))
    out.extend(hints)
    probe = doc.get("write_probe")
    if probe:
        out.append(Text(f"\nWrite probe {probe['soul_prefix']} ({probe['samples']} samples per writer): "
                        "propagation latency, median / p95", style="bold"))
        urls = list(dict.fromkeys([p["writer"] for p in probe["pairs"]] + [p["reader"] for p in probe["pairs"]]))
        m = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
        m.add_column("writer \\ reader")
        for u in urls:
            m.add_column(short(u), justify="right", no_wrap=True)
        pairs = {(p["writer"], p["reader"]): p for p in probe["pairs"]}
        for w in urls:
            row: list[Any] = [short(w)]
            for rd in urls:
                p = pairs.get((w, rd))
                if w == rd or p is None:
                    row.append(Text("-", style="dim"))
                elif p["received"] == 0:
                    row.append(Text("never", style="red"))
                else:
                    row.append(Text(f"{p['median_ms']:.1f} / {p['p95_ms']:.1f} ms"
                                    + ("" if p["ok"] else f" ({p['received']}/{p['samples']})"),
                                    style=None if p["ok"] else "yellow"))
            m.add_row(*row)
        out.append(m)
        acks = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold", title="Acks", title_justify="left")
        for col in ("Writer", "Puts", "Acks", "Unacked puts", "First ack (median)"):
            acks.add_column(col)
        for a in probe["acks"]:
            acks.add_row(short(a["url"]), str(a["puts"]), str(a["acks"]), str(a["unacked_puts"]),
                         "-" if a["first_ack_ms"] is None else f"{a['first_ack_ms']:.0f} ms")
        out.append(acks)
        for p in probe["pairs"]:
            if not p["ok"]:
                out.append(Text.assemble((f"{p['writer']} → {p['reader']}: ", "bold"), p["error"] or ""))
                out.append(Text.assemble(("  hint: ", "cyan"), p["hint"] or ""))
        for k, v in probe["errors"].items():
            out.append(Text(f"{k}: {v}", style="red"))
    gp = doc.get("gun_peers")
    if gp and not gp["ok"]:
        out.append(Text.assemble(("GUN_PEERS ", "bold"), f"{gp['value']} does not reach the relay: ",
                                 "; ".join(gp["problems"])))
        if gp["suggestion"]:
            out.append(Text.assemble(("  hint: ", "cyan"), f"set GUN_PEERS={gp['suggestion']}"))
    out.extend(Text(f"note: {n}") for n in doc["notes"] if not (gp and not gp["ok"] and "GUN_PEERS" in n))
    out.append(Text(f"{len(doc['peers'])} peers probed in {doc['duration_ms'] / 1000:.2f} s"
                    + (" (write probe included)" if probe else ""), style="dim"))
    return out


def render_sync(doc: dict[str, Any]) -> list[Any]:
    """`diagnose sync --across A,B`: one line per direction, the lag against the RPO."""
    out: list[Any] = [f"{name}: relay {url}" for name, url in doc["urls"].items()]
    for name, error in doc["errors"].items():
        out.append(f"× {name}: {error}")
    for leg in doc["legs"]:
        mark = "✓" if leg["ok"] else "×"
        if leg["median_ms"] is not None:
            lag = f"median {leg['median_ms']:.0f} ms, p95 {leg['p95_ms']:.0f} ms, max {leg['max_ms']:.0f} ms"
        else:
            lag = "no write arrived"
        verdict = f"within the RPO of {doc['rpo_s']:g} s" if leg["ok"] else (leg["error"] or "failed")
        out.append(f"{mark} {leg['writer']} → {leg['reader']}: {lag} ({leg['received']}/{leg['samples']} arrived); "
                   f"{verdict}")
        if not leg["ok"] and leg.get("hint"):
            out.append(f"    hint: {leg['hint']}")
    return out
