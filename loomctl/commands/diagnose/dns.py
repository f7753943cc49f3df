"""loomctl diagnose dns"""

from __future__ import annotations

import click

from loomctl.commands.diagnose._peer_options import dns_servers, peer_options, targets
from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import ProblemsFound
from loomctl.core.options import common_options
from loomctl.inside.options import inside_app, inside_options, notes


@click.command()
@peer_options
@inside_options
@common_options
@pass_loom
def dns(loom: LoomContext, timeout: float, from_inside: bool, inside_app_name: str | None,
        inside_replica: str | None) -> None:
    """Resolve every LoomMesh peer host and explain failures.

    Hosts are resolved concurrently with dnspython, through the system resolver or --dns-server. NXDOMAIN,
    SERVFAIL, no answer and timeout are told apart; `*.internal.*` names do not resolve outside the
    environment's network, and the hint says how to probe from inside. Exit 1 when a host does not resolve.

    \b
    Examples:
      loomctl diagnose dns
      loomctl diagnose dns --dns-server 10.0.0.10 --relay-host gun-relay.internal.example.io
      loomctl diagnose dns --profile sandbox -o json
      loomctl diagnose dns --from-inside          (resolve inside a loom-node replica, via exec)
    """
    import asyncio

    from loomctl.loommesh.dns_probe import resolve_all
    from loomctl.loommesh.peer_probe import peer_host
    from loomctl.output.views.dns import render_dns

    servers = dns_servers(loom)
    where_app = inside_app(loom, from_inside, inside_app_name, inside_replica)
    plist = targets(loom)
    hosts = [peer_host(p.url) for p in plist.peers]
    if where_app:
        from loomctl.inside.run import probe_checked

        run = probe_checked(loom, where_app, hosts=list(dict.fromkeys(hosts)), dns_servers=servers, timeout=timeout,
                            replica=inside_replica)
        results, extra = run.dns, notes(run)
    else:
        results, extra = asyncio.run(resolve_all(hosts, servers, timeout)), []
    doc = {"hosts": results, "notes": plist.notes + extra}
    loom.output.emit(doc, table=render_dns)
    if not all(r.ok for r in results):
        raise ProblemsFound("a peer host did not resolve")
