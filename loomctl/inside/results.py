"""The result types the in-replica probes fill in: the LoomMesh probes' own dataclasses.

ADAPTER POINT: `DnsResult`, `PeerResult` and `Stage` are those of `loomctl.loommesh` (the outside probes), so
inside and outside results render through the same tables and JSON. Until that package is present, identical
stand-ins are defined here; nothing else in `loomctl.inside` depends on which is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STAGES = ("dns", "tcp", "websocket", "hello", "ping", "read")

try:  # the LoomMesh diagnostics' dataclasses
    from loomctl.loommesh.dns_probe import DnsResult  # type: ignore[assignment]
    from loomctl.loommesh.peer_probe import PeerResult, Stage  # type: ignore[assignment]
except ImportError:  # pragma: no cover - exercised only before loomctl.loommesh exists
    @dataclass
    class DnsResult:  # type: ignore[no-redef]
        host: str
        ok: bool
        status: str
        addresses: list[str] = field(default_factory=list)
        cname_chain: list[str] = field(default_factory=list)
        ttl: int | None = None
        duration_ms: float = 0.0
        server: str = "system"
        error: str | None = None
        hint: str | None = None
        expected: bool = False
        where: str = "local"

    @dataclass
    class Stage:  # type: ignore[no-redef]
        name: str
        ok: bool
        duration_ms: float
        error: str | None = None
        hint: str | None = None
        details: dict[str, Any] = field(default_factory=dict)

    @dataclass
    class PeerResult:  # type: ignore[no-redef]
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
