"""Run one command in a replica over the Container Apps exec WebSocket (no terminal needed).

`wss://{host}{target.path}/exec?command={quote_plus(cmd)}` with `Authorization: Bearer <app token>`; output
arrives as channel frames (see `framing`). There is no exit-status frame: a clean close without an ERROR frame
means 0, a `ClusterExecFailure ... exit code N` ERROR frame means N. A replica that was just created answers the
handshake with 500 (or a proxy with 502/503, or the connection is reset) for a while: that is retried with
exponential backoff until the handshake deadline (LOOMCTL_EXEC_HANDSHAKE_TIMEOUT, within the session's), and the
error then says how many tries over how long. A 429 waits for Retry-After (bounded); 4xx are not retried.
The token goes only into the Authorization header; it never appears in messages or logs.
"""

from __future__ import annotations

import codecs
import inspect
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from loomctl.aca import framing
from loomctl.aca.target import Target
from loomctl.core import environment
from loomctl.core.errors import AzureError, NetworkError
from loomctl.core.retry import Deadline, exponential, retry

# websockets logs handshake headers at DEBUG; this logger never does, so the token cannot leak into logs.
_QUIET = logging.getLogger("loomctl.aca.exec.ws")
_QUIET.setLevel(logging.WARNING)
_QUIET.propagate = False

MAX_RETRY_AFTER = 10.0
RETRIED_STATUSES = (500, 502, 503)  # a replica still starting, or the proxy in front of it
BACKOFF_CAP = 5.0  # the longest wait between two handshake tries


@dataclass
class ExecResult:
    target: str
    command: str
    exit_code: int
    stdout: str
    stderr: str
    info: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    duration_ms: float = 0.0
    attempts: int = 1


class ExecError(AzureError):
    """The session could not run the command (handshake refused, cut, timed out, container not running)."""

    unreadable = False  # what the replica answered is a finding about it, not Azure failing to answer (doctor: exit 1)


def exec_url(target: Target, command: str) -> str:
    base = target.dataplane.replace("https://", "wss://", 1)
    return f"{base}{target.path}/exec?command={quote_plus(command)}"


def ssl_context() -> ssl.SSLContext:
    bundle = environment.get("REQUESTS_CA_BUNDLE") or environment.get("SSL_CERT_FILE")
    return ssl.create_default_context(cafile=bundle) if bundle else ssl.create_default_context()


def _status_error(status: int, target: Target, retry_after: str | None) -> ExecError:
    where = f"replica '{target.replica}' of '{target.app}'"
    if status in (401, 403):
        return ExecError(f"the exec endpoint refused the Container Apps token ({status}) for {where}",
                         "a known intermittent service fault: try again; if it persists, check that you have the "
                         "'Container Apps Operator' role on the app", status=status)
    if status == 404:
        return ExecError(f"the exec endpoint does not know {where}, container '{target.container}' (404)",
                         "the replica may have been replaced: `loomctl status` lists the current replicas",
                         status=status)
    if status == 429:
        return ExecError(
            f"exec sessions are throttled (429{', retry after ' + retry_after + ' s' if retry_after else ''})",
            "too many exec sessions in a short window; wait a minute and try again",
            status=status,
        )
    if status >= 500:
        return ExecError(f"the exec endpoint could not open a session in {where} ({status}): the container is not "
                         "running or is still starting",
                         "check the replica with `loomctl status` and `loomctl logs --live --system`, then retry",
                         status=status)
    return ExecError(f"the exec endpoint answered {status} instead of opening a session in {where}",
                     "the service did not upgrade the connection; try again later", status=status)


def _retry_after(headers: Any) -> float:
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(headers.get("Retry-After", "1"))))
    except (TypeError, ValueError):
        return 1.0


def _is_reset(exc: BaseException) -> bool:
    """The connection was reset or closed before the server answered the handshake."""
    from websockets.exceptions import InvalidMessage

    if isinstance(exc, InvalidMessage):
        exc = exc.__cause__ or exc
    return isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, EOFError))


def _tries(n: int, seconds: float) -> str:
    return f"after {n} {'try' if n == 1 else 'tries'} in {seconds:.1f} s"


