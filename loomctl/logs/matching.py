"""Which log lines count as errors and which match `--grep`: the Python side of the rules the KQL applies.

`is_error_line` and `matches_grep` follow the same rules as the KQL (`_is_error` uses `has_any` over
`ERROR_TERMS`, `--grep` uses `contains`), so live log lines are filtered as Log Analytics filters history.
"""

from __future__ import annotations

import re

# Whole terms (as KQL `has`: case-insensitive, bounded by non-alphanumeric characters).
ERROR_TERMS: tuple[str, ...] = (
    "error", "err", "errors", "exception", "fatal", "panic", "critical", "crit", "unhandled", "uncaught",
    "traceback", "failed", "failure", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EACCES", "ENOENT", "EPIPE",
    "EXDEV", "ENOSPC",
)
_ERROR_RE = re.compile(r"(?<![0-9A-Za-z])(?:" + "|".join(re.escape(t) for t in ERROR_TERMS) + r")(?![0-9A-Za-z])",
                       re.IGNORECASE)


def is_error_line(text: str | None) -> bool:
    """True when the line holds one of ERROR_TERMS as a whole term (what `loomctl logs --errors` keeps)."""
    return bool(text) and _ERROR_RE.search(text) is not None


def matches_grep(text: str | None, pattern: str | None) -> bool:
    """`--grep`: a case-insensitive substring match (KQL `contains`). No pattern matches every line."""
    if not pattern:
        return True
    return pattern.casefold() in (text or "").casefold()
