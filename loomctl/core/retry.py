"""Deadlines and the loops that wait: retry a call, or poll until something is ready.

The clock and the sleep are parameters (defaults: time.monotonic and time.sleep) so tests run them on a fake
clock. A wait is never longer than what is left of the deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NoReturn, TypeVar

T = TypeVar("T")


class Deadline:
    """`seconds` from now on `clock`."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] | None = None):
        self.seconds = seconds
        self.clock = clock or time.monotonic
        self.end = self.clock() + seconds

    def remaining(self) -> float:
        """Seconds left (negative once past)."""
        return self.end - self.clock()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def cap(self, wait: float) -> float:
        """`wait`, but no longer than what is left (and not negative)."""
        return min(wait, max(0.0, self.remaining()))


def exponential(base: float, cap: float, factor: float = 2.0) -> Callable[[int], float]:
    """Backoff: retry n (0 for the first) waits min(cap, base * factor ** n)."""
    return lambda n: min(cap, base * factor ** n)


def retry(fn: Callable[[], T], *, retry_on: Callable[[BaseException], bool], deadline: Deadline | None = None,
          backoff: Callable[[int], float] = lambda n: 1.0,
          retry_after: Callable[[BaseException], float | None] | None = None,
          on_retry: Callable[[BaseException, float], None] | None = None,
          tries: int | None = None, sleep: Callable[[float], object] | None = None) -> T:
    """Call `fn` until it returns; an exception for which `retry_on(exc)` is true is retried, any other raised.

    The wait before retry n (0 for the first) is `retry_after(exc)` when that gives a number (the server's
    Retry-After), else `backoff(n)`. With a deadline, the exception is raised instead of retried once the deadline
    has passed or when a Retry-After wait would not end before it; a backoff wait is cut to what is left.
    With `tries`, the exception of the last allowed call is raised. `on_retry(exc, wait)` runs before each wait.
    """
    sleep = sleep or time.sleep
    n = 0
    while True:
        try:
            return fn()
        except Exception as exc:
            if not retry_on(exc) or (tries is not None and n + 1 >= tries):
                raise
            asked = retry_after(exc) if retry_after is not None else None
            wait = backoff(n) if asked is None else asked
            if deadline is not None:
                if deadline.expired or (asked is not None and wait >= deadline.remaining()):
                    raise
                wait = deadline.cap(wait)
            if on_retry is not None:
                on_retry(exc, wait)
            sleep(wait)
            n += 1


def poll(check: Callable[[], T | None], *, deadline: Deadline, interval: float | Callable[[], float],
         on_timeout: Callable[[], NoReturn], sleep: Callable[[float], object] | None = None) -> T:
    """Call `check` until it returns something other than None and return that; between calls wait `interval`
    seconds (cut to the deadline). When the deadline has passed after a check, `on_timeout()` raises."""
    sleep = sleep or time.sleep
    while True:
        result = check()
        if result is not None:
            return result
        if deadline.expired:
            on_timeout()
        sleep(deadline.cap(interval() if callable(interval) else interval))


__all__ = ["Deadline", "exponential", "retry", "poll"]
