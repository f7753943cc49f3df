"""loomctl sandbox up | status | down"""

from __future__ import annotations

from typing import Any

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import ProblemsFound
from loomctl.core.options import local_options


@click.group()
def sandbox() -> None:
    """Run a local LoomMesh (relay and two nodes) to try loomctl on.

    A real GUN relay and two node peers dialling it, on 127.0.0.1, each with its own data folder, multicast
    off; the npm package gun (pinned) is installed into a cache folder on first use. `up` writes the profile
    `sandbox`, so that `loomctl doctor --profile sandbox` and
    `loomctl diagnose peers --profile sandbox --write-probe` run against it. No Azure account needed.
    """


@sandbox.command()
@click.option("--port", type=click.IntRange(1024, 65533), default=None,
              help="Relay port; the nodes take the next two. Default: free ports.")
@local_options
@pass_loom
def up(loom: LoomContext, port: int | None) -> None:
    """Start the sandbox (does nothing if it already runs).

    \b
    Examples:
      loomctl sandbox up && loomctl doctor --profile sandbox
    """
    from loomctl.output import ui
    from loomctl.output.views.sandbox import sandbox_table
    from loomctl.sandbox import gun, processes

    state = processes.load_state()
    if state and all(p.alive for p in state.procs):
        ui.info(f"the sandbox already runs (state {state.path})")
    else:
        if state:  # a partial or dead sandbox: stop what is left of it first
            processes.stop(state)
        node = gun.node_binary()
        modules = gun.ensure_gun()
        state = processes.start(modules, node, port)
    path = processes.write_profile(state)
    loom.output.emit(_doc(state, path), table=sandbox_table)
    ui.info("next: loomctl doctor --profile sandbox")
    ui.info("      loomctl diagnose peers --profile sandbox --write-probe")


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
    doc["running"] = all(p.alive for p in state.procs) and all(r.ok for r in probes)
    loom.output.emit(doc, table=sandbox_table)
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


def _doc(state: Any, profile_path: Any) -> dict[str, Any]:
    return {
        "running": all(p.alive for p in state.procs),
        "profile": "sandbox",
        "config": str(profile_path) if profile_path else None,
        "folder": state.folder,
        "peers": [{"name": p.name, "role": p.role, "url": p.url, "pid": p.pid, "alive": p.alive, "data": p.data,
                   "log": p.log} for p in state.procs],
    }
