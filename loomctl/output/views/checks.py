"""What `loomctl checks list` shows: the check catalogue (doctor's results are drawn by `loomctl.checks.render`)."""

from __future__ import annotations

from typing import Any


def catalogue_table(rows: list[dict[str, Any]]) -> Any:
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
