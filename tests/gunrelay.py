"""Real GUN relays for tests: the npm package pinned in tests/node, started with loomctl's own relay launcher."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"
NODE_MODULES = NODE_DIR / "node_modules"
SCRIPT = Path(__file__).resolve().parent.parent / "loomctl" / "data" / "gun_relay.js"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_gun() -> None:
    if not (NODE_MODULES / "gun" / "package.json").is_file():
        pytest.fail("npm package gun is missing: run `npm install --prefix tests/node` (see .ci/run)")


@dataclass
class Relay:
    port: int
    proc: subprocess.Popen
    data: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/gun"

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def stop_signal(self) -> None:
        """Freeze the process: the kernel still accepts TCP connections, nothing answers."""
        os.kill(self.proc.pid, signal.SIGSTOP)


@dataclass
class Relays:
    folder: Path
    started: list[Relay] = field(default_factory=list)

    def start(self, peers: list[Relay] | None = None, *, redial: bool = True, rad: bool = True) -> Relay:
        require_gun()
        port = free_port()
        data = self.folder / f"relay-{port}"
        data.mkdir(parents=True)
        log = data / "log.txt"
        env = dict(os.environ, PORT=str(port), HOST="127.0.0.1", DATA=str(data / "radata"),
                   NODE_PATH=str(NODE_MODULES), PEERS=",".join(p.url for p in peers or []))
        if not redial:
            env["NO_REDIAL"] = "true"
        if not rad:
            env["RAD"] = "false"
        with open(log, "wb") as out:
            proc = subprocess.Popen(["node", str(SCRIPT)], cwd=data, env=env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT)
        relay = Relay(port, proc, data, log)
        self.started.append(relay)
        wait_listening(relay)
        return relay

    def stop_all(self) -> None:
        for r in self.started:
            if r.proc.poll() is None:
                try:
                    os.kill(r.proc.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            r.kill()


def wait_listening(relay: Relay, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if relay.proc.poll() is not None:
            raise RuntimeError(f"relay exited: {relay.log.read_text()[-500:]}")
        if "relay up" in relay.log.read_text(errors="replace"):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", relay.port)) == 0:
                    return
        time.sleep(0.05)
    raise RuntimeError(f"relay on {relay.port} did not start: {relay.log.read_text()[-500:]}")


def wait_peered(downstream: Relay, timeout: float = 5.0) -> None:
    """The launcher dials its PEERS 50 ms after start; give the link a moment to open."""
    time.sleep(0.3)
