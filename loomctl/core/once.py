"""Values built once, thread-safely: concurrent callers asking for one key wait for its one build, while builds of
other keys go on (a build may itself ask for another key). `once` is the same for a function without arguments.
Every lazily filled module-level value in loomctl goes through here (or holds an immutable value from the start)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class OncePerKey:
    def __init__(self, initial: dict[Hashable, Any] | None = None):
        self._values: dict[Hashable, Any] = dict(initial or {})
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The value for `key`, built by `build()` the first time. If `build` raises, nothing is kept."""
        if key in self._values:
            return self._values[key]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                self._values[key] = build()
            return self._values[key]

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values


def once(build: Callable[[], T]) -> Callable[[], T]:
    """`build` called the first time only: every later caller (and every caller meanwhile, who waits for that one
    build) gets the same value. Use it for module-level state that is filled on first use; keep the value
    immutable (a tuple, a frozen dataclass, a MappingProxyType) when callers could change it."""
    values = OncePerKey()

    @functools.wraps(build)
    def get() -> T:
        return values.get(None, build)

    return get
