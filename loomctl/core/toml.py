"""Writing TOML. tomli-w encodes every key and value (strings with control characters included); the layout is
ours and stays compact: arrays and inline tables on one line, as a person would write them."""

from __future__ import annotations

from typing import Any


def key(k: str) -> str:
    """A key: bare when it can be, else a quoted string."""
    import tomli_w

    return tomli_w.dumps({k: 0})[: -len(" = 0\n")]


def value(v: Any) -> str:
    """A value on one line: inline tables skip None entries; anything else tomli-w cannot write is a TypeError."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items() if x is not None) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(x) for x in v) + "]"
    import tomli_w

    return tomli_w.dumps({"v": v})[len("v = "):-1]


def string(s: str) -> str:
    """A string, always quoted (for table names that should read as names)."""
    return value(str(s))
