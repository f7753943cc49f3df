"""The nodes' link proxy (`sandbox/proxy.py`) seen from the CLI: start it, ask it, stop it.

Each node dials each of its relays through its own port of the proxy (one link per (node, relay) pair);
`state.links` records the proxy (pid, start time, control port, each link's port, node and relay).
`record(state)` is the state file's atomic save, called as soon as the proxy is started, so that `down` can
always stop it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from loomctl.core.errors import LoomError
from loomctl.core.retry import Deadline, poll
from loomctl.sandbox.pids import free_port, reap, running, start_ticks

MARKER = str(Path(__file__).resolve().parent / "proxy.py")  # its command line holds this


def link_name(dialer: str, relay: str) -> str:
    """A link's name: the dialling process's, and the relay's when the sandbox has several (`node-3/relay-2`)."""
    return dialer if relay == "relay" else f"{dialer}/{relay}"


def start_links(state: Any, pairs: list[tuple[str, str]], relay_ports: dict[str, int],
                record: Callable[[Any], None], timeout: float = 10.0) -> None:
    """Start the link proxy: one port per (dialling process, relay) pair, forwarding to that relay; recorded
    before it is waited on."""
    links = {link_name(n, r): {"port": free_port(), "upstream": relay_ports[r], "node": n, "relay": r}
             for n, r in pairs}
    control = free_port()
    config = {"control": control, "links": [{"name": k, "port": v["port"], "upstream": v["upstream"]}
                                            for k, v in links.items()]}
    log = Path(state.folder) / "links.log"
    with open(log, "ab") as out:  # the proxy is one stdlib-only file: run by path, it needs no installed loomctl
        child = subprocess.Popen([sys.executable, MARKER, json.dumps(config)],
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True, cwd=state.folder)
    state.links = {"pid": child.pid, "start_ticks": start_ticks(child.pid), "control": control, "log": str(log),
                   "links": links}
    record(state)

    def ready() -> bool | None:
        if not links_alive(state):
            raise LoomError(f"the sandbox's link proxy (pid {child.pid}) exited while starting", f"see {log}")
        try:
            send(state, {"op": "ping"}, timeout=0.5)
            return True
        except OSError:
            return None

    def timed_out() -> Any:
        raise LoomError(f"the sandbox's link proxy did not answer within {timeout:g} s", f"see {log}")

    poll(ready, deadline=Deadline(timeout), interval=0.05, on_timeout=timed_out)


def links(state: Any) -> dict[str, dict[str, Any]]:
    """Each link by name: its proxy port, the relay's port, the process that dials it (`node`) and the relay.
    (A state file of the one-relay sandbox before --relays named each link after its node only.)"""
    out = {}
    for k, v in ((state.links or {}).get("links") or {}).items():
        out[k] = {"node": k, "relay": "relay", **v}
    return out


def dial_urls(state: Any, name: str, dials: list[str]) -> list[str]:
    """The URLs process `name` dials for its relays: its link to each when the sandbox has one, else the relay."""
    by_relay = {v["relay"]: v for v in links(state).values() if v["node"] == name}
    urls = {p.name: p.url for p in state.procs if p.role == "relay"}
    return [f"http://127.0.0.1:{by_relay[r]['port']}/gun" if r in by_relay else urls[r] for r in dials]


def link_urls(state: Any) -> dict[str, str]:
    """Each link's URL (the path its node dials to its relay), by link name."""
    return {k: f"http://127.0.0.1:{v['port']}/gun" for k, v in links(state).items()}


def node_links(state: Any, node: str) -> list[str]:
    """The names of the links `node` dials (one per relay it dials)."""
    return [k for k, v in links(state).items() if v["node"] == node]


def to_relay(relay: str) -> str:
    return "the relay" if relay == "relay" else relay


def links_alive(state: Any) -> bool:
    rec = state.links
    return bool(rec) and running(rec["pid"], MARKER, rec.get("start_ticks"))


def stop_links(state: Any, grace: float = 3.0) -> list[dict[str, Any]]:
    rec = state.links
    if not rec:
        return []
    if not links_alive(state):
        return [{"name": "links", "pid": rec["pid"], "result": "was not running"}]
    os.kill(rec["pid"], signal.SIGTERM)
    deadline = Deadline(grace)
    while links_alive(state) and not deadline.expired:
        reap(rec["pid"])
        time.sleep(0.02)
    how = "stopped"
    if links_alive(state):
        os.kill(rec["pid"], signal.SIGKILL)
        how = "killed"
    reap(rec["pid"])
    return [{"name": "links", "pid": rec["pid"], "result": how}]


def send(state: Any, msg: dict[str, Any], timeout: float = 3.0) -> dict[str, Any]:
    with socket.create_connection(("127.0.0.1", state.links["control"]), timeout=timeout) as s:
        s.sendall(json.dumps(msg).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf or b"{}")


def link_connections(state: Any) -> dict[str, int]:
    """How many connections each link holds open from its node (0: the node is not linked to that relay)."""
    if not links_alive(state):
        return {}
    return dict(send(state, {"op": "ping"}).get("conns") or {})


def node_connections(state: Any) -> dict[str, int]:
    """Per node, the fewest connections it holds on any of its links (0: not linked to one of its relays)."""
    conns = link_connections(state)
    out: dict[str, int] = {}
    for k, v in links(state).items():
        if k in conns:
            out[v["node"]] = min(out.get(v["node"], conns[k]), conns[k])
    return out


def addresses(state: Any) -> dict[str, str]:
    """Addresses the link proxy stands in for, and who is behind each (`diagnose mesh` names links by them): a
    link's port, that of its relay while the link passes bytes; each connection the proxy opened to a relay, its
    node. A cut or silent link's port stands for no one."""
    if not links_alive(state):
        return {}
    answer = send(state, {"op": "ping"})
    modes, upstream = answer.get("modes") or {}, answer.get("upstream_from") or {}
    out = {}
    for k, v in links(state).items():
        if modes.get(k, "ok") in ("ok", "slow"):
            out[f"127.0.0.1:{v['port']}"] = v["relay"]
        for port in upstream.get(k) or []:
            out[f"127.0.0.1:{port}"] = v["node"]
    return out


def wait_linked(state: Any, timeout: float = 10.0) -> list[str]:
    """Wait until every node holds a connection on each of its links; the nodes that do not by the deadline
    (they did not redial), or [] when the sandbox has no links."""
    names = list(dict.fromkeys(v["node"] for v in links(state).values()))
    left: list[str] = names

    def linked() -> bool | None:
        nonlocal left
        conns = node_connections(state)
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


def set_mode(state: Any, node: str, mode: str, delay_ms: int = 0) -> None:
    """Set the mode of every link `node` dials (one per relay)."""
    if not links_alive(state):
        raise LoomError("the sandbox's link proxy is not running",
                        "restart the sandbox: `loomctl sandbox down && loomctl sandbox up`")
    for name in node_links(state, node):
        answer = send(state, {"op": "set", "link": name, "mode": mode, "delay_ms": delay_ms})
        if not answer.get("ok"):
            raise LoomError(f"the link proxy refused: {answer.get('error')}", "see `loomctl sandbox status`")
