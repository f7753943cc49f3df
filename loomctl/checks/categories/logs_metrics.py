"""Category "Logs and metrics": the workspace answers, recent LoomMesh errors, crash loops, sync latency, peers.

Each check reads one canned query over the last hour (`WINDOW`); the queries run once, concurrently, as inputs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from loomctl.checks.base import (
    Outcome,
    failed,
    passed,
    skipped,
    spec_maker,
    warned,
)

CATEGORY = "Logs and metrics"
WINDOW = dt.timedelta(hours=1)


def _run(loom: Any, target: Any, name: str, apps: list[str]) -> Any:
    from loomctl.azure.loganalytics import run_query
    from loomctl.logs.kql import catalogue as cat

    end = dt.datetime.now(dt.timezone.utc)
    start = end - WINDOW
    scope = cat.Scope(destination=target.destination, metrics_source=target.metrics_source, start=start, end=end,
                      since=None, apps=apps)
    return run_query(loom.azure, target.workspace_id, cat.render(cat.get(name), scope), start, end,
                     target.destination)


def check_workspace(log_target: Any, log_probe: Any) -> Outcome:
    return passed(f"workspace {log_target.workspace_id} answers ({log_target.destination} tables, from "
                  f"{log_target.source})", workspace=log_target.workspace_id, destination=log_target.destination)


def check_errors(log_peer_errors: Any) -> Outcome:
    recs = log_peer_errors.records()
    errors = sum(int(r.get("Errors") or 0) for r in recs)
    disconnects = sum(int(r.get("Disconnects") or 0) for r in recs)
    per = {f"{r.get('App')}/{r.get('Replica')}": int(r.get("Errors") or 0) for r in recs}
    if errors:
        worst = max(recs, key=lambda r: int(r.get("Errors") or 0))
        return warned(f"{errors} LoomMesh error lines and {disconnects} disconnects in the last hour "
                      f"(most on {worst.get('App')}/{worst.get('Replica')})",
                      "`loomctl logs --errors` shows them; `loomctl query run peer-errors` per replica",
                      errors=errors, disconnects=disconnects, replicas=per)
    if disconnects:
        return warned(f"{disconnects} LoomMesh disconnects in the last hour, no errors",
                      "`loomctl query run peer-errors` shows which replicas", disconnects=disconnects, replicas=per)
    return passed("no LoomMesh peer errors or disconnects in the last hour")


def check_crash_loops(log_restarts: Any) -> Outcome:
    recs = [r for r in log_restarts.records() if int(r.get("Restarts") or 0) > 0]
    loops = [r for r in recs if r.get("CrashLooping") in (True, "true", 1)]
    restarts = {f"{r.get('App')}/{r.get('Replica')}": int(r.get("Restarts") or 0) for r in recs}
    if loops:
        r = loops[0]
        return failed(f"replica {r.get('Replica')} of {r.get('App')} is crash-looping "
                      f"({r.get('CrashLoopEvents')} back-off events in the last hour)",
                      f"`loomctl logs --system --app {r.get('App')} --replica {r.get('Replica')}` and its console "
                      "logs say why it exits", restarts=restarts)
    if recs:
        return warned(f"{sum(restarts.values())} restart events in the last hour on {len(recs)} replicas",
                      "`loomctl query run restarts` lists them", restarts=restarts)
    return passed("no restarts or crash loops in the last hour")


def check_latency(settings: Any, log_sync_latency: Any) -> Outcome:
    limit = float(settings.get("sync_latency_warn_ms") or 500.0)
    p95 = [r.get("p95") for r in log_sync_latency.records() if isinstance(r.get("p95"), (int, float))]
    if not p95:
        return skipped("no gun.sync.latency_ms samples in the last hour (metrics not exported?)")
    worst = max(p95)
    if worst > limit:
        return warned(f"LoomMesh sync latency p95 reached {worst:.0f} ms (threshold {limit:.0f} ms)",
                      "`loomctl query run sync-latency --since 6h` shows when; check relay CPU and peer links "
                      "(`loomctl diagnose`)", p95_max=worst, threshold=limit)
    return passed(f"sync latency p95 at most {worst:.0f} ms (threshold {limit:.0f} ms)", p95_max=worst)


def check_peers(settings: Any, log_peers_connected: Any) -> Outcome:
    minimum = int(settings.get("min_peers") or 1)
    recs = [r for r in log_peers_connected.records() if isinstance(r.get("MinPeers"), (int, float))]
    if not recs:
        return skipped("no gun.peers.connected samples in the last hour (metrics not exported?)")
    low = min(recs, key=lambda r: r["MinPeers"])
    if low["MinPeers"] < minimum:
        return warned(f"a replica of {low.get('App')} saw only {low['MinPeers']:g} LoomMesh peers "
                      f"(minimum {minimum}) at {low.get('TimeGenerated')}",
                      "`loomctl query run peers-connected` shows when; check GUN_PEERS and the relay "
                      "(`loomctl diagnose peers`)", lowest=low["MinPeers"], minimum=minimum)
    return passed(f"every replica saw at least {low['MinPeers']:g} peers (minimum {minimum})")


_spec = spec_maker(CATEGORY, needs_azure=True)


CHECKS = [
    _spec("LOOM701", "Log Analytics workspace answers queries",
          "loomctl cannot read the environment's Log Analytics workspace, so logs and metrics cannot be checked.",
          "Give the identity 'Log Analytics Reader' on the workspace; check --workspace-id and the environment's "
          "logs destination.", check_workspace, needs=("log_target", "log_probe"), after=("LOOM104",)),
    _spec("LOOM702", "no recent LoomMesh errors",
          "LoomMesh peers logged errors or disconnects in the last hour.",
          "`loomctl logs --errors` and `loomctl query run peer-errors` show where.",
          check_errors, needs=("log_peer_errors",), after=("LOOM701",)),
    _spec("LOOM703", "no crash loops",
          "System logs show containers restarting or backing off in the last hour.",
          "`loomctl query run restarts`, then the replica's console logs.",
          check_crash_loops, needs=("log_restarts",), after=("LOOM701",)),
    _spec("LOOM704", "sync latency below threshold",
          "LoomMesh sync latency (p95 of gun.sync.latency_ms) exceeded the threshold in the last hour.",
          "`loomctl metrics --since 6h`; raise sync_latency_warn_ms in the profile if the threshold is too strict.",
          check_latency, needs=("settings", "log_sync_latency"), after=("LOOM701",)),
    _spec("LOOM705", "peers connected at or above minimum",
          "A replica saw fewer LoomMesh peers than min_peers in the last hour: it is cut off from the mesh.",
          "`loomctl query run peers-connected`; `loomctl diagnose peers` checks GUN_PEERS and the relay.",
          check_peers, needs=("settings", "log_peers_connected"), after=("LOOM701",)),
]


def providers(loom: Any, apps: list[Any]) -> dict[str, Any]:
    from loomctl.logs.target import resolve_target

    names = [a.name for a in apps]

    def probe(i: Any) -> Any:
        from loomctl.azure.loganalytics import run_query

        t = i.get("log_target")
        end = dt.datetime.now(dt.timezone.utc)
        return run_query(loom.azure, t.workspace_id, "print ok = 1", end - WINDOW, end, t.destination)

    out: dict[str, Any] = {"log_target": lambda i: resolve_target(loom), "log_probe": probe}
    for key, name, scoped in (("log_peer_errors", "peer-errors", True), ("log_restarts", "restarts", True),
                              ("log_sync_latency", "sync-latency", False),
                              ("log_peers_connected", "peers-connected", False)):
        out[key] = (lambda i, n=name, s=scoped: _run(loom, i.get("log_target"), n, names if s else []))
    return out
