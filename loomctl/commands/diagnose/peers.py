"""loomctl diagnose peers"""

from __future__ import annotations

import time
from typing import Any

import click

from loomctl.commands.diagnose._peer_options import dns_servers, peer_options, targets
from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import ProblemsFound, UsageError
from loomctl.inside.options import inside_app, inside_options, notes
from loomctl.core.options import common_options

STAGE_TITLES = {"dns": "DNS", "tcp": "TCP", "websocket": "Upgrade", "hello": "Hello", "ping": "Ping", "read": "Read"}


@click.command()
@peer_options
@click.option("--write-probe", is_flag=True,
              help="Also write a probe node (under loomctl/probe/<run id> only) on each peer and measure how fast "
                   "it reaches every other peer. Opt-in: it writes.")
@click.option("--samples", type=click.IntRange(1, 200), default=3, show_default=True,
              help="Writes per peer for --write-probe (median and p95 of the propagation latency).")
@inside_options
@common_options
@pass_loom
def peers(loom: LoomContext, peers: tuple[str, ...], timeout: float, write_probe: bool, samples: int,
          from_inside: bool, inside_app_name: str | None, inside_replica: str | None) -> None:
    """Probe each LoomMesh peer stage by stage; optional write probe.

    For every peer, concurrently: DNS, TCP connect, WebSocket upgrade on /gun, GUN hello (the relay's pid),
    dam ping round trip and a read. The first failing stage is named with a hint. --timeout is one deadline
    per peer, so a run takes as long as the slowest peer. Exit 1 when a peer or a propagation pair fails.

    \b
    Examples:
      loomctl diagnose peers
      loomctl diagnose peers --profile sandbox --write-probe --samples 20
      loomctl diagnose peers --peer ws://127.0.0.1:8765/gun --timeout 2 -o json
      loomctl diagnose peers --from-inside        (probe from inside a loom-node replica, via exec)
    """
    started = time.perf_counter()  # the deadline counts from here: imports below are part of it
    import asyncio

    from loomctl.loommesh.peer_probe import probe_peers
    from loomctl.loommesh.write_probe import write_probe as run_write_probe

    servers = dns_servers(loom)
    where_app = inside_app(loom, from_inside, inside_app_name, inside_replica)
    if where_app and write_probe:
        raise UsageError("--write-probe runs from this machine only", "drop --from-inside or --write-probe")
    plist = targets(loom, peers)
    if any(p.source == "live deployment" for p in plist.peers):
        started = time.perf_counter()  # reading Azure is not part of any peer's deadline
    extra: list[str] = []
    if where_app:
        from loomctl.inside.run import probe_checked

        run = probe_checked(loom, where_app, peers=[(p.url, p.role) for p in plist.peers], dns_servers=servers,
                            timeout=timeout, replica=inside_replica)
        results, extra = run.peers, notes(run)
    else:
        results = asyncio.run(probe_peers([(p.url, p.role) for p in plist.peers], timeout=timeout,
                                          dns_servers=servers, started=started))
    probe = None
    if write_probe:
        reachable = [r.url for r in results if r.ok]
        if len(reachable) >= 2:
            probe = asyncio.run(run_write_probe(reachable, samples=samples, timeout=timeout))
        else:
            from loomctl.output import ui

            ui.warn("write probe skipped: it needs at least two reachable peers")
    doc = {"peers": results, "write_probe": probe, "notes": plist.notes + extra,
           "gun_peers": plist.gun_peers, "duration_ms": round((time.perf_counter() - started) * 1000, 1)}
    loom.output.emit(doc, table=render)
    if not all(r.ok for r in results) or (probe is not None and not probe.ok) or \
            (plist.gun_peers is not None and not plist.gun_peers.ok):
        raise ProblemsFound("LoomMesh peers have problems")


def short(url: str) -> str:
    """A peer URL for a table cell: no http:// or ws:// (kept: https, wss) and no /gun."""
    for prefix in ("http://", "ws://"):
        if url.startswith(prefix):
            url = url[len(prefix):]
    return url[:-4] if url.endswith("/gun") else url


def render(doc: dict[str, Any]) -> list[Any]:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    t.add_column("Peer", overflow="fold", min_width=15)
    for col in ("Role", "Result", *STAGE_TITLES.values(), "Relay pid", "Where"):
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
