"""core.timeutil.parse_iso: the ISO 8601 forms Azure sends, and parse_time built on it."""

import datetime as dt

import pytest

from loomctl.core.errors import UsageError
from loomctl.core.timeutil import parse_iso, parse_time

UTC = dt.timezone.utc


@pytest.mark.parametrize("text, expected", [
    ("2026-06-03T04:45:59Z", dt.datetime(2026, 6, 3, 4, 45, 59, tzinfo=UTC)),
    ("2026-06-03T04:45:59z", dt.datetime(2026, 6, 3, 4, 45, 59, tzinfo=UTC)),
    # Log Analytics: 7 fraction digits; the log streams: up to 9 (cut to microseconds)
    ("2026-06-03T04:45:59.2214149Z", dt.datetime(2026, 6, 3, 4, 45, 59, 221414, tzinfo=UTC)),
    ("2025-12-09T14:04:24.125429697Z", dt.datetime(2025, 12, 9, 14, 4, 24, 125429, tzinfo=UTC)),
    ("2026-06-03T04:45:59.12Z", dt.datetime(2026, 6, 3, 4, 45, 59, 120000, tzinfo=UTC)),
    ("2026-01-01T02:00:00+02:00", dt.datetime(2026, 1, 1, 0, 0, tzinfo=UTC)),
    ("2026-01-01T02:00:00.5+0200", dt.datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
    ("2026-06-03T04:45:59", dt.datetime(2026, 6, 3, 4, 45, 59, tzinfo=UTC)),  # no offset: UTC
])
def test_parse_iso_forms(text, expected):
    value = parse_iso(text)
    assert value == expected and value.tzinfo is not None


@pytest.mark.parametrize("text", ["", None, "garbage", "2026-13-01T00:00:00Z", "12:00"])
def test_parse_iso_rejects(text):
    assert parse_iso(text) is None


def test_parse_iso_can_leave_naive_times_naive():
    assert parse_iso("2026-06-03T04:45", naive=None) == dt.datetime(2026, 6, 3, 4, 45)
    assert parse_iso("2026-06-03T04:45Z", naive=None).tzinfo is UTC


def test_parse_time_is_local_without_offset_and_utc_after():
    assert parse_time("2026-11-28T08:30:00Z", "--start") == dt.datetime(2026, 11, 28, 8, 30, tzinfo=UTC)
    local = parse_time("2026-11-28T09:30", "--start")
    assert local.tzinfo == UTC and local == dt.datetime(2026, 11, 28, 9, 30).astimezone().astimezone(UTC)
    with pytest.raises(UsageError, match="--end 'soon' is not a date and time"):
        parse_time("soon", "--end")
