"""A real DNS server on 127.0.0.1 (dnslib) for tests: A records, CNAME chains, NXDOMAIN, SERVFAIL, empty
answers and a name it never answers (timeout)."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from typing import Any

from dnslib import AAAA, CNAME, QTYPE, RCODE, RR, A, DNSRecord


@dataclass
class DnsServer:
    # name (no trailing dot, lower case) -> ("A", ip, ttl) | ("CNAME", target, ttl) | "NXDOMAIN" | "SERVFAIL"
    # | "EMPTY" | "DROP"
    zone: dict[str, Any] = field(default_factory=dict)
    default: str = "NXDOMAIN"
    queries: list[str] = field(default_factory=list)

    def start(self) -> DnsServer:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True, name="dns-server")
        self.thread.start()
        return self

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._stop = True
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                reply = self.answer(DNSRecord.parse(data))
            except Exception:  # noqa: BLE001 - a bad packet gets no answer
                continue
            if reply is not None:
                try:
                    self.sock.sendto(reply.pack(), peer)
                except OSError:
                    return

    def answer(self, q: DNSRecord) -> DNSRecord | None:
        name = str(q.q.qname).rstrip(".").lower()
        self.queries.append(f"{name} {QTYPE[q.q.qtype]}")
        reply = q.reply()
        seen = 0
        while True:
            entry = self.zone.get(name, self.default)
            if entry == "DROP":
                return None
            if entry == "NXDOMAIN":
                reply.header.rcode = RCODE.NXDOMAIN
                return reply
            if entry == "SERVFAIL":
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            if entry == "EMPTY":
                return reply
            kind, value, ttl = entry
            if kind == "CNAME" and seen < 8:
                reply.add_answer(RR(name + ".", QTYPE.CNAME, rdata=CNAME(value + "."), ttl=ttl))
                name, seen = value.lower(), seen + 1
                continue
            if kind == "A" and q.q.qtype == QTYPE.A:
                reply.add_answer(RR(name + ".", QTYPE.A, rdata=A(value), ttl=ttl))
            elif kind == "AAAA" and q.q.qtype == QTYPE.AAAA:
                reply.add_answer(RR(name + ".", QTYPE.AAAA, rdata=AAAA(value), ttl=ttl))
            return reply
