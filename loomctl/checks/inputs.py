"""Inputs that checks receive: computed once, on demand, thread-safe, and never shared mutable state.

A provider is a function `provider(inputs) -> value` registered under a name. A check that names it in
`needs` receives the value; a provider may itself ask `inputs.get(...)` for others. A provider that raises
raises again for every check that needs it (the error is memoised with the value).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loomctl.core.once import OncePerKey

Provider = Callable[["Inputs"], Any]


class Inputs:
    def __init__(self, providers: dict[str, Provider], **given: Any):
        self._providers = dict(providers)
        # name -> (ok, value or the exception it raised)
        self._values = OncePerKey({k: (True, v) for k, v in given.items()})
        self.started = OncePerKey()  # background work started once for these inputs (`providers.fetch_plan`)

    def _compute(self, name: str) -> tuple[bool, Any]:
        try:
            return True, self._providers[name](self)
        except BaseException as exc:  # noqa: BLE001 - memoised and re-raised
            return False, exc

    def get(self, name: str) -> Any:
        if name not in self._values and name not in self._providers:
            raise KeyError(f"no provider for input '{name}'")
        ok, value = self._values.get(name, lambda: self._compute(name))
        if not ok:
            raise value
        return value

    def has(self, name: str) -> bool:
        return name in self._values or name in self._providers
