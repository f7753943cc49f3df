"""Category "Runtime": revisions and replicas as they run now (replica counts and restarts: LOOM107/LOOM108)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from loomctl.checks.base import AppRef, Outcome, failed, passed, spec_maker, warned
from loomctl.checks.categories.live import live_providers
from loomctl.core.timeutil import parse_iso

CATEGORY = "Runtime"

STUCK_MINUTES = 15
BAD_RUNNING = {"failed", "degraded"}


def _age_minutes(created: str | None, now: datetime | None = None) -> float | None:
    if not created:
        return None
    t = parse_iso(created)
    if t is None:
        return None
    return ((now or datetime.now(timezone.utc)) - t).total_seconds() / 60


def _logs_hint(app: str, rev: str) -> str:
    return (f"read why: `loomctl logs --app {app} --system` and `az containerapp revision show -n {app} "
            f"--revision {rev} -g <group>`")


def check_revisions_healthy(app: AppRef, app_state: Any) -> Outcome:
    active = [r for r in app_state.revisions if r.active]
    if not active:
        return failed(f"'{app.name}' has no active revision: nothing serves", f"activate one: `az containerapp "
                      f"revision activate -n {app.name} -g <group> --revision <name>`")
    states = {r.name: {"provisioning": r.provisioning_state, "health": r.health_state, "running": r.running_state}
              for r in active}
    for r in active:
        if (r.provisioning_state or "").lower() == "failed":
            return failed(f"revision {r.name} failed to provision", _logs_hint(app.name, r.name), revisions=states)
        if (r.health_state or "").lower() == "unhealthy":
            return failed(f"revision {r.name} is Unhealthy ({r.running_state or 'unknown running state'}): its "
                          "replicas fail their probes or do not start", _logs_hint(app.name, r.name), revisions=states)
        if (r.running_state or "").lower() in BAD_RUNNING:
            return failed(f"revision {r.name} is {r.running_state}", _logs_hint(app.name, r.name), revisions=states)
    names = ", ".join(f"{r.name} ({r.traffic_weight} %)" for r in active)
    return passed(f"active revisions provisioned and healthy: {names}", revisions=states)


def check_latest_ready(app: AppRef, app_state: Any) -> Outcome:
    a = app_state.app
    latest = next((r for r in app_state.revisions if r.name == a.latest_revision), None)
    prov = (latest.provisioning_state or "") if latest else ""
    details = {"latest": a.latest_revision, "latest_ready": a.latest_ready_revision, "provisioning": prov or None}
    if latest is not None and prov.lower() == "provisioning":
        age = _age_minutes(latest.created)
        serving = f"; {a.latest_ready_revision} still serves" if a.latest_ready_revision else ""
        if age is not None and age >= STUCK_MINUTES:
            return failed(f"revision {latest.name} has been provisioning for {age:.0f} minutes{serving}",
                          "it is stuck: a replica never becomes ready (image pull, probe, volume mount or secret); "
                          + _logs_hint(app.name, latest.name), age_minutes=round(age), **details)
        return warned(f"revision {latest.name} is still provisioning{serving}",
                      f"wait a few minutes; after {STUCK_MINUTES} minutes it counts as stuck", **details)
    if a.latest_revision and a.latest_revision != a.latest_ready_revision:
        serving = (f"; traffic stays on {a.latest_ready_revision}" if a.latest_ready_revision
                   else "; no revision of the app is ready")
        return failed(f"latest revision {a.latest_revision} is not ready ({prov or 'state unknown'}){serving}",
                      _logs_hint(app.name, a.latest_revision), **details)
    return passed(f"latest revision {a.latest_revision} is ready", **details)


def check_replicas_ready(app: AppRef, app_state: Any) -> Outcome:
    unready = [(r.name, c.name, c.running_state_details or c.running_state or "")
               for r in app_state.replicas if (r.running_state or "").lower() == "running"
               for c in r.containers if not c.ready]
    if unready:
        rep, cont, why = unready[0]
        return warned(f"{len(unready)} running container(s) of '{app.name}' not ready, e.g. '{cont}' in {rep}"
                      f"{': ' + why if why else ''}: it receives no traffic",
                      f"its readiness probe fails: `loomctl logs --app {app.name} --replica {rep}`",
                      unready=[f"{r}/{c}" for r, c, _ in unready])
    n = sum(len(r.containers) for r in app_state.replicas)
    return passed(f"all {n} containers of running replicas are ready")


_spec = spec_maker(CATEGORY, needs=("app_state",), per_app=True, after=("LOOM105",), needs_azure=True,
                   fill_hints=True)


CHECKS = [
    _spec("LOOM601", "active revisions provisioned and healthy",
          "An active revision failed to provision, is Unhealthy or Degraded: its replicas do not start or fail "
          "their probes, so it serves nothing (or only part of its traffic).",
          "Read the revision's system logs (`loomctl logs --app NAME --system`); fix the image, probe, secret or "
          "volume it names, then deploy again.",
          check_revisions_healthy),
    _spec("LOOM602", "latest revision became ready",
          f"The newest revision is not ready: still provisioning (stuck after {STUCK_MINUTES} minutes) or failed, so "
          "the previous revision keeps serving and the change is not live.",
          "Read the new revision's system logs; a stuck revision usually cannot pull its image, mount its volume or "
          "pass its probes.",
          check_latest_ready),
    _spec("LOOM603", "running containers are ready",
          "A container runs but is not ready (its readiness probe fails): it gets no traffic and its LoomMesh peer "
          "may be unreachable.",
          "Read the replica's console logs (`loomctl logs --app NAME --replica R`).",
          check_replicas_ready),
]


def providers(loom: Any, apps: list[AppRef]) -> dict[str, Any]:
    return live_providers(apps)
