"""loomctl checks list"""

from __future__ import annotations

from typing import Any

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.options import local_options


@click.group()
def checks() -> None:
    """The check catalogue."""


@checks.command("list")
@click.option("--category", "categories", multiple=True, metavar="NAME", help="Only this category (repeatable).")
@local_options
@pass_loom
def list_checks(loom: LoomContext, categories: tuple[str, ...]) -> None:
    """List every check: code, category, title, what a failure means, how to fix it."""
    from loomctl.checks.registry import all_checks, resolve_category

    cats = [resolve_category(c) for c in categories] or None
    rows = [{"code": s.code, "category": s.category, "title": s.title, "per_app": s.per_app,
             "after": list(s.after), "failure_means": s.explanation, "fix": s.fix, "docs": s.anchor}
            for s in all_checks(cats)]
    loom.output.emit(rows, table=_table)


def _table(rows: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    t = Table(header_style="bold", show_lines=False)
    t.add_column("Code", no_wrap=True)
    t.add_column("Category", no_wrap=True)
    t.add_column("Check")
    t.add_column("Failure means", overflow="fold")
    t.add_column("Fix", overflow="fold")
    for r in rows:
        t.add_row(r["code"], r["category"], r["title"], r["failure_means"], r["fix"])
    return t
