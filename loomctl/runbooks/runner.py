"""Run a runbook: each step in order (checks through the doctor runner, canned queries, instructions), stopping at
the first step that explains the problem unless asked for all. Results stream to a callback as steps finish."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loomctl.checks.base import CheckResult, Run, Status, runs_here
from loomctl.core.errors import LoomError
from loomctl.runbooks import Runbook, Step, fill

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.checks.inputs import Inputs
    from loomctl.core.context import LoomContext

QUERY_WINDOW = "1h"
MAX_ROWS = 5


@dataclass
class StepResult:
    index: int
    step: Step
    status: str  # pass, warn, fail, skip, info, not-run, error
    message: str
    checks: list[CheckResult] = field(default_factory=list)
    hint: str | None = None
    rows: list[dict[str, Any]] | None = None
    error_exit: int | None = None  # an error step: the exit code of its cause (3: Azure could not be read)
    stops: bool = False  # signed out, or ARM unreachable (LOOM101, LOOM102): no later step can read Azure either

    @property
    def explains(self) -> bool:
        """A failed or warned step explains the problem; an error (e.g. a query refused) does not stop the run."""
        return self.status in ("fail", "warn")

    def hints(self) -> list[str]:
        """One line per distinct (code, hint), naming every resource it applies to."""
        grouped: dict[tuple[str, str], list[str]] = {}
        for c in self.checks:
            if c.hint and c.status in (Status.FAIL, Status.WARN):
                grouped.setdefault((c.code, c.hint), []).extend([c.resource] if c.resource else [])
        out = [f"{code}{' [' + ', '.join(res) + ']' if res else ''}: {hint}" for (code, hint), res in grouped.items()]
        return out + ([self.hint] if self.hint else [])

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"step": self.index, **self.step.to_json(), "status": self.status,
                               "message": self.message, "explains": self.explains}
        if self.hint:
            out["hint"] = self.hint
        if self.checks:
            out["checks"] = [c.to_json() for c in self.checks]
        if self.rows is not None:
            out["rows"] = self.rows
        return out


@dataclass
class RunbookRun:
    runbook: Runbook
    steps: list[StepResult]
    stopped_at: int | None
    next: str

    @property
    def problem(self) -> bool:
        """A step explained a problem, or could not be carried out (error): either way, exit 1."""
        return any(s.explains or s.status == "error" for s in self.steps)

    @property
    def azure_error(self) -> StepResult | None:
        """The first step that could not read Azure, when no step explained a problem: the run then ends as an
        Azure access error (exit 3), since it judged nothing of the deployment."""
        if any(s.explains for s in self.steps):
            return None
        return next((s for s in self.steps if s.status == "error" and s.error_exit == 3), None)

    def to_json(self) -> dict[str, Any]:
        return {"runbook": self.runbook.name, "title": self.runbook.title, "problem": self.problem,
                "stopped_at": self.stopped_at, "steps": [s.to_json() for s in self.steps], "next": self.next}


def placeholders(loom: LoomContext) -> dict[str, Any]:
    s = loom.settings
    return {"relay_app": s.relay_app, "node_app": s.node_app, "resource_group": s.get("resource_group"),
            "environment": s.get("environment"), "subscription": s.get("subscription")}


class StepRunner:
    def __init__(self, loom: LoomContext):
        self.loom = loom
        self._inputs: Inputs | None = None

    @property
    def inputs(self) -> Inputs:
        if self._inputs is None:
            from loomctl.checks.providers import build_inputs
            from loomctl.checks.registry import CATEGORIES, category_names

            present = set(category_names())
            self._inputs = build_inputs(self.loom, [m for n, m in CATEGORIES if n in present])
        return self._inputs

    def run(self, index: int, step: Step) -> StepResult:
        if step.kind == "check":
            return self.run_checks(index, step)
        if step.kind == "query":
            return self.run_query(index, step)
        return StepResult(index, step, "info", fill(step.instruction or "", placeholders(self.loom)))

    # -- checks ---------------------------------------------------------------------------------------------
    def specs(self, step: Step) -> list[Any]:
        """The checks a check step runs here (without those that read Azure on an `azure = false` profile)."""
        from loomctl.checks.registry import all_checks

        if step.category:
            specs = [sp for sp in all_checks([step.category]) if runs_here(sp, Run(self.loom.settings))]
        else:
            catalogue = {s.code: s for s in all_checks()}
            specs = [catalogue[c] for c in step.check]
        if not self.loom.settings.azure_enabled:  # leave out the checks that read the Azure deployment
            specs = [sp for sp in specs if not sp.needs_azure]
        return specs

    def fetch_ahead(self, steps: list[Step]) -> Callable[[float], None]:
        """Start every ARM read the runbook's check steps need at once (`providers.fetch_plan`): each resource is
        then read once for the whole run, in the rounds its dependencies need, whichever step asks first.
        Returns `wait(timeout)` for those reads (the run calls it before it returns)."""
        from loomctl.checks.providers import app_refs, fetch_plan
        from loomctl.checks.runner import expand

        specs = {sp.code: sp for st in steps if st.kind == "check" for sp in self.specs(st)}
        s = self.loom.settings
        # a query step finds its workspace in the environment, unless the settings name the workspace and tables
        target = ("environment",) if any(st.kind == "query" for st in steps) and s.environment and not (
            s.get("workspace_id") and s.get("logs_destination")) else ()
        if not specs and not target:
            return lambda timeout: None
        return fetch_plan(expand(list(specs.values()), app_refs(self.loom)), self.inputs, also=target)

    def run_checks(self, index: int, step: Step) -> StepResult:
        from loomctl.checks.plan import parse_suppressions, suppressed
        from loomctl.checks.providers import app_refs
        from loomctl.checks.runner import expand, run_checks

        s = self.loom.settings
        specs = self.specs(step)
        if not specs:
            return StepResult(index, step, "skip", f"skipped: profile '{s.profile}' has no Azure deployment "
                              "(azure = false); this step reads the live Azure apps")
        rules = parse_suppressions(s.get("suppress") or [])
        results = run_checks(expand(specs, app_refs(self.loom)), self.inputs, lambda r: None)
        for r in results:
            if suppressed(r, rules) and r.status in (Status.WARN, Status.FAIL):
                r.details["suppressed_status"] = r.status.value
                r.status, r.message, r.hint = Status.SKIP, f"suppressed by profile ({r.message})", None
        statuses = {r.status for r in results}
        for st in (Status.FAIL, Status.WARN, Status.PASS, Status.SKIP):
            if st in statuses:
                status = st.value
                break
        else:
            status = "skip"
        bad = [r for r in results if r.status in (Status.FAIL, Status.WARN)]
        access = {sp.code for sp in specs if sp.access}
        unread = [r for r in bad if r.status is Status.FAIL and (r.code in access or r.details.get("unreadable"))]
        if unread and len(unread) == len(bad):  # Azure could not be read: the step judged nothing
            return StepResult(index, step, "error", unread[0].message, results, hint=unread[0].hint, error_exit=3,
                              stops=any(r.code in access or r.details.get("reach") for r in unread))
        counts = ", ".join(f"{sum(1 for r in results if r.status is st)} {st.value}"
                           for st in (Status.PASS, Status.WARN, Status.FAIL, Status.SKIP)
                           if any(r.status is st for r in results))
        message = bad[0].message if bad else f"{len(results)} check(s): {counts}"
        return StepResult(index, step, status, message, results)

    # -- queries --------------------------------------------------------------------------------------------
    def run_query(self, index: int, step: Step) -> StepResult:
        name = step.query or ""
        s = self.loom.settings
        if not s.azure_enabled:
            return StepResult(index, step, "skip", f"skipped: profile '{s.profile}' has no Azure deployment "
                              f"(azure = false), so no Log Analytics workspace to query",
                              hint=None)
        from loomctl.azure.loganalytics import run_query
        from loomctl.core.timeutil import resolve_range
        from loomctl.logs.kql import catalogue as cat
        from loomctl.logs.target import resolve_target

        try:
            q = cat.get(name)
            rng = resolve_range(QUERY_WINDOW, None, None)
            target = resolve_target(self.loom, None, None, None)
            log_views = any(v in getattr(q, "views", []) for v in ("ConsoleLogs", "SystemLogs"))
            apps = [s.relay_app, s.node_app] if log_views else []
            scope = cat.Scope(destination=target.destination, metrics_source=target.metrics_source,
                              start=rng.start, end=rng.end, since=None, apps=apps, params={})
            result = run_query(self.loom.azure, target.workspace_id, cat.render(q, scope), rng.start, rng.end,
                               target.destination)
        except LoomError as exc:
            return StepResult(index, step, "error", f"query '{name}' failed: {exc.message}", hint=exc.hint,
                              error_exit=int(exc.exit_code))
        columns = [getattr(c, "name", c) for c in (getattr(result, "columns", None) or [])]
        rows = [dict(zip(columns, r)) for r in (getattr(result, "rows", None) or [])]
        if step.problem_if_rows and rows:
            return StepResult(index, step, "fail", f"query '{name}' found {len(rows)} row(s) in the last "
                              f"{QUERY_WINDOW}", rows=rows[:MAX_ROWS],
                              hint=f"read them all: `loomctl query run {name} --since {QUERY_WINDOW}`")
        if step.expect and rows:
            outside = _outside(rows, step.expect)
            if outside:
                e = step.expect
                return StepResult(index, step, "warn", f"query '{name}': {len(outside)} row(s) with {e['column']} "
                                  f"outside {_range(e)}, e.g. " + ", ".join(f"{k}={v}" for k, v in outside[0].items()),
                                  rows=outside[:MAX_ROWS], hint=e.get("hint"))
        what = "no rows" if not rows else f"{len(rows)} row(s)"
        return StepResult(index, step, "pass" if step.problem_if_rows else "info",
                          f"query '{name}': {what} in the last {QUERY_WINDOW}", rows=rows[:MAX_ROWS])


def needs_azure(runbook: Runbook) -> bool:
    """A step queries Log Analytics or runs a check that needs Azure (a category step: any of its checks)."""
    from loomctl.checks.registry import all_checks

    azure = [s for s in all_checks() if s.needs_azure]
    codes, categories = {s.code for s in azure}, {s.category for s in azure}
    return any(st.query or set(st.check) & codes or st.category in categories for st in runbook.steps)


def _range(e: dict[str, Any]) -> str:
    lo, hi = e.get("min"), e.get("max")
    return f"{lo:g}-{hi:g}" if lo is not None and hi is not None else (f">= {lo:g}" if lo is not None else f"<= {hi:g}")


def _outside(rows: list[dict[str, Any]], e: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        try:
            v = float(r.get(e["column"]))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if (e.get("min") is not None and v < e["min"]) or (e.get("max") is not None and v > e["max"]):
            out.append(r)
    return out


def run(loom: LoomContext, runbook: Runbook, all_steps: bool = False,
        on_step: Callable[[StepResult], None] = lambda r: None) -> RunbookRun:
    s = loom.settings
    if s.azure_enabled and needs_azure(runbook):  # say once what is missing instead of failing every step
        s.require("subscription", "resource_group", "environment")
    runner = StepRunner(loom)
    wait_for_fetches = runner.fetch_ahead(runbook.steps)
    done: list[StepResult] = []
    stopped = None
    for i, step in enumerate(runbook.steps, 1):
        result = runner.run(i, step)
        done.append(result)
        on_step(result)
        if (result.explains and not all_steps) or result.stops:
            stopped = i
            break
    from loomctl.azure.session import http_timeout

    wait_for_fetches(http_timeout())  # reads for steps that did not run (or no check waited for) end with the run
    return RunbookRun(runbook, done, stopped, what_next(loom, runbook, done, stopped))


def what_next(loom: LoomContext, runbook: Runbook, steps: list[StepResult], stopped: int | None) -> str:
    problems = [s for s in steps if s.explains or s.status == "error"]
    if not problems:
        skipped = [s for s in steps if s.status in ("skip", "not-run")]
        tail = (f" ({len(skipped)} step(s) could not run here; see above.)" if skipped else "")
        return fill(runbook.next, placeholders(loom)) + tail
    lines = []
    for s in problems:
        hints = s.hints()
        lines += [f"- step {s.index}: {h}" for h in hints] or [f"- step {s.index}: {s.message}"]
    again = f"then run `loomctl runbook run {runbook.name}` again"
    if stopped is not None:
        again += " (--all runs every step)"
    return "\n".join(lines + [again])
