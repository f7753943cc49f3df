"""Category "DNS": every LoomMesh peer host resolves (same code as `loomctl diagnose dns`)."""

from __future__ import annotations

from typing import Any

from loomctl.checks.base import (
    AppRef,
    Outcome,
    failed,
    passed,
    spec_maker,
    warned,
)
from loomctl.checks.categories.loommesh import peers_from_azure

CATEGORY = "DNS"
DNS_TIMEOUT = 3.0


def check_peer_hosts_resolve(dns_results: list[Any]) -> Outcome:
    if not dns_results:
        return failed("no LoomMesh peer hosts to resolve", "set peers in the profile, or pass --peer")
    bad = [r for r in dns_results if not r.ok]
    details = {r.host: (r.addresses if r.ok else r.status) for r in dns_results}
    if not bad:
        return passed("every peer host resolves ("
                      + ", ".join(f"{r.host} → {', '.join(r.addresses)}" for r in dns_results) + ")", hosts=details)
    first = bad[0]
    message = "; ".join(r.error or f"{r.host}: {r.status}" for r in bad)
    if all(r.expected for r in bad):
        return warned(message, first.hint, hosts=details)
    return failed(message, first.hint, hosts=details)


_spec = spec_maker(CATEGORY)



CHECKS = [
    _spec("LOOM301", "LoomMesh peer hosts resolve",
          "A peer host (the relay's FQDN, a node, or a configured peer) does not resolve, so no peer can dial it.",
          "Check the host names (`loomctl diagnose dns`); internal names resolve only inside the environment.",
          check_peer_hosts_resolve, needs=("dns_results",), timeout=15, after_if=peers_from_azure),
]


def providers(loom: Any, apps: list[AppRef]) -> dict[str, Any]:
    from loomctl.checks.categories.loommesh import inside_run_provider, peer_list_provider

    def dns_results(i: Any) -> list[Any]:
        import asyncio

        from loomctl.loommesh.dns_probe import parse_servers, resolve_all
        from loomctl.loommesh.peer_probe import peer_host

        if i.get("inside_app"):  # `doctor --from-inside`: the in-replica run shared with the LoomMesh checks
            return i.get("inside_run").dns
        plist = i.get("loommesh_peers")
        hosts = [peer_host(p.url) for p in plist.peers]
        servers = parse_servers(i.get("settings").get("dns_servers") or [])
        return asyncio.run(resolve_all(hosts, servers, DNS_TIMEOUT))

    return {"loommesh_peers": peer_list_provider(loom), "inside_run": inside_run_provider(loom),
            "dns_results": dns_results}
