"""What `loomctl query list` shows (the rows of `query run` are drawn by `results`)."""

from __future__ import annotations

from typing import Any


def query_list(rows: list[dict[str, Any]]) -> Any:
    from rich import box
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    t.add_column("Name", no_wrap=True)
    t.add_column("Description", ratio=3)
    t.add_column("Parameters", ratio=1)
    for r in rows:
        t.add_row(r["name"], r["description"], ", ".join(f"{p['name']}={p['default']}" for p in r["params"]) or "-")
    return t
