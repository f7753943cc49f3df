"""Run checks concurrently, each with its own deadline, skipping those whose prerequisites did not pass
(and those that need Azure, on a profile without it)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from loomctl.azure.errors import describe
from loomctl.checks.base import (
    AppRef,
    CheckResult,
    CheckSpec,
    NotJudged,
    Outcome,
    Status,
    fill_placeholders,
    no_azure,
)
from loomctl.checks.inputs import Inputs
from loomctl.core.errors import AuthError, LoomError, NetworkError


@dataclass(frozen=True)
class Instance:
    spec: CheckSpec
    app: AppRef | None = None

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.spec.code, self.app.name if self.app else None)


def expand(specs: Iterable[CheckSpec], apps: list[AppRef]) -> list[Instance]:
    out: list[Instance] = []
    for spec in specs:
        if spec.per_app:
            out.extend(Instance(spec, app) for app in apps)
        else:
            out.append(Instance(spec))
    return out


def _prerequisites(inst: Instance, by_key: dict[tuple[str, str | None], Instance]) -> list[tuple[str, str | None]]:
    keys = []
    for code in inst.spec.after:
        if inst.app and (code, inst.app.name) in by_key:
            keys.append((code, inst.app.name))
        elif (code, None) in by_key:
            keys.append((code, None))
        else:  # a per-app prerequisite of a global check: every instance of it
            keys.extend(k for k in by_key if k[0] == code)
    keys.extend(k for code in inst.spec.after_all for k in by_key if k[0] == code and k not in keys)
    return keys


def label(key: tuple[str, str | None]) -> str:
    """"LOOM105 (gun-relay)" for a per-app check instance, "LOOM101" for a global one."""
    return f"{key[0]} ({key[1]})" if key[1] else key[0]


def root_causes(bad: list[CheckResult]) -> tuple[tuple[str, str | None], ...]:
    """The checks at the root of the prerequisites that did not pass: a prerequisite that was itself skipped
    for a prerequisite stands for its own causes. In first-seen order, without repeats."""
    out: dict[tuple[str, str | None], None] = {}
    for b in bad:
        for key in b.causes or (b.key,):
            out[key] = None
    return tuple(out)


def _result(inst: Instance, outcome: Outcome, duration: float) -> CheckResult:
    return CheckResult(
        code=inst.spec.code,
        category=inst.spec.category,
        title=inst.spec.title,
        status=outcome.status,
        message=outcome.message,
        hint=outcome.hint if outcome.status in (Status.WARN, Status.FAIL) else None,
        details=dict(outcome.details),
        resource=inst.app.name if inst.app else None,
        duration_ms=int(duration * 1000),
    )


def _execute(inst: Instance, inputs: Inputs) -> Outcome:
    spec = inst.spec
    kwargs: dict[str, Any] = {}
    if inst.app is not None:
        kwargs["app"] = inst.app
    try:
        if spec.needs_azure and not inputs.get("settings").azure_enabled:
            return no_azure(inputs.get("settings"))  # before any input is fetched: none of them exists
        for name in spec.needs:
            # per-app inputs are registered as "name:app" (e.g. "app_state:gun-relay")
            scoped = f"{name}:{inst.app.name}" if inst.app is not None else None
            kwargs[name] = inputs.get(scoped) if scoped and inputs.has(scoped) else inputs.get(name)
        outcome = spec.run(**kwargs)
        if spec.fill_hints and isinstance(outcome, Outcome):
            outcome = fill_placeholders(outcome, inputs.get("settings"))
    except NotJudged as exc:
        return Outcome(Status.SKIP, f"not judged: {exc}", details={"not_judged": str(exc)})
    except LoomError as exc:
        from loomctl.azure.errors import could_not_read

        details: dict[str, Any] = {"unreadable": True} if could_not_read(exc) else {}
        if isinstance(exc, (AuthError, NetworkError)):  # every later read fails alike (runbooks stop on it)
            details["reach"] = "sign-in" if isinstance(exc, AuthError) else "network"
        return Outcome(Status.FAIL, exc.message, exc.hint or spec.fix, details)
    except Exception as exc:  # noqa: BLE001 - a check's crash is that check's failure, not the run's
        message, hint = describe(exc)
        return Outcome(Status.FAIL, message, hint or spec.fix, {"exception": type(exc).__name__})
    if not isinstance(outcome, Outcome):
        return Outcome(Status.FAIL, f"check returned {type(outcome).__name__}, not an Outcome", spec.fix)
    return outcome


def run_checks(
    instances: list[Instance],
    inputs: Inputs,
    on_result: Callable[[CheckResult], None],
    *,
    max_workers: int = 16,
    timeout_scale: float = 1.0,
    inline: bool = False,
) -> list[CheckResult]:
    """Run every instance; call `on_result` (in this thread) as each finishes. Returns results in order.

    inline: run each check in this thread, one after the other, without deadlines: for checks that do no I/O
    (the definition checks), where a thread per check would cost more than the check."""
    by_key = {inst.key: inst for inst in instances}
    prereq = {inst.key: _prerequisites(inst, by_key) for inst in instances}
    results: dict[tuple[str, str | None], CheckResult] = {}
    pending = {inst.key for inst in instances}
    running: dict[tuple[str, str | None], tuple[float, float]] = {}  # key -> (start, deadline)
    done: queue.Queue[tuple[tuple[str, str | None], Outcome, float]] = queue.Queue()

    def worker(inst: Instance, start: float) -> None:
        outcome = _execute(inst, inputs)
        done.put((inst.key, outcome, time.monotonic() - start))

    def finish(key: tuple[str, str | None], result: CheckResult) -> None:
        results[key] = result
        on_result(result)

    while pending or running:
        # start what can start; skip what cannot ever run
        progressed = True
        while progressed:
            progressed = False
            for key in [k for k in list(pending) if k not in running]:
                if len(running) >= max_workers:
                    break
                reqs = prereq[key]
                if any(r not in results for r in reqs):
                    continue
                pending.discard(key)
                progressed = True
                bad = [results[r] for r in reqs if results[r].status not in (Status.PASS, Status.WARN)]
                inst = by_key[key]
                if bad:
                    why = ", ".join(f"{b.code}{' (' + b.resource + ')' if b.resource else ''} {b.status.value}"
                                    for b in bad)
                    causes = root_causes(bad)
                    skip = _result(inst, Outcome(Status.SKIP, f"skipped: prerequisite {why}",
                                                 details={"cause": [label(c) for c in causes]}), 0.0)
                    skip.causes = causes
                    finish(key, skip)
                    continue
                start = time.monotonic()
                if inline:
                    finish(key, _result(inst, _execute(inst, inputs), time.monotonic() - start))
                    continue
                running[key] = (start, start + inst.spec.timeout * timeout_scale)
                threading.Thread(target=worker, args=(inst, start), daemon=True,
                                 name=f"check-{key[0]}").start()
        if not running:
            if pending:  # a cycle or an unknown prerequisite: say so rather than hang
                for key in sorted(pending, key=str):
                    finish(key, _result(by_key[key], Outcome(Status.SKIP, "skipped: prerequisite never ran"), 0.0))
                pending.clear()
            break
        next_deadline = min(d for _, d in running.values())
        try:
            key, outcome, duration = done.get(timeout=max(0.0, next_deadline - time.monotonic()))
            if key in running:
                del running[key]
                finish(key, _result(by_key[key], outcome, duration))
        except queue.Empty:
            now = time.monotonic()
            for key, (start, deadline) in list(running.items()):
                if deadline <= now:
                    del running[key]
                    inst = by_key[key]
                    limit = inst.spec.timeout * timeout_scale
                    finish(key, _result(inst, Outcome(
                        Status.FAIL, f"did not finish within {limit:g} s",
                        "the service did not answer in time; run again with --debug, or check the network"),
                        now - start))
    order = {inst.key: i for i, inst in enumerate(instances)}
    return sorted(results.values(), key=lambda r: order[r.key])
