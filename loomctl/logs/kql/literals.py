"""User values as KQL literals. Every value that reaches a query goes through here.

Strings become double-quoted literals with backslash escapes; control characters and line separators become
`\\uXXXX`, so a value can never end the literal, start a comment or add a line. Numbers, booleans, timespans and
datetimes are emitted from parsed Python values, never from the user's text.
"""

from __future__ import annotations

import datetime as _dt
import math
import re

_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f-\x9f\u2028\u2029]')


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group(0)
    if ch == '"':
        return '\\"'
    if ch == "\\":
        return "\\\\"
    return f"\\u{ord(ch):04x}"


def string(value: str) -> str:
    """`value` as a KQL string literal: `"..."` with `\\`, `"` and control characters escaped."""
    if not isinstance(value, str):
        raise TypeError(f"KQL string literal needs str, not {type(value).__name__}")
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, value) + '"'


def string_array(values: list[str]) -> str:
    """A dynamic array of strings, usable with `in (...)`: `pack_array("a", "b")` (`dynamic([])` when empty)."""
    if not values:
        return "dynamic([])"
    return "pack_array(" + ", ".join(string(v) for v in values) + ")"


def integer(value: int) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("KQL integer literal needs int")
    return f"long({value})" if value < 0 else str(value)


def real(value: float) -> str:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError("KQL real literal must be finite")
    return f"real({value!r})"


def boolean(value: bool) -> str:
    return "true" if value else "false"


def timespan(value: _dt.timedelta) -> str:
    """A timespan literal from a timedelta, in whole milliseconds (`300000ms`) or seconds (`300s`)."""
    ms = int(round(value.total_seconds() * 1000))
    if ms < 0:
        raise ValueError("KQL timespan literal must not be negative")
    if ms % 1000:
        return f"{ms}ms"
    seconds = ms // 1000
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def datetime(value: _dt.datetime) -> str:
    """`datetime(2026-11-28T04:00:00.000000Z)` in UTC (a naive datetime is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    utc = value.astimezone(_dt.timezone.utc)
    return "datetime(" + utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ") + ")"


def identifier(name: str) -> str:
    """A name loomctl itself chose (parameters, columns); rejects anything that is not a plain identifier."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", name):
        raise ValueError(f"not a KQL identifier: {name!r}")
    return name
