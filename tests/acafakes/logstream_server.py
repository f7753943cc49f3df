"""A local Container Apps log stream: HTTPS, chunked JSON lines, the service's own notices and idle close.

`streams[(replica, container)]` holds each container's log (dicts with TimeStamp/Log); tests append with
`write()` while a client follows. Per connection it sends "Connecting..." / "Successfully Connected..." first,
then the last `tailLines` records, then (with follow=true) new records as they are written, a
"No logs since last 60 seconds" heartbeat every `heartbeat` seconds while idle, and it ends the response after
`idle_close` seconds without records, as the real service does. `garbage` lines are sent after the backlog.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakeazure.server import serve_https

LOG_PATH = re.compile(r"/subscriptions/[^/]+/resourceGroups/[^/]+/containerApps/([^/]+)/revisions/([^/]+)"
                      r"/replicas/([^/]+)/containers/([^/]+)/logstream")
EVENT_PATH = re.compile(r"/subscriptions/[^/]+/resourceGroups/[^/]+/containerApps/([^/]+)/eventstream")


def container_ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "1+00:00"  # 7 digits and an offset, as container lines


def service_ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-1]  # 5 digits and no offset, as service lines


class FakeLogStream:
    def __init__(self, ca: Any):
        cert = ca.issue_cert("127.0.0.1", "localhost")
        self._ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self._ctx)
        self._cond = threading.Condition()
        self._httpd: ThreadingHTTPServer | None = None
        self.reset()

    def reset(self) -> None:
        with self._cond:
            self.token = "aca-test-token-3f9c"
            self.streams: dict[tuple[str, str], list[dict[str, Any]]] = {}
            self.events: dict[str, list[dict[str, Any]]] = {}
            self.requests: list[dict[str, Any]] = []
            self.heartbeat = 0.2
            self.idle_close = 0.6
            self.garbage: list[str] = []
            self.status: int | None = None  # answer every request with this status
            self.close_after: int | None = None  # end the response after this many live records
            self._cond.notify_all()

    def write(self, replica: str, container: str, text: str, when: dt.datetime | None = None) -> None:
        when = when or dt.datetime.now(dt.timezone.utc)
        with self._cond:
            self.streams.setdefault((replica, container), []).append(
                {"TimeStamp": container_ts(when), "Log": f"F {text}"})
            self._cond.notify_all()

    def event(self, app: str, doc: dict[str, Any]) -> None:
        with self._cond:
            self.events.setdefault(app, []).append(doc)
            self._cond.notify_all()

    # -- server ---------------------------------------------------------------------------------------------
    def start(self) -> FakeLogStream:
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer._serve(self)

        self._httpd = serve_https(self._ctx, H, "fake-logstream")
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"https://127.0.0.1:{self._httpd.server_address[1]}"

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(h.path)
        q = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        auth_ok = h.headers.get("Authorization") == f"Bearer {self.token}"
        self.requests.append({"path": parsed.path, "query": q, "auth_ok": auth_ok})
        m, e = LOG_PATH.fullmatch(parsed.path), EVENT_PATH.fullmatch(parsed.path)
        status = 200
        if not auth_ok:
            status = 401
        elif self.status is not None:
            status = self.status
        elif m is None and e is None:
            status = 404
        elif m is not None and (m.group(3), m.group(4)) not in self.streams:
            status = 404
        if status != 200:
            body = b'{"error":"status %d"}' % status
            h.send_response(status)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        h.send_response(200)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()

        def send(line: str) -> None:
            data = (line + "\n").encode()
            h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            h.wfile.flush()

        now = dt.datetime.now(dt.timezone.utc)
        try:
            if m is not None:
                replica, container = m.group(3), m.group(4)
                records = self.streams[(replica, container)]
                send(json.dumps({"TimeStamp": service_ts(now), "Log": f"Connecting to the container '{container}'..."}))
                send(json.dumps({"TimeStamp": service_ts(now), "Log":
                                 f"Successfully Connected to container: '{container}' [Revision: '{m.group(2)}', "
                                 f"Replica: '{replica}']"}))
            else:
                records = self.events.setdefault(e.group(1), [])  # type: ignore[union-attr]
                for msg, reason in (("Connecting to the events collector...", "StartingGettingEvents"),
                                    ("Successfully connected to events server", "ConnectedToEventsServer")):
                    send(json.dumps({"TimeStamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "Type": "Normal",
                                     "ContainerAppName": None, "RevisionName": None, "ReplicaName": None,
                                     "Msg": msg, "Reason": reason, "EventSource": "ContainerAppController",
                                     "Count": 1}))
            tail = int(q.get("tailLines", "20"))
            with self._cond:
                pos = len(records)
                backlog = records[max(0, pos - tail):pos] if tail else []
            for rec in backlog:
                send(json.dumps(rec))
            for g in self.garbage:
                send(g)
            if q.get("follow") == "true":
                live = 0
                last_activity = time.monotonic()
                last_beat = time.monotonic()
                while True:
                    with self._cond:
                        self._cond.wait(0.05)
                        new = records[pos:]
                        pos = len(records)
                    for rec in new:
                        send(json.dumps(rec))
                        live += 1
                        last_activity = time.monotonic()
                        if self.close_after is not None and live >= self.close_after:
                            raise StopIteration
                    t = time.monotonic()
                    if t - last_activity >= self.idle_close:
                        break  # the service ends quiet streams by itself
                    if t - last_beat >= self.heartbeat:
                        last_beat = t
                        send(json.dumps({"TimeStamp": service_ts(dt.datetime.now(dt.timezone.utc)),
                                         "Log": "No logs since last 60 seconds"}))
        except StopIteration:
            pass
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            return
        try:
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
        except OSError:
            pass
        h.close_connection = True
