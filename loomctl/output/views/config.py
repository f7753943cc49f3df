"""What `loomctl config show` shows: the effective settings and where each comes from."""

from __future__ import annotations

from typing import Any


def settings_table(d: dict[str, Any]) -> Any:
    from rich.table import Table

    t = Table(title=f"profile: {d['profile'] or '(none)'} — {d['config_file']}", title_justify="left",
              header_style="bold")
    for c in ("Key", "Value", "Source"):
        t.add_column(c, overflow="fold")
    for r in d["settings"]:
        v = r["value"]
        t.add_row(r["key"], ", ".join(v) if isinstance(v, list) else str(v), r["source"])
    return t
