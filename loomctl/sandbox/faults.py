"""Faults on the sandbox's real processes: `loomctl sandbox break FAULT`, `loomctl sandbox heal`.

Each node dials the relay through its own link, a port of the link proxy (`sandbox/proxy.py`, its own process,
started by `sandbox up` and stopped by `down`). A fault stops a GUN process or changes a link's mode; every fault
in force is recorded in the sandbox state file (`State.faults`, written atomically), so that `sandbox status`,
the checks' hints and `heal` know it.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from typing import Any

from loomctl.core.errors import UsageError
from loomctl.core.retry import Deadline
from loomctl.sandbox import linkproxy
from loomctl.sandbox.pids import reap
from loomctl.sandbox.processes import Proc, State, is_ours, save

HEAL = "`loomctl sandbox heal` removes it"
DEFAULT_DELAY_MS = 300


@dataclass(frozen=True)
class Fault:
    name: str
    kind: str  # "process": a GUN process stopped; "link": a node's link to the relay changed
    does: str
    mode: str | None = None  # the link proxy's mode (proxy.MODES)


FAULTS = {f.name: f for f in [
    Fault("relay-down", "process", "stop the relay process (the nodes lose their link to it)"),
    Fault("node-down", "process", "stop one node process"),
    Fault("blackhole", "link", "a node's link to the relay accepts connections and never answers", "blackhole"),
    Fault("slow", "link", "a node's link to the relay holds every chunk --delay-ms (default 300) each way", "slow"),
    Fault("partition", "link", "cut a node off the relay: its link resets every connection", "partition"),
    Fault("relays-unpeered", "relay-links", "cut the relays' links to each other (a sandbox started with "
          "`--relays 2 --peer-relays`): the nodes of each relay form their own part of the mesh", "partition"),
]}
PEERED = "`loomctl sandbox up --relays 2 --peer-relays`"


def in_force(state: State) -> list[dict[str, Any]]:
    return [dict(v) for _, v in sorted(state.faults.items())]


def describe(fault: dict[str, Any]) -> str:
    """One line for a fault in force: "blackhole on node-1's link to the relay" (or "... to relay-1, relay-2")."""
    f = FAULTS.get(fault["fault"])
    relays = fault.get("relays") or ["relay"]
    to = "the relay" if relays == ["relay"] else ", ".join(relays)
    links = "link" if len(relays) == 1 else "links"
    where = f"{fault['target']}'s {links} to {to}" if f and f.kind == "link" else fault["target"]
    if f and f.kind == "relay-links":
        where = "the relays' links to each other"
    extra = f" ({fault['delay_ms']} ms each way)" if fault.get("delay_ms") else ""
    return f"{fault['fault']} on {where}{extra}"


def fault_on(state: State | None, target: str, kind: str) -> dict[str, Any] | None:
    """The fault in force on a process (kind "process") or on a node's link (kind "link"), if any."""
    for f in (state.faults if state else {}).values():
        if f["target"] == target and FAULTS.get(f["fault"], Fault("", kind, "")).kind == kind:
            return f
    return None


def _proc(state: State, name: str) -> Proc:
    for p in state.procs:
        if p.name == name:
            return p
    raise UsageError(f"the sandbox has no process '{name}'",
                     "choose one of: " + ", ".join(p.name for p in state.procs if p.role == "node"))