def connect(target: Target, token: str, command: str, timeout: float, *, deadline: Deadline | None = None,
            backoff_base: float | None = None, handshake_timeout: float | None = None) -> Any:
    """Open the exec WebSocket; return (connection, tries).

    500/502/503 and resets are retried with exponential backoff (first wait `backoff_base`, doubling up to
    BACKOFF_CAP) for `handshake_timeout` seconds at most, and never past `deadline` (the session's, default
    `timeout` from now); a 429 twice after Retry-After; anything else is raised at once.
    """
    from websockets.exceptions import InvalidHandshake, InvalidStatus
    from websockets.sync.client import connect as ws_connect

    if backoff_base is None:
        backoff_base = environment.get("LOOMCTL_EXEC_RETRY_DELAY")
    if handshake_timeout is None:
        handshake_timeout = environment.get("LOOMCTL_EXEC_HANDSHAKE_TIMEOUT")
    session = deadline or Deadline(timeout)
    handshake = Deadline(max(0.0, min(handshake_timeout, session.remaining())))
    url = exec_url(target, command)
    extra = {"legacy": True} if "legacy" in inspect.signature(ws_connect).parameters else {}
    tries, throttled = 0, 0
    t0 = time.monotonic()

    def timed_out() -> ExecError:
        return ExecError(f"timed out after {timeout:g} s opening an exec session in '{target.replica}'",
                         "the data plane did not answer; check the network or raise --timeout")

    last: list[BaseException] = []  # the refusal being retried

    def attempt() -> Any:
        nonlocal tries
        left = session.remaining()
        if left <= 0:
            raise last[-1] if last else timed_out()  # the session's end: report the refusal, not a timeout
        tries += 1
        return ws_connect(url, additional_headers={"Authorization": f"Bearer {token}"},
                          ssl=ssl_context() if url.startswith("wss://") else None, open_timeout=min(left, 15.0),
                          close_timeout=2, max_size=None, logger=_QUIET, compression=None,
                          user_agent_header="loomctl", **extra)

    def retry_on(exc: BaseException) -> bool:
        nonlocal throttled
        last[:] = [exc]
        if isinstance(exc, InvalidStatus):
            status = exc.response.status_code
            if status == 429:
                throttled += 1
                return throttled <= 2
            return status in RETRIED_STATUSES
        return _is_reset(exc)

    def retry_after(exc: BaseException) -> float | None:
        if isinstance(exc, InvalidStatus) and exc.response.status_code == 429:
            return _retry_after(exc.response.headers)
        return None

    def gave_up(what: str) -> ExecError:
        return ExecError(
            f"exec handshake failed: {what} replica '{target.replica}' of '{target.app}' "
            f"{_tries(tries, time.monotonic() - t0)}",
            "the container is not running or is still starting: check it with `loomctl status` and "
            "`loomctl logs --live --system`, then retry (LOOMCTL_EXEC_HANDSHAKE_TIMEOUT sets how long exec keeps "
            "trying)")

    try:
        conn = retry(attempt, retry_on=retry_on, deadline=handshake,
                     backoff=exponential(backoff_base, BACKOFF_CAP), retry_after=retry_after)
        return conn, tries
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status in RETRIED_STATUSES:
            raise gave_up(f"HTTP {status} from") from None
        raise _status_error(status, target, exc.response.headers.get("Retry-After")) from None
    except (InvalidHandshake, OSError, EOFError) as exc:
        if _is_reset(exc):
            raise gave_up("connection reset by") from None
        if isinstance(exc, InvalidHandshake):
            raise ExecError(f"the exec endpoint answered something that is not a WebSocket handshake: "
                            f"{type(exc).__name__}", "try again later; the service may be degraded") from None
        if isinstance(exc, TimeoutError):
            raise timed_out() from None
        if isinstance(exc, ssl.SSLError):
            raise NetworkError(f"TLS failed talking to {target.dataplane}: {exc.reason or exc}",
                               "check the system clock and any TLS-inspecting proxy") from None
        raise NetworkError(f"cannot reach the Container Apps data plane {target.dataplane}: "
                           f"{getattr(exc, 'strerror', None) or exc}",
                           "check your network, proxy and firewall") from None


def run(target: Target, token: str, command: str, *, timeout: float = 60.0,
        on_output: Callable[[str, str], None] | None = None) -> ExecResult:
    """Run `command` (one string, split by the service) and collect stdout and stderr separately."""
    from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

    t0 = time.monotonic()
    deadline = Deadline(timeout)
    conn, attempts = connect(target, token, command, timeout, deadline=deadline)
    decoders = {"stdout": codecs.getincrementaldecoder("utf-8")("replace"),
                "stderr": codecs.getincrementaldecoder("utf-8")("replace")}
    out: dict[str, list[str]] = {"stdout": [], "stderr": []}
    info: list[str] = []
    errors: list[framing.ProxyError] = []
    cut: str | None = None
    try:
        while True:
            left = deadline.remaining()
            if left <= 0:
                raise ExecError(f"the command did not finish within {timeout:g} s in '{target.replica}'",
                                "raise --timeout, or run a shorter command (the service also cuts idle sessions "
                                "after about 30 s)")
            try:
                message = conn.recv(timeout=left)
            except TimeoutError:
                continue
            except ConnectionClosedOK:
                break
            except ConnectionClosed as exc:
                rcvd = exc.rcvd
                cut = f"close code {rcvd.code}" if rcvd is not None else "connection dropped"
                break
            frame = framing.decode(message)
            if frame.kind in ("stdout", "stderr"):
                text = decoders[frame.kind].decode(frame.data)
                out[frame.kind].append(text)
                if on_output and text:
                    on_output(frame.kind, text)
            elif frame.kind == "info":
                info.append(frame.text)
            elif frame.kind == "error":
                errors.append(framing.parse_error(frame.text))
            elif frame.kind == "end":
                break
            else:
                cut = f"unexpected frame 0x{frame.data[:2].hex()}"
                break
    finally:
        conn.close()
    for kind, dec in decoders.items():
        tail = dec.decode(b"", final=True)
        if tail:
            out[kind].append(tail)
    duration = (time.monotonic() - t0) * 1000
    exit_code = 0
    for err in errors:
        if err.exit_code is not None:
            exit_code = err.exit_code
        elif "executable file not found" in err.message or "no such file or directory" in err.message.lower():
            exit_code = 127
        elif "not running" in err.message:
            raise ExecError(f"cannot run the command: container '{target.container}' in '{target.replica}' is not "
                            "running", "`loomctl status` shows replica states; pick another with --replica")
        else:
            raise ExecError(f"the exec session failed: {err.code or 'error'}: {err.message}",
                            "try again; if it persists the replica may be unhealthy")
    if cut is not None and not errors:
        raise ExecError(f"the exec session in '{target.replica}' was cut before the command finished ({cut})",
                        "the replica may be restarting or the service cut the session; run the command again")
    return ExecResult(target.where, command, exit_code, "".join(out["stdout"]), "".join(out["stderr"]),
                      info, [f"{e.code}: {e.message}" for e in errors], round(duration, 1), attempts)
