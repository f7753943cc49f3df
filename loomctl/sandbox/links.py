"""The sandbox nodes' links to their relays, probed along the path each node dials (its port of the link proxy, one
per (node, relay) pair).

A node answers a direct probe even when its link to the relay is cut or silent: only a probe through the link
sees what the node sees. The result names a fault in force (`loomctl sandbox break`) as the cause.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loomctl.sandbox import faults, linkproxy
from loomctl.sandbox.processes import PROFILE, State, load_state

LINK_TIMEOUT = 3.0
SLOW_MS = 200.0  # (checks: SLOW_LINK_MS) a ping round trip over loopback takes a few ms; through a healthy link as well


@dataclass
class LinkResult:
    node: str
    relay: str  # the relay this link leads to ("relay" in the one-relay sandbox)
    name: str  # the link's name (the node's, with the relay's when the sandbox has several)
    url: str
    result: Any  # a loommesh PeerResult
    fault: dict[str, Any] | None
    slow: bool
    connections: int | None  # the node's own connections on its link, counted before the probe
    hint: str | None
    role: str = "node"  # of the process that dials the link: a node, or a relay (`sandbox up --peer-relays`)


def probe_links(profile: str | None, state: State | None = None) -> list[LinkResult] | None:
    """None when this is not the sandbox (or no sandbox with links runs); else one result per node link."""
    import asyncio

    from loomctl.loommesh.peer_probe import probe_peers

    if profile != PROFILE:
        return None
    state = state if state is not None else load_state()
    urls = linkproxy.link_urls(state) if state else {}
    if not urls:
        return None
    recs = linkproxy.links(state)
    relays = {p.name for p in state.procs if p.role == "relay"}
    conns = linkproxy.link_connections(state)
    results = asyncio.run(probe_peers([(u, "relay") for u in urls.values()], timeout=LINK_TIMEOUT))
    out = []
    for (name, url), r in zip(urls.items(), results):
        node, relay = recs[name]["node"], recs[name]["relay"]
        fault = (state.faults.get("relays-unpeered/relays") if node in relays else faults.fault_on(state, node, "link"))
        slow = r.ok and r.rtt_ms is not None and r.rtt_ms > SLOW_MS
        hint = None
        if not r.ok or slow:
            hint = _hint(state, node, relay, fault)
        elif not conns.get(name) and fault is None:
            hint = (f"{node} holds no connection to {linkproxy.to_relay(relay)}, though its link works: it did not "
                    f"redial after losing it (stock GUN gives up): `loomctl sandbox break node-down --node {node} && "
                    "loomctl sandbox heal` restarts it")
        out.append(LinkResult(node, relay, name, url, r, fault, slow, conns.get(name), hint,
                              "relay" if node in relays else "node"))
    return out


def _hint(state: State, node: str, relay: str, fault: dict[str, Any] | None) -> str:
    if fault is not None:
        return (f"the sandbox fault `{fault['fault']}` is in force on {node}'s link to {linkproxy.to_relay(relay)} "
                f"(`loomctl sandbox status` shows it): {faults.HEAL}")
    if not linkproxy.links_alive(state):
        return ("the sandbox's link proxy is not running, so no node reaches its relay: restart the sandbox with "
                "`loomctl sandbox down && loomctl sandbox up`")
    return (f"no sandbox fault is in force: look at the link proxy's log {state.links['log']}; "
            "`loomctl sandbox status` shows each process")
