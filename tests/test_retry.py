"""core.retry on a fake clock: the waits a retry or poll loop makes, and when it gives up."""

import pytest

from loomctl.core.retry import Deadline, exponential, poll, retry


class Clock:
    def __init__(self):
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Busy(Exception):
    def __init__(self, wait=None):
        super().__init__("busy")
        self.wait = wait


def failing(times, exc=Busy):
    calls = []

    def fn():
        calls.append(1)
        if len(calls) <= times:
            raise exc()
        return "done"

    return fn, calls


def test_deadline_remaining_expired_and_cap():
    clock = Clock()
    d = Deadline(5, clock=clock)
    assert d.remaining() == 5 and not d.expired and d.cap(2) == 2 and d.cap(9) == 5
    clock.now += 5
    assert d.expired and d.cap(2) == 0


def test_retry_waits_the_backoff_then_returns():
    clock = Clock()
    fn, calls = failing(3)
    seen = []
    assert retry(fn, retry_on=lambda e: isinstance(e, Busy), backoff=exponential(0.5, 1.5), sleep=clock.sleep,
                 on_retry=lambda e, w: seen.append(w)) == "done"
    assert len(calls) == 4
    assert clock.slept == seen == [0.5, 1.0, 1.5]


def test_retry_raises_what_it_does_not_retry():
    fn, calls = failing(1, exc=KeyError)
    with pytest.raises(KeyError):
        retry(fn, retry_on=lambda e: isinstance(e, Busy), sleep=Clock().sleep)
    assert len(calls) == 1


def test_retry_cuts_waits_to_the_deadline_and_gives_up_after_it():
    clock = Clock()
    fn, calls = failing(10)
    with pytest.raises(Busy):
        retry(fn, retry_on=lambda e: True, deadline=Deadline(5, clock=clock), backoff=lambda n: 2, sleep=clock.sleep)
    assert clock.slept == [2, 2, 1]  # the last wait ends at the deadline; the call after it fails: raised
    assert len(calls) == 4


def test_retry_after_is_honoured_unless_it_ends_past_the_deadline():
    clock = Clock()
    waits = iter([3.0, 4.0])
    calls = []

    def fn():
        calls.append(1)
        raise Busy(next(waits))

    with pytest.raises(Busy) as info:
        retry(fn, retry_on=lambda e: True, deadline=Deadline(6, clock=clock), backoff=lambda n: 0.1,
              retry_after=lambda e: e.wait, sleep=clock.sleep)
    assert clock.slept == [3.0]  # the second answer asks for 4 s with 3 s left: not waited for
    assert info.value.wait == 4.0 and len(calls) == 2


def test_retry_after_none_falls_back_to_backoff():
    clock = Clock()
    fn, _ = failing(2)
    retry(fn, retry_on=lambda e: True, backoff=lambda n: 0.25, retry_after=lambda e: e.wait, sleep=clock.sleep)
    assert clock.slept == [0.25, 0.25]


def test_poll_returns_the_first_result_and_times_out_on_the_deadline():
    clock = Clock()
    answers = iter([None, None, "ready"])
    assert poll(lambda: next(answers), deadline=Deadline(10, clock=clock), interval=lambda: 3,
                on_timeout=lambda: pytest.fail("timed out"), sleep=clock.sleep) == "ready"
    assert clock.slept == [3, 3]

    clock = Clock()
    checks = []

    def never():
        checks.append(clock.now)
        return None

    def timed_out():
        raise TimeoutError("late")

    with pytest.raises(TimeoutError):
        poll(never, deadline=Deadline(5, clock=clock), interval=2, on_timeout=timed_out, sleep=clock.sleep)
    assert clock.slept == [2, 2, 1] and checks == [100, 102, 104, 105]



def test_tries_bounds_the_calls_and_raises_the_last_error():
    calls, waits = [], []

    def fn():
        calls.append(1)
        raise ValueError(f"try {len(calls)}")

    with pytest.raises(ValueError, match="try 3"):
        retry(fn, retry_on=lambda e: True, tries=3, backoff=exponential(0.5, 10), sleep=waits.append)
    assert len(calls) == 3 and waits == [0.5, 1.0]
