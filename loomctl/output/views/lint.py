"""What `loomctl lint` shows: per file, each finding at file:line:column, then one summary line."""

from __future__ import annotations

from typing import Any

import click

from loomctl.checks.base import Status
from loomctl.output.text import visible

SYMBOL = {"fail": "×", "warn": "‼", "skip": "-", "pass": "✓"}


def shown(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Problems, suppressions and what was not judged for an expression; passes and plain skips are counted."""
    return [f for f in doc["findings"] if (f["status"] in ("fail", "warn") or f["not_judged"] or f["suppressed"])
            and not f["told_by"]]


def render(doc: dict[str, Any]) -> None:
    from loomctl.checks.render import COLORS, _enc_safe
    from loomctl.output.ui import color_enabled

    color = color_enabled()
    current = None
    for f in shown(doc):
        if f["file"] != current:
            current = f["file"]
            click.echo(click.style(visible(current), bold=True) if color else visible(current))
        mark = _enc_safe(SYMBOL[f["status"]])
        if color:
            mark = click.style(mark, fg=COLORS[Status(f["status"])])
        who = f" {visible(f['resource'])}:" if f["resource"] else ""
        click.echo(f"  {f['line']}:{f['column']} {mark} {f['code']}{who} {visible(f['message'])}")
        if f["hint"]:
            click.echo(f"      fix: {visible(f['hint'])}")
    s = doc["summary"]
    verdict = "problems found" if s["problems"] else "no problems"
    click.echo(f"lint: {verdict} — {s['deployments']} deployment(s) in {len(doc['files'])} file(s): "
               f"{s['fail']} failed, {s['warn']} warnings, {s['not_judged']} not judged, {s['suppressed']} suppressed, "
               f"{s['pass']} passed")
