"""What `loomctl logs` prints: Log Analytics lines (text, JSON lines or a document) and live log stream lines."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

import click

from loomctl.core.timeutil import local_time
from loomctl.logs.matching import is_error_line
from loomctl.output.text import visible

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.aca.logstream import LogLine as LiveLine
    from loomctl.core.context import LoomContext
    from loomctl.logs.query import LogLine


# -- Log Analytics (`loomctl logs`, `--follow`) ------------------------------------------------------------
def format_line(line: LogLine, color: bool) -> str:
    """One record, one line: what came from Log Analytics has its control characters shown (`visible`)."""
    where = f"{line.app}/{line.replica}" if line.replica else line.app
    tag = f" [{line.stream}]" if line.stream and line.stream not in ("stdout",) else ""
    text = visible(f"{local_time(line.time)} {where}{tag} {line.message}")
    if color and is_error_line(line.message):
        return click.style(text, fg="red")
    return text


def print_lines(loom: LoomContext, lines: Iterable[LogLine], ndjson: bool = False) -> int:
    from loomctl.output.formats import Format
    from loomctl.output.ui import color_enabled

    out = loom.output
    lines = list(lines)
    if out.format is Format.TABLE and not out.query:
        color = color_enabled()
        for line in lines:
            click.echo(format_line(line, color))
    elif ndjson:
        for line in lines:
            click.echo(json.dumps(line.to_json(), ensure_ascii=False))
    else:
        out.emit([line.to_json() for line in lines])
    return len(lines)


# -- the log stream (`loomctl logs --live`) ---------------------------------------------------------------
def live_time(line: LiveLine, utc: bool = False) -> str:
    """JSON: UTC (`...Z`); text: local time with its offset, as `loomctl logs` shows Log Analytics rows."""
    if line.time is None:
        return line.raw_time or "-"
    if utc:
        return line.time.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return line.time.astimezone().isoformat(sep=" ", timespec="milliseconds")


def live_line(line: LiveLine, merged: bool, system: bool, as_json: bool) -> str:
    """A log stream line: JSON exact, text with its control characters shown (`visible`), one line each."""
    if as_json:
        return json.dumps({"time": live_time(line, utc=True), "replica": line.replica, "container": line.container,
                           "type": line.type, "reason": line.reason, "text": line.text}, ensure_ascii=False)
    parts = [live_time(line)]
    if system:
        parts += [line.type or "-", line.reason or "-"]
        if line.replica:
            parts.append(f"[{line.replica}]")
    elif merged and line.replica:
        parts.append(f"[{line.replica}]")
    parts.append(line.text)
    return visible(" ".join(parts))
