"""Category "Logs and metrics": the workspace answers, recent LoomMesh errors, crash loops, sync latency, peers.

Each check reads one canned query over the last hour (`WINDOW`); the queries run once, concurrently, as inputs.
When Log Analytics answers only in part (a PartialError), a check that would pass or skip warns instead, naming
the error: what came back cannot vouch for what did not.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from loomctl.checks.base import (
    Outcome,
    Status,
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


def partial_answer(outcome: Outcome, result: Any, query: str, hint: str) -> Outcome:
    """The verdict on a QueryResult that may be partial: a failure the rows already show stays a failure;
    anything else warns, saying the answer was partial and naming the error."""
    error = getattr(result, "partial_error", None)
    if not error:
        return outcome
    details = {**outcome.details, "partial_error": error}
    if outcome.status is Status.FAIL:
        return failed(outcome.message, outcome.hint, **details)
    return warned(f"Log Analytics answered {query} only in part ({error}); from what came back: {outcome.message}",
                  outcome.hint or hint, **details)


def _warns_when_partial(needs: str, query: str = "", hint: str = "") -> Callable[[Callable[..., Outcome]],
                                                                              Callable[..., Outcome]]:
    """The check's verdict goes through `partial_answer` with its input `needs` (the canned query `query`)."""
    hint = hint or f"`loomctl query run {query}` shows the partial result and its error; narrow the range or try again"

    def wrap(check: Callable[..., Outcome]) -> Callable[..., Outcome]:
        @functools.wraps(check)
        def run(**inputs: Any) -> Outcome:
            return partial_answer(check(**inputs), inputs[needs], f"'{query}'" if query else "the probe query", hint)
        return run
    return wrap


@_warns_when_partial("log_probe", hint="run `loomctl doctor --category logs` again; if it stays partial, the "
                     "workspace's Resource health in the Azure portal says why")
def check_workspace(log_target: Any, log_probe: Any) -> Outcome:
    return passed(f"workspace {log_target.workspace_id} answers ({log_target.destination} tables, from "
                  f"{log_target.source})", workspace=log_target.workspace_id, destination=log_target.destination)


@_warns_when_partial("log_peer_errors", "peer-errors")
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


@_warns_when_partial("log_restarts", "restarts")
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


@_warns_when_partial("log_sync_latency", "sync-latency")
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


@_warns_when_partial("log_peers_connected", "peers-connected")
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
