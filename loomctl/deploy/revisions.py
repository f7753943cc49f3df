"""Revisions of an app as rows (status, history) and the rollback to an earlier revision."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loomctl.azure.writes import Deadline, Writer
from loomctl.core.errors import UsageError
from loomctl.deploy.rollout import (
    Report,
    RolloutFailed,
    fmt_traffic,
    parse_revision,
    serving_weights,
    template_drift,
    wait_healthy,
    wait_traffic,
)


def min_replicas(app: dict[str, Any]) -> int:
    return int((((app.get("properties") or {}).get("template") or {}).get("scale") or {}).get("minReplicas") or 0)


def mode_of(app: dict[str, Any]) -> str:
    return (((app.get("properties") or {}).get("configuration") or {}).get("activeRevisionsMode") or "Single").lower()


def rows(w: Writer, app: dict[str, Any], revisions: list[dict[str, Any]], only_active: bool) -> list[dict[str, Any]]:
    """One row per revision, newest first; replicas are counted for active revisions only."""
    from loomctl.azure.deployment import parallel

    minimum = min_replicas(app)
    chosen = [r for r in revisions if not only_active or (r.get("properties") or {}).get("active")]
    chosen.sort(key=lambda r: (r.get("properties") or {}).get("createdTime") or "", reverse=True)
    reps = parallel([lambda r=r: w.replicas(app["name"], r["name"]) if (r.get("properties") or {}).get("active")
                     else [] for r in chosen])
    out = []
    for rev, rp in zip(chosen, reps):
        st = parse_revision(rev, rp, minimum)
        out.append({"name": st.name, "active": st.active, "image": st.image, "created": st.created,
                    "traffic": st.traffic, "provisioning": st.provisioning, "running": st.running,
                    "health": st.health, "replicas_running": st.replicas_running, "healthy": st.healthy,
                    "details": st.details})
    return out


def status_doc(w: Writer, app_name: str, only_active: bool) -> dict[str, Any]:
    from loomctl.azure.deployment import parallel

    app, revisions = parallel([lambda: w.get_app(app_name), lambda: w.revisions(app_name)])
    p = app.get("properties") or {}
    containers = (p.get("template") or {}).get("containers") or [{}]
    return {
        "app": app_name,
        "mode": mode_of(app),
        "image": containers[0].get("image"),
        "latest_revision": p.get("latestRevisionName"),
        "latest_ready_revision": p.get("latestReadyRevisionName"),
        "min_replicas": min_replicas(app),
        "traffic": serving_weights(revisions),
        "revisions": rows(w, app, revisions, only_active),
    }


def pick_target(revisions: list[dict[str, Any]], to: str | None) -> tuple[str, str | None]:
    """(target, current): the revision to roll back to and the one serving most traffic now."""
    names = {r["name"] for r in revisions}
    now = serving_weights(revisions)
    current = max(now, key=lambda n: now[n]) if now else None
    if to:
        if to not in names:
            raise UsageError(f"revision '{to}' does not exist",
                             "`loomctl deploy history` lists the revisions of the app")
        rev = next(r for r in revisions if r["name"] == to)
        if ((rev.get("properties") or {}).get("provisioningState") or "").lower() == "failed":
            raise UsageError(f"revision '{to}' failed to provision; it cannot serve traffic",
                             "pick a revision that was healthy: `loomctl deploy history`")
        return to, current
    ordered = sorted(revisions, key=lambda r: (r.get("properties") or {}).get("createdTime") or "")
    cur_created = next(
        ((r.get("properties") or {}).get("createdTime") or "" for r in ordered if r["name"] == current), ""
    )

    def usable(r: dict[str, Any]) -> bool:  # not failed, not left unhealthy by a rolled-back rollout
        p = r.get("properties") or {}
        return (p.get("provisioningState") or "").lower() != "failed" and \
            (p.get("healthState") or "").lower() != "unhealthy"

    earlier = [r for r in ordered if ((r.get("properties") or {}).get("createdTime") or "") < cur_created
               and usable(r) and r["name"] != current]
    if not earlier:
        raise UsageError("there is no earlier revision to roll back to",
                         "`loomctl deploy history` lists the revisions; name one with --to")
    return earlier[-1]["name"], current


@dataclass
class RollbackResult:
    app: str
    target: str
    previous: dict[str, int]
    traffic: dict[str, int] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    template_note: str | None = None


def rollback(w: Writer, app: dict[str, Any], revisions: list[dict[str, Any]], target: str, timeout: float,
             report: Report) -> RollbackResult:
    """Activate `target`, wait until healthy, give it all traffic, stop the others; verify the traffic."""
    name = app["name"]
    deadline = Deadline(timeout)
    res = RollbackResult(name, target, serving_weights(revisions))
    rev = next(r for r in revisions if r["name"] == target)
    if not (rev.get("properties") or {}).get("active"):
        w.activate(name, target, deadline)
        res.actions.append(f"activated {target}")
    wait_healthy(w, name, target, min_replicas(app), deadline, report)
    if mode_of(app) == "multiple":
        w.patch_app(name, {"properties": {"configuration": {"ingress": {"traffic": [
            {"revisionName": target, "weight": 100}]}}}}, f"traffic {target} 100%", deadline)
        res.actions.append(f"traffic {target} 100%")
    else:
        for r in w.revisions(name):
            if r["name"] != target and (r.get("properties") or {}).get("active"):
                w.deactivate(name, r["name"], deadline)
                res.actions.append(f"deactivated {r['name']}")
    try:
        res.traffic = wait_traffic(w, name, {target: 100}, deadline)
    except RolloutFailed as exc:
        raise RolloutFailed("verify", f"rollback to {target} not verified: {exc.message}") from None
    report(f"rolled back: {fmt_traffic(res.traffic)}")
    containers = ((rev.get("properties") or {}).get("template") or {}).get("containers") or [{}]
    res.template_note = template_drift(w, name, containers[0].get("name") or name, containers[0].get("image"))
    if res.template_note:
        report(res.template_note)
    return res
