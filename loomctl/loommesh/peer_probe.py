"""Probe a LoomMesh peer stage by stage: DNS, TCP connect, WebSocket upgrade on /gun, GUN hello, dam ping, read.

One deadline per peer covers every stage; the stage that is running when it expires fails with "timeout".
Peers are probed concurrently, so a run takes as long as its slowest peer. Results are plain dataclasses that
render the same wherever they were produced (`where`).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

from loomctl.core.limits import fd_limit_error, is_fd_limit, probe_slots
from loomctl.core.once import once
from loomctl.loommesh import dns_probe
from loomctl.loommesh.peer_url import parse, split_url
from loomctl.loommesh.peer_url import peer_host as peer_host  # re-exported: callers take it from here
from loomctl.loommesh.wire import MAX_FRAME, GunClient, ProtocolError

STAGES = ("dns", "tcp", "websocket", "hello", "ping", "read")
READ_SOUL = "loomctl/probe/read"


@dataclass
class Stage:
    name: str
    ok: bool
    duration_ms: float
    error: str | None = None
    hint: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class PeerResult:
    url: str
    role: str = "peer"
    host: str = ""
    port: int = 0
    ok: bool = False
    failed_stage: str | None = None
    error: str | None = None
    hint: str | None = None
    pid: str | None = None
    rtt_ms: float | None = None
    duration_ms: float = 0.0
    stages: list[Stage] = field(default_factory=list)
    where: str = "local"


class StageFailed(Exception):
    def __init__(self, error: str, hint: str, **details: Any):
        super().__init__(error)
        self.error, self.hint, self.details = error, hint, details


class _Run:
    def __init__(self, result: PeerResult):
        self.result = result
        self.stage: str | None = None
        self.t0 = 0.0

    def begin(self, name: str) -> None:
        self.stage, self.t0 = name, time.perf_counter()

    def ok(self, **details: Any) -> None:
        assert self.stage
        self.result.stages.append(Stage(self.stage, True, _ms(self.t0), details=details))
        self.stage = None

    def fail(self, error: str, hint: str, **details: Any) -> None:
        assert self.stage
        self.result.stages.append(Stage(self.stage, False, _ms(self.t0), error, hint, details))
        self.result.failed_stage, self.result.error, self.result.hint = self.stage, error, hint
        self.stage = None


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


TIMEOUT_HINTS = {
    "dns": "the DNS server did not answer in time; check --dns-server or the VNet's DNS",
    "tcp": ("no answer to the TCP connect: a firewall or network security group drops the packets, or the host "
            "is down; check the port against the relay's ingress (HTTP: 80/443, TCP: exposedPort)"),
    "websocket": ("the port accepts TCP connections but never answered the WebSocket upgrade: it is not a GUN "
                  "relay, or a proxy holds the request (is this the right port?)"),
    "hello": ("the WebSocket opened but no GUN hello (dam \"?\") came: this is not a GUN peer, or its mesh layer "
              "is stuck; look at {who}'s console logs"),
    "ping": "{who} sent its hello but did not answer the dam ping: its event loop is blocked or overloaded",
    "read": ("{who} answers pings but not a read: it has no storage (RAD=false) or its storage (radisk on "
             "Azure Files) is stuck; check the volume mount and {who}'s logs"),
}


def who(role: str) -> str:
    """How hints name a peer: by its role (relay, node), else "the peer"."""
    return f"the {role}" if role in ("relay", "node") else "the peer"


def _closed_hint(stage: str, role: str = "peer") -> str:
    return (f"the peer closed the connection during the {stage} stage: {who(role)} stopped, crashed or restarted "
            "(a new pid at the next probe confirms a restart); check its restarts and console logs")


def _ws_error(exc: BaseException, url: str, scheme: str) -> StageFailed:
    from websockets.exceptions import InvalidHandshake, InvalidStatus

    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        if status == 400:
            hint = "HTTP 400 on the upgrade: a GUN relay accepts WebSockets only on the path /gun; fix the peer URL"
        elif status in (301, 302, 307, 308):
            where = exc.response.headers.get("Location", "")
            hint = (f"the upgrade was redirected ({where}): HTTP ingress with allowInsecure=false redirects port 80 "
                    "to HTTPS; use https:// (wss) or allow insecure connections")
        elif status in (502, 503, 504):
            hint = (f"HTTP {status} from the ingress: no healthy replica answered behind it; check the relay's "
                    "replicas and its targetPort")
        elif status == 404:
            hint = "HTTP 404: nothing serves this host or path; check the host, the ingress and the path /gun"
        else:
            hint = (f"the server rejected the WebSocket upgrade with HTTP {status}: it is not a GUN relay, or the app "
                    "behind the ingress failed; look at its logs")
        return StageFailed(f"upgrade rejected with HTTP {status}", hint, http_status=status)
    if isinstance(exc, ssl.SSLError):
        return StageFailed(f"TLS failure: {getattr(exc, 'reason', None) or exc}",
                           "the TLS handshake failed: use http:// for a plain port, or check the certificate and "
                           "the host name (HTTP ingress serves TLS on 443 only)", tls=True)
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, InvalidHandshake) and isinstance(cause, (EOFError, ConnectionError)):
        return StageFailed(f"connection closed during the upgrade ({type(cause).__name__})",
                           _closed_hint("websocket"))
    if isinstance(exc, InvalidHandshake):
        return StageFailed(f"WebSocket upgrade failed: {exc}",
                           "the server answered the upgrade with something that is not a WebSocket handshake: "
                           "it is not a GUN relay, or a proxy in between does not pass WebSockets")
    if isinstance(exc, (ConnectionError, EOFError)):
        return StageFailed(f"connection closed during the upgrade: {exc or type(exc).__name__}",
                           _closed_hint("websocket"))
    return StageFailed(f"WebSocket upgrade failed: {type(exc).__name__}: {exc}",
                       "run again with --debug; check the peer URL")


async def _stages(run: _Run, url: str, servers: list[tuple[str, int]], deadline: float,
                  max_frame: int) -> None:
    res = run.result
    left = lambda: max(0.01, deadline - time.perf_counter())  # noqa: E731
    run.begin("dns")
    try:
        target = parse(url)
        scheme, host, port = target.scheme, target.host, target.port
    except ValueError as exc:
        run.fail(f"not a peer URL: {exc}", "write peers as http://HOST[:PORT]/gun (or ws://, https://, wss://)")
        return
    res.host, res.port = host, port
    dns = await dns_probe.resolve(host, servers, timeout=left(), where=res.where)
    if not dns.ok:
        run.fail(dns.error or dns.status, dns.hint or "check the host name", status=dns.status,
                 expected=dns.expected)
        return
    run.ok(addresses=dns.addresses, status=dns.status)

    run.begin("tcp")
    sock = None
    errors = []
    loop = asyncio.get_running_loop()
    for addr in dns.addresses:
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            await loop.sock_connect(s, (addr, port))
            sock = s
            break
        except OSError as exc:
            s.close()
            errors.append(exc)
        except BaseException:
            s.close()
            raise
    if sock is None:
        exc = errors[0] if errors else OSError("no address")
        if isinstance(exc, ConnectionRefusedError):
            run.fail(f"connection refused by {host}:{port}",
                     f"nothing listens on {host}:{port}: {who(res.role)} is not running, or this is not the port its "
                     "ingress exposes (HTTP ingress: 80/443; TCP ingress or an additional port: exposedPort)")
        else:
            run.fail(f"cannot connect to {host}:{port}: {exc.strerror or exc}",
                     "the host is unreachable from here: check routes, firewalls and the port")
        return
    run.ok(address=sock.getpeername()[0])

    run.begin("websocket")
    try:
        from websockets.asyncio.client import connect

        uri = target.url(websocket=True)
        kw: dict[str, Any] = {}
        if scheme == "https":
            kw["ssl"] = tls_context()
            kw["server_hostname"] = host
        ws = await connect(uri, sock=sock, open_timeout=left(), max_size=max_frame, ping_interval=None,
                           close_timeout=0.5, compression=None, **kw)
    except (TimeoutError, asyncio.TimeoutError):
        sock.close()
        raise
    except Exception as exc:  # noqa: BLE001 - every upgrade failure is classified
        sock.close()
        f = _ws_error(exc, url, scheme)
        run.fail(f.error, f.hint, **f.details)
        return
    except BaseException:  # cancelled by the deadline
        sock.close()
        raise
    run.ok(status=101)
    client = GunClient(ws, url)
    try:
        await _gun_stages(run, client, left)
    finally:
        await client.close()


async def _gun_stages(run: _Run, client: GunClient, left: Any) -> None:
    res = run.result
    run.begin("hello")
    try:
        hello = await client.wait_hello(left())
    except ProtocolError:
        run.fail(f"no GUN hello; the peer sent data that is not GUN ({client.stats.first_garbage})",
                 "this WebSocket server is not a GUN relay (or something in between rewrites frames)",
                 garbage_frames=client.stats.garbage)
        return
    except (asyncio.TimeoutError, TimeoutError):
        raise
    except Exception as exc:  # noqa: BLE001
        _closed(run, client, exc)
        return
    res.pid = hello.get("pid")
    run.ok(pid=res.pid)

    run.begin("ping")
    try:
        rtt, pid = await client.ping(left())
    except (asyncio.TimeoutError, TimeoutError):
        raise
    except Exception as exc:  # noqa: BLE001
        _closed(run, client, exc)
        return
    res.rtt_ms = round(rtt, 2)
    if pid and res.pid and pid != res.pid:
        run.fail(f"the ping was answered by pid {pid}, not the hello's {res.pid}",
                 "two relays answer on one connection, or the relay restarted: check for restarts")
        return
    run.ok(rtt_ms=res.rtt_ms)

    run.begin("read")
    try:
        got = await client.get(READ_SOUL, window=0.0, first_timeout=left())
    except Exception as exc:  # noqa: BLE001
        _closed(run, client, exc)
        return
    if got.replies == 0:
        raise asyncio.TimeoutError()
    run.ok(replies=got.replies, first_reply_ms=round(got.first_reply_ms or 0, 2))


def _closed(run: _Run, client: GunClient, exc: BaseException) -> None:
    stage = run.stage or "?"
    reason = client.closed_reason or exc
    code = getattr(getattr(reason, "rcvd", None), "code", None) or getattr(getattr(reason, "sent", None), "code", None)
    if code == 1009 or "too big" in str(reason).lower():
        run.fail(f"the peer sent a frame larger than {MAX_FRAME} bytes", "a GUN relay answers a probe with small "
                 "frames; this peer is not a GUN relay or is dumping its store (was {\"get\":{}} sent to it?)",
                 frame_limit=MAX_FRAME)
        return
    if client.stats.garbage:
        run.fail(f"the peer sent data that is not GUN ({client.stats.first_garbage}) and closed",
                 "this WebSocket server is not a GUN relay")
        return
    run.fail(f"connection closed during the {stage} stage ({reason or type(exc).__name__})",
             _closed_hint(stage, run.result.role))


async def probe_peer(url: str, *, role: str = "peer", timeout: float = 5.0,
                     dns_servers: list[tuple[str, int]] | None = None, where: str = "local",
                     max_frame: int = MAX_FRAME, started: float | None = None) -> PeerResult:
    """`started` (a time.perf_counter() value) lets a command count its own start-up inside the deadline."""
    res = PeerResult(url, role, where=where)
    run = _Run(res)
    start = time.perf_counter()
    deadline = min(start, started if started is not None else start) + timeout
    try:
        await asyncio.wait_for(_stages(run, url, dns_servers or [], deadline, max_frame),
                               max(0.01, deadline - start))
    except (asyncio.TimeoutError, TimeoutError):
        stage = run.stage or "dns"
        if run.stage is None:
            run.begin(stage)
            run.t0 = start
        run.fail(
            f"timed out after {timeout:g} s (the deadline) in the {stage} stage",
            TIMEOUT_HINTS[stage].format(who=who(role)),
            timeout_s=timeout,
        )
    except ProtocolError as exc:
        if run.stage:
            run.fail(f"protocol error: {exc}", "this peer is not a GUN relay")
    except Exception as exc:  # noqa: BLE001 - a probe never crashes the command
        if is_fd_limit(exc):  # this machine's limit, not the peer's fault: probe_peers reports it once
            if run.stage is None:
                run.begin("dns")
            run.fail(f"local open-file limit reached ({exc.strerror})", "not probed: see the error", local_limit=True)
        elif run.stage:
            run.fail(f"{type(exc).__name__}: {exc}", "unexpected failure; run again with --debug")
        else:
            res.error, res.failed_stage = f"{type(exc).__name__}: {exc}", "?"
    res.duration_ms = _ms(start)
    res.ok = res.failed_stage is None and len(res.stages) == len(STAGES)
    return res


async def probe_peers(peers: list[tuple[str, str]], *, timeout: float = 5.0,
                      dns_servers: list[tuple[str, int]] | None = None, where: str = "local",
                      started: float | None = None) -> list[PeerResult]:
    """Probe (url, role) pairs concurrently, at most `probe_slots()` at once (a quarter of the open-file limit).
    Each has its own deadline, `timeout` after `started` (default: now). A command passes the time it started, so
    that its own imports count against the deadline; a probe that waited for a slot counts from when it starts.

    Running out of file descriptors (EMFILE/ENFILE) is a local limit, not a peer failure: one error for all."""
    hosts = []
    for u, _ in peers:
        try:
            hosts.append(split_url(u)[1])
        except ValueError:
            pass
    preload(any(dns_probe.needs_dns(h, dns_servers) for h in hosts))
    if any(u.lower().startswith(("https:", "wss:")) for u, _ in peers):
        tls_context()  # loading the CA store takes ~0.3 s: before the clocks start, not inside a stage
    slots = asyncio.Semaphore(probe_slots())

    async def one(url: str, role: str) -> PeerResult:
        waited = slots.locked()
        async with slots:
            return await probe_peer(url, role=role, timeout=timeout, dns_servers=dns_servers, where=where,
                                    started=None if waited else started)

    results = list(await asyncio.gather(*(one(u, r) for u, r in peers)))
    limited = [r for r in results if any(s.details.get("local_limit") for s in r.stages)]
    if limited:
        raise fd_limit_error(affected=f"{len(limited)} of {len(results)} peer probes could not open a socket")
    return results


@once
def tls_context() -> ssl.SSLContext:
    """One client TLS context for every wss:// peer (loading the CA store takes a while; peers start together)."""
    return ssl.create_default_context()


def preload(dns: bool = True) -> None:
    """Import websockets (and dnspython when a host needs a lookup) before the clocks start, so that no stage
    times an import; address literals and /etc/hosts names never load dnspython."""
    if dns:
        import dns.asyncresolver
    import websockets.asyncio.client  # noqa: F401
