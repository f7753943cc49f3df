"""Container Apps live log streams: a replica container's console log and the app's system event stream.

`GET {dataplane}/.../containers/{c}/logstream?follow=true&output=json&tailLines=N` (console) or
`GET {dataplane}/.../containerApps/{app}/eventstream?follow=true&tailLines=N` (system), with the app token as
`Authorization: Bearer`. The body is chunked JSON lines. The service ends quiet streams by itself after a few
minutes, so `follow()` reconnects, asks for a backlog again and drops what it already yielded: nothing is
printed twice and nothing written during the reconnect is lost (up to the service's 300-line backlog).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

from loomctl.core.errors import AzureError, NetworkError
from loomctl.core.retry import exponential
from loomctl.core.timeutil import parse_iso

MAX_TAIL = 300
READ_TIMEOUT = 150.0  # the service sends a heartbeat line every 60 s

_TS = re.compile(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?\s*(Z|[+-]\d\d:?\d\d)?")
SERVICE_PATTERNS = (
    re.compile(r"^Connecting to the container '.*'\.\.\.$"),
    re.compile(r"^Successfully Connected to container: '"),
    re.compile(r"^No logs since last \d+ seconds$"),
    re.compile(r"^Connecting to the events collector"),
    re.compile(r"^Successfully connected to events server"),
)
SERVICE_REASONS = {"StartingGettingEvents", "ConnectedToEventsServer"}

log = logging.getLogger("loomctl.logstream")


def parse_time(text: str | None) -> dt.datetime | None:
    """Every timestamp format the streams use, as an aware UTC datetime (no offset means UTC)."""
    if not text:
        return None
    m = _TS.search(text)
    if not m:
        return None
    date, clock, frac, tz = m.groups()
    value = parse_iso(f"{date}T{clock}.{frac or '0'}{tz or 'Z'}")
    return value.astimezone(dt.timezone.utc) if value is not None else None


@dataclass
class LogLine:
    time: dt.datetime | None
    text: str
    replica: str | None = None
    container: str | None = None
    type: str | None = None  # system events: Normal | Warning
    reason: str | None = None
    service: bool = False  # a line the service itself writes (connect notices, heartbeats)
    raw_time: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.raw_time or "", self.text)


def is_service_text(text: str) -> bool:
    return any(p.search(text) for p in SERVICE_PATTERNS)


def parse_line(raw: str, replica: str | None = None, container: str | None = None) -> LogLine | None:
    """One stream line as a LogLine; None for an empty line. Raises ValueError for a line that is not a record."""
    raw = raw.strip()
    if not raw:
        return None
    doc = json.loads(raw)
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    if "Msg" in doc or "Reason" in doc:  # system event
        text = str(doc.get("Msg") or "")
        reason = doc.get("Reason")
        return LogLine(parse_time(doc.get("TimeStamp")), text, doc.get("ReplicaName") or replica,
                       doc.get("ContainerAppName"), doc.get("Type"), reason,
                       service=reason in SERVICE_REASONS or is_service_text(text), raw_time=doc.get("TimeStamp"))
    if "Log" not in doc:
        raise ValueError("no Log field")
    text = str(doc.get("Log") or "")
    service = is_service_text(text)
    if not service and text[:2] in ("F ", "P "):  # the container runtime's full/partial tag
        text = text[2:]
    return LogLine(parse_time(doc.get("TimeStamp")), text.rstrip("\r\n"), replica, container, service=service,
                   raw_time=doc.get("TimeStamp"))


class StreamClosed(Exception):
    """The service ended the response (normal for quiet streams)."""


def _open(url: str, token: str, timeout: float):  # type: ignore[no-untyped-def]
    import urllib.error
    import urllib.request

    from loomctl.aca.exec_client import ssl_context

    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json",
                                               "User-Agent": "loomctl"})
    try:
        return urllib.request.urlopen(req, timeout=timeout, context=ssl_context())
    except urllib.error.HTTPError as exc:
        exc.close()
        raise _status_error(exc.code, url) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        raise NetworkError(f"cannot reach the log stream at {url.split('/subscriptions/')[0]}: "
                           f"{getattr(reason, 'strerror', None) or reason}",
                           "check your network, proxy and firewall") from None
    except (TimeoutError, OSError) as exc:
        raise NetworkError(f"cannot reach the log stream at {url.split('/subscriptions/')[0]}: {exc}",
                           "check your network, proxy and firewall") from None


def _status_error(status: int, url: str) -> AzureError:
    what = url.split("?")[0].rsplit("/", 1)[-1]
    if status in (401, 403):
        return AzureError(f"the {what} endpoint refused the Container Apps token ({status})",
                          "try again; log streaming needs the 'Container Apps Operator' role (or Contributor)",
                          status=status)
    if status == 404:
        return AzureError(f"the {what} endpoint does not know this replica or container (404)",
                          "the replica may have been replaced: `loomctl status` lists the current ones", status=status)
    return AzureError(f"the {what} endpoint answered {status}",
                      "the container may not be running yet: `loomctl logs --live --system` shows why", status=status)


@dataclass
class Source:
    """One stream to follow: the URL without query, and how to label its lines."""

    url: str
    system: bool
    replica: str | None = None
    container: str | None = None
    app: str | None = None

    def with_query(self, tail: int) -> str:
        q = {"follow": "true", "tailLines": str(max(0, min(MAX_TAIL, tail)))}
        if not self.system:
            q["output"] = "json"
        return f"{self.url}?{urlencode(q)}"


@dataclass
class StreamStats:
    connections: int = 0
    reconnects: int = 0
    duplicates_dropped: int = 0
    service_lines: int = 0
    malformed: int = 0
    first_malformed: str | None = None


def follow(source: Source, token: Callable[..., str], tail: int, stop: threading.Event,
           stats: StreamStats | None = None, reconnect_delay: float = 0.5,
           read_timeout: float = READ_TIMEOUT) -> Iterator[LogLine]:
    """Yield the stream's lines until `stop` is set, reconnecting whenever the service ends the response."""
    stats = stats or StreamStats()
    last_time: dt.datetime | None = None  # newest line yielded (or the service's clock at first connect)
    recent: dict[tuple[str, str, int], None] = {}  # keys yielded at last_time's neighbourhood
    failures = 0
    backoff = exponential(reconnect_delay, 10.0)  # after failure n: min(10 s, reconnect_delay * 2 ** n)
    first = True
    refresh = False
    while not stop.is_set():
        try:
            resp = _open(source.with_query(tail if first else MAX_TAIL), token(refresh) if refresh else token(),
                         read_timeout)
            refresh = False
        except AzureError as exc:
            if first or exc.status not in (401, 429, 500, 502, 503, 504) or failures >= 5:
                raise
            refresh = exc.status == 401  # the token expired (about an hour): get a new one
            failures += 1
            stop.wait(backoff(failures))
            continue
        except NetworkError:
            if first or failures >= 5:
                raise
            failures += 1
            stop.wait(backoff(failures))
            continue
        stats.connections += 1
        if not first:
            stats.reconnects += 1
        counts: dict[tuple[str, str], int] = {}
        replaying = not first
        try:
            with resp:
                while not stop.is_set():
                    try:
                        raw = resp.readline()
                    except (TimeoutError, OSError):
                        break  # a silent stream: reconnect
                    if not raw:
                        break  # the service ended the response
                    failures = 0
                    text = raw.decode("utf-8", "replace")
                    try:
                        line = parse_line(text, source.replica, source.container)
                    except ValueError:
                        stats.malformed += 1
                        stats.first_malformed = stats.first_malformed or text.strip()[:120]
                        continue
                    if line is None:
                        continue
                    if line.service:
                        stats.service_lines += 1
                        if first and last_time is None and line.time is not None:
                            last_time = line.time  # the service's clock when we connected
                        continue
                    n = counts.get(line.key, 0)
                    counts[line.key] = n + 1
                    key = (line.key[0], line.key[1], n)
                    if replaying:
                        if key in recent or (line.time is not None and last_time is not None
                                             and line.time < last_time):
                            stats.duplicates_dropped += 1
                            continue
                    recent[key] = None
                    if len(recent) > 5000:
                        for k in list(recent)[:1000]:
                            del recent[k]
                    if line.time is not None and (last_time is None or line.time > last_time):
                        last_time = line.time
                    yield line
        finally:
            first = False
        if not stop.is_set():
            stop.wait(reconnect_delay)