def apply(state: State, name: str, node: str | None = None, delay_ms: int | None = None) -> dict[str, Any]:
    """Put fault `name` in force; returns the record written to the state file."""
    fault = FAULTS[name]
    if fault.kind == "relay-links":
        return _unpeer(state)
    nodes = [p.name for p in state.procs if p.role == "node"]
    relays = [p.name for p in state.procs if p.role == "relay"]
    target = relays[0] if name == "relay-down" else (node or nodes[0])
    if target not in relays and target not in nodes:
        raise UsageError(f"the sandbox has no node '{target}'", "choose one of: " + ", ".join(nodes))
    if fault.kind == "process":
        proc = _proc(state, target)
        if not is_ours(proc):
            raise UsageError(f"the sandbox's {proc.role} '{proc.name}' is not running already",
                             "`loomctl sandbox status` shows each process; `loomctl sandbox heal` restarts it")
        _stop_proc(proc)
    else:
        if fault_on(state, target, "link"):
            raise UsageError(f"a fault is already in force on {target}'s link: "
                             f"{describe(fault_on(state, target, 'link'))}",
                             "`loomctl sandbox heal` removes it first")
        delay_ms = (delay_ms if delay_ms is not None else DEFAULT_DELAY_MS) if name == "slow" else None
        linkproxy.set_mode(state, target, fault.mode or "ok", delay_ms or 0)
    record = {"fault": name, "target": target, "since": time.time()}
    relays = [v["relay"] for v in linkproxy.links(state).values() if v["node"] == target]
    if fault.kind == "link" and relays != ["relay"]:
        record["relays"] = relays  # the links it holds: one per relay the node dials
    if delay_ms:
        record["delay_ms"] = delay_ms
    state.faults[f"{name}/{target}"] = record
    save(state)
    return record


def relay_dialers(state: State) -> list[str]:
    """The relays that dial other relays through their links (a sandbox started with --peer-relays)."""
    relays = {p.name for p in state.procs if p.role == "relay"}
    return list(dict.fromkeys(v["node"] for v in linkproxy.links(state).values() if v["node"] in relays))


def _unpeer(state: State) -> dict[str, Any]:
    relays = [p.name for p in state.procs if p.role == "relay"]
    if len(relays) < 2:
        raise UsageError(f"relays-unpeered needs a sandbox of two relays or more; this one has {len(relays)}",
                         f"start one: {PEERED}")
    if not relay_dialers(state):
        raise UsageError("the sandbox's relays do not peer each other already (started without --peer-relays)",
                         f"start them peered: {PEERED}")
    if "relays-unpeered/relays" in state.faults:
        raise UsageError("the relays are unpeered already (the fault relays-unpeered is in force)",
                         "`loomctl sandbox heal` removes it first")
    for r in relay_dialers(state):
        linkproxy.set_mode(state, r, "partition")
    record = {"fault": "relays-unpeered", "target": "relays", "since": time.time()}
    state.faults["relays-unpeered/relays"] = record
    save(state)
    return record


def _stop_proc(proc: Proc, grace: float = 3.0) -> None:
    os.kill(proc.pid, signal.SIGTERM)
    deadline = Deadline(grace)
    while is_ours(proc) and not deadline.expired:
        reap(proc.pid)
        time.sleep(0.02)
    if is_ours(proc):
        os.kill(proc.pid, signal.SIGKILL)
    reap(proc.pid)
    proc.alive = False


def heal(state: State, ready_timeout: float = 20.0) -> list[dict[str, Any]]:
    """Remove every fault in force: links back to `ok`, stopped processes started again (same port and data)."""
    from loomctl.sandbox import gun
    from loomctl.sandbox.processes import _wait_ready, spawn

    healed = []
    for key, record in sorted(state.faults.items()):
        kind = FAULTS[record["fault"]].kind
        if kind in ("link", "relay-links"):
            for target in relay_dialers(state) if kind == "relay-links" else [record["target"]]:
                linkproxy.set_mode(state, target, "ok")
            healed.append(record)
            del state.faults[key]
            save(state)
    down = [p for p in state.procs if not is_ours(p)]
    if down:
        modules, node = gun.ensure_gun(), gun.node_binary()
        for p in sorted(down, key=lambda p: p.role != "relay"):  # the relay first: the nodes dial it
            spawn(p, modules, node, state)
            save(state)
        _wait_ready(state, ready_timeout)
    for key, record in sorted(state.faults.items()):
        healed.append(record)
        del state.faults[key]
    save(state)
    for p in down:
        if not fault_on(state, p.name, "process") and not any(h["target"] == p.name for h in healed):
            healed.append({"fault": "process-down", "target": p.name})  # down without `break`: started too
    return healed
