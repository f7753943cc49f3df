"""Inputs that checks receive: computed once, on demand, thread-safe, and never shared mutable state.

A provider is a function `provider(inputs) -> value` registered under a name. A check that names it in
`needs` receives the value; a provider may itself ask `inputs.get(...)` for others. A provider that raises
raises again for every check that needs it (the error is memoised with the value).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

Provider = Callable[["Inputs"], Any]


class Inputs:
    def __init__(self, providers: dict[str, Provider], **given: Any):
        self._providers = dict(providers)
        self._values: dict[str, tuple[bool, Any]] = {k: (True, v) for k, v in given.items()}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, name: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(name, threading.Lock())

    def get(self, name: str) -> Any:
        if name in self._values:
            ok, value = self._values[name]
        else:
            with self._lock(name):
                if name not in self._values:
                    if name not in self._providers:
                        raise KeyError(f"no provider for input '{name}'")
                    try:
                        self._values[name] = (True, self._providers[name](self))
                    except BaseException as exc:  # noqa: BLE001 - memoised and re-raised
                        self._values[name] = (False, exc)
                ok, value = self._values[name]
        if not ok:
            raise value
        return value

    def has(self, name: str) -> bool:
        return name in self._values or name in self._providers
