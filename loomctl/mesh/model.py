"""What `diagnose mesh` finds: per replica (links, its write, what it saw), the matrix, the parts and the verdict.

Plain dataclasses and the graph functions over them; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# finding kinds, each its own cause
NO_TOOLS = "no-tools"  # no node in the image: the mesh probe cannot run there
EXEC_REFUSED = "exec-refused"  # the exec endpoint never opened a session (500 while the container is not running)
EXEC_FAILED = "exec-failed"  # exec failed otherwise (token, throttling, network)
LOST = "lost"  # the replica went away mid-probe (session cut, GUN connection closed)
NO_GUN = "no-gun"  # the replica runs, but its GUN process does not answer on its port
TIMEOUT = "timeout"  # the run's deadline ended before this replica answered
NOT_RUNNING = "not-running"  # ARM lists the replica, but not as running: not probed


@dataclass
class Replica:
    """One replica taking part: a replica of the relay or node app (Azure) or a sandbox process."""

    name: str
    app: str
    role: str  # relay | node
    port: int  # the GUN port from the definition (the container's own env variable wins inside)
    port_env: str | None = None  # the container's variable naming the GUN port (GUN_PORT, GUN_SERVER_PORT)
    running: bool = True
    dials: str | None = None  # sandbox: the relay this node dials


@dataclass
class Link:
    dir: str  # in | out
    local: str
    remote: str
    peer: str | None = None  # the replica at the other end, when loomctl can tell


@dataclass
class Finding:
    replica: str
    kind: str
    message: str
    hint: str


@dataclass
class ReplicaProbe:
    name: str
    app: str
    role: str
    ok: bool = False  # the probe ran and the replica's GUN process answered
    gun_pid: str | None = None
    port: int | None = None
    links: list[Link] | None = None  # None: the image does not let loomctl read them
    links_note: str | None = None
    listen: list[str] = field(default_factory=list)
    wrote: bool = False
    acked: bool | None = None
    seen: dict[str, float] = field(default_factory=dict)  # writer -> ms until this replica saw its probe
    read_done: bool = False
    finding: Finding | None = None
    duration_ms: float = 0.0  # all its probe sessions together
    sessions_ms: list[float] = field(default_factory=list)  # each session (write phase, read phase)


@dataclass
class MeshResult:
    run: str
    write_probe: bool
    replicas: list[ReplicaProbe]
    findings: list[Finding]
    matrix: dict[str, dict[str, Any]]  # writer -> reader -> ms | "never" | "self" | None (not probed)
    parts: list[list[str]]
    verdict: str  # whole | split | unknown | none
    reason: str
    one_way: list[tuple[str, str]] = field(default_factory=list)  # (writer, reader) seen one way only
    not_probed: list[str] = field(default_factory=list)
    duration_ms: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verdict in ("whole", "unknown") and not self.findings


def name_links(probes: list[ReplicaProbe], known: dict[str, str] | None = None) -> None:
    """Name each link's other end where an address says who it is: a replica's listening address, or the local
    address of another replica's outgoing link (the same connection seen from its other end)."""
    book = dict(known or {})
    for p in probes:
        for a in p.listen:
            if not a.startswith(("0.0.0.0:", "[0000:0000:0000:0000:0000:0000:0000:0000]:")):
                book.setdefault(a, p.name)
        for ln in p.links or []:
            if ln.dir == "out":
                book.setdefault(ln.local, p.name)
    for p in probes:
        for ln in p.links or []:
            ln.peer = book.get(ln.remote)


def components(names: list[str], edges: set[frozenset[str]]) -> list[list[str]]:
    """Connected components, each in the order of `names`, the largest first (ties: first name first)."""
    parent = {n: n for n in names}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for e in edges:
        a, b = tuple(e) if len(e) == 2 else (next(iter(e)),) * 2
        if a in parent and b in parent:
            parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(find(n), []).append(n)
    order = {n: i for i, n in enumerate(names)}
    return sorted(groups.values(), key=lambda g: (-len(g), order[g[0]]))


def link_edges(probes: list[ReplicaProbe]) -> tuple[set[frozenset[str]], list[str]]:
    """Edges between replicas from their links, and the links whose other end loomctl cannot name."""
    edges: set[frozenset[str]] = set()
    unknown = []
    for p in probes:
        for ln in p.links or []:
            if ln.peer is None:
                unknown.append(f"{p.name} {ln.dir} {ln.remote}")
            elif ln.peer != p.name:
                edges.add(frozenset((p.name, ln.peer)))
    return edges, unknown


def probe_matrix(probes: list[ReplicaProbe]) -> tuple[dict[str, dict[str, Any]], set[frozenset[str]],
                                                       list[tuple[str, str]]]:
    """writer -> reader -> ms | "never" | "self" | None; the edges (seen either way) and the one-way pairs."""
    by = {p.name: p for p in probes}
    writers = [p.name for p in probes if p.wrote]
    readers = [p.name for p in probes if p.read_done]
    matrix: dict[str, dict[str, Any]] = {}
    edges: set[frozenset[str]] = set()
    for w in [p.name for p in probes]:
        row: dict[str, Any] = {}
        for r in [p.name for p in probes]:
            if w == r:
                row[r] = "self"
            elif w not in writers or r not in readers:
                row[r] = None
            elif w in by[r].seen:
                row[r] = by[r].seen[w]
                edges.add(frozenset((w, r)))
            else:
                row[r] = "never"
        matrix[w] = row
    one_way = [(w, r) for w in writers for r in readers if w != r and matrix[w][r] not in ("never", None)
               and w in readers and r in writers and matrix[r][w] == "never"]
    return matrix, edges, one_way


def describe(parts: list[list[str]]) -> str:
    return " | ".join("[" + ", ".join(p) + "]" for p in parts)
