"""Text from outside (log lines, Azure names and messages, peer replies) made safe for a terminal or a text file.

`visible(s)` shows control characters instead of letting the terminal obey them: ESC (which starts every
escape sequence: window titles, clearing the screen, hyperlinks), the other C0 controls, DEL, the C1 controls
(U+0080-U+009F, CSI and OSC among them) and the bidirectional overrides and isolates (U+202A-U+202E,
U+2066-U+2069, which reorder what the reader sees). Each becomes a backslash escape: `\\x1b`, `\\x7f`, `\\u202e`;
newline and carriage return become `\\n` and `\\r`, so that one log record stays one line. A tab is kept: it only
moves the cursor to the next tab stop. Only the text and table outputs use this; JSON (and YAML) stay exact, their
escaping already keeps a terminal safe.

`safe(data)` applies `visible` to every string in a JSON-shaped value (what a table view renders: `Output.emit`
passes its data through it). The rich consoles (`ui.console`) never parse markup, so text like `[bold red]` from
Azure is printed as it is.
"""

from __future__ import annotations

import re
from typing import Any

_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def _show(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: Any) -> str:
    """`text` (any value, as `str()`) with control characters and bidi overrides shown as backslash escapes."""
    s = text if isinstance(text, str) else str(text)
    return _UNSAFE.sub(_show, s) if _UNSAFE.search(s) else s


def safe(data: Any) -> Any:
    """Every string in a JSON-shaped value (dict keys included) through `visible`; other values unchanged."""
    if isinstance(data, str):
        return visible(data)
    if isinstance(data, dict):
        return {safe(k): safe(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [safe(v) for v in data]
    return data

