"""Run loomctl as a real process (`python -m loomctl`), so every module cache starts cold as it does for users.

The child gets the test's environment as the fixtures set it (the same variables the in-process runner sees:
the local Azure's endpoints and credentials, `REQUESTS_CA_BUNDLE` for its trustme CA, `LOOMCTL_CONFIG`,
`COLUMNS`, `AZURE_TOKEN_CREDENTIALS`), plus guards that keep it off the network:
- every HTTP(S) and WebSocket proxy variable names a closed port on 127.0.0.1, and only loopback bypasses it, so a
  request to any other host (the internet, a cloud metadata address such as 169.254.169.254) fails at once;
- managed identity is pointed at that closed port too (and its endpoint variables removed);
- DNS questions go to a closed port on 127.0.0.1 unless the test set `LOOMCTL_DNS_SERVERS` (its `dns_server`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1,localhost,::1"
TIMEOUT = 120.0  # seconds; a safety net for a hung child, never an assertion


# A loopback TCP port that is bound but never listens: a connection to it is refused at once, and no other
# process can take the port while the tests run.
_HELD = socket.socket()
_HELD.bind(("127.0.0.1", 0))
_DEAD = f"127.0.0.1:{_HELD.getsockname()[1]}"
_REMOVED = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT",
            "AZURE_FEDERATED_TOKEN_FILE", "PYTHONSTARTUP")


def network_guards() -> dict[str, str]:
    """The variables that keep loomctl off the network, in this process (conftest sets them for every test) and in
    its children. A test that runs its own DNS server sets `LOOMCTL_DNS_SERVERS` after them."""
    dead = f"http://{_DEAD}"
    env = {}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "WS_PROXY", "WSS_PROXY"):
        env[name] = env[name.lower()] = dead
    env["NO_PROXY"] = env["no_proxy"] = LOOPBACK
    env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = dead  # where managed identity would ask (IMDS) if it ever tried
    env["LOOMCTL_DNS_SERVERS"] = _DEAD
    env["AZURE_TOKEN_CREDENTIALS"] = "EnvironmentCredential"
    return env


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REMOVED}
    for name, value in network_guards().items():
        if name in ("LOOMCTL_DNS_SERVERS", "AZURE_TOKEN_CREDENTIALS"):
            env.setdefault(name, value)
        else:
            env[name] = value
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


@dataclass
class ProcRun:
    """What one loomctl process did: the same fields as the in-process runner's Run."""

    exit_code: int
    stdout: str
    stderr: str
    args: tuple[str, ...] = ()

    def json(self) -> Any:
        import json

        return json.loads(self.stdout)


def run(*args: str, input: str | None = None, env: Mapping[str, str] | None = None) -> ProcRun:
    """`loomctl ARGS...` as a fresh `python -m loomctl` process in the test's environment (plus `env`)."""
    done = subprocess.run([sys.executable, "-m", "loomctl", *args], input=input, capture_output=True, text=True,
                          encoding="utf-8", env=child_env(env), cwd=str(ROOT), timeout=TIMEOUT)
    return ProcRun(done.returncode, done.stdout, done.stderr, tuple(args))


def run_many(commands: Sequence[Sequence[str]], at_once: int = 6,
             env: Mapping[str, str] | None = None) -> list[ProcRun]:
    """Each command as its own process, `at_once` of them running together; results in the order given."""
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        return list(pool.map(lambda a: run(*a, env=env), commands))


# Python gives SIGINT its KeyboardInterrupt handler only when the process starts with SIGINT at its default, as a
# terminal's foreground job does. A test run started in the background of a non-interactive shell (`.ci/run &`)
# inherits SIGINT ignored, and loomctl would then ignore Ctrl-C: `Running` starts it as a terminal would.
AS_FOREGROUND = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                 "runpy.run_module('loomctl', run_name='__main__', alter_sys=True)")


class Running:
    """`loomctl ARGS...` started and still running: read its output as it comes, so a test can wait for a line
    and only then act (no timers), e.g. send the SIGINT a Ctrl-C in a terminal sends."""

    def __init__(self, *args: str, env: Mapping[str, str] | None = None):
        self.args = tuple(args)
        self.proc = subprocess.Popen([sys.executable, "-c", AS_FOREGROUND, *args], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(env),
                                     cwd=str(ROOT))
        self.lines: list[str] = []

    def first_line(self) -> str:
        """Block until loomctl has written a line to stdout (if it ends first, the assertion shows stderr)."""
        assert self.proc.stdout is not None and self.proc.stderr is not None
        line = self.proc.stdout.readline().decode()
        if not line:
            self.proc.wait()
            raise AssertionError(f"loomctl ended (exit {self.proc.returncode}) before writing a line: "
                                 f"{self.proc.stderr.read().decode()}")
        self.lines.append(line)
        return line

    def interrupt(self) -> None:
        """What Ctrl-C in a terminal does: SIGINT to the process."""
        self.proc.send_signal(signal.SIGINT)

    def finish(self) -> ProcRun:
        try:
            out, err = self.proc.communicate(timeout=TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        return ProcRun(self.proc.returncode, "".join(self.lines) + out.decode(), err.decode(), self.args)


# `python -c CTTY ARGS...`: make stdin (a pty slave, in a new session) the controlling terminal, SIGINT at its
# default as for a terminal's foreground job, then become `python -m loomctl ARGS...`.
CTTY = ("import fcntl, os, signal, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
        "signal.signal(signal.SIGINT, signal.SIG_DFL); "
        "os.execv(sys.executable, [sys.executable, '-m', 'loomctl', *sys.argv[1:]])")


class Pty:
    """`loomctl ARGS...` on a real pseudo-terminal that is its controlling terminal, as in a terminal window (a
    Ctrl-C the terminal turns into SIGINT reaches loomctl). The test holds both ends: `send` types, `read_until`
    reads the screen, and the slave end gives the terminal's mode (`mode_before`, `termios.tcgetattr(slave)`)."""

    def __init__(self, *args: str, env: Mapping[str, str] | None = None):
        import pty
        import termios

        self.master, self.slave = pty.openpty()
        self.mode_before = termios.tcgetattr(self.slave)
        self.out = b""
        self.proc = subprocess.Popen([sys.executable, "-c", CTTY, *args], stdin=self.slave, stdout=self.slave,
                                     stderr=self.slave, env=child_env(env), cwd=str(ROOT),
                                     start_new_session=True, close_fds=True)

    def read_until(self, marker: bytes) -> None:
        """Read what loomctl wrote until `marker` appears (or loomctl ends: the assertion then shows the output)."""
        import select
        import time

        hang = time.monotonic() + 30  # a safety net against a hung session, not a timed assertion
        while marker not in self.out and time.monotonic() < hang:
            if select.select([self.master], [], [], 0.2)[0]:
                self.out += os.read(self.master, 4096)
            elif self.proc.poll() is not None:
                break
        assert marker in self.out, self.out

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait(self) -> int:
        return self.proc.wait(timeout=TIMEOUT)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        os.close(self.slave)
