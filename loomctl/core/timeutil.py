"""Time ranges from `--since 1h` or `--start/--end`, and times shown in the user's local zone."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from loomctl.core.errors import UsageError

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$", re.I)


def parse_duration(text: str, what: str = "--since") -> dt.timedelta:
    """'90s', '15m', '1h', '2d', '1w' as a timedelta (positive)."""
    m = _DURATION.match(text or "")
    if not m:
        raise UsageError(f"{what} '{text}' is not a duration", "use a number and a unit: 30s, 15m, 1h, 2d, 1w")
    seconds = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if seconds <= 0:
        raise UsageError(f"{what} '{text}' must be longer than zero", "for example 15m or 1h")
    if seconds > 730 * 86400:
        raise UsageError(f"{what} '{text}' is longer than Log Analytics keeps data (2 years)", "use at most 730d")
    return dt.timedelta(seconds=seconds)


_FRACTION = re.compile(r"\.(\d+)")
_OFFSET = re.compile(r"([+-]\d\d)(\d\d)$")


def parse_iso(text: str | None, naive: dt.tzinfo | None = dt.timezone.utc) -> dt.datetime | None:
    """An ISO 8601 date and time as Azure sends them ("Z" or an offset, up to 9 fraction digits as Log Analytics
    and the log streams write them), or None if it is not one. A time without an offset is in `naive` (UTC by
    default; None leaves it naive)."""
    if not text or not isinstance(text, str):
        return None
    try:
        value = dt.datetime.fromisoformat(text)  # Python 3.11 reads "Z" and long fractions itself
    except ValueError:
        raw = text.strip().replace("Z", "+00:00").replace("z", "+00:00")
        raw = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), raw, count=1)
        raw = _OFFSET.sub(r"\1:\2", raw)
        try:
            value = dt.datetime.fromisoformat(raw)
        except ValueError:
            return None
    if value.tzinfo is None and naive is not None:
        value = value.replace(tzinfo=naive)
    return value


def parse_time(text: str, what: str) -> dt.datetime:
    """An ISO 8601 time; without an offset it is the user's local time. Returns an aware UTC datetime."""
    value = parse_iso((text or "").strip(), naive=None)
    if value is None:
        raise UsageError(f"{what} '{text}' is not a date and time",
                         "use ISO 8601, e.g. 2026-11-28T09:30 (local time) or 2026-11-28T08:30:00Z")
    if value.tzinfo is None:
        value = value.astimezone()  # local time
    return value.astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class TimeRange:
    start: dt.datetime  # aware, UTC
    end: dt.datetime
    since: dt.timedelta | None = None  # set when given as --since (the portal form uses ago())

    @property
    def span(self) -> dt.timedelta:
        return self.end - self.start


def resolve_range(since: str | None, start: str | None, end: str | None,
                  now: dt.datetime | None = None, default: str = "1h") -> TimeRange:
    now = now or dt.datetime.now(dt.timezone.utc)
    if since and (start or end):
        raise UsageError("--since cannot be combined with --start/--end", "give either --since 1h or --start/--end")
    if start or end:
        if not start:
            raise UsageError("--end needs --start", "e.g. --start 2026-11-28T08:00 --end 2026-11-28T09:00")
        s = parse_time(start, "--start")
        e = parse_time(end, "--end") if end else now
        if e <= s:
            raise UsageError(f"--end ({local_time(e)}) is not after --start ({local_time(s)})",
                             "swap them, or leave out --end to mean now")
        return TimeRange(s, e)
    delta = parse_duration(since or default)
    return TimeRange(now - delta, now, delta)


def local_time(value: dt.datetime | None) -> str:
    """A time in the user's local zone with its offset: 2026-11-28 09:30:05+01:00."""
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone().isoformat(sep=" ", timespec="seconds")


def utc_iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def auto_bin(span: dt.timedelta, target_bins: int = 30) -> dt.timedelta:
    """A round bin width giving about `target_bins` bins over `span`."""
    steps = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 604800]
    want = span.total_seconds() / target_bins
    for s in steps:
        if s >= want:
            return dt.timedelta(seconds=s)
    return dt.timedelta(seconds=steps[-1])
