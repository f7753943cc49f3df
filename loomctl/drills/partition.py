"""`loomctl drill partition` (the sandbox only, real processes): cut one node off the relay (its link), write on
both sides (fresh keys on each; the same keys with different values, once with different states and once with
equal states), heal, and measure the time until every peer holds every write. Convergence is judged by GUN's
conflict rule (HAM): the greater state wins; equal states, the lexically greater JSON value wins.

A peer that never catches up is told apart: its link holds no connection (it did not redial: stock GUN gives up
on a lost link), or it is linked and holds other values (divergence: data loss, key by key).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from loomctl.core.errors import UsageError
from loomctl.drills.probes import PREFIX, connect, ham_winner, past_state, put_acked, read, run_id
from loomctl.loommesh.wire import fresh_id

NO_REDIAL_HINT = ("stock GUN gives up on a lost link after one failed redial: restart the node "
                  "(`loomctl sandbox break node-down --node {node} && loomctl sandbox heal`); in a deployment, run a "
                  "redial loop (the sandbox's gun_relay.js dials every second) or a probe that restarts the replica")


@dataclass
class Write:
    key: str
    side: str  # the node name the write went through
    value: Any
    state: int


@dataclass
class PeerCatchUp:
    name: str
    url: str
    caught_up_s: float | None = None
    missing: list[str] = field(default_factory=list)
    wrong: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> {"holds", "expected"}
    linked: bool | None = None  # a node: its link to the relay holds a connection after the heal


@dataclass
class PartitionResult:
    run_id: str
    soul: str
    cut: str
    other: str
    writes: list[Write]
    expected: dict[str, Any]
    isolated: bool  # during the cut, the other side did not see the cut node's writes
    timeout_s: float
    hold_s: float
    peers: list[PeerCatchUp] = field(default_factory=list)
    converged_s: float | None = None
    findings: list[dict[str, str]] = field(default_factory=list)  # {"peer", "problem", "hint"}
    ok: bool = False


def _sandbox(node: str | None) -> tuple[Any, str, str]:
    from loomctl.sandbox import faults, linkproxy
    from loomctl.sandbox.processes import load_state

    state = load_state()
    if state is None:
        raise UsageError("drill partition runs on the sandbox only, and no sandbox is running",
                         "start it with `loomctl sandbox up`, then run `loomctl drill partition`")
    if not linkproxy.link_urls(state):
        raise UsageError("this sandbox has no links to cut (it was started by an older loomctl)",
                         "restart it: `loomctl sandbox down && loomctl sandbox up`")
    if state.faults:
        raise UsageError("sandbox faults are in force: " + ", ".join(faults.describe(f) for f in
                                                                      faults.in_force(state)),
                         "remove them first: `loomctl sandbox heal`")
    down = [p.name for p in state.procs if not p.alive]
    if down:
        raise UsageError(f"the sandbox is not whole: {', '.join(down)} not running",
                         "`loomctl sandbox heal` starts it again")
    nodes = [p.name for p in state.procs if p.role == "node"]
    cut = node or nodes[0]
    if cut not in nodes:
        raise UsageError(f"the sandbox has no node '{cut}'", "choose one of: " + ", ".join(nodes))
    return state, cut, next(n for n in nodes if n != cut)


def _plan(soul: str, cut: str, other: str, fresh: int) -> list[Write]:
    t = past_state() - 10
    writes = [Write(f"{cut}-{i}", cut, fresh_id(8), t) for i in range(fresh)]
    writes += [Write(f"{other}-{i}", other, fresh_id(8), t) for i in range(fresh)]
    writes += [Write("later", cut, f"{cut}:{fresh_id(6)}", t - 5), Write("later", other, f"{other}:{fresh_id(6)}", t)]
    writes += [Write("tie", cut, fresh_id(8), t), Write("tie", other, fresh_id(8), t)]  # equal states
    return writes


def expected_values(writes: list[Write]) -> dict[str, Any]:
    """The value GUN's conflict rule says each key converges to."""
    best: dict[str, tuple[Any, int]] = {}
    for w in writes:
        best[w.key] = ham_winner(best[w.key], (w.value, w.state)) if w.key in best else (w.value, w.state)
    return {k: v[0] for k, v in best.items()}


def _compare(held: dict[str, Any], expected: dict[str, Any]) -> tuple[list[str], dict[str, dict[str, Any]]]:
    missing = sorted(k for k in expected if k not in held)
    wrong = {k: {"holds": held[k], "expected": v} for k, v in sorted(expected.items())
             if k in held and held[k] != v}
    return missing, wrong


