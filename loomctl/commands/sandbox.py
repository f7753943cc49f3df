"""loomctl sandbox up | status | down | break | heal"""

from __future__ import annotations

from typing import Any

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import ProblemsFound, UsageError
from loomctl.core.options import local_options
from loomctl.sandbox.faults import FAULTS


@click.group()
def sandbox() -> None:
    """Run a local LoomMesh (relay and two nodes) to try loomctl on.

    A real GUN relay (or several, with `up --relays N`) and node peers dialling it, on 127.0.0.1, each with its
    own data folder, multicast off; the npm package gun (pinned) is installed into a cache folder on first use.
    `up` writes the profile
    `sandbox`, so that `loomctl doctor --profile sandbox` and
    `loomctl diagnose peers --profile sandbox --write-probe` run against it. No Azure account needed.
    """


def _attach_list(ctx: click.Context, param: click.Parameter, value: str | None) -> list[list[int]] | None:
    if value is None:
        return None
    try:
        out = [[int(n) for n in v.split("+")] for v in value.split(",")]
    except ValueError:
        raise click.BadParameter("give one entry per node, comma-separated: a relay number, or several joined "
                                 "with + for a node that dials more than one relay, e.g. 1,1,2 or 1,2,1+2") from None
    if not out or len(out) > 20:
        raise click.BadParameter("give 1 to 20 relay numbers, one per node")
    return out


@sandbox.command()
@click.option("--port", type=click.IntRange(1024, 65500), default=None,
              help="First port (the first relay's); the other processes take the next ones. Default: free ports.")
@click.option("--relays", type=click.IntRange(1, 9), default=1, show_default=True,
              help="Relay replicas, each its own GUN process; they do not peer each other (as replicas behind "
                   "one load-balanced ingress do not).")
@click.option("--attach", metavar="N,N,...", default=None, callback=_attach_list,
              help="One entry per node: the relay (1-based) it dials, or several joined with + (a node that dials "
                   "more than one relay). --attach 1,1,2 starts three nodes, two on relay-1 and one on relay-2; "
                   "--attach 1,2,1+2 joins both relays through node-3. Default: two nodes spread over the relays.")
@click.option("--peer-relays", is_flag=True, default=False,
              help="With --relays 2 or more: each relay dials the others (through its links), so that the relays "
                   "form one mesh; `loomctl sandbox break relays-unpeered` then cuts them apart.")
@local_options
@pass_loom
def up(loom: LoomContext, port: int | None, relays: int, attach: list[list[int]] | None, peer_relays: bool) -> None:
    """Start the sandbox (does nothing if it already runs with this layout).

    With --relays 2 and --attach, start the mesh shapes that replicas behind a load balancer end up in: nodes on
    different relays that do not peer form separate parts (`loomctl diagnose mesh --profile sandbox
    --write-probe` shows them). A running sandbox with another layout is stopped and started anew.

    \b
    Examples:
      loomctl sandbox up && loomctl doctor --profile sandbox
      loomctl sandbox up --relays 2 --attach 1,1,2     (split: node-3 alone with relay-2)
      loomctl sandbox up --relays 2 --attach 1,2,1+2   (whole: node-3 dials both relays)
      loomctl sandbox up --relays 2 --peer-relays      (whole: the relays peer each other)
    """
    from loomctl.output import ui
    from loomctl.output.views.sandbox import sandbox_table
    from loomctl.sandbox import gun, linkproxy, processes

    wanted = processes.layout(relays, attach, peer_relays)
    state = processes.load_state()
    if (state and all(p.alive for p in state.procs) and processes.same_layout(state, wanted)
            and (state.links is None or linkproxy.links_alive(state))):
        ui.info(f"the sandbox already runs (state {state.path})")
    else:
        if state:  # a partial or dead sandbox, or another layout: stop what is left of it first
            if all(p.alive for p in state.procs):
                ui.info("the running sandbox has another layout: restarting it")
            processes.stop(state)
        node = gun.node_binary()
        modules = gun.ensure_gun()
        state = processes.start(modules, node, port, procs=wanted)
    path = processes.write_profile(state)
    loom.output.emit(_doc(state, path), table=sandbox_table)
    ui.info("next: loomctl doctor --profile sandbox")
    ui.info("      loomctl diagnose peers --profile sandbox --write-probe")
    if relays > 1:
        ui.info("      loomctl diagnose mesh --profile sandbox --write-probe")


