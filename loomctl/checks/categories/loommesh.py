"""Category "LoomMesh": every peer answers stage by stage (GUN_PEERS itself is judged by LOOM207); with
`--from-inside`, every replica's GUN process and its links (LOOM403, read-only), and with `--write-probe` whether
the mesh is whole (LOOM404: each replica writes one probe node under loomctl/probe/<run>).

The same code as `loomctl diagnose peers` (loomctl.loommesh) and `loomctl diagnose mesh` (loomctl.mesh).
"""

from __future__ import annotations

from typing import Any

from loomctl.checks.base import (
    AppRef,
    Outcome,
    Run,
    failed,
    passed,
    skipped,
    spec_maker,
    warned,
)

CATEGORY = "LoomMesh"
PEER_TIMEOUT = 5.0
SLOW_LINK_MS = 200.0  # loomctl.sandbox.links.SLOW_MS


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


def check_node_links(sandbox_links: list[Any] | None) -> Outcome:
    """The sandbox only: each node's link to each of its relays (the path the node dials), probed through it."""
    from loomctl.checks.base import skipped
    from loomctl.sandbox.linkproxy import to_relay

    if sandbox_links is None:
        return skipped("not the sandbox: only the sandbox's nodes dial the relay through links loomctl can probe")
    details = {lk.name: ("ok" if lk.result.ok and not lk.slow else
                         "slow" if lk.slow else f"failed at {lk.result.failed_stage}") for lk in sandbox_links}
    bad = [lk for lk in sandbox_links if not lk.result.ok]
    slow = [lk for lk in sandbox_links if lk.slow]
    unlinked = [lk for lk in sandbox_links if lk.result.ok and lk.connections == 0 and lk.fault is None]
    for lk in unlinked:
        details[lk.name] = "not linked"
    if bad:
        return failed("; ".join(f"{lk.node}'s link to {to_relay(lk.relay)} ({lk.url}, the path {lk.node} dials) "
                                f"failed at {lk.result.failed_stage}: {lk.result.error}" for lk in bad), bad[0].hint,
                      links=details)
    if unlinked:
        return failed("; ".join(f"{lk.node} is not linked to {to_relay(lk.relay)}: no connection of its own on its "
                                f"link ({lk.url}), which answers a probe" for lk in unlinked), unlinked[0].hint,
                      links=details)
    if slow:
        return warned("; ".join(f"{lk.node}'s link to {to_relay(lk.relay)} is slow: ping {lk.result.rtt_ms:.0f} ms "
                                f"through it (over {SLOW_LINK_MS:g} ms; loopback takes a few ms)" for lk in slow),
                      slow[0].hint, links=details)
    nodes = len({lk.node for lk in sandbox_links if lk.role == "node"})
    relays = len({lk.node for lk in sandbox_links if lk.role == "relay"})
    if all(lk.relay == "relay" for lk in sandbox_links):
        head = f"{nodes} nodes reach the relay through their links ("
    else:
        also = f" and {relays} relay{'s' if relays != 1 else ''}" if relays else ""
        head = f"{nodes} nodes{also} reach their relays through {len(sandbox_links)} links ("
    return passed(head + ", ".join(f"{lk.name} ping {lk.result.rtt_ms:.1f} ms" for lk in sandbox_links) + ")",
                  links=details)


def check_mesh_replicas(mesh_run: Any) -> Outcome:
    from loomctl.mesh.model import describe

    r = mesh_run
    details = {"run": r.run, "verdict": r.verdict, "parts": r.parts,
               "findings": [{"replica": f.replica, "kind": f.kind} for f in r.findings]}
    if r.findings:
        first = r.findings[0]
        more = f" (and {len(r.findings) - 1} more: `loomctl diagnose mesh` lists them)" if len(r.findings) > 1 else ""
        return failed(f"{first.message}{more}", first.hint, **details)
    if not r.write_probe and r.verdict == "split":
        return failed(f"the GUN processes' links form {len(r.parts)} parts: {describe(r.parts)}", MESH_SPLIT_HINT,
                      **details)
    answered = len([p for p in r.replicas if p.ok])
    return passed(f"{answered} replicas' GUN processes answer from inside; {r.reason}", **details)


MESH_SPLIT_HINT = ("each part syncs only within itself: find which relay replica each node is attached to "
                   "(`loomctl diagnose mesh`), then join the relays (`loomctl runbook show mesh-split`)")


