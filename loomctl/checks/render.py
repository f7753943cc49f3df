"""Observers that render check results as they arrive: table, short (problems only) and JSON/YAML."""

from __future__ import annotations

import sys
from typing import Any

import click

from loomctl.checks.base import CheckResult, Status
from loomctl.output.text import visible
from loomctl.output.ui import color_enabled

SYMBOLS = {Status.PASS: "✓", Status.WARN: "‼", Status.FAIL: "×", Status.SKIP: "-"}
COLORS = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "red", Status.SKIP: "bright_black"}


def _enc_safe(symbol: str) -> str:
    enc = (getattr(sys.stdout, "encoding", None) or "utf-8").lower()
    if "utf" in enc:
        return symbol
    return {"✓": "ok", "‼": "!!", "×": "x"}.get(symbol, symbol)


def summarize(results: list[CheckResult]) -> dict[str, int]:
    counts = {s.value: 0 for s in Status}
    for r in results:
        counts[r.status.value] += 1
    return counts


def is_success(results: list[CheckResult], fail_on_warn: bool = False) -> bool:
    bad = {Status.FAIL, Status.WARN} if fail_on_warn else {Status.FAIL}
    return not any(r.status in bad for r in results)


def summary_line(results: list[CheckResult], fail_on_warn: bool = False) -> str:
    c = summarize(results)
    verdict = "all checks passed" if is_success(results, fail_on_warn) else "problems found"
    return (f"Status check results: {verdict} — {c['pass']} passed, {c['warn']} warnings, "
            f"{c['fail']} failed, {c['skip']} skipped")


class TableRenderer:
    """linkerd-style lines, printed in catalogue order as soon as every earlier check has finished."""

    def __init__(self, order: list[tuple[str, str | None]], short: bool = False, fail_on_warn: bool = False,
                 where: str | None = None, quiet_skips: bool = False):
        self.order = order
        self.quiet_skips = quiet_skips  # hide "skipped: prerequisite ..." lines (a profile with azure = false)
        self.short = short
        self.fail_on_warn = fail_on_warn
        self.where = where
        self._ready: dict[tuple[str, str | None], CheckResult] = {}
        self._next = 0
        self._category: str | None = None
        self._color = color_enabled()
        self.results: list[CheckResult] = []
        self._skipped: dict[tuple[tuple[str, str | None], ...], int] = {}  # cause -> checks skipped for it

    def _s(self, text: str, **kw: Any) -> str:
        return click.style(text, **kw) if self._color else text

    def __call__(self, result: CheckResult) -> None:
        self._ready[result.key] = result
        while self._next < len(self.order) and self.order[self._next] in self._ready:
            self._print(self._ready[self.order[self._next]])
            self._next += 1

    def _print(self, r: CheckResult) -> None:
        self.results.append(r)
        if self.short and r.status not in (Status.WARN, Status.FAIL):
            return
        if r.status is Status.SKIP and r.causes:  # one line per cause, at the end (JSON keeps each check)
            if not self.quiet_skips:
                self._skipped[r.causes] = self._skipped.get(r.causes, 0) + 1
            return
        if r.category != self._category:
            if self._category is not None:
                click.echo("")
            self._category = r.category
            click.echo(self._s(r.category, bold=True))
            click.echo(self._s("-" * len(r.category), bold=True))
        sym = self._s(_enc_safe(SYMBOLS[r.status]), fg=COLORS[r.status], bold=True)
        res = f" [{visible(r.resource)}]" if r.resource else ""  # resources, messages and hints quote Azure
        line = f"{sym} {r.code} {r.title}{res}"
        if r.status is not Status.PASS or r.message:
            line += self._s(f": {visible(r.message)}", fg=None if r.status is Status.PASS else COLORS[r.status])
        click.echo(line)
        if r.hint and r.status in (Status.WARN, Status.FAIL):
            click.echo(f"    hint: {visible(r.hint)}")
            click.echo(self._s(f"    see {_docs(r.code)}", fg="bright_black"))

    def finish(self) -> None:
        while self._next < len(self.order):  # anything left (should not happen) in order
            key = self.order[self._next]
            if key in self._ready:
                self._print(self._ready[key])
            self._next += 1
        click.echo("")
        if self._skipped:
            by_key = {r.key: r for r in self.results}
            for causes, count in self._skipped.items():
                click.echo(self._s(f"{SYMBOLS[Status.SKIP]} {skipped_line(count, [by_key[c] for c in causes])}",
                                   fg=COLORS[Status.SKIP]))
            click.echo("")
        ok = is_success(self.results, self.fail_on_warn)
        mark = self._s(_enc_safe("✓" if ok else "×"), fg="green" if ok else "red", bold=True)
        click.echo(f"{mark} {summary_line(self.results, self.fail_on_warn)}")


def skipped_line(count: int, roots: list[CheckResult]) -> str:
    """"54 checks skipped: they need LOOM101 signed in to Azure, which failed": the checks skipped for one cause."""
    names: dict[tuple[str, str], list[str]] = {}
    for r in roots:
        names.setdefault((r.code, r.title), []).extend([r.resource] if r.resource else [])
    need = ", ".join(f"{code} {title}" + (f" [{', '.join(res)}]" if res else "")
                     for (code, title), res in names.items())
    statuses = {r.status for r in roots}
    verb = ("failed" if statuses == {Status.FAIL} else
            ("was" if len(roots) == 1 else "were") + " skipped" if statuses == {Status.SKIP} else "did not pass")
    who = "checks skipped: they need" if count != 1 else "check skipped: it needs"
    return f"{count} {who} {need}, which {verb}"


def _docs(code: str) -> str:
    from loomctl.checks.base import DOCS_URL

    return f"{DOCS_URL}#{code.lower()}"


def as_document(results: list[CheckResult], fail_on_warn: bool = False) -> dict[str, Any]:
    """The JSON shape: {"success", "summary", "categories": [{"name", "checks": [...]}]}."""
    categories: list[dict[str, Any]] = []
    index: dict[str, dict[str, Any]] = {}
    for r in results:
        if r.category not in index:
            index[r.category] = {"name": r.category, "checks": []}
            categories.append(index[r.category])
        index[r.category]["checks"].append(r.to_json())
    return {"success": is_success(results, fail_on_warn), "summary": summarize(results), "categories": categories}


class CollectingRenderer:
    """For json/yaml/tsv: collect, then print one document at the end."""

    def __init__(self) -> None:
        self.results: list[CheckResult] = []

    def __call__(self, result: CheckResult) -> None:
        self.results.append(result)
