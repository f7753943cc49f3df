"""Faults on the sandbox's real processes: `loomctl sandbox break FAULT`, `loomctl sandbox heal`.

Each node dials the relay through its own link, a port of the link proxy (`sandbox/proxy.py`, its own process,
started by `sandbox up` and stopped by `down`). A fault stops a GUN process or changes a link's mode; every fault
in force is recorded in the sandbox state file (`State.faults`, written atomically), so that `sandbox status`,
the checks' hints and `heal` know it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from loomctl.core.errors import LoomError, UsageError
from loomctl.core.retry import Deadline, poll
from loomctl.sandbox.processes import Proc, State, _reap, _start_ticks, free_port, is_ours, save

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
    Fault("slow", "link", "a node's link to the relay holds every chunk --delay (default 300ms) each way", "slow"),
    Fault("partition", "link", "cut a node off the relay: its link resets every connection", "partition"),
    # "relays-unpeered" (with `sandbox up --relays 2`): the relays' link to each other cut; added with --relays.
]}


def start_links(state: State, nodes: list[str], relay_port: int, timeout: float = 10.0) -> None:
    """Start the link proxy: one port per node, forwarding to the relay; recorded before it is waited on."""
    links = {n: {"port": free_port(), "upstream": relay_port} for n in nodes}
    control = free_port()
    config = {"control": control, "links": [{"name": n, **v} for n, v in links.items()]}
    log = Path(state.folder) / "links.log"
    root = str(Path(__file__).resolve().parent.parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])]))
    with open(log, "ab") as out:
        child = subprocess.Popen([sys.executable, "-m", "loomctl.sandbox.proxy", json.dumps(config)], env=env,
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True, cwd=state.folder)
    state.links = {"pid": child.pid, "start_ticks": _start_ticks(child.pid), "control": control, "log": str(log),
                   "links": links}
    save(state)

    def ready() -> bool | None:
        if not links_alive(state):
            raise LoomError(f"the sandbox's link proxy (pid {child.pid}) exited while starting", f"see {log}")
        try:
            _send(state, {"op": "ping"}, timeout=0.5)
            return True
        except OSError:
            return None

    def timed_out() -> Any:
        raise LoomError(f"the sandbox's link proxy did not answer within {timeout:g} s", f"see {log}")

    poll(ready, deadline=Deadline(timeout), interval=0.05, on_timeout=timed_out)


def relay_url_for(state: State, node: str) -> str:
    """The URL a node dials for the relay: its link when the sandbox has one, else the relay itself."""
    link = (state.links or {}).get("links", {}).get(node)
    if link:
        return f"http://127.0.0.1:{link['port']}/gun"
    return next(p.url for p in state.procs if p.role == "relay")


def link_urls(state: State) -> dict[str, str]:
    """Each node's link to the relay (the path it dials), by node name."""
    return {n: f"http://127.0.0.1:{v['port']}/gun" for n, v in (state.links or {}).get("links", {}).items()}


def links_alive(state: State) -> bool:
    rec = state.links
    if not rec:
        return False
    try:
        os.kill(rec["pid"], 0)
        cmd = Path(f"/proc/{rec['pid']}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        stat = Path(f"/proc/{rec['pid']}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return ("loomctl.sandbox.proxy" in cmd and stat[0] != "Z"
            and (rec.get("start_ticks") is None or int(stat[19]) == rec["start_ticks"]))


def stop_links(state: State, grace: float = 3.0) -> list[dict[str, Any]]:
    rec = state.links
    if not rec:
        return []
    if not links_alive(state):
        return [{"name": "links", "pid": rec["pid"], "result": "was not running"}]
    os.kill(rec["pid"], signal.SIGTERM)
    deadline = Deadline(grace)
    while links_alive(state) and not deadline.expired:
        _reap(rec["pid"])
        time.sleep(0.02)
    how = "stopped"
    if links_alive(state):
        os.kill(rec["pid"], signal.SIGKILL)
        how = "killed"
    _reap(rec["pid"])
    return [{"name": "links", "pid": rec["pid"], "result": how}]


def _send(state: State, msg: dict[str, Any], timeout: float = 3.0) -> dict[str, Any]:
    with socket.create_connection(("127.0.0.1", state.links["control"]), timeout=timeout) as s:
        s.sendall(json.dumps(msg).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf or b"{}")


def link_connections(state: State) -> dict[str, int]:
    """How many connections each node holds open on its link to the relay (0: the node is not linked)."""
    if not links_alive(state):
        return {}
    return dict(_send(state, {"op": "ping"}).get("conns") or {})


def wait_linked(state: State, timeout: float = 10.0) -> list[str]:
    """Wait until every node holds a connection on its link to the relay; the nodes that do not by the deadline
    (they did not redial), or [] when the sandbox has no links."""
    names = list(link_urls(state))
    left: list[str] = names

    def linked() -> bool | None:
        nonlocal left
        conns = link_connections(state)
        left = [n for n in names if not conns.get(n)]
        return True if not left else None

    def late() -> NoReturn:
        raise _NotLinked

    try:
        poll(linked, deadline=Deadline(timeout), interval=0.05, on_timeout=late)
    except _NotLinked:
        pass
    return left


class _NotLinked(Exception):
    """wait_linked's deadline passed: some node is not linked (an answer, not an error)."""


def _set_mode(state: State, node: str, mode: str, delay_ms: int = 0) -> None:
    if not links_alive(state):
        raise LoomError("the sandbox's link proxy is not running",
                        "restart the sandbox: `loomctl sandbox down && loomctl sandbox up`")
    answer = _send(state, {"op": "set", "link": node, "mode": mode, "delay_ms": delay_ms})
    if not answer.get("ok"):
        raise LoomError(f"the link proxy refused: {answer.get('error')}", "see `loomctl sandbox status`")


def in_force(state: State) -> list[dict[str, Any]]:
    return [dict(v) for _, v in sorted(state.faults.items())]


def describe(fault: dict[str, Any]) -> str:
    """One line for a fault in force: "blackhole on node-1's link to the relay"."""
    f = FAULTS.get(fault["fault"])
    where = f"{fault['target']}'s link to the relay" if f and f.kind == "link" else fault["target"]
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
    nodes = [p.name for p in state.procs if p.role == "node"]
    target = "relay" if name == "relay-down" else (node or nodes[0])
    if target != "relay" and target not in nodes:
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
        _set_mode(state, target, fault.mode or "ok", delay_ms or 0)
    record = {"fault": name, "target": target, "since": time.time()}
    if delay_ms:
        record["delay_ms"] = delay_ms
    state.faults[f"{name}/{target}"] = record
    save(state)
    return record


def _stop_proc(proc: Proc, grace: float = 3.0) -> None:
    os.kill(proc.pid, signal.SIGTERM)
    deadline = Deadline(grace)
    while is_ours(proc) and not deadline.expired:
        _reap(proc.pid)
        time.sleep(0.02)
    if is_ours(proc):
        os.kill(proc.pid, signal.SIGKILL)
    _reap(proc.pid)
    proc.alive = False


def heal(state: State, ready_timeout: float = 20.0) -> list[dict[str, Any]]:
    """Remove every fault in force: links back to `ok`, stopped processes started again (same port and data)."""
    from loomctl.sandbox import gun
    from loomctl.sandbox.processes import _wait_ready, spawn

    healed = []
    for key, record in sorted(state.faults.items()):
        if FAULTS[record["fault"]].kind == "link":
            _set_mode(state, record["target"], "ok")
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
