"""loomctl diagnose dns"""

from __future__ import annotations

from typing import Any

import click

from loomctl.commands.diagnose._peer_options import dns_servers, peer_options, targets
from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import ProblemsFound
from loomctl.inside.options import inside_app, inside_options, notes
from loomctl.core.options import common_options


@click.command()
@peer_options
@inside_options
@common_options
@pass_loom
def dns(loom: LoomContext, peers: tuple[str, ...], timeout: float, from_inside: bool, inside_app_name: str | None,
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
    from urllib.parse import urlsplit

    from loomctl.loommesh.dns_probe import resolve_all

    servers = dns_servers(loom)
    where_app = inside_app(loom, from_inside, inside_app_name, inside_replica)
    plist = targets(loom, peers)
    hosts = [urlsplit(p.url if "://" in p.url else "http://" + p.url).hostname or p.url for p in plist.peers]
    if where_app:
        from loomctl.inside.run import probe_checked

        run = probe_checked(loom, where_app, hosts=list(dict.fromkeys(hosts)), dns_servers=servers, timeout=timeout,
                            replica=inside_replica)
        results, extra = run.dns, notes(run)
    else:
        results, extra = asyncio.run(resolve_all(hosts, servers, timeout)), []
    doc = {"hosts": results, "notes": plist.notes + extra}
    loom.output.emit(doc, table=render)
    if not all(r.ok for r in results):
        raise ProblemsFound("a peer host did not resolve")


def render(doc: dict[str, Any]) -> list[Any]:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    for col in ("Host", "Result", "Addresses", "CNAME chain", "TTL", "Time", "Server", "Where"):
        t.add_column(col, justify="right" if col in ("TTL", "Time") else "left")
    hints: list[Any] = []
    for r in doc["hosts"]:
        status = Text("ok" if r["ok"] else r["status"], style="green" if r["ok"] else
                      ("yellow" if r["expected"] else "red"))
        t.add_row(r["host"], status, ", ".join(r["addresses"]) or "-", " → ".join(r["cname_chain"]) or "-",
                  "-" if r["ttl"] is None else f"{r['ttl']} s", f"{r['duration_ms']:.1f} ms", r["server"],
                  r["where"])
        if not r["ok"]:
            hints.append(Text.assemble((f"{r['host']}: ", "bold"), r["error"] or r["status"]))
            hints.append(Text.assemble(("  hint: ", "cyan"), r["hint"] or ""))
    return [t, *hints, *[Text(f"note: {n}") for n in doc["notes"]]]
