"""Output formats, chosen once per command: table (rich), json, yaml, tsv, none; plus `--query` (JMESPath)."""

from __future__ import annotations

import datetime as _dt
import enum
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, is_dataclass
from typing import Any

import click

from loomctl.core import environment
from loomctl.core.errors import LoomError, UsageError
from loomctl.output.text import safe, visible


class Format(str, enum.Enum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"
    TSV = "tsv"
    NONE = "none"


FORMAT_NAMES = [f.value for f in Format]


def default_format() -> Format:
    env = environment.get("LOOMCTL_OUTPUT")
    if env in FORMAT_NAMES:
        return Format(env)
    return Format.TABLE if sys.stdout.isatty() else Format.JSON


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, datetimes and paths to plain JSON values."""
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return value.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, (_dt.date, _dt.timedelta)):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def apply_query(data: Any, query: str | None) -> Any:
    if not query:
        return data
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.search(query, data)
    except JMESPathError as exc:
        raise UsageError(f"invalid --query '{_short(query)}': {str(exc).splitlines()[0]}",
                         "see https://jmespath.org for the syntax, e.g. --query 'apps[].name'") from None
    except RecursionError:  # jmespath parses and evaluates recursively
        raise UsageError(f"--query is nested too deeply ({len(query)} characters): '{_short(query)}'",
                         "write a flatter JMESPath expression, e.g. --query 'apps[].name'") from None


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def _non_finite(value: Any, path: str = "") -> str | None:
    """Where (a JMESPath-like path) `value` holds NaN or an infinity, else None."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return path or "the top level"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        found = _non_finite(v, f"{path}[{k}]" if isinstance(k, int) else f"{path}.{k}" if path else str(k))
        if found:
            return found
    return None


def dump_json(data: Any) -> str:
    """JSON as RFC 8259 has it: a NaN or an infinity (which json.dumps would write as bare NaN/Infinity, which no
    JSON parser reads) is an error naming where it is."""
    try:
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError:
        where = _non_finite(data)
        if where is None:
            raise
        raise LoomError(f"cannot write JSON: the value at {where} is not a finite number (JSON has no NaN or "
                        "Infinity)", "use -o yaml or -o table, or leave the value out with --query") from None


def dump_yaml(data: Any) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _tsv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return visible(str(value).replace("\t", " ").replace("\n", " "))


def tsv_lines(data: Any) -> Iterable[str]:
    """Like `az -o tsv`: one line per row, values of a row separated by tabs, no header."""
    rows = data if isinstance(data, list) else [data]
    for row in rows:
        if isinstance(row, dict):
            yield "\t".join(_tsv_cell(v) for v in row.values())
        elif isinstance(row, list):
            yield "\t".join(_tsv_cell(v) for v in row)
        else:
            yield _tsv_cell(row)


def generic_table(data: Any) -> Any:
    """A rich renderable for arbitrary data (used when --query reshapes output or a command has no table)."""
    from rich.table import Table

    rows = data if isinstance(data, list) else [data]
    if rows and all(isinstance(r, dict) for r in rows):
        columns: list[str] = []
        for r in rows:
            for k in r:
                if k not in columns:
                    columns.append(k)
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for c in columns:
            table.add_column(str(c))
        for r in rows:
            table.add_row(*[_tsv_cell(r.get(c)) for c in columns])
        return table
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column("value")
    for r in rows:
        table.add_row(_tsv_cell(r))
    return table


class Output:
    """The output handler of one command invocation."""

    def __init__(self, fmt: Format, query: str | None = None):
        self.format = fmt
        self.query = query

    @property
    def is_table(self) -> bool:
        return self.format is Format.TABLE

    def emit(self, data: Any, table: Callable[[Any], Any] | None = None) -> None:
        """Print `data`. For the table format, `table(data)` returns a rich renderable (or a list of them)."""
        data = to_jsonable(data)
        if self.query:
            data = apply_query(data, self.query)
            table = None
        if self.format is Format.NONE:
            return
        if self.format is Format.JSON:
            click.echo(dump_json(data))
        elif self.format is Format.YAML:
            click.echo(dump_yaml(data), nl=False)
        elif self.format is Format.TSV:
            for line in tsv_lines(data):
                click.echo(line)
        else:
            from loomctl.output.ui import console

            data = safe(data)  # text from outside reaches the terminal with its control characters shown
            renderables = table(data) if table else generic_table(data)
            con = console()
            for r in renderables if isinstance(renderables, list) else [renderables]:
                con.print(r)
