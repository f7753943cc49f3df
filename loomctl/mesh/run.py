"""One `diagnose mesh` run: every replica at once (at most `parallel`), under one deadline for the whole run.

Phase 1, one probe per replica: its GUN process's hello and links (read-only) and, with the write probe, its
probe node `loomctl/probe/<run>/<replica>`. Phase 2 (write probe only): every replica that wrote reads the
others' probe nodes through its own GUN process for one probe window. A run therefore takes about the slowest
replica's phase 1 plus one window, whatever the number of replicas (when `parallel` covers them).
"""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from loomctl.core.retry import Deadline
from loomctl.mesh.model import (
    NOT_RUNNING,
    TIMEOUT,
    Finding,
    MeshResult,
    Replica,
    ReplicaProbe,
    components,
    describe,
    link_edges,
    name_links,
    probe_matrix,
)
from loomctl.mesh.probe import merge, params
from loomctl.mesh.reach import Unreached

SESSION_LIMIT = 25.0  # the service cuts exec sessions after ~30 s
PHASE_MARGIN = 4.0  # a session's own start-up (exec handshake, node start) on top of the probe's own time
WRITE_ACK = 3.0  # radisk acks after its 250 ms batch: allow a few


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


def _probe_all(reach: Any, probes: dict[str, ReplicaProbe], todo: list[Replica], deadline: Deadline,
               parallel: int, build: Any, phase_limit: float) -> None:
    """Run the probe on each replica of `todo` (at most `parallel` at once); fold each result into its record."""
    def one(r: Replica) -> None:
        p = probes[r.name]
        t0 = time.monotonic()
        left = min(deadline.remaining(), phase_limit)
        if left <= 0.2:
            p.ok = False
            p.finding = p.finding or Finding(r.name, TIMEOUT, f"the run's deadline ended before {reach.where(r)} "
                                             "was probed", "raise --timeout, or --parallel to probe more at once")
            return
        try:
            out = reach.run(r, build(r, max(0.2, left - 1.0)), left)
        except Unreached as exc:
            p.ok = False
            p.finding = p.finding or exc.finding
            return
        finally:
            took = round((time.monotonic() - t0) * 1000, 1)
            p.sessions_ms.append(took)
            p.duration_ms = round(p.duration_ms + took, 1)
        merge(p, out, reach.where(r), reach.no_gun_hint(r))

    if not todo:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(todo)))) as pool:
        list(pool.map(one, todo))


def run_mesh(reach: Any, replicas: list[Replica], *, write_probe: bool, timeout: float, window: float,
             parallel: int, run_id: str | None = None) -> MeshResult:
    started = time.monotonic()
    deadline = Deadline(timeout)
    run = run_id or new_run_id()
    probes = {r.name: ReplicaProbe(r.name, r.app, r.role) for r in replicas}
    findings: list[Finding] = []
    running = [r for r in replicas if r.running]
    for r in replicas:
        if not r.running:
            probes[r.name].finding = Finding(r.name, NOT_RUNNING, f"{reach.where(r)} is not running: not probed",
                                             reach.not_running_hint(r))
    mode = "write" if write_probe else "links"
    # phase 1 must leave one window (and a session's start-up) for phase 2
    limit1 = min(SESSION_LIMIT, max(1.0, deadline.remaining() - (window + PHASE_MARGIN if write_probe else 0)))
    _probe_all(reach, probes, running, deadline, parallel,
               lambda r, t: params(r, run, mode, min(t, WRITE_ACK + 3.0)), limit1)
    if write_probe:
        writers = [r for r in running if probes[r.name].wrote]
        readers = [r for r in writers if probes[r.name].finding is None]

        def read_params(r: Replica, t: float) -> dict[str, Any]:
            others = [w.name for w in writers if w.name != r.name]
            return params(r, run, "read", t, others=others, window=max(0.2, min(window, t - 0.5)), links=False)

        limit2 = min(SESSION_LIMIT, window + PHASE_MARGIN)
        _probe_all(reach, probes, readers, deadline, parallel, read_params, limit2)
    ordered = [probes[r.name] for r in replicas]
    for p in ordered:
        if p.finding is not None:
            findings.append(p.finding)
    name_links(ordered, reach.known_addresses())
    taking_part = [p for p in ordered if p.ok and p.finding is None]
    names = [p.name for p in taking_part]
    not_probed = [p.name for p in ordered if p not in taking_part]
    matrix: dict[str, dict[str, Any]] = {}
    one_way: list[tuple[str, str]] = []
    if write_probe:
        matrix, edges, one_way = probe_matrix(taking_part)
        parts = components(names, edges)
        how = "by the write probe"
    else:
        edges, unknown = link_edges(taking_part)
        parts = components(names, edges)
        how = "by the GUN processes' links"
        if unknown or any(p.links is None for p in taking_part):
            why = (f"{len(unknown)} link(s) end at addresses loomctl cannot tie to a probed replica (e.g. "
                   f"{unknown[0]}; through a load-balanced ingress the far end is the ingress, not a replica)"
                   if unknown else "some replicas do not let loomctl read their links")
            return _result(run, write_probe, ordered, findings, matrix, parts, "unknown",
                           f"{why}; `--write-probe` measures who sees whom", one_way, not_probed, started)
    if not names:
        return _result(run, write_probe, ordered, findings, matrix, [], "none", "no replica could be probed",
                       one_way, not_probed, started)
    if len(parts) == 1:
        reason = f"{len(names)} replicas form one mesh ({how})"
        return _result(run, write_probe, ordered, findings, matrix, parts, "whole", reason, one_way, not_probed,
                       started)
    reason = f"the mesh is split into {len(parts)} parts ({how}): {describe(parts)}"
    return _result(run, write_probe, ordered, findings, matrix, parts, "split", reason, one_way, not_probed, started)


def _result(run: str, write_probe: bool, probes: list[ReplicaProbe], findings: list[Finding],
            matrix: dict[str, dict[str, Any]], parts: list[list[str]], verdict: str, reason: str,
            one_way: list[tuple[str, str]], not_probed: list[str], started: float) -> MeshResult:
    return MeshResult(run, write_probe, probes, findings, matrix, parts, verdict, reason, one_way, not_probed,
                      round((time.monotonic() - started) * 1000, 1))
