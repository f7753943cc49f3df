"""The in-replica probes fill in the LoomMesh probes' own dataclasses (`DnsResult`, `PeerResult`, `Stage`),
so inside and outside results render through the same tables and JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loomctl.loommesh.dns_probe import DnsResult  # noqa: F401 - re-exported for the inside parsers
from loomctl.loommesh.peer_probe import PeerResult, Stage  # noqa: F401 - re-exported

STAGES = ("dns", "tcp", "websocket", "hello", "ping", "read")


@dataclass
class InsideRun:
    """What one in-replica probe run found, and where and with which tool it ran."""

    where: str  # app/replica
    tool: str | None  # node | curl | wget | nc | getent | nslookup | None (no tool)
    tools: list[str] = field(default_factory=list)
    dns: list[Any] = field(default_factory=list)
    peers: list[Any] = field(default_factory=list)
    missing_tools: bool = False
    note: str | None = None
    stderr: str = ""
