"""The rollout of a new image as plain steps: plan, update, wait for health, move traffic, roll back.

`plan_rollout` is pure (what would be sent); `run_rollout` drives a `Writer` and reports progress through a
callback. Outcomes are dataclasses; nothing here prints or exits.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from loomctl.azure.writes import Deadline, OperationTimeout, Writer, poll_interval
from loomctl.core.errors import AzureError, UsageError
from loomctl.core.retry import poll
from loomctl.deploy.validate import ImageRef, check_suffix, default_suffix

RESTARTS_FAIL = 5  # a container restarted this often is crash-looping: fail fast instead of waiting


@dataclass
class RevisionStatus:
    name: str
    active: bool
    provisioning: str | None
    running: str | None
    health: str | None
    traffic: int
    replicas_running: int
    replicas_min: int
    image: str | None
    created: str | None
    details: str | None = None
    max_restarts: int = 0

    @property
    def failed(self) -> bool:
        return (self.provisioning or "").lower() == "failed" or (self.running or "").lower() == "failed" or \
            self.max_restarts >= RESTARTS_FAIL

    @property
    def healthy(self) -> bool:
        # min 0 (scale to zero): provisioned and running is enough, no replica has to stay up
        return (self.provisioning or "").lower() == "provisioned" and self.active and \
            (self.health or "healthy").lower() in ("healthy", "none") and \
            (self.running or "").lower() in ("running", "runningatmaxscale", "") and \
            self.replicas_running >= self.replicas_min and not self.failed

    def describe(self) -> str:
        parts = [f"provisioning {self.provisioning or '?'}", f"running {self.running or '?'}",
                 f"health {self.health or '?'}", f"{self.replicas_running}/{self.replicas_min} replicas running"]
        if self.max_restarts:
            parts.append(f"restarts up to {self.max_restarts}")
        text = ", ".join(parts)
        return f"{text}: {self.details}" if self.details else text


def parse_revision(rev: dict[str, Any], replicas: list[dict[str, Any]], minimum: int) -> RevisionStatus:
    p = rev.get("properties") or {}
    containers = ((p.get("template") or {}).get("containers") or [{}])
    running = [r for r in replicas if ((r.get("properties") or {}).get("runningState") or "").lower() == "running"]
    restarts = [
        c.get("restartCount") or 0 for r in replicas for c in ((r.get("properties") or {}).get("containers") or [])
    ]
    details = p.get("provisioningError") or p.get("runningStateDetails") or None
    if not details:
        rd = [(r.get("properties") or {}).get("runningStateDetails") for r in replicas]
        details = next((d for d in rd if d), None)
    return RevisionStatus(
        name=rev.get("name", ""), active=bool(p.get("active")), provisioning=p.get("provisioningState"),
        running=p.get("runningState"), health=p.get("healthState"), traffic=int(p.get("trafficWeight") or 0),
        replicas_running=len(running), replicas_min=minimum, image=containers[0].get("image"),
        created=p.get("createdTime"), details=details, max_restarts=max(restarts or [0]))


def serving_weights(revisions: list[dict[str, Any]]) -> dict[str, int]:
    """Which revisions serve traffic now, with their weights (from the revisions themselves: active, weight > 0).

    Not `output.views.status.traffic_of`, which reads the split the ingress is configured with (resolving
    `latestRevision`) and shows zero weights; a rollout splits traffic among the revisions actually serving."""
    return {r["name"]: int((r.get("properties") or {}).get("trafficWeight") or 0) for r in revisions
            if (r.get("properties") or {}).get("active") and int((r.get("properties") or {}).get("trafficWeight") or 0)}


def split(new: str, weight: int, previous: dict[str, int]) -> list[dict[str, Any]]:
    """Traffic entries giving `weight` % to `new` and the rest to the previous revisions in proportion."""
    rest = 100 - weight
    entries = [{"revisionName": new, "weight": weight}] if weight else []
    total = sum(previous.values()) or 1
    names = [n for n in previous if n != new]
    given = 0
    for i, n in enumerate(names):
        w = rest - given if i == len(names) - 1 else round(rest * previous[n] / total)
        given += w
        if w:
            entries.append({"revisionName": n, "weight": w})
    if not names and rest:
        entries = [{"revisionName": new, "weight": 100}]
    return entries


def parse_canary(text: str | None) -> list[int]:
    if not text:
        return [100]
    try:
        steps = [int(p.strip().rstrip("%")) for p in text.split(",") if p.strip()]
    except ValueError:
        raise UsageError(f"--canary '{text}' is not a list of percentages",
                         "e.g. --canary 10,50,100") from None
    if not steps or any(not 0 < s <= 100 for s in steps) or steps != sorted(set(steps)) or steps[-1] != 100:
        raise UsageError(f"--canary '{text}' must rise from above 0 to 100 without repeats",
                         "e.g. --canary 10,50,100")
    return steps


@dataclass
class Plan:
    app: str
    mode: str  # "single" | "multiple"
    container: str
    old_image: str | None
    image: str
    suffix: str
    revision: str
    previous: dict[str, int]  # revision -> weight before the rollout
    steps: list[int]
    min_replicas: int
    patch: dict[str, Any]

    @property
    def previous_main(self) -> str | None:
        return max(self.previous, key=lambda n: self.previous[n]) if self.previous else None


def plan_rollout(app: dict[str, Any], revisions: list[dict[str, Any]], image: ImageRef, suffix: str | None,
                 steps: list[int], container: str | None = None) -> Plan:
    name = app["name"]
    props = app.get("properties") or {}
    mode = ((props.get("configuration") or {}).get("activeRevisionsMode") or "Single").lower()
    tmpl = props.get("template") or {}
    containers = copy.deepcopy(tmpl.get("containers") or [])
    if not containers:
        raise UsageError(f"app '{name}' has no containers to update", "create it first with `loomctl deploy infra`")
    names = [c.get("name") for c in containers]
    target = container or (name if name in names else names[0])
    if target not in names:
        raise UsageError(f"app '{name}' has no container '{container}'", f"its containers: {', '.join(names)}")
    taken = {r["name"] for r in revisions}
    if suffix:
        check_suffix(suffix, name)
        if f"{name}--{suffix}" in taken:
            raise UsageError(f"revision '{name}--{suffix}' already exists",
                             "a revision suffix can be used once per app: choose another --revision-suffix")
    else:
        suffix = default_suffix(image, name, taken)
    old_image = None
    for c in containers:
        if c.get("name") == target:
            old_image = c.get("image")
            c["image"] = image.text
    previous = serving_weights(revisions)
    if previous:  # the image that serves now (the template may name a failed rollout's image)
        main = max(previous, key=lambda n: previous[n])
        rev_containers = next(((r.get("properties") or {}).get("template") or {}).get("containers") or []
                              for r in revisions if r["name"] == main)
        old_image = next((c.get("image") for c in rev_containers if c.get("name") == target), old_image)
    if mode == "single" and steps != [100]:
        raise UsageError(f"app '{name}' is in single revision mode, where traffic cannot be split",
                         "drop --canary, or switch the app to multiple revision mode "
                         "(`az containerapp revision set-mode --mode multiple`)")
    patch: dict[str, Any] = {"properties": {"template": {"revisionSuffix": suffix, "containers": containers}}}
    if mode == "multiple":
        # pin traffic to the revisions serving now, so the new one gets none until it is healthy
        patch["properties"]["configuration"] = {"ingress": {"traffic": [
            {"revisionName": n, "weight": w} for n, w in previous.items()]}}
    minimum = int((tmpl.get("scale") or {}).get("minReplicas") or 0)
    return Plan(name, mode, target, old_image, image.text, suffix, f"{name}--{suffix}", previous, steps,
                minimum, patch)


@dataclass
class RolloutOutcome:
    app: str
    revision: str
    image: str
    mode: str
    result: str  # succeeded | started | rolled-back | rollback-failed | failed | interrupted
    stage: str
    message: str
    previous: dict[str, int]
    traffic: dict[str, int] = field(default_factory=dict)
    revision_status: RevisionStatus | None = None
    rollback: str | None = None  # what the rollback did
    template_note: str | None = None  # the app's template still names the failed image
    events: list[str] = field(default_factory=list)
    duration_s: float = 0.0


class RolloutFailed(Exception):
    def __init__(self, stage: str, message: str):
        super().__init__(message)
        self.stage = stage
        self.message = message


Report = Callable[[str], None]
Verify = Callable[[str], "tuple[bool, str]"]  # revision -> (passed, summary or what failed)


def revision_now(w: Writer, app: str, revision: str, minimum: int) -> RevisionStatus | None:
    rev = w.revision(app, revision)
    if rev is None:
        return None
    return parse_revision(rev, w.replicas(app, revision), minimum)


def _read(call: Callable[[], Any], report: Report, deadline: Deadline) -> Any:
    """A read while waiting: a transient failure (after the SDK's own retries) is reported and waited out."""
    try:
        return call()
    except Exception as exc:
        from loomctl.azure.errors import as_loom_error

        err = as_loom_error(exc)
        if (isinstance(err, AzureError) and err.status in (401, 403)) or deadline.expired:
            raise
        report(f"could not read the revision ({err.message}); trying again")
        return None


def wait_healthy(w: Writer, app: str, revision: str, minimum: int, deadline: Deadline,
                 report: Report) -> RevisionStatus:
    last = ""
    st: RevisionStatus | None = None

    def check() -> RevisionStatus | None:
        nonlocal last, st
        st = _read(lambda: revision_now(w, app, revision, minimum), report, deadline)
        if st is not None:
            text = st.describe()
            if text != last:
                report(f"revision {revision}: {text}")
                last = text
            if st.failed:
                raise RolloutFailed("health", f"revision {revision} failed: {text}")
            if st.healthy:
                return st
        return None

    def timed_out() -> NoReturn:
        what = st.describe() if st else "not created"
        raise RolloutFailed("health", f"revision {revision} not healthy within {deadline.seconds:g} s: {what}")

    return poll(check, deadline=deadline, interval=poll_interval, on_timeout=timed_out)


def wait_traffic(w: Writer, app: str, want: dict[str, int], deadline: Deadline) -> dict[str, int]:
    now: dict[str, int] = {}

    def check() -> dict[str, int] | None:
        nonlocal now
        revs = _read(lambda: w.revisions(app), lambda _t: None, deadline)
        now = serving_weights(revs) if revs is not None else {}
        return now if now == want else None

    def timed_out() -> NoReturn:
        raise RolloutFailed("traffic", f"traffic is {fmt_traffic(now)}, expected {fmt_traffic(want)}")

    return poll(check, deadline=deadline, interval=poll_interval, on_timeout=timed_out)


def fmt_traffic(t: dict[str, int]) -> str:
    return ", ".join(f"{n} {w}%" for n, w in sorted(t.items(), key=lambda kv: -kv[1])) or "no revision"


def _verify(verify: Verify, revision: str, note: Report) -> None:
    note(f"verifying {revision} with doctor's checks")
    ok, text = verify(revision)
    if not ok:
        raise RolloutFailed("verify", text)
    note(text)


def run_rollout(w: Writer, plan: Plan, timeout: float, report: Report, verify: Verify | None = None,
                no_wait: bool = False, step_wait: float = 0.0) -> RolloutOutcome:
    start = time.monotonic()
    out = RolloutOutcome(plan.app, plan.revision, plan.image, plan.mode, "failed", "update", "", dict(plan.previous))

    def note(text: str) -> None:
        out.events.append(text)
        report(text)

    deadline = Deadline(timeout)
    stage = "update"
    try:
        note(f"updating {plan.app}: image {plan.old_image} -> {plan.image}, new revision {plan.revision}")
        if no_wait:
            w.patch_app(plan.app, plan.patch, f"image {plan.image}, revision suffix {plan.suffix}", deadline,
                        wait=False)
            out.result, out.stage, out.message = "started", "update", f"update of {plan.app} accepted; not waiting"
            if plan.mode == "multiple":
                out.message += (f"; traffic stays on {fmt_traffic(plan.previous)} until you move it "
                                f"(`loomctl deploy rollback --app {plan.app} --to {plan.revision}`)")
            out.traffic = plan.previous
            return out
        try:
            w.patch_app(plan.app, plan.patch, f"image {plan.image}, revision suffix {plan.suffix}", deadline)
        except OperationTimeout as exc:
            raise RolloutFailed("update", str(exc)) from None
        except Exception as exc:
            from loomctl.azure.writes import lro_failure

            msg = lro_failure(exc)
            if msg is None:
                raise
            raise RolloutFailed("update", f"the update failed: {msg}") from None
        note("update accepted and finished; waiting for the new revision to be healthy")
        stage = "health"
        out.revision_status = wait_healthy(w, plan.app, plan.revision, plan.min_replicas, deadline, note)
        if plan.mode == "multiple":
            stage = "traffic"
            for i, pct in enumerate(plan.steps):
                entries = split(plan.revision, pct, plan.previous)
                try:
                    w.patch_app(plan.app, {"properties": {"configuration": {"ingress": {"traffic": entries}}}},
                                f"traffic {plan.revision} {pct}%", deadline)
                except OperationTimeout as exc:
                    raise RolloutFailed("traffic", str(exc)) from None
                want = {e["revisionName"]: e["weight"] for e in entries}
                out.traffic = wait_traffic(w, plan.app, want, deadline)
                note(f"traffic: {fmt_traffic(out.traffic)}")
                if i < len(plan.steps) - 1 and step_wait:
                    time.sleep(deadline.cap(step_wait))
                out.revision_status = wait_healthy(w, plan.app, plan.revision, plan.min_replicas, deadline,
                                                   lambda _t: None)
                if verify is not None:
                    stage = "verify"
                    _verify(verify, plan.revision, note)
                    stage = "traffic"
        else:
            stage = "traffic"
            out.traffic = wait_traffic(w, plan.app, {plan.revision: 100}, deadline)
            note(f"switched: {fmt_traffic(out.traffic)}")
            if verify is not None:
                stage = "verify"
                _verify(verify, plan.revision, note)
        out.result, out.stage = "succeeded", "done"
        out.message = f"{plan.revision} serves {out.traffic.get(plan.revision, 0)}% of traffic with {plan.image}"
        return out
    except RolloutFailed as exc:
        out.stage, out.message = exc.stage, exc.message
        note(f"rollout failed ({exc.stage}): {exc.message}")
        if out.revision_status is None or out.revision_status.healthy:
            try:
                out.revision_status = revision_now(w, plan.app, plan.revision, plan.min_replicas)
            except Exception:  # noqa: BLE001 - the status is informative only
                pass
        try:
            out.rollback, out.traffic = roll_back(w, plan, note)
        except Exception as exc2:  # noqa: BLE001 - reported with the state it left
            from loomctl.azure.errors import as_loom_error

            out.result = "rollback-failed"
            out.rollback = f"failed: {as_loom_error(exc2).message}"
            note(f"rollback failed: {as_loom_error(exc2).message}")
            try:
                out.traffic = serving_weights(w.revisions(plan.app))
            except Exception:  # noqa: BLE001
                out.traffic = {}
            return out
        out.result = "rolled-back"
        out.template_note = template_drift(w, plan.app, plan.container, plan.old_image)
        if out.template_note:
            note(out.template_note)
        return out
    except KeyboardInterrupt:
        out.result, out.stage = "interrupted", stage
        try:
            out.traffic = serving_weights(w.revisions(plan.app))
        except BaseException:  # noqa: BLE001 - best effort while interrupted
            out.traffic = {}
        out.message = f"interrupted during {stage}; traffic now: {fmt_traffic(out.traffic)}"
        return out
    finally:
        out.duration_s = round(time.monotonic() - start, 2)


def roll_back(w: Writer, plan: Plan, note: Report, timeout: float | None = None) -> tuple[str, dict[str, int]]:
    """Put traffic back where it was before the rollout and stop the new revision; verify it."""
    deadline = Deadline(timeout if timeout is not None else max(60.0, 4 * poll_interval() + 30))
    revs = {r["name"]: r for r in w.revisions(plan.app)}
    done: list[str] = []
    if plan.mode == "multiple":
        entries = [{"revisionName": n, "weight": wt} for n, wt in plan.previous.items()]
        w.patch_app(plan.app, {"properties": {"configuration": {"ingress": {"traffic": entries}}}},
                    f"restore traffic {fmt_traffic(plan.previous)}", deadline)
        done.append(f"traffic restored to {fmt_traffic(plan.previous)}")
    else:
        for name in plan.previous:
            if not ((revs.get(name) or {}).get("properties") or {}).get("active"):
                w.activate(plan.app, name, deadline)
                done.append(f"reactivated {name}")
    new = (revs.get(plan.revision) or {}).get("properties") or {}
    if new.get("active"):
        w.deactivate(plan.app, plan.revision, deadline)
        done.append(f"deactivated {plan.revision}")
    try:
        now = wait_traffic(w, plan.app, plan.previous, deadline)
    except RolloutFailed as exc:
        note(f"rollback NOT verified: {exc.message}")
        return "; ".join(done + [f"not verified: {exc.message}"]), serving_weights(w.revisions(plan.app))
    note(f"rolled back: {fmt_traffic(now)}" + (f" ({'; '.join(done)})" if done else " (traffic never moved)"))
    return "; ".join(done) or "nothing to undo: traffic never moved", now


def template_drift(w: Writer, app: str, container: str, serving_image: str | None) -> str | None:
    """After a rollback the app's template keeps the image of the failed update (Azure does not undo it)."""
    try:
        live = w.get_app(app)
    except Exception:  # noqa: BLE001 - informative only
        return None
    cs = ((live.get("properties") or {}).get("template") or {}).get("containers") or []
    image = next((c.get("image") for c in cs if c.get("name") == container), None)
    if not serving_image or not image or image == serving_image:
        return None
    return (f"note: the app's template still names {image}; the next template change (e.g. `deploy infra`) would "
            f"start a revision from it: reset it with `loomctl deploy app --app {app} --image {serving_image}`")
