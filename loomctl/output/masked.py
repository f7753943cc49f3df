"""stdout and stderr as loomctl writes them: every text passes `core.secrets.mask_text` on its way out.

`masked_streams()` wraps both for one command run (`cli.py`), so a credential that looks like one by its content
(a URL's password, a SAS signature, an account key, a JWT, a Bearer token) never reaches the terminal, a pipe or a
log, whichever command, view, log record or traceback printed it. Values hidden by their name are masked where
the data is built (`core.secrets.mask`). Each write is masked on its own: click and rich write whole lines.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from loomctl.core.secrets import mask_text


class MaskedStream:
    """A text stream that masks what is written and passes everything else to the stream it wraps."""

    def __init__(self, inner: Any):
        self.inner = inner

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click asks "is this a binary stream?" by writing b""
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.inner.write(mask_text(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, flush, encoding, errors, buffer ...
        return getattr(self.inner, name)


@contextmanager
def masked_streams() -> Iterator[None]:
    """sys.stdout and sys.stderr masked for the duration (not wrapped twice)."""
    saved = sys.stdout, sys.stderr
    if not isinstance(sys.stdout, MaskedStream):
        sys.stdout = MaskedStream(sys.stdout)  # type: ignore[assignment]
    if not isinstance(sys.stderr, MaskedStream):
        sys.stderr = MaskedStream(sys.stderr)  # type: ignore[assignment]
    try:
        yield
    finally:
        stop_debug_log()
        sys.stdout, sys.stderr = saved


# -- --debug: the SDKs' logs (requests, responses, sign-in) on stderr, masked ---------------------------------
DEBUG_LOGGERS = {"azure": "INFO", "msal": "INFO", "urllib3": "DEBUG", "loomctl": "DEBUG"}


class _StderrHandler(logging.Handler):
    """Writes each record to the current sys.stderr (masked), so it follows the stream of the command run."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001 - logging must never break the command
            self.handleError(record)
            return
        sys.stderr.write(mask_text(f"debug: {text}\n"))


_HANDLER = _StderrHandler()
_HANDLER.setFormatter(logging.Formatter("%(name)s: %(message)s"))


def start_debug_log() -> None:
    """`--debug`: the loggers of DEBUG_LOGGERS write to stderr until the command run ends."""
    for name, level in DEBUG_LOGGERS.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if _HANDLER not in logger.handlers:
            logger.addHandler(_HANDLER)


def stop_debug_log() -> None:
    for name in DEBUG_LOGGERS:
        logging.getLogger(name).removeHandler(_HANDLER)
