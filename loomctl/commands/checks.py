"""loomctl checks list"""

from __future__ import annotations

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
    from loomctl.output.views.checks import catalogue_table

    cats = [resolve_category(c) for c in categories] or None
    rows = [{"code": s.code, "category": s.category, "title": s.title, "per_app": s.per_app,
             "after": list(s.after), "failure_means": s.explanation, "fix": s.fix, "docs": s.anchor}
            for s in all_checks(cats)]
    loom.output.emit(rows, table=catalogue_table)
