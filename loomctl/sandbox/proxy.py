"""The sandbox's link proxy: each node dials each of its relays through its own local TCP proxy port (one link per
(node, relay) pair), which the sandbox controls.

Run as its own process (`python .../loomctl/sandbox/proxy.py CONFIG`: standard library only), started by
`sandbox up` in its own session, so that it outlives the CLI like the GUN processes. CONFIG is JSON:
`{"control": PORT, "links": [{"name", "port", "upstream"}], "modes": {name: mode}}`. A link's mode is one of:

- `ok`: bytes pass both ways;
- `slow`: each chunk is held `delay_ms` before it passes (each way);
- `blackhole`: connections are accepted and nothing ever passes or answers (open links go silent);
- `partition`: open connections are reset and new ones reset at once (the node is cut off from the relay).

The control port takes one JSON line (`{"op": "set", "link": NAME, "mode": MODE, "delay_ms": N}` or
`{"op": "ping"}`) and answers one JSON line once the mode is in force. Leaving `blackhole` or `partition`
resets the link's connections so that the node redials a clean link. Only the standard library: it starts fast.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import sys
import time
from typing import Any

MODES = ("ok", "slow", "blackhole", "partition")


class Link:
    def __init__(self, name: str, port: int, upstream: int, mode: str = "ok", delay_ms: int = 0):
        self.name, self.port, self.upstream = name, port, upstream
        self.mode, self.delay_ms = mode, delay_ms
        self.conns: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter | None]] = set()

    def reset_all(self) -> None:
        for pair in list(self.conns):
            for w in pair:
                if w is not None:
                    _reset(w)
        self.conns.clear()


def _reset(w: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a cut link does."""
    sock = w.get_extra_info("socket")
    try:
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        w.transport.abort()
    except OSError:
        pass


async def _pump(link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy one direction; in `slow` each chunk is due `delay_ms` after it arrived (order kept, no throughput cut)."""
    queue: asyncio.Queue[tuple[float, bytes | None]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                writer.close()
                return
            if link.mode == "ok" or link.mode == "slow":
                writer.write(data)
                await writer.drain()

    task = asyncio.ensure_future(deliver())
    try:
        while True:
            data = await reader.read(65536)
            if link.mode == "blackhole":
                if not data:
                    return
                continue  # swallowed: the other side never hears of it
            delay = link.delay_ms / 1000 if link.mode == "slow" else 0.0
            queue.put_nowait((time.monotonic() + delay, data or None))
            if not data:
                await task
                return
    except (ConnectionError, OSError):
        pass
    finally:
        if not task.done():
            task.cancel()


async def _serve(link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    if link.mode == "partition":
        _reset(writer)
        return
    up: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    if link.mode != "blackhole":
        try:
            up = await asyncio.open_connection("127.0.0.1", link.upstream)
        except OSError:
            _reset(writer)  # the relay is down: the node sees its link refused, as without a proxy
            return
    pair = (writer, up[1] if up else None)
    link.conns.add(pair)
    try:
        if up is None:
            while await reader.read(65536):  # black hole: accept, read, never answer
                pass
        else:
            await asyncio.gather(_pump(link, reader, up[1]), _pump(link, up[0], writer))
    except (ConnectionError, OSError):
        pass
    finally:
        link.conns.discard(pair)
        for w in pair:
            if w is not None:
                w.close()


async def _control(links: dict[str, Link], reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        line = await asyncio.wait_for(reader.readline(), 5)
        msg = json.loads(line or b"{}")
        answer: dict[str, Any] = {"ok": True}
        if msg.get("op") == "set":
            link, mode = links.get(msg.get("link", "")), msg.get("mode")
            if link is None or mode not in MODES:
                answer = {"ok": False, "error": f"no link {msg.get('link')!r} or no mode {mode!r}"}
            else:
                before = link.mode
                link.mode, link.delay_ms = mode, int(msg.get("delay_ms") or 0)
                if mode == "partition" or (before in ("blackhole", "partition") and mode != before):
                    link.reset_all()
        elif msg.get("op") != "ping":
            answer = {"ok": False, "error": "unknown op"}
        answer["modes"] = {n: link.mode for n, link in links.items()}
        answer["conns"] = {n: len(link.conns) for n, link in links.items()}  # open connections from each node
        # the local address of each connection to the upstream: the far end the relay sees (diagnose mesh names it)
        answer["upstream_from"] = {n: [w.get_extra_info("sockname")[1] for _, w in link.conns if w is not None]
                                   for n, link in links.items()}
        writer.write(json.dumps(answer).encode() + b"\n")
        await writer.drain()
    except (ValueError, OSError, asyncio.TimeoutError):
        pass
    finally:
        writer.close()


async def main(config: dict[str, Any]) -> None:
    links = {}
    for spec in config["links"]:
        mode = config.get("modes", {}).get(spec["name"], {})
        links[spec["name"]] = Link(spec["name"], spec["port"], spec["upstream"], mode.get("mode", "ok"),
                                   mode.get("delay_ms", 0))
    for link in links.values():
        await asyncio.start_server(lambda r, w, lk=link: _serve(lk, r, w), "127.0.0.1", link.port)
    await asyncio.start_server(lambda r, w: _control(links, r, w), "127.0.0.1", config["control"])
    print(f"link proxy up: control 127.0.0.1:{config['control']}, "
          + ", ".join(f"{n} 127.0.0.1:{lk.port} -> {lk.upstream}" for n, lk in links.items()), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    asyncio.run(main(json.loads(sys.argv[1])))
