"""Force the interleaving of a check-then-fill race instead of hoping for it.

`fresh_module(name)` loads a private copy of a loomctl module, so its module-level state is cold (as in a new
process) while the copy every other test uses stays as it is.

`Interleave(second)`: the test makes the first caller's build call `pause()` (through a patched step inside it).
`pause()` starts `second` on another thread and holds the first caller until `second` has either returned (the
code did not wait for the build: the race) or is blocked on a lock (a line `with ...lock...:` in loomctl code,
`core/once.py` included). Either way the order is fixed by the code under test, not by timing: without a lock
`second` always runs to its end inside the first caller's build; with one it always waits for that build.
"""

from __future__ import annotations

import importlib.util
import linecache
import sys
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

SAFETY_NET = 30.0  # seconds; only reached when the code under test hangs


def fresh_module(name: str) -> ModuleType:
    found = importlib.util.find_spec(name)
    assert found is not None and found.origin, name
    private = f"fresh.{name}"  # its own name, so that the copy never replaces the module the others use
    spec = importlib.util.spec_from_file_location(private, found.origin)
    assert spec is not None and spec.loader is not None, name
    module = importlib.util.module_from_spec(spec)
    sys.modules[private] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[private]
    return module


def waiting_on_lock(thread: threading.Thread) -> bool:
    """True when the thread's innermost Python frame is a `with ... lock ...:` line of loomctl."""
    frame = sys._current_frames().get(thread.ident or -1)
    if frame is None or "loomctl" not in frame.f_code.co_filename:
        return False
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return line.startswith("with ") and "lock" in line.lower()


class Interleave:
    def __init__(self, second: Callable[[], Any]):
        self.second = second
        self.thread: threading.Thread | None = None
        self.result: Any = None
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.result = self.second()
        except BaseException as exc:  # noqa: BLE001 - handed to the test by outcome()
            self.error = exc

    def pause(self) -> None:
        if self.thread is not None:  # only the first call pauses
            return
        self.thread = threading.Thread(target=self._run, daemon=True, name="second-caller")
        self.thread.start()
        give_up = time.monotonic() + SAFETY_NET
        while self.thread.is_alive() and not waiting_on_lock(self.thread):
            assert time.monotonic() < give_up, "the second caller neither returned nor waited on a lock"
            time.sleep(0.001)

    def outcome(self) -> Any:
        """What `second` returned (or raised), once it has ended."""
        assert self.thread is not None, "pause() was never called: the patched step did not run"
        self.thread.join(SAFETY_NET)
        assert not self.thread.is_alive(), "the second caller never ended"
        if self.error is not None:
            raise self.error
        return self.result