async def _run(state: Any, cut: str, other: str, fresh: int, timeout: float, hold: float) -> PartitionResult:
    from loomctl.sandbox import faults, linkproxy

    procs = {p.name: p for p in state.procs}
    rid = run_id()
    soul = f"{PREFIX}/partition/{rid}"
    writes = _plan(soul, cut, other, fresh)
    result = PartitionResult(rid, soul, cut, other, writes, expected_values(writes), False, timeout, hold)
    clients = {n: await connect(p.url) for n, p in procs.items()}
    try:
        for c in clients.values():  # every peer reads the soul first, as an application would: a subscription
            await read(c, soul, first_timeout=0.3)
        faults.apply(state, "partition", cut)
        cut_at = time.perf_counter()
        try:
            for side in (cut, other):
                await put_acked(clients[side], [(soul, {w.key: w.value}, {w.key: w.state})
                                                for w in writes if w.side == side], 5.0, procs[side].url)
            seen = await read(clients[other], soul, first_timeout=0.5)
            result.isolated = not any(k.startswith(f"{cut}-") for k in seen)
            await asyncio.sleep(max(0.0, cut_at + hold - time.perf_counter()))  # the cut lasts --hold at least
        finally:
            faults.heal(state)
        healed = time.perf_counter()
        deadline = healed + timeout
        pending = {n: PeerCatchUp(n, p.url) for n, p in procs.items()}
        result.peers = list(pending.values())
        while pending and time.perf_counter() < deadline:
            held = await asyncio.gather(*(read(clients[n], soul, window=0.1) for n in pending))
            now = time.perf_counter()
            for (name, peer), values in zip(list(pending.items()), held):
                peer.missing, peer.wrong = _compare(values, result.expected)
                if not peer.missing and not peer.wrong:
                    peer.caught_up_s = round(now - healed, 3)
                    del pending[name]
            if pending:
                await asyncio.sleep(0.05)
        conns = linkproxy.node_connections(state)
        for peer in result.peers:
            if procs[peer.name].role == "node":
                peer.linked = conns[peer.name] > 0 if peer.name in conns else None
        _judge(result)
    finally:
        for c in clients.values():
            await c.close()
    return result


def _judge(result: PartitionResult) -> None:
    """One finding per cause: a node that did not redial explains what the others miss of its writes."""
    late = [p for p in result.peers if p.caught_up_s is None]
    if not late:
        result.converged_s = max(p.caught_up_s for p in result.peers if p.caught_up_s is not None)
        result.ok = result.isolated
    unlinked = [p for p in late if p.linked is False]
    stranded = {w.key for w in result.writes if w.side in {p.name for p in unlinked}}
    for p in unlinked:
        others = [o.name for o in late if o is not p and o not in unlinked
                  and set(o.missing) | set(o.wrong) <= stranded]
        also = f"; so {', '.join(others)} miss the writes made on {p.name}" if others else ""
        result.findings.append({"peer": p.name, "problem": (
            f"{p.name} never caught up: it did not redial its link to the relay after the partition healed (no "
            f"connection on its link after {result.timeout_s:g} s); it misses {len(p.missing)} and holds "
            f"{len(p.wrong)} stale of {len(result.expected)} keys{also}"), "hint": NO_REDIAL_HINT.format(node=p.name)})
    for p in late:
        if p in unlinked or (unlinked and set(p.missing) | set(p.wrong) <= stranded):
            continue
        for k in p.missing:
            result.findings.append({"peer": p.name, "problem": (
                f"data loss on {p.name}: key '{k}' is missing (expected {result.expected[k]!r})"),
                "hint": "a write acked on one side never reached this peer after the heal"})
        for k, w in p.wrong.items():
            result.findings.append({"peer": p.name, "problem": (
                f"data loss on {p.name}: key '{k}' holds {w['holds']!r}, GUN's conflict rule says {w['expected']!r}"),
                "hint": "divergence: the peers disagree on a key after the heal (HAM: greater state wins; equal "
                        "states: the lexically greater JSON value)"})
    if not result.isolated:
        result.findings.append({"peer": result.other, "problem": (
            f"the partition did not isolate {result.cut}: {result.other} saw its writes during the cut"),
            "hint": "the drill measured no partition; look at the link proxy's log in the sandbox folder"})


def partition(node: str | None = None, fresh: int = 5, timeout: float = 30.0, hold: float = 0.0) -> PartitionResult:
    """Cut `node` (default node-1) off the relay for at least `hold` seconds while both sides write `fresh` fresh
    keys each and two conflicting keys; heal; wait at most `timeout` seconds for convergence."""
    state, cut, other = _sandbox(node)
    return asyncio.run(_run(state, cut, other, fresh, timeout, hold))


def summary(r: PartitionResult) -> dict[str, Any]:
    return asdict(r)
