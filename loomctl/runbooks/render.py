"""Print runbook steps as they finish (table output)."""

from __future__ import annotations

from typing import Any

import click

from loomctl.checks.base import Status
from loomctl.output.text import visible
from loomctl.output.ui import color_enabled
from loomctl.runbooks import Runbook

MARKS = {"pass": ("✓", "green"), "warn": ("‼", "yellow"), "fail": ("×", "red"), "error": ("×", "red"),
         "skip": ("-", "bright_black"), "not-run": ("-", "bright_black"), "info": ("i", "cyan")}


class StepPrinter:
    def __init__(self, rb: Runbook):
        self.color = color_enabled()
        click.echo(self._s(f"Runbook: {rb.title}", bold=True))
        click.echo(rb.summary)
        click.echo("")

    def _s(self, text: str, **kw: Any) -> str:
        return click.style(text, **kw) if self.color else text

    def __call__(self, r: Any) -> None:
        from loomctl.checks.render import COLORS, SYMBOLS, _enc_safe

        mark, color = MARKS[r.status]
        click.echo(f"{r.index}. {self._s(_enc_safe(mark), fg=color, bold=True)} {r.step.title}")
        if r.checks:
            for c in r.checks:
                res = f" [{visible(c.resource)}]" if c.resource else ""
                click.echo(f"     {self._s(_enc_safe(SYMBOLS[c.status]), fg=COLORS[c.status])} {c.code}{res}: "
                           f"{visible(c.message)}")
                if c.hint and c.status in (Status.WARN, Status.FAIL):
                    click.echo(f"       hint: {visible(c.hint)}")
        else:  # messages, query rows and hints carry Azure's text and log lines
            click.echo(f"     {visible(r.message)}")
            for row in r.rows or []:
                click.echo("       " + visible(", ".join(f"{k}={v}" for k, v in row.items())))
            if r.hint:
                click.echo(f"     hint: {visible(r.hint)}")

    def finish(self, result: Any) -> None:
        click.echo("")
        if result.stopped_at is not None:
            click.echo(self._s(f"Stopped at step {result.stopped_at}: it explains the problem "
                               f"({len(result.runbook.steps) - result.stopped_at} later step(s) not run).", bold=True))
        elif result.problem:
            click.echo(self._s("Problems found.", bold=True))
        else:
            click.echo(self._s("No step found a problem.", bold=True))
        first, *rest = result.next.splitlines() or [""]
        if rest or first.startswith("- "):
            click.echo("Next:")
            for line in [first, *rest]:  # each line quotes a step's hint or message
                click.echo(f"  {visible(line)}")
        else:
            click.echo(f"Next: {visible(first)}")
