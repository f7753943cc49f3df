"""A local Container Apps exec endpoint: WebSocket over TLS speaking the proxy/channel framing.

It runs the requested command for real on this machine (split like a shell, as the service does), streams
stdout/stderr as binary `00 01`/`00 02` frames split at awkward byte boundaries, reports a non-zero exit as
a `02` ClusterExecFailure ERROR frame, and can refuse handshakes (401 for a wrong token, 500 while "starting",
429 with Retry-After, a reset connection) or cut a session mid-output. Everything it saw is in `sessions`.
With `tty`, the command runs on a pseudo-terminal (its controlling terminal), so a 0x03 on stdin interrupts the
foreground process as a real remote terminal does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shlex
import shutil
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from loomctl.aca import framing

_QUIET = logging.getLogger("tests.fake-exec")
_QUIET.setLevel(logging.WARNING)
_QUIET.propagate = False

RESET = 0  # a "status" that resets the connection instead of answering

EXEC_PATH = re.compile(r"/subscriptions/([^/]+)/resourceGroups/([^/]+)/containerApps/([^/]+)/revisions/([^/]+)"
                       r"/replicas/([^/]+)/containers/([^/]+)/exec")


@dataclass
class Session:
    path: str
    command: str | None
    auth_ok: bool
    status: int
    stdin: bytes = b""
    resized: list[str] = field(default_factory=list)
    at: float = field(default_factory=time.monotonic)  # when the handshake arrived


class FakeExec:
    def __init__(self, ca: Any):
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self._ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self._ctx)
        self.loop = asyncio.new_event_loop()
        self._server: Any = None
        self.reset()

    def reset(self) -> None:
        self.token = "aca-test-token-3f9c"
        self.statuses: list[int] = []  # answer the next handshakes with these statuses, one each (RESET: reset)
        self.refuse: int | None = None  # then answer every handshake with this status (a replica never starting)
        self.tty = False  # run the command on a pseudo-terminal
        self.retry_after = "1"
        self.cut_after: int | None = None  # drop the connection after this many output bytes
        self.chunk = 3  # bytes per output frame (splits UTF-8 characters on purpose)
        self.path_env: str | None = None  # PATH the "image" has
        self.not_running: set[str] = set()  # replica names whose container is not running (handshake 500)
        self.not_attachable: set[str] = set()  # 101, then an ERROR frame "not running" (the other way it shows)
        self.env: dict[str, str] = {}
        # per replica: its container's environment (PATH included: an image without node) and a cut after N bytes
        self.replica_env: dict[str, dict[str, str]] = {}
        self.replica_cut: dict[str, int] = {}
        self.active = 0  # sessions open right now, and the most ever open at once
        self.max_active = 0
        self.sessions: list[Session] = []

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> FakeExec:
        from websockets.asyncio.server import serve

        ready = threading.Event()

        async def main() -> None:
            self._server = await serve(self._handler, "127.0.0.1", 0, ssl=self._ctx,
                                       process_request=self._process_request, compression=None,
                                       logger=_QUIET)
            ready.set()
            await self._server.serve_forever()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                self.loop.run_until_complete(main())
            except asyncio.CancelledError:
                pass

        threading.Thread(target=run, daemon=True, name="fake-exec").start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self.loop.call_soon_threadsafe(self._server.close)

    @property
    def url(self) -> str:
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"https://127.0.0.1:{port}"

    # -- handshake ------------------------------------------------------------------------------------------
    def _process_request(self, connection: Any, request: Any) -> Any:
        parsed = urlparse(request.path)
        command = (parse_qs(parsed.query).get("command") or [None])[0]
        auth = request.headers.get("Authorization", "")
        ok = auth == f"Bearer {self.token}"
        m = EXEC_PATH.fullmatch(parsed.path)
        status = 101
        if not ok:
            status = 401
        elif m is None:
            status = 404
        elif self.statuses:
            status = self.statuses.pop(0)
        elif self.refuse is not None:
            status = self.refuse
        elif m.group(5) in self.not_running:
            status = 500
        self.sessions.append(Session(parsed.path, command, ok, status))
        if status == 101:
            return None
        if status == RESET:
            connection.transport.abort()  # RST, no HTTP answer
        from http import HTTPStatus

        resp = connection.respond(HTTPStatus(status or 500), f"{HTTPStatus(status or 500).phrase}\n")
        if status == 429:
            resp.headers["Retry-After"] = self.retry_after
        return resp

    # -- session --------------------------------------------------------------------------------------------
    async def _handler(self, ws: Any) -> None:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await self._session(ws)
        finally:
            self.active -= 1

    async def _session(self, ws: Any) -> None:
        session = self.sessions[-1]
        m = EXEC_PATH.fullmatch(urlparse(ws.request.path).path)
        assert m is not None
        container, revision, replica = m.group(6), m.group(4), m.group(5)
        await ws.send(framing.info(f"Connecting to the container '{container}'..."))
        await ws.send(framing.info(f"Successfully connected to container: '{container}'. "
                                   f"[ Revision: '{revision}', Replica: '{replica}']"))
        if replica in self.not_attachable:
            await ws.send(framing.error(framing.cluster_exec_failure(
                "Cannot attach to a container that is not running")))
            await ws.close()
            return
        argv = shlex.split(session.command or "sh")
        own = self.replica_env.get(replica, {})
        path = own.get("PATH", self.path_env if self.path_env is not None else os.environ.get("PATH", ""))
        exe = shutil.which(argv[0], path=path) if "/" not in argv[0] else argv[0]
        if exe is None:
            await ws.send(framing.error(framing.cluster_exec_failure(
                "Internal error occurred: error executing command in container: failed to exec in container: "
                f"OCI runtime exec failed: exec failed: unable to start container process: exec: \"{argv[0]}\": "
                "executable file not found in $PATH: unknown")))
            await ws.close()
            return
        env = {**os.environ, **self.env, **own, "PATH": path}
        if self.tty:
            await self._run_on_tty(ws, session, [exe, *argv[1:]], env)
            return
        proc = await asyncio.create_subprocess_exec(exe, *argv[1:], stdin=asyncio.subprocess.PIPE,
                                                    stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE, env=env)
        sent = 0
        cut_after = self.replica_cut.get(replica, self.cut_after)

        async def pump(stream: Any, channel: int) -> None:
            nonlocal sent
            while True:
                data = await stream.read(4096)
                if not data:
                    return
                for i in range(0, len(data), self.chunk):
                    piece = data[i:i + self.chunk]
                    if cut_after is not None and sent + len(piece) > cut_after:
                        ws.transport.abort()  # the session is cut: no close frame, no error frame
                        raise ConnectionAbortedError
                    await ws.send(framing.output(channel, piece))
                    sent += len(piece)

        async def read_input() -> None:
            async for message in ws:
                raw = message.encode() if isinstance(message, str) else message
                if raw[:2] == bytes([0, 0]):
                    session.stdin += raw[2:]
                    if proc.stdin is not None:
                        proc.stdin.write(raw[2:])
                elif raw[:2] == bytes([0, 4]):
                    session.resized.append(raw[2:].decode())

        reader = asyncio.ensure_future(read_input())
        try:
            await asyncio.gather(pump(proc.stdout, framing.STDOUT), pump(proc.stderr, framing.STDERR))
        except ConnectionAbortedError:
            proc.kill()
            await proc.wait()
            reader.cancel()
            return
        code = await proc.wait()
        reader.cancel()
        await _finish(ws, argv, code)

    async def _run_on_tty(self, ws: Any, session: Session, argv: list[str], env: dict[str, str]) -> None:
        """The command on a pseudo-terminal that is its controlling terminal: the terminal's line discipline
        turns a 0x03 on stdin into SIGINT for the foreground process and 0x04 into end of input."""
        import sys

        master, slave = os.openpty()
        # a new session whose controlling terminal is the pty, then the command (no preexec_fn in a threaded process)
        ctty = ("import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
                "os.execv(sys.argv[1], sys.argv[1:])")
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", ctty, *argv, stdin=slave, stdout=slave,
                                                    stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        loop = asyncio.get_running_loop()

        async def read_input() -> None:
            async for message in ws:
                raw = message.encode() if isinstance(message, str) else message
                if raw[:2] == bytes([0, 0]):
                    session.stdin += raw[2:]
                    os.write(master, raw[2:])
                elif raw[:2] == bytes([0, 4]):
                    session.resized.append(raw[2:].decode())

        reader = asyncio.ensure_future(read_input())
        try:
            while True:
                try:
                    data = await loop.run_in_executor(None, os.read, master, 4096)
                except OSError:  # EIO: every process holding the terminal has gone
                    break
                if not data:
                    break
                await ws.send(framing.output(framing.STDOUT, data))
        finally:
            code = await proc.wait()
            reader.cancel()
            os.close(master)
        await _finish(ws, argv, code)


async def _finish(ws: Any, argv: list[str], code: int) -> None:
    """End a session as the exec API does: a non-zero exit is an error frame naming the code (a signal: 128 + it)."""
    if code < 0:  # killed by a signal: Kubernetes reports 128 + signal
        code = 128 - code
    if code != 0:
        await ws.send(framing.error(framing.cluster_exec_failure(
            "Cluster exec API returns error: command terminated with non-zero exit code: error executing "
            f"command [{' '.join(argv)[:60]}], exit code {code}, code: 0.")))
    await ws.close()

