"""Category "LoomMesh": the node's GUN_PEERS reaches the relay; every peer answers stage by stage.

The same code as `loomctl diagnose peers` (loomctl.loommesh). Doctor stays read-only: the write probe runs only
from `loomctl diagnose peers --write-probe`.
"""

from __future__ import annotations

from typing import Any

from loomctl.checks.base import AppRef, CheckSpec, Outcome, failed, passed, skipped, warned

CATEGORY = "LoomMesh"
PEER_TIMEOUT = 5.0


def check_gun_peers(settings: Any, apps: dict[str, Any], environment: Any) -> Outcome:
    from loomctl.loommesh.discovery import judge_gun_peers

    if not settings.azure_enabled:
        return skipped("no Azure deployment in this profile (azure = false)")
    relay, node = apps["relay"], apps["node"]
    verdict = judge_gun_peers(node, relay, environment.default_domain)
    if verdict is None:
        return warned(f"node app '{node.name}' sets no GUN_PEERS: its LoomMesh peer dials no relay",
                      "set GUN_PEERS on the node to the relay's URL, e.g. "
                      + (_first(relay, environment) or "http://<relay fqdn>/gun"))
    if verdict.ok:
        return passed(f"GUN_PEERS {verdict.value} reaches relay '{relay.name}'", value=verdict.value)
    fix = f"set GUN_PEERS={verdict.suggestion}" if verdict.suggestion else "expose the relay with an ingress"
    return failed(f"GUN_PEERS {verdict.value} does not reach relay '{relay.name}': " + "; ".join(verdict.problems),
                  f"{fix} (the URL must match the relay's live ingress: HTTP ingress is reachable on 80/443 only, "
                  "and the path must be /gun)", value=verdict.value, suggestion=verdict.suggestion)


def _first(relay: Any, environment: Any) -> str | None:
    from loomctl import relay_urls

    urls = relay_urls.expected_urls(relay, environment.default_domain)
    return urls[0] if urls else None


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


def _spec(code: str, title: str, explanation: str, fix: str, run: Any, **kw: Any) -> CheckSpec:
    return CheckSpec(code=code, category=CATEGORY, title=title, explanation=explanation, fix=fix, run=run, **kw)


CHECKS = [
    _spec("LOOM401", "node's GUN_PEERS reaches the relay",
          "The node dials the URLs in GUN_PEERS; a host, port, scheme or path the relay's ingress does not serve "
          "leaves the node's LoomMesh peer alone (the reference's http://...:8765 is such a value).",
          "Set GUN_PEERS to the URL loomctl suggests (from the relay's live ingress), e.g. http://<relay fqdn>/gun.",
          check_gun_peers, needs=("settings", "apps", "environment"), after=("LOOM105",), timeout=30),
    _spec("LOOM402", "LoomMesh peers answer (TCP, upgrade, hello, ping, read)",
          "A peer is unreachable at one stage: DNS, TCP connect, WebSocket upgrade on /gun, GUN hello, ping or read.",
          "`loomctl diagnose peers` names the stage and why; fix that stage first.",
          check_peers_answer, needs=("peer_results",), timeout=PEER_TIMEOUT + 25),
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
    return provide


def providers(loom: Any, apps: list[AppRef]) -> dict[str, Any]:
    def peer_results(i: Any) -> list[Any]:
        import asyncio

        from loomctl.loommesh.dns_probe import parse_servers
        from loomctl.loommesh.peer_probe import probe_peers

        plist = i.get("loommesh_peers")
        servers = parse_servers(i.get("settings").get("dns_servers") or [])
        inside_app = getattr(loom, "from_inside", None)
        if inside_app:  # `doctor --from-inside`: one in-replica run shared with the DNS check
            from loomctl.inside.run import shared

            return shared(loom, inside_app, [(p.url, p.role) for p in plist.peers], servers, PEER_TIMEOUT).peers
        return asyncio.run(probe_peers([(p.url, p.role) for p in plist.peers], timeout=PEER_TIMEOUT,
                                       dns_servers=servers))

    return {"loommesh_peers": peer_list_provider(loom), "peer_results": peer_results}
