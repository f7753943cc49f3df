"""A real GUN relay (npm `gun`, pinned in tests/node) and a real DNS server (dnslib) on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

NODE_MODULES = Path(__file__).resolve().parent.parent / "node" / "node_modules"
RELAY_JS = """
const http = require('http'); const Gun = require('gun');
const server = http.createServer((q, s) => { s.writeHead(200); s.end('gun relay\\n'); });
server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('up'));
Gun({web: server, file: process.argv[3], radisk: true, multicast: false, stats: false, axe: false});
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_relay(folder: Path) -> tuple[subprocess.Popen, int]:
    if not (NODE_MODULES / "gun" / "package.json").is_file():
        pytest.fail("npm package gun is missing: run `npm install --prefix tests/node` (see .ci/run)")
    port = free_port()
    env = {"NODE_PATH": str(NODE_MODULES), "PATH": "/usr/bin:/bin:/usr/local/bin"}
    import os

    env["PATH"] = os.environ.get("PATH", env["PATH"])
    js = folder / "relay.js"  # gun misdetects its module system under `node -e`
    js.write_text(RELAY_JS, encoding="utf-8")
    proc = subprocess.Popen(["node", str(js), str(port), str(folder / "radata")], cwd=folder, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 15
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                pytest.fail("the GUN relay exited at start")
            time.sleep(0.05)
    proc.kill()
    pytest.fail("the GUN relay did not listen within 15 s")


class Zone:
    """dnslib resolver: name -> IP (A), "SERVFAIL", or absent (NXDOMAIN)."""

    def __init__(self, records: dict[str, str]):
        self.records = {k.lower().rstrip("."): v for k, v in records.items()}

    def resolve(self, request, handler):  # noqa: ANN001 - dnslib's interface
        from dnslib import QTYPE, RCODE, RR, A

        reply = request.reply()
        name = str(request.q.qname).lower().rstrip(".")
        value = self.records.get(name)
        if value is None:
            reply.header.rcode = RCODE.NXDOMAIN
        elif value == "SERVFAIL":
            reply.header.rcode = RCODE.SERVFAIL
        elif request.q.qtype == QTYPE.A:
            reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A(value), ttl=30))
        return reply


def start_dns(records: dict[str, str]):  # noqa: ANN201
    from dnslib.server import DNSLogger, DNSServer

    server = DNSServer(Zone(records), port=free_port(), address="127.0.0.1",
                       logger=DNSLogger(logf=lambda s: None, prefix=False))
    server.start_thread()
    return server, server.server.server_address[1]
