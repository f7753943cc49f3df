"""A runbook as Markdown for an operations wiki (`loomctl runbook show NAME`)."""

from __future__ import annotations

from typing import Any

from loomctl.runbooks import Runbook, Step, fill


def _check_lines(step: Step) -> list[str]:
    from loomctl.checks.registry import all_checks, category_names

    if step.category:
        if step.category not in category_names():
            return [f"   - every check of the {step.category} category (`loomctl doctor --category "
                    f"{step.category.lower()}`)"]
        specs = all_checks([step.category])
    else:
        catalogue = {s.code: s for s in all_checks()}
        specs = [catalogue[c] for c in step.check if c in catalogue]
        missing = [c for c in step.check if c not in catalogue]
        if missing:
            return [f"   - {c}" for c in step.check]
    return [f"   - **{s.code}** {s.title}. If it fails: {s.fix}" for s in specs]


def markdown(rb: Runbook, values: dict[str, Any] | None = None) -> str:
    """`values` fill `{relay_app}`-style placeholders (from the profile)."""
    lines = [f"# Runbook: {rb.title}", "", rb.summary, ""]
    if rb.source:
        lines += [f"_Source: {rb.source}_", ""]
    lines += [f"Run it: `loomctl runbook run {rb.name}` (stops at the first step that explains the problem; "
              "`--all` runs every step).", "", "## Steps", ""]
    for i, step in enumerate(rb.steps, 1):
        if step.kind == "check":
            what = (f"the {step.category} checks" if step.category else "checks " + ", ".join(step.check))
            lines.append(f"{i}. **{step.title}** ({what})")
            lines += _check_lines(step)
        elif step.kind == "query":
            flag = " Rows here explain the problem." if step.problem_if_rows else ""
            if step.expect:
                e = step.expect
                lo = f"{e['min']:g}" if e.get("min") is not None else "-"
                hi = f"{e['max']:g}" if e.get("max") is not None else "-"
                flag += f" Expect {e['column']} between {lo} and {hi}."
            lines.append(f"{i}. **{step.title}**: `loomctl query run {step.query} --since 1h`.{flag}")
        else:
            lines.append(f"{i}. **{step.title}**: {fill(step.instruction or '', values or {})}")
        if step.why:
            lines.append(f"   - _Note:_ {step.why}")
    lines += ["", "## If no step explains it", "", fill(rb.next, values or {}), ""]
    return "\n".join(lines)
