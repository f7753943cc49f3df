"""loomctl diagnose mesh"""

from __future__ import annotations

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import ProblemsFound
from loomctl.core.options import common_options


@click.command()
@click.option("--write-probe", is_flag=True,
              help="Each replica writes one probe node (under loomctl/probe/<run id> only) through its own GUN "
                   "process, and every other replica reports whether and when it saw it. Opt-in: it writes.")
@click.option("--app", "apps", multiple=True, metavar="NAME",
              help="Only the replicas of this app (repeatable; default: the relay and the node app).")
@click.option("--replica", "only", multiple=True, metavar="NAME",
              help="Only this replica (repeatable; a sandbox process by its name, e.g. node-1).")
@click.option("--timeout", type=click.FloatRange(2, 300), default=30.0, show_default=True,
              help="One deadline for the whole run, in seconds; a replica still unanswered then is reported.")
@click.option("--window", type=click.FloatRange(0.5, 20), default=3.0, show_default=True,
              help="With --write-probe: how long each replica looks for the others' probe nodes, in seconds.")
@click.option("--parallel", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Replicas probed at once (exec sessions in flight).")
@common_options
@pass_loom
def mesh(loom: LoomContext, write_probe: bool, apps: tuple[str, ...], only: tuple[str, ...], timeout: float,
         window: float, parallel: int) -> None:
    """Who syncs with whom, replica by replica, from inside every replica.

    For every running replica of the relay and node apps, through the exec channel (as --from-inside does):
    its GUN process's hello and the TCP links it holds right now (read from /proc where the image allows).
    With --write-probe, each replica then writes a probe node through its own GUN process and every other
    replica reports whether and how soon it saw it: a replicas x replicas matrix, the connected parts of the
    mesh, and the verdict: whole, or split into N parts naming the replicas of each. Replicas behind one
    load-balanced relay ingress that do not peer each other split the mesh depending on where each node's
    connection landed. On the sandbox (`--profile sandbox`) the replicas are its local processes, reached on
    their ports. Exit 1 when the mesh is split or a replica could not be probed.

    \b
    Examples:
      loomctl diagnose mesh
      loomctl diagnose mesh --write-probe
      loomctl diagnose mesh --write-probe --app loom-node --parallel 4 -o json
      loomctl sandbox up --relays 2 --attach 1,1,2 && loomctl diagnose mesh --profile sandbox --write-probe
    """
    from loomctl.mesh.replicas import choose, reach_for
    from loomctl.mesh.run import run_mesh
    from loomctl.output.views.mesh import render_mesh

    reach = reach_for(loom, apps)
    replicas = choose(reach.replicas(), only)
    result = run_mesh(reach, replicas, write_probe=write_probe, timeout=timeout, window=window, parallel=parallel)
    loom.output.emit(result, table=render_mesh)
    if result.verdict == "split":
        raise ProblemsFound(f"the mesh is split into {len(result.parts)} parts",
                            "each part syncs only within itself: `loomctl runbook show mesh-split` says how to join "
                            "them")
    if not result.ok:
        raise ProblemsFound(f"{len(result.findings)} replica(s) could not be probed", result.findings[0].hint)
