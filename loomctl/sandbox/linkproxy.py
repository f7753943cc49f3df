"""The nodes' link proxy (`sandbox/proxy.py`) seen from the CLI: start it, ask it, stop it.

Each node dials the relay through its own port of the proxy; `state.links` records the proxy (pid, start time,
control port, each node's port). `record(state)` is the state file's atomic save, called as soon as the proxy is
started, so that `down` can always stop it.
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


def start_links(state: Any, nodes: list[str], relay_port: int, record: Callable[[Any], None],
                timeout: float = 10.0) -> None:
    """Start the link proxy: one port per node, forwarding to the relay; recorded before it is waited on."""
    links = {n: {"port": free_port(), "upstream": relay_port} for n in nodes}
    control = free_port()
    config = {"control": control, "links": [{"name": n, **v} for n, v in links.items()]}
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


def relay_url_for(state: Any, node: str) -> str:
    """The URL a node dials for the relay: its link when the sandbox has one, else the relay itself."""
    link = (state.links or {}).get("links", {}).get(node)
    if link:
        return f"http://127.0.0.1:{link['port']}/gun"
    return next(p.url for p in state.procs if p.role == "relay")


def link_urls(state: Any) -> dict[str, str]:
    """Each node's link to the relay (the path it dials), by node name."""
    return {n: f"http://127.0.0.1:{v['port']}/gun" for n, v in (state.links or {}).get("links", {}).items()}


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
    """How many connections each node holds open on its link to the relay (0: the node is not linked)."""
    if not links_alive(state):
        return {}
    return dict(send(state, {"op": "ping"}).get("conns") or {})


def wait_linked(state: Any, timeout: float = 10.0) -> list[str]:
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


def set_mode(state: Any, node: str, mode: str, delay_ms: int = 0) -> None:
    if not links_alive(state):
        raise LoomError("the sandbox's link proxy is not running",
                        "restart the sandbox: `loomctl sandbox down && loomctl sandbox up`")
    answer = send(state, {"op": "set", "link": node, "mode": mode, "delay_ms": delay_ms})
    if not answer.get("ok"):
        raise LoomError(f"the link proxy refused: {answer.get('error')}", "see `loomctl sandbox status`")
