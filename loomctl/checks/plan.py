"""Assemble a doctor run: select checks, build inputs, run, and apply suppressions (no rendering here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from loomctl.checks.base import CheckResult, CheckSpec, Run, Status, runs_here
from loomctl.checks.registry import CATEGORIES, FLEET_ONLY, all_checks, category_names, resolve_category
from loomctl.checks.runner import Instance, expand, label, run_checks
from loomctl.core.errors import ExitCode, ProblemsFound, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.checks.inputs import Inputs
    from loomctl.core.context import LoomContext


@dataclass(frozen=True)
class Selection:
    categories: list[str]
    ignore: set[str]
    suppress: list[tuple[str, str | None]]


def parse_suppressions(values: list[str]) -> list[tuple[str, str | None]]:
    out = []
    for v in values:
        code, _, resource = v.partition("=")
        out.append((code.strip().upper(), resource.strip() or None))
    return out


def select(specs: list[CheckSpec], ignore: set[str]) -> list[CheckSpec]:
    known = {s.code for s in all_checks()}
    unknown = sorted(c for c in ignore if c not in known)
    if unknown:
        raise UsageError(f"unknown check code {', '.join(unknown)} in --ignore",
                         "`loomctl checks list` shows every code")
    return [s for s in specs if s.code not in ignore]


def planned(specs: list[CheckSpec], settings: Any, inside: bool = False) -> list[CheckSpec]:
    """The specs with the prerequisites their `after_if` adds for this run."""
    out = []
    for s in specs:
        extra = tuple(c for c in (s.after_if(settings, inside) if s.after_if else ()) if c not in s.after)
        out.append(replace(s, after=s.after + extra) if extra else s)
    return out


def with_prerequisites(specs: list[CheckSpec], catalogue: list[CheckSpec] | None = None) -> list[CheckSpec]:
    """Add the checks that selected ones name in `after` (transitively), in catalogue order, so that
    `--category storage` first says "not signed in" once instead of failing every storage check with it."""
    catalogue = catalogue if catalogue is not None else all_checks()
    by_code = {s.code: s for s in catalogue}
    wanted = {s.code for s in specs}
    todo = [c for s in specs for c in (*s.after, *s.after_all)]
    while todo:
        code = todo.pop()
        if code in by_code and code not in wanted:
            wanted.add(code)
            todo.extend((*by_code[code].after, *by_code[code].after_all))
    return [s for s in catalogue if s.code in wanted]


def suppressed(result: CheckResult, rules: list[tuple[str, str | None]]) -> bool:
    return any(result.code == code and (res is None or res == result.resource) for code, res in rules)


def plan(loom: LoomContext, categories: tuple[str, ...], ignore: tuple[str, ...],
         inside: bool = False, write_probe: bool = False) -> tuple[list[Instance], Selection]:
    """The checks to run (`inside`: the DNS and LoomMesh probes run in a replica; `write_probe`: the mesh write
    probe runs too)."""
    from loomctl.checks.providers import app_refs

    cats = [resolve_category(c) for c in categories] if categories else category_names()
    if categories and set(cats) & set(FLEET_ONLY):
        raise UsageError("the Fleet checks judge many deployments at once; `loomctl doctor` judges one",
                         "run `loomctl fleet doctor`")
    cats = [c for c in cats if c not in FLEET_ONLY]
    ignored = {c.strip().upper() for c in ignore}
    this = Run(loom.settings, inside, write_probe)
    catalogue = planned([s for s in all_checks() if runs_here(s, this)], loom.settings, inside)
    wanted = {s.code for s in all_checks(cats)}
    specs = select(with_prerequisites([s for s in catalogue if s.code in wanted], catalogue), ignored)
    used = {s.category for s in specs}
    sel = Selection([c for c in category_names() if c in used or c in cats], ignored,
                    parse_suppressions(loom.settings.get("suppress") or []))
    return expand(specs, app_refs(loom)), sel


def run(loom: LoomContext, instances: list[Instance], sel: Selection,
        on_result: Callable[[CheckResult], None], inputs: Inputs | None = None, **given: Any) -> list[CheckResult]:
    """Run the planned checks; `inputs` (from `build_inputs`) lets a caller share fetched data with them, and
    `given` sets inputs of the run (e.g. `inside_app` for `doctor --from-inside`)."""
    from loomctl.checks.providers import build_inputs, fetch_plan

    modules = [m for n, m in CATEGORIES if n in sel.categories]
    inputs = inputs or build_inputs(loom, modules, **given)
    wait_for_fetches = fetch_plan(instances, inputs)

    def observe(result: CheckResult) -> None:
        if suppressed(result, sel.suppress) and result.status in (Status.WARN, Status.FAIL):
            result.details["suppressed_status"] = result.status.value
            result.status = Status.SKIP
            result.message = f"suppressed by profile ({result.message})"
            result.hint = None
        on_result(result)

    results = run_checks(instances, inputs, observe)
    from loomctl.azure.session import http_timeout

    wait_for_fetches(http_timeout())  # reads no check waited for (after a failed prerequisite) end with the run
    return results


def access_failure(instances: list[Instance], results: list[CheckResult]) -> ProblemsFound | None:
    """When a check of Azure access itself failed, the error that ends the run (exit 3): the checks that need
    Azure did not run, so "problems found" (exit 1) would say more than the run knows."""
    access = {i.key for i in instances if i.spec.access}
    failed = [r for r in results if r.key in access and r.status is Status.FAIL]
    if failed:
        first = failed[0]
        skipped = sum(1 for r in results if first.key in r.causes)
        return ProblemsFound(f"{first.code} {first.title} failed, so {skipped} checks that need Azure access did not "
                             "run", "fix what it names (its hint is above), then run again", exit_code=ExitCode.AZURE)
    # a check that could not read Azure (403, throttled, garbage) judged nothing: an access error, not a finding
    unread = [r for r in results if r.status is Status.FAIL and r.details.get("unreadable")]
    if not unread:
        return None
    first = unread[0]
    skipped = sum(1 for r in results if first.key in r.causes)
    also = f", so {skipped} checks that need it did not run" if skipped else ""
    return ProblemsFound(f"{label(first.key)} could not read Azure{also}",
                         "fix what it names (its hint is above), then run again", exit_code=ExitCode.AZURE)
