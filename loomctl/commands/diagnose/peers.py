"""loomctl diagnose peers"""

from __future__ import annotations

import time

import click

from loomctl.commands.diagnose._peer_options import dns_servers, peer_options, targets
from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import ProblemsFound, UsageError
from loomctl.core.options import common_options
from loomctl.inside.options import inside_app, inside_options, notes


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
def peers(loom: LoomContext, timeout: float, write_probe: bool, samples: int,
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
    from loomctl.output.views.peers import render_peers

    servers = dns_servers(loom)
    where_app = inside_app(loom, from_inside, inside_app_name, inside_replica)
    if where_app and write_probe:
        raise UsageError("--write-probe runs from this machine only", "drop --from-inside or --write-probe")
    plist = targets(loom)
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
        if not loom.settings.azure_enabled:
            from loomctl.sandbox.hints import explain

            explain(results, loom.settings.profile)  # hints about the sandbox, not about Azure ingress
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
    loom.output.emit(doc, table=render_peers)
    if not all(r.ok for r in results) or (probe is not None and not probe.ok) or \
            (plist.gun_peers is not None and not plist.gun_peers.ok):
        raise ProblemsFound("LoomMesh peers have problems")
