"""A LoomMesh (GUN) wire client over `websockets` (see docs: the GUN wire protocol).

What it does and never does:
- a frame is one JSON object or an array of objects; `[]` is the relay's heartbeat;
- every message it sends has a fresh unique `#` (a relay drops a repeated id for about 9 s);
- it records the relay's `dam:"?"` hello (its `pid`) and answers pings it sends (`ping()`);
- `get` collects every reply with `@` equal to its `#` for a short window and merges them per key by HAM;
- `put` uses integer-millisecond states that are never ahead of our clock minus one millisecond (a state in
  the relay's future is deferred and never acked) and strictly increasing per soul and key;
- acks: zero, one or several per put, all collected;
- forwarded `get`s from the relay and echoes of other traffic are ignored;
- it never sends `{"get":{}}` (a relay answers that with its whole store) and only strictly encoded JSON
  (`allow_nan=False`; a relay crashes on an invalid escape), and it caps the size of frames it accepts.

The module imports `websockets` only inside `connect`, so importing it is cheap.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_FRAME = 1 << 20  # 1 MiB: a health probe never needs more; a bigger frame closes the socket (1009)
_ALPHABET = string.ascii_letters + string.digits


def fresh_id(n: int = 12) -> str:
    """n random letters and digits from one read of the system's random source (a load test makes thousands a
    second; `secrets.choice` per character would read it n times)."""
    return "".join(_ALPHABET[b % 62] for b in secrets.token_bytes(n))


def encode(message: Any) -> str:
    """Strict JSON only: no NaN/Infinity; never a soul-less get."""
    for m in message if isinstance(message, list) else [message]:
        get = m.get("get") if isinstance(m, dict) else None
        if get is not None and not (isinstance(get, dict) and isinstance(get.get("#"), str) and get["#"]):
            raise ValueError("refusing to send a get without a soul (a relay answers it with its whole store)")
    return json.dumps(message, allow_nan=False, ensure_ascii=False, separators=(",", ":"))


class ProtocolError(Exception):
    """The peer sent something that is not GUN."""


def decode(raw: str | bytes) -> list[dict[str, Any]]:
    """A frame as a list of messages; raises ProtocolError for anything that is not an object or array of them."""
    if isinstance(raw, bytes):
        raise ProtocolError("binary frame")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {raw[:60]!r}") from exc
    items = data if isinstance(data, list) else [data]
    if not all(isinstance(m, dict) for m in items):
        raise ProtocolError(f"not an object or an array of objects: {raw[:60]!r}")
    return items


_last_state: dict[tuple[str, str], int] = {}
_state_lock = threading.Lock()  # read and write of a key's last state are one step: puts run on several threads


def next_state(soul: str, key: str, now_ms: float | None = None) -> int:
    """An integer-ms state at or behind our clock, strictly greater than the last one used for this key."""
    with _state_lock:
        st = math.floor(time.time() * 1000 if now_ms is None else now_ms) - 1
        prev = _last_state.get((soul, key))
        if prev is not None and st <= prev:
            if now_ms is None:  # wait (at most ~2 ms) until our clock has moved past the last state
                time.sleep((prev + 2 - time.time() * 1000) / 1000 if prev + 2 > time.time() * 1000 else 0)
                st = max(prev + 1, math.floor(time.time() * 1000) - 1)
            else:
                st = prev + 1
        _last_state[(soul, key)] = st
        return st


def put_message(soul: str, data: dict[str, Any], *, fresh_keys: bool = False) -> dict[str, Any]:
    """A put of `data` on `soul`. `fresh_keys`: every key is written for the first and only time (a load test's
    `s<seq>`), so its state is simply our clock minus one millisecond and no last state is remembered."""
    if not soul or any(c in soul for c in "#~\x1b") or "<?" in soul:
        raise ValueError(f"soul '{soul}' is not a plain soul")
    for k, v in data.items():
        if isinstance(v, (dict, list)) or (isinstance(v, float) and not math.isfinite(v)):
            raise ValueError(f"value of '{k}' must be null, a string, a boolean or a finite number")
    if fresh_keys:
        st = math.floor(time.time() * 1000) - 1
        states = dict.fromkeys(data, st)
    else:
        states = {k: next_state(soul, k) for k in data}
    node = dict(data)
    node["_"] = {"#": soul, ">": states}
    return {"#": fresh_id(), "put": {soul: node}}


def ham_merge(into: dict[str, Any], states: dict[str, float], node: dict[str, Any]) -> None:
    """Merge one node's keys into `into` per key by HAM (higher state wins; equal: larger JSON string wins)."""
    meta = node.get("_") if isinstance(node.get("_"), dict) else {}
    incoming = meta.get(">") if isinstance(meta.get(">"), dict) else {}
    for k, v in node.items():
        if k == "_":
            continue
        s = incoming.get(k)
        if not isinstance(s, (int, float)):
            continue
        old = states.get(k)
        if old is None or s > old or (s == old and json.dumps(v) > json.dumps(into.get(k))):
            into[k], states[k] = v, s


