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


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def require_gun() -> None:
    if not (NODE_MODULES / "gun" / "package.json").is_file():
        pytest.fail("npm package gun is missing: run `npm install --prefix tests/node` (see .ci/run)")


@dataclass
class Relay:
    port: int
    proc: subprocess.Popen
    data: Path
    log: Path
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/gun"

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

    def start(self, peers: list[Relay] | None = None, *, redial: bool = True, rad: bool = True,
              host: str = "127.0.0.1") -> Relay:
        """`host`: the address it listens on (127.0.0.1, or ::1 for an IPv6 relay)."""
        require_gun()
        port = free_port(host)
        data = self.folder / f"relay-{port}"
        data.mkdir(parents=True)
        log = data / "log.txt"
        env = dict(os.environ, PORT=str(port), HOST=host, DATA=str(data / "radata"),
                   NODE_PATH=str(NODE_MODULES), PEERS=",".join(p.url for p in peers or []))
        if not redial:
            env["NO_REDIAL"] = "true"
        if not rad:
            env["RAD"] = "false"
        with open(log, "wb") as out:
            proc = subprocess.Popen(["node", str(SCRIPT)], cwd=data, env=env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT)
        relay = Relay(port, proc, data, log, host)
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
            with socket.socket(socket.AF_INET6 if ":" in relay.host else socket.AF_INET) as s:
                if s.connect_ex((relay.host, relay.port)) == 0:
                    return
        time.sleep(0.05)
    raise RuntimeError(f"relay on {relay.port} did not start: {relay.log.read_text()[-500:]}")


def wait_peered(downstream: Relay, timeout: float = 5.0) -> None:
    """The launcher dials its PEERS 50 ms after start; give the link a moment to open."""
    time.sleep(0.3)


def sandbox_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sandbox of the test's own (its folder under tmp_path, the tests' gun: no second install, its own cache),
    for every test that starts one; skips where node is missing. Returns the sandbox folder."""
    require_gun()
    folder = tmp_path / "sandbox"
    monkeypatch.setenv("LOOMCTL_SANDBOX_DIR", str(folder))
    monkeypatch.setenv("LOOMCTL_GUN_DIR", str(NODE_DIR))
    monkeypatch.setenv("LOOMCTL_CACHE_DIR", str(tmp_path / "cache"))
    return folder
