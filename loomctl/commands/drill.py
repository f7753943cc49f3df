"""loomctl drill join | partition"""

from __future__ import annotations

import sys

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import ProblemsFound, UsageError
from loomctl.core.options import common_options, local_options, peer_option
from loomctl.inside.options import inside_app, inside_options


@click.group()
def drill() -> None:
    """Drills that measure the mesh's claims on real GUN peers: join, partition.

    `join`: a fresh GUN peer joins and reads back probe nodes (the reference: ~10 s). `partition` (the sandbox
    only): a node is cut off, both sides write, the link heals and every peer must converge by GUN's conflict
    rule. Both write, only under `loomctl/probe/` (GUN cannot delete: the nodes stay).
    """


@drill.command()
@peer_option
@click.option("--count", type=click.IntRange(1, 500), default=20, show_default=True,
              help="Probe nodes written beforehand, that the new peer must hold.")
@click.option("--timeout", type=click.FloatRange(1, 600), default=30.0, show_default=True,
              help="Seconds the new peer has to hold every probe node.")
@click.option("--yes", "-y", is_flag=True, help="Write without asking (needed off a terminal, but for the sandbox).")
@inside_options
@common_options
@pass_loom
def join(loom: LoomContext, count: int, timeout: float, yes: bool, from_inside: bool, inside_app_name: str | None,
         inside_replica: str | None) -> None:
    """A fresh GUN peer joins the mesh and reads back probe nodes written beforehand.

    The new peer is a real local GUN process (the sandbox's pinned gun, installed on first use) dialling the
    mesh's relays (`--peer`, the profile's peers); the probe nodes go under `loomctl/probe/join/<run id>` through
    the first relay. GUN replicates by pull, so the drill reads every probe node through the new peer until each
    comes back: the time until it holds all of them, against the reference's ~10 s. Exit 1 when it does not
    within --timeout. `--from-inside` runs the same drill in a replica through exec, with the image's node and
    gun (the writer and the new peer are two node processes there; at most 20 s: exec sessions end at ~30 s).

    \b
    Examples:
      loomctl drill join --profile sandbox
      loomctl drill join --peer ws://127.0.0.1:8765/gun --count 100 --yes -o json
      loomctl drill join --from-inside --yes      (from a loom-node replica, to the relay's internal name)
    """
    from loomctl.commands.diagnose._peer_options import targets
    from loomctl.drills import join as drill_join
    from loomctl.output.views.drills import join_view

    where_app = inside_app(loom, from_inside, inside_app_name, inside_replica)
    plist = targets(loom)
    if not plist.peers:
        raise UsageError("no LoomMesh peers to join", "pass --peer URL, or use a profile with peers "
                         "(`loomctl sandbox up` writes the profile sandbox)")
    if loom.settings.profile != "sandbox":
        _confirm(f"write {count} probe nodes under loomctl/probe/join/ on {plist.peers[0].url} (GUN cannot "
                 "delete them)?", yes)
    peers = [(p.url, p.role) for p in plist.peers]
    if where_app:
        result = drill_join.join_inside(loom, where_app, peers, count, timeout, inside_replica)
    else:
        result = drill_join.join(peers, count, timeout)
    loom.output.emit(drill_join.summary(result), table=join_view)
    if not result.ok:
        raise ProblemsFound()


@drill.command()
@click.option("--node", default=None, metavar="NAME", help="The node to cut off the relay. Default: node-1.")
@click.option("--keys", type=click.IntRange(1, 200), default=5, show_default=True,
              help="Fresh keys written on each side (plus two keys both sides write).")
@click.option("--hold", type=click.FloatRange(0, 120), default=5.0, show_default=True,
              help="Seconds the cut lasts at least (longer than GUN's own redial, ~2 s, finds a node that gives "
                   "up).")
@click.option("--timeout", type=click.FloatRange(1, 600), default=30.0, show_default=True,
              help="Seconds after the heal for every peer to hold every write.")
@local_options
@pass_loom
def partition(loom: LoomContext, node: str | None, keys: int, hold: float, timeout: float) -> None:
    """Cut a sandbox node off the relay, write on both sides, heal, and check convergence (the sandbox only).

    On the sandbox's real processes: the node's link resets every connection (`loomctl sandbox break
    partition`) for --hold seconds while each side writes fresh keys and both write the keys `later` (different
    states) and `tie` (equal states) with different values; then the link heals. Reports the time until every
    peer holds every write and checks each value against GUN's conflict rule (HAM: the greater state wins; equal
    states, the lexically greater JSON value). A node that did not redial its link is named with the fix;
    anything else that differs is data loss, key by key. Exit 1 on any finding; 2 without a whole sandbox.

    \b
    Examples:
      loomctl drill partition
      loomctl drill partition --node node-2 --hold 10 -o json
    """
    from loomctl.drills import partition as drill_partition
    from loomctl.output.views.drills import partition_view

    result = drill_partition.partition(node, keys, timeout, hold)
    loom.output.emit(drill_partition.summary(result), table=partition_view)
    if not result.ok:
        raise ProblemsFound()


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("refusing to write probe nodes outside the sandbox without --yes (stdin is not a "
                         "terminal)", "add --yes to go ahead")
    if not click.confirm(question, default=False, err=True):
        raise UsageError("cancelled; nothing was written", None)
