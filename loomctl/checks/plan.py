"""Assemble a doctor run: select checks, build inputs, run, and apply suppressions (no rendering here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loomctl.checks.base import CheckResult, CheckSpec, Status
from loomctl.checks.registry import CATEGORIES, all_checks, category_names, resolve_category
from loomctl.checks.runner import Instance, expand, run_checks
from loomctl.core.errors import UsageError

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


def with_prerequisites(specs: list[CheckSpec]) -> list[CheckSpec]:
    """Add the checks that selected ones name in `after` (transitively), in catalogue order, so that
    `--category storage` first says "not signed in" once instead of failing every storage check with it."""
    catalogue = all_checks()
    by_code = {s.code: s for s in catalogue}
    wanted = {s.code for s in specs}
    todo = [c for s in specs for c in s.after]
    while todo:
        code = todo.pop()
        if code in by_code and code not in wanted:
            wanted.add(code)
            todo.extend(by_code[code].after)
    return [s for s in catalogue if s.code in wanted]


def suppressed(result: CheckResult, rules: list[tuple[str, str | None]]) -> bool:
    return any(result.code == code and (res is None or res == result.resource) for code, res in rules)


def plan(loom: LoomContext, categories: tuple[str, ...], ignore: tuple[str, ...]) -> tuple[list[Instance], Selection]:
    from loomctl.checks.providers import app_refs

    cats = [resolve_category(c) for c in categories] if categories else category_names()
    ignored = {c.strip().upper() for c in ignore}
    specs = select(with_prerequisites(all_checks(cats)), ignored)
    used = {s.category for s in specs}
    sel = Selection([c for c in category_names() if c in used or c in cats], ignored,
                    parse_suppressions(loom.settings.get("suppress") or []))
    return expand(specs, app_refs(loom)), sel


def run(loom: LoomContext, instances: list[Instance], sel: Selection,
        on_result: Callable[[CheckResult], None], inputs: Inputs | None = None, **given: Any) -> list[CheckResult]:
    """Run the planned checks; `inputs` (from `build_inputs`) lets a caller share fetched data with them, and
    `given` sets inputs of the run (e.g. `inside_app` for `doctor --from-inside`)."""
    from loomctl.checks.providers import build_inputs

    modules = [m for n, m in CATEGORIES if n in sel.categories]
    inputs = inputs or build_inputs(loom, modules, **given)

    def observe(result: CheckResult) -> None:
        if suppressed(result, sel.suppress) and result.status in (Status.WARN, Status.FAIL):
            result.details["suppressed_status"] = result.status.value
            result.status = Status.SKIP
            result.message = f"suppressed by profile ({result.message})"
            result.hint = None
        on_result(result)

    return run_checks(instances, inputs, observe)
