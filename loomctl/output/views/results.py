"""Rendering of query results: capped rich tables, streamed JSON, sparklines, empty and partial results."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable
from typing import Any

from loomctl.core import environment
from loomctl.core.errors import ProblemsFound
from loomctl.core.timeutil import local_time
from loomctl.output.text import visible

SPARKS = "▁▂▃▄▅▆▇█"
WIDE_COLUMNS = {"Log", "Sample", "message", "Reasons"}


def table_cap() -> int:
    return max(1, environment.get("LOOMCTL_TABLE_ROWS"))


def sparkline(values: list[float | None]) -> str:
    nums = [v for v in values if isinstance(v, (int, float))]
    if not nums:
        return ""
    lo, hi = min(nums), max(nums)
    out = []
    for v in values:
        if not isinstance(v, (int, float)):
            out.append(" ")
        elif hi == lo:
            out.append(SPARKS[len(SPARKS) // 2])
        else:
            out.append(SPARKS[min(len(SPARKS) - 1, int((v - lo) / (hi - lo) * (len(SPARKS) - 1) + 0.5))])
    return "".join(out)


def _fmt_number(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1e6 or (abs(v) >= 1e3 and v.is_integer()) else f"{v:,.1f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def charts(columns: list[str], rows: list[list[Any]], chart: Iterable[str]) -> list[dict[str, Any]]:
    """One series per chart column (and per App when the rows carry one): values in row order."""
    idx = {c: i for i, c in enumerate(columns)}
    group = idx.get("App")
    out = []
    for col in chart:
        if col not in idx:
            continue
        groups: dict[str, list[Any]] = {}
        for r in rows:
            key = str(r[group]) if group is not None else ""
            groups.setdefault(key, []).append(r[idx[col]])
        for key, values in groups.items():
            nums = [v for v in values if isinstance(v, (int, float))]
            out.append({"series": f"{col}" + (f" {key}" if key else ""), "spark": sparkline(values),
                        "min": min(nums) if nums else None, "max": max(nums) if nums else None,
                        "last": nums[-1] if nums else None, "points": len(values)})
    return out


def cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return local_time(v)
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return _fmt_number(v)
    return visible(str(v).replace("\n", " ⏎ "))


def _console_width() -> int:
    from loomctl.output.ui import console

    return int(console().width or 120)


def fit_widths(columns: list[str], texts: list[list[str]], total: int, cap: int = 40,
               keep: list[bool] | None = None) -> list[int]:
    """Column widths that fit `total`: narrow columns at their natural width (at most `cap`), text columns
    (Log, Sample, ...) take what is left; when even that does not fit, the widest columns give way first."""
    natural = [max([len(c)] + [len(t[i]) for t in texts]) for i, c in enumerate(columns)]
    wide = [c in WIDE_COLUMNS for c in columns]
    widths = [n if w else min(n, cap) for n, w in zip(natural, wide)]
    budget = total - 2 * (len(columns) - 1) - 1  # padding between columns
    fixed = sum(w for w, is_wide in zip(widths, wide) if not is_wide)
    n_wide = sum(wide)
    if n_wide:
        room = max(40 * n_wide, budget - fixed)
        for i, is_wide in enumerate(wide):
            if is_wide:
                widths[i] = max(8, min(natural[i], room // n_wide))
    while sum(widths) > budget:  # narrow columns give way first (down to 10), then the text columns
        narrow = [(w, i) for i, w in enumerate(widths) if not wide[i] and w > 10 and not (keep and keep[i])]
        pool = narrow or [(w, i) for i, w in enumerate(widths) if w > 8]
        if not pool:
            break
        widths[max(pool)[1]] -= 1
    return widths


def render_table(columns: list[str], rows: list[list[Any]], chart: Iterable[str] = (), cap: int | None = None,
                 title: str | None = None) -> list[Any]:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    cap = cap or table_cap()
    shown = rows[:cap]
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    texts = [[cell_text(v) for v in r] for r in shown]
    keep = [bool(shown) and isinstance(shown[0][i], dt.datetime) for i in range(len(columns))]  # times stay whole
    widths = fit_widths(columns, texts[:200], _console_width(), keep=keep)
    for i, c in enumerate(columns):
        c = visible(c)
        numeric = any(isinstance(r[i], (int, float)) and not isinstance(r[i], bool) for r in shown[:20])
        table.add_column(c, no_wrap=True, overflow="ellipsis", justify="right" if numeric else "left",
                         width=widths[i])
    for t in texts:
        table.add_row(*t)
    out: list[Any] = ([Text(visible(title), style="bold")] if title else []) + [table]
    left = len(rows) - len(shown)
    if left > 0:
        out.append(Text(f"… {left:,} more rows not shown ({len(rows):,} in all): use -o json for every row, "
                        "or narrow the range", style="dim"))
    series = charts(columns, rows, chart)
    if series:
        grid = Table.grid(padding=(0, 2))
        for _ in range(5):
            grid.add_column()
        for s in series:
            grid.add_row(Text(visible(s["series"]), style="bold"), s["spark"], f"min {cell_text(s['min'])}",
                         f"max {cell_text(s['max'])}", f"last {cell_text(s['last'])}")
        out.append(grid)
    return out


def stream_json(columns: list[str], rows: Iterable[list[Any]], small: bool = True) -> None:
    """A JSON array of row objects written in chunks (the whole document is never built as one string).
    Datetimes in UTC with a Z."""
    out = sys.stdout
    write = out.write

    def default(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            if v.tzinfo is None:
                v = v.replace(tzinfo=dt.timezone.utc)
            return v.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
        return str(v)

    encoder = json.JSONEncoder(ensure_ascii=False, default=default)
    chunk: list[dict[str, Any]] = []
    first = True
    write("[")

    def flush() -> None:
        nonlocal first
        if not chunk:
            return
        if small:
            text = ",\n  ".join(map(encoder.encode, chunk))  # one row per line
        else:  # big results: one C-level encode per chunk (~3x faster than per row), rows on one line
            text = encoder.encode(chunk)[1:-1]
        write(("\n  " if first else ",\n  ") + text)
        first = False
        chunk.clear()

    for row in rows:
        chunk.append(dict(zip(columns, row)))
        if len(chunk) >= 5000:
            flush()
    flush()
    write("\n]\n" if not first else "]\n")
    out.flush()


def emit_result(loom: Any, result: Any, chart: Iterable[str] = (), title: str | None = None) -> None:
    """Print a QueryResult in the chosen format; empty results and partial results say so on stderr."""
    from loomctl.output import ui
    from loomctl.output.formats import Format

    out = loom.output
    if not result.rows:
        msg = f"no rows between {local_time(result.start)} and {local_time(result.end)}"
        if out.format is Format.TABLE and not out.query:
            ui.info(msg)
        else:
            out.emit([])
            ui.info(msg)
    elif out.format is Format.JSON and not out.query:
        stream_json(result.columns, result.rows, small=len(result.rows) <= 5000)
    elif out.format is Format.TABLE and not out.query:
        out.emit(None, table=lambda _: render_table(result.columns, result.rows, chart, title=title))
    else:
        out.emit(result.records())
    if result.partial_error:
        ui.warn(f"partial result: {result.partial_error}")
        ui.info("hint: the rows above are incomplete; narrow the range or the filters and run again")
        raise ProblemsFound()  # the warning above says it
    sys.stdout.flush()