@dataclass
class GetResult:
    soul: str
    replies: int
    found: bool
    node: dict[str, Any] = field(default_factory=dict)
    first_reply_ms: float | None = None


@dataclass
class WireStats:
    frames: int = 0
    heartbeats: int = 0
    garbage: int = 0
    first_garbage: str | None = None
    ignored_gets: int = 0


class GunClient:
    """One WebSocket to one GUN peer. Use `await GunClient.connect(url)` or `attach(ws)`, then `close()`."""

    def __init__(self, ws: Any, url: str = ""):
        self.ws = ws
        self.url = url
        self.pid = "py" + fresh_id(10)  # a fresh pid per client; never a relay's
        self.peer_pid: str | None = None
        self.hello = asyncio.get_running_loop().create_future()
        self.stats = WireStats()
        self._waiters: dict[str, Callable[[dict[str, Any]], None]] = {}
        self._push: list[Callable[[dict[str, Any], float], None]] = []
        self.closed_reason: BaseException | None = None
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, url: str, *, timeout: float = 5.0, max_frame: int = MAX_FRAME, **kw: Any) -> GunClient:
        from websockets.asyncio.client import connect

        ws = await connect(ws_url(url), open_timeout=timeout, max_size=max_frame, ping_interval=None,
                           close_timeout=1, compression=None, **kw)
        return cls(ws, url)

    # ---- receiving -------------------------------------------------------------------------------
    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                now = time.perf_counter()
                self.stats.frames += 1
                try:
                    messages = decode(raw)
                except ProtocolError as exc:
                    self.stats.garbage += 1
                    self.stats.first_garbage = self.stats.first_garbage or str(exc)
                    if not self.hello.done():  # a GUN relay greets before anything else
                        self.hello.set_exception(ProtocolError(str(exc)))
                        self.hello.exception()
                    continue
                if not messages:
                    self.stats.heartbeats += 1
                for m in messages:
                    self._dispatch(m, now)
        except Exception as exc:  # noqa: BLE001 - closed, too big, reset: recorded for the caller
            self.closed_reason = exc
        finally:
            if self.closed_reason is None:
                self.closed_reason = ConnectionError("connection closed by the peer")
            if not self.hello.done():
                self.hello.set_exception(self.closed_reason)
                self.hello.exception()  # mark retrieved
            for cb in list(self._waiters.values()):
                cb({"__closed__": True})

    def _dispatch(self, m: dict[str, Any], now: float) -> None:
        at = m.get("@")
        if isinstance(at, str) and at in self._waiters:
            self._waiters[at](m)
            return
        if m.get("dam") == "?" and at is None:
            if isinstance(m.get("pid"), str):
                self.peer_pid = self.peer_pid or m["pid"]
            if not self.hello.done():
                self.hello.set_result(m)
            return
        if "get" in m and at is None:
            self.stats.ignored_gets += 1  # a forwarded get: we are not a storage peer
            return
        if isinstance(m.get("put"), dict) and at is None:
            for cb in list(self._push):
                cb(m, now)

    def on_push(self, callback: Callable[[dict[str, Any], float], None]) -> None:
        self._push.append(callback)

    # ---- sending ---------------------------------------------------------------------------------
    async def send(self, message: dict[str, Any] | list[dict[str, Any]]) -> None:
        await self.ws.send(encode(message))

    async def wait_hello(self, timeout: float) -> dict[str, Any]:
        return await asyncio.wait_for(asyncio.shield(self.hello), timeout)

    async def _request(self, message: dict[str, Any], window: float, until_first: bool) -> list[tuple[float, dict]]:
        """Send and collect replies for `window` seconds (or until the first reply)."""
        replies: list[tuple[float, dict[str, Any]]] = []
        got = asyncio.Event()

        def collect(m: dict[str, Any]) -> None:
            if m.get("__closed__"):
                got.set()
                return
            replies.append((time.perf_counter(), m))
            got.set()

        self._waiters[message["#"]] = collect
        try:
            await self.send(message)
            start = time.perf_counter()
            if until_first:
                await asyncio.wait_for(got.wait(), window)
            else:
                await asyncio.sleep(window)
        except asyncio.TimeoutError:
            pass
        finally:
            self._waiters.pop(message["#"], None)
        if self.closed_reason is not None and not replies:
            raise self.closed_reason
        return [(t - start, m) for t, m in replies]

    async def ping(self, timeout: float = 2.0) -> tuple[float, str | None]:
        """`dam:"?"` without `@`: the relay answers with its pid. Returns (round trip ms, pid)."""
        msg = {"#": fresh_id(), "dam": "?", "pid": self.pid}
        replies = await self._request(msg, timeout, until_first=True)
        if not replies:
            raise asyncio.TimeoutError("no answer to the dam ping")
        rtt, m = replies[0]
        return rtt * 1000, m.get("pid")

    async def get(self, soul: str, key: str | None = None, *, window: float = 0.2,
                  first_timeout: float = 2.0) -> GetResult:
        """Collect every reply for `window` s after the first (never trust the first empty one) and merge."""
        q: dict[str, Any] = {"#": soul}
        if key is not None:
            q["."] = key
        msg = {"#": fresh_id(), "get": q}
        replies: list[tuple[float, dict[str, Any]]] = []
        first = asyncio.Event()
        start = time.perf_counter()

        def collect(m: dict[str, Any]) -> None:
            if not m.get("__closed__"):
                replies.append((time.perf_counter() - start, m))
            first.set()

        self._waiters[msg["#"]] = collect
        try:
            await self.send(msg)
            try:
                await asyncio.wait_for(first.wait(), first_timeout)
                await asyncio.sleep(window)
            except asyncio.TimeoutError:
                pass
        finally:
            self._waiters.pop(msg["#"], None)
        if self.closed_reason is not None and not replies:
            raise self.closed_reason
        node: dict[str, Any] = {}
        states: dict[str, float] = {}
        for _, m in replies:
            put = m.get("put")
            if isinstance(put, dict) and isinstance(put.get(soul), dict):
                ham_merge(node, states, put[soul])
        return GetResult(soul, len(replies), bool(states), node,
                         replies[0][0] * 1000 if replies else None)

    def put_nowait(self, soul: str, data: dict[str, Any], on_ack: Callable[[dict[str, Any], float], None],
                   *, fresh_keys: bool = False) -> tuple[dict[str, Any], Callable[[], None]]:
        """Build a put and register `on_ack` for each ack; returns (message, unregister)."""
        msg = put_message(soul, data, fresh_keys=fresh_keys)

        def collect(m: dict[str, Any]) -> None:
            if not m.get("__closed__"):
                on_ack(m, time.perf_counter())

        self._waiters[msg["#"]] = collect
        return msg, lambda: self._waiters.pop(msg["#"], None)

    async def put(self, soul: str, data: dict[str, Any], *, window: float = 1.0) -> list[dict[str, Any]]:
        """Write and collect every ack (zero, one or several) that arrives within `window` seconds."""
        acks: list[dict[str, Any]] = []
        msg, done = self.put_nowait(soul, data, lambda m, t: acks.append(m))
        try:
            await self.send(msg)
            await asyncio.sleep(window)
        finally:
            done()
        return acks

    async def close(self) -> None:
        self._reader.cancel()
        try:
            await asyncio.wait_for(self.ws.close(), 1.0)
        except Exception:  # noqa: BLE001 - closing a broken socket
            pass


def ws_url(url: str) -> str:
    """GUN peer URLs are written http(s)://...; GUN dials them with http replaced by ws."""
    if url.startswith("http://"):
        return "ws://" + url[len("http://"):]
    if url.startswith("https://"):
        return "wss://" + url[len("https://"):]
    return url