def check_mesh_whole(mesh_run: Any) -> Outcome:
    from loomctl.mesh.model import describe

    r = mesh_run
    details = {"run": r.run, "parts": r.parts, "not_probed": r.not_probed}
    if r.verdict == "none":
        return skipped("no replica could be probed (see LOOM403)", **details)
    left_out = f" ({len(r.not_probed)} replica(s) not probed, see LOOM403)" if r.not_probed else ""
    if r.verdict == "split":
        return failed(f"the mesh is split into {len(r.parts)} parts: {describe(r.parts)}{left_out}",
                      MESH_SPLIT_HINT, **details)
    seen = [v for row in r.matrix.values() for v in row.values() if isinstance(v, float)]
    slowest = f" (slowest {max(seen):.0f} ms)" if seen else ""
    return passed(f"{len(r.parts[0]) if r.parts else 0} replicas see each other's probe writes{slowest}{left_out}",
                  **details)


def _inside(run: Run) -> bool:
    return run.inside


def _writes(run: Run) -> bool:
    return run.inside and run.write_probe


def _local(run: Run) -> bool:
    """The sandbox's links: only a profile without Azure, probed from here, can be the sandbox."""
    return not run.settings.azure_enabled and not run.inside


_spec = spec_maker(CATEGORY)


CHECKS = [
    _spec("LOOM402", "LoomMesh peers answer (TCP, upgrade, hello, ping, read)",
          "A peer is unreachable at one stage: DNS, TCP connect, WebSocket upgrade on /gun, GUN hello, ping or read.",
          "`loomctl diagnose peers` names the stage and why; fix that stage first.",
          check_peers_answer, needs=("peer_results",), timeout=PEER_TIMEOUT + 25, after_if=peers_from_azure),
    _spec("LOOM405", "sandbox nodes reach the relay through their links",
          "The sandbox only (`loomctl sandbox up`): each node dials the relay through its own link; probed through "
          "that link (stage by stage, ping time), it shows what the node sees: a link that is cut, silent (a black "
          "hole) or slow, though the node itself answers.",
          "The hint names the sandbox fault in force (`loomctl sandbox status`); `loomctl sandbox heal` removes it.",
          check_node_links, needs=("sandbox_links",), timeout=15, after=("LOOM402",), runs_if=_local),
    _spec("LOOM403", "every replica's GUN process answers from inside (mesh links)",
          "From inside every running relay and node replica (through exec), its GUN process must answer a hello; "
          "its links show whom it is connected to. A replica without node, whose exec is refused, or that went away "
          "mid-probe is named with its own cause. Runs with `doctor --from-inside`.",
          "`loomctl diagnose mesh` shows each replica's links; fix the replica the finding names.",
          check_mesh_replicas, needs=("mesh_run",), timeout=60, after=("LOOM105",), needs_azure=True,
          runs_if=_inside),
    _spec("LOOM404", "the mesh is whole (write probe)",
          "Each replica writes one probe node under loomctl/probe/<run> through its own GUN process and every other "
          "replica looks for it: replicas that never see each other's writes are in different parts of the mesh "
          "(relay replicas that do not peer, nodes attached to different ones). Runs with `doctor --from-inside "
          "--write-probe` (it writes).",
          "Join the parts: `loomctl runbook show mesh-split`; LOOM213 names the ways out.",
          check_mesh_whole, needs=("mesh_run",), timeout=60, after=("LOOM105",), needs_azure=True,
          runs_if=_writes),
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

    def sandbox_links(i: Any) -> list[Any] | None:
        settings = i.get("settings")
        if settings.azure_enabled or i.get("inside_app"):
            return None
        from loomctl.sandbox.links import probe_links

        return probe_links(settings.profile)

    return {"loommesh_peers": peer_list_provider(loom), "inside_run": inside_run_provider(loom),
            "peer_results": peer_results, "sandbox_links": sandbox_links, "mesh_run": mesh_run_provider(loom)}


def mesh_run_provider(loom: Any) -> Any:
    """One `diagnose mesh` run (every relay and node replica) shared by LOOM403 and LOOM404; it writes only when
    doctor was given --write-probe (the input "mesh_write")."""
    def provide(i: Any) -> Any:
        from loomctl.mesh.reach import ExecReach
        from loomctl.mesh.run import run_mesh

        settings = i.get("settings")
        reach = ExecReach(loom.azure, [("relay", settings.relay_app), ("node", settings.node_app)])
        write = i.has("mesh_write") and bool(i.get("mesh_write"))
        return run_mesh(reach, reach.replicas(), write_probe=write, timeout=MESH_TIMEOUT, window=3.0, parallel=8)
    return provide


MESH_TIMEOUT = 40.0
