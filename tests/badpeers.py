"""Peers that misbehave, on 127.0.0.1: a closed port, a port that accepts and never answers, an HTTP 500 on the
upgrade, a WebSocket server that sends garbage, one that sends a huge frame, and one that never greets.

They run in their own process (`python -m tests.badpeers` prints the ports as JSON), so their sockets and tasks
never mix with the test process; `BadPeersProcess` starts and kills it."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

from tests.gunrelay import free_port


class BadPeers:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="bad-peers")
        self.servers: list[Any] = []
        self.silent_socks: list[socket.socket] = []

    def start(self) -> BadPeers:
        self.thread.start()
        self.closed_port = free_port()  # nothing listens here
        self.silent_port = self._silent()
        self.http500_port = self._run(self._http500())
        self.garbage_port = self._run(self._ws(self._garbage))
        self.huge_port = self._run(self._ws(self._huge))
        self.nohello_port = self._run(self._ws(self._quiet))
        return self

    def url(self, port: int, path: str = "/gun") -> str:
        return f"http://127.0.0.1:{port}{path}"

    def _run(self, coro: Any) -> int:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def _silent(self) -> int:
        """Listens (the kernel completes the TCP handshake) and never reads or answers."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        self.silent_socks.append(s)
        return s.getsockname()[1]

    async def _http500(self) -> int:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\nConnection: close\r\n\r\noops\n"
                )
                await writer.drain()
            finally:
                writer.close()
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self.servers.append(server)
        return server.sockets[0].getsockname()[1]

    async def _ws(self, handler: Any) -> int:
        from websockets.asyncio.server import serve

        server = await serve(handler, "127.0.0.1", 0, max_size=None, compression=None)
        self.servers.append(server)
        return list(server.sockets)[0].getsockname()[1]

    @staticmethod
    async def _garbage(ws: Any) -> None:
        await ws.send("hello gun, this is not json")
        await ws.send("[1,2,3]")
        await asyncio.sleep(30)

    @staticmethod
    async def _huge(ws: Any) -> None:
        await ws.send('{"#":"x","put":{"a":"' + "x" * (3 << 20) + '"}}')
        await asyncio.sleep(30)

    @staticmethod
    async def _quiet(ws: Any) -> None:
        await asyncio.sleep(30)

    def stop(self) -> None:
        async def close() -> None:
            for s in self.servers:
                s.close()
            for s in self.servers:
                await s.wait_closed()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        try:
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(5)
        except Exception:  # noqa: BLE001
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        for s in self.silent_socks:
            s.close()


class BadPeersProcess:
    """The bad peers in a child process; attributes mirror BadPeers (closed_port, silent_port, ...)."""

    def start(self) -> BadPeersProcess:
        import json
        import subprocess
        import sys
        from pathlib import Path

        root = Path(__file__).resolve().parent.parent
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.badpeers"], cwd=root, stdout=subprocess.PIPE,
                                     stdin=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line:
            self.proc.kill()
            raise RuntimeError("bad peers did not start")
        for k, v in json.loads(line).items():
            setattr(self, k, v)
        return self

    def url(self, port: int, path: str = "/gun") -> str:
        return f"http://127.0.0.1:{port}{path}"

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(5)


if __name__ == "__main__":
    import json
    import sys

    peers = BadPeers().start()
    print(json.dumps({k: getattr(peers, k) for k in ("closed_port", "silent_port", "http500_port", "garbage_port",
                                                     "huge_port", "nohello_port")}), flush=True)
    sys.stdin.read()  # until the test process goes away
