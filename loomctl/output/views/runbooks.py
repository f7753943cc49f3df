"""What `loomctl runbook list` shows (a run's steps are printed by `loomctl.runbooks.render`)."""

from __future__ import annotations

from typing import Any


def runbook_list(rows: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    t = Table(header_style="bold", box=None, pad_edge=False)
    t.add_column("Name", no_wrap=True)
    t.add_column("Title", no_wrap=True)
    t.add_column("Steps", justify="right")
    t.add_column("What it is for", overflow="fold")
    for r in rows:
        t.add_row(r["name"], r["title"], str(r["steps"]), r["summary"])
    return t