@sandbox.command()
@local_options
@pass_loom
def status(loom: LoomContext) -> None:
    """Show the sandbox's processes and whether each answers a GUN ping (exit 1 when one is down)."""
    import asyncio

    from loomctl.loommesh.peer_probe import probe_peers
    from loomctl.output.views.sandbox import sandbox_table
    from loomctl.sandbox import processes

    state = processes.load_state()
    if state is None:
        loom.output.emit({"running": False, "peers": []}, table=lambda d: "no sandbox is running "
                         "(start one with `loomctl sandbox up`)")
        raise ProblemsFound("no sandbox is running", "start one with `loomctl sandbox up`")
    probes = asyncio.run(probe_peers([(p.url, p.role) for p in state.procs], timeout=2.0))
    doc = _doc(state, None)
    for row, r in zip(doc["peers"], probes):
        row["answers"] = r.ok
        row["relay_pid"] = r.pid
        row["problem"] = None if r.ok else f"{r.failed_stage}: {r.error}"
    from loomctl.sandbox import faults, linkproxy

    proxy = linkproxy.links_alive(state)
    conns = linkproxy.link_connections(state)
    urls = linkproxy.link_urls(state)
    doc["links"] = [{"node": v["node"], "relay": v["relay"], "url": urls[k], "proxy_alive": proxy,
                     "connections": conns.get(k)} for k, v in linkproxy.links(state).items()]
    doc["running"] = (all(p.alive for p in state.procs) and all(r.ok for r in probes)
                      and (state.links is None or proxy))
    doc["faults"] = [dict(f, shown=faults.describe(f)) for f in faults.in_force(state)]
    loom.output.emit(doc, table=sandbox_table)
    if doc["faults"]:
        raise ProblemsFound(f"{len(doc['faults'])} sandbox fault(s) in force", "`loomctl sandbox heal` removes them")
    if not doc["running"]:
        raise ProblemsFound("the sandbox is not healthy", "restart it: `loomctl sandbox down && loomctl sandbox up`")


@sandbox.command()
@local_options
@pass_loom
def down(loom: LoomContext) -> None:
    """Stop exactly the processes `up` started (verified by PID and start time) and forget them."""
    from loomctl.output.views.sandbox import stopped_table
    from loomctl.sandbox import processes

    state = processes.load_state()
    if state is None:
        loom.output.emit({"stopped": []}, table=lambda d: "no sandbox was running")
        return
    report = processes.stop(state)
    loom.output.emit({"stopped": report}, table=lambda d: stopped_table(d))


def _running_state() -> Any:
    from loomctl.sandbox import processes

    state = processes.load_state()
    if state is None:
        raise UsageError("no sandbox is running", "start one with `loomctl sandbox up`")
    return state


@sandbox.command("break")
@click.argument("fault", metavar="FAULT", type=click.Choice(list(FAULTS)))
@click.option("--node", default=None, metavar="NAME", help="The node to break (node-down, blackhole, slow, "
              "partition). Default: node-1.")
@click.option("--delay-ms", type=click.IntRange(1, 2000), default=None,
              help="slow: how long the link holds each chunk, each way (default 300).")
@local_options
@pass_loom
def break_(loom: LoomContext, fault: str, node: str | None, delay_ms: int | None) -> None:
    """Break the sandbox one realistic way, on its real processes, to practise diagnosis.

    \b
    FAULT is one of:
      relay-down  stop the relay process
      node-down   stop one node process (--node)
      blackhole   a node's link to the relay accepts and never answers
      slow        a node's link to the relay holds each chunk --delay-ms each way
      partition   cut a node off the relay (its link resets every connection)
      relays-unpeered  cut the relays' links to each other (`sandbox up --relays 2 --peer-relays`)

    `loomctl sandbox status` shows the faults in force; `loomctl sandbox heal` removes them all.

    \b
    Examples:
      loomctl sandbox break blackhole && loomctl doctor --profile sandbox
    """
    from loomctl.output import ui
    from loomctl.sandbox import faults

    if delay_ms is not None and fault != "slow":
        raise UsageError("--delay-ms goes with the fault slow only",
                         "leave it out, or use `loomctl sandbox break slow`")
    if node is not None and fault in ("relay-down", "relays-unpeered"):
        raise UsageError(f"--node does not go with {fault} (it acts on the relays)", "leave --node out")
    record = faults.apply(_running_state(), fault, node, delay_ms)
    shown = faults.describe(record)
    loom.output.emit(dict(record, shown=shown), table=lambda d: f"broken: {d['shown']}")
    ui.info("next: loomctl doctor --profile sandbox")
    ui.info("      loomctl sandbox heal")


@sandbox.command()
@local_options
@pass_loom
def heal(loom: LoomContext) -> None:
    """Remove every fault in force: links back to normal, stopped processes started again (same ports and data).

    \b
    Examples:
      loomctl sandbox heal && loomctl doctor --profile sandbox
    """
    from loomctl.output import ui
    from loomctl.sandbox import faults, linkproxy

    state = _running_state()
    healed = faults.heal(state)
    unlinked = linkproxy.wait_linked(state)  # the nodes redial their links within a second or two
    doc = {"healed": [dict(h, shown=faults.describe(h)) for h in healed], "unlinked": unlinked}
    loom.output.emit(doc, table=lambda d: "\n".join(f"healed: {h['shown']}" for h in d["healed"])
                     or "no fault was in force")
    for node in unlinked:
        ui.warn(f"{node} did not redial its link to the relay: `loomctl sandbox break node-down --node {node} && "
                "loomctl sandbox heal` restarts it")
    ui.info("next: loomctl doctor --profile sandbox")


def _doc(state: Any, profile_path: Any) -> dict[str, Any]:
    return {
        "running": all(p.alive for p in state.procs),
        "profile": "sandbox",
        "config": str(profile_path) if profile_path else None,
        "folder": state.folder,
        "peers": [{"name": p.name, "role": p.role, "url": p.url, "pid": p.pid, "alive": p.alive, "data": p.data,
                   "log": p.log, "dials": p.dials} for p in state.procs],
    }
