"""Values built once per key, thread-safely: concurrent callers asking for one key wait for its one build, while
builds of other keys go on (a build may itself ask for another key)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class OncePerKey:
    def __init__(self, initial: dict[str, Any] | None = None):
        self._values: dict[str, Any] = dict(initial or {})
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str, build: Callable[[], Any]) -> Any:
        """The value for `key`, built by `build()` the first time. If `build` raises, nothing is kept."""
        if key in self._values:
            return self._values[key]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                self._values[key] = build()
            return self._values[key]

    def __contains__(self, key: str) -> bool:
        return key in self._values
