"""Category "LoomMesh": every peer answers stage by stage (GUN_PEERS itself is judged by LOOM207).

The same code as `loomctl diagnose peers` (loomctl.loommesh). Doctor stays read-only: the write probe runs only
from `loomctl diagnose peers --write-probe`.
"""

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

CATEGORY = "LoomMesh"
PEER_TIMEOUT = 5.0


def check_peers_answer(peer_results: list[Any]) -> Outcome:
    if not peer_results:
        return failed("no LoomMesh peers to probe", "set peers in the profile, or pass --peer")
    bad = [r for r in peer_results if not r.ok]
    details = {r.url: ("ok" if r.ok else f"failed at {r.failed_stage}") for r in peer_results}
    if not bad:
        rtts = ", ".join(f"{r.url} pid {r.pid} ping {r.rtt_ms:.1f} ms" for r in peer_results)
        return passed(f"{len(peer_results)} peers answer hello, ping and read ({rtts})", peers=details)
    message = "; ".join(f"{r.url} failed at {r.failed_stage}: {r.error}" for r in bad)
    expected = all(s.details.get("expected") for r in bad for s in r.stages if not s.ok)
    if expected:
        return warned(message, bad[0].hint, peers=details)
    return failed(message, bad[0].hint, peers=details)


def peers_from_azure(settings: Any, inside: bool) -> tuple[str, ...]:
    """With no peers given (or probes run inside a replica), the peer list comes from both apps: they must exist
    first, so that a run without Azure access skips these checks for that cause instead of failing with it."""
    from loomctl.loommesh.discovery import from_live_deployment

    return ("LOOM105",) if inside or from_live_deployment(settings) else ()


_spec = spec_maker(CATEGORY)


CHECKS = [
    _spec("LOOM402", "LoomMesh peers answer (TCP, upgrade, hello, ping, read)",
          "A peer is unreachable at one stage: DNS, TCP connect, WebSocket upgrade on /gun, GUN hello, ping or read.",
          "`loomctl diagnose peers` names the stage and why; fix that stage first.",
          check_peers_answer, needs=("peer_results",), timeout=PEER_TIMEOUT + 25, after_if=peers_from_azure),
]


def peer_list_provider(loom: Any) -> Any:
    def provide(i: Any) -> Any:
        from loomctl.loommesh.discovery import discover

        settings = i.get("settings")
        live = None
        if settings.azure_enabled:
            def live() -> Any:
                apps = i.get("apps")
                return i.get("environment"), apps["relay"], apps["node"]
            return discover(settings, live)
        from loomctl.sandbox.hints import label

        return label(discover(settings, live))  # sandbox peers by their role (relay, node)
    return provide


def inside_run_provider(loom: Any) -> Any:
    """`doctor --from-inside`: one in-replica run (one exec session) for every peer and peer host, in the
    replica of the "inside_app" input; the DNS and LoomMesh checks share it."""
    def provide(i: Any) -> Any:
        from loomctl.inside.run import probe_mesh
        from loomctl.loommesh.dns_probe import parse_servers

        plist = i.get("loommesh_peers")
        servers = parse_servers(i.get("settings").get("dns_servers") or [])
        return probe_mesh(loom, i.get("inside_app"), [(p.url, p.role) for p in plist.peers], servers, PEER_TIMEOUT)
    return provide


def providers(loom: Any, apps: list[AppRef]) -> dict[str, Any]:
    def peer_results(i: Any) -> list[Any]:
        import asyncio

        from loomctl.loommesh.dns_probe import parse_servers
        from loomctl.loommesh.peer_probe import probe_peers

        if i.get("inside_app"):  # `doctor --from-inside`: the in-replica run shared with the DNS check
            return i.get("inside_run").peers
        plist = i.get("loommesh_peers")
        settings = i.get("settings")
        servers = parse_servers(settings.get("dns_servers") or [])
        results = asyncio.run(probe_peers([(p.url, p.role) for p in plist.peers], timeout=PEER_TIMEOUT,
                                          dns_servers=servers))
        if not settings.azure_enabled:
            from loomctl.sandbox.hints import explain

            explain(results, settings.profile)  # hints about the sandbox, not about Azure ingress
        return results

    return {"loommesh_peers": peer_list_provider(loom), "inside_run": inside_run_provider(loom),
            "peer_results": peer_results}
