"""What a load test will do (`Plan`), checked before anything is written; k6-style thresholds.

GUN cannot delete: every byte a load test writes stays in the mesh's stores. So a run writes only under
`loomctl/probe/loadtest/<run id>/` and its planned bytes are capped (`--max-bytes`).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

from loomctl.core.errors import UsageError

SOUL_PREFIX = "loomctl/probe/loadtest"
OVERHEAD = 120  # bytes of wire and store overhead per write beside its value (soul, key, state)
DEFAULT_CAP = 16 << 20
HARD_CAP = 1 << 30
MAX_SIZE = 64 << 10  # a value; frames stay far below the 1 MiB loomctl accepts
SANDBOX_RATE = 100.0
MODEST_RATE = 20.0
NO_DELETE = "GUN cannot delete: what a load test writes stays in the peers' stores"

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$", re.I)
_SIZE_UNITS = {"b": 1, "k": 1024, "kb": 1000, "kib": 1024, "m": 1 << 20, "mb": 1000**2, "mib": 1 << 20,
               "g": 1 << 30, "gb": 1000**3, "gib": 1 << 30}


def parse_size(text: str, what: str) -> int:
    """'256', '1KiB', '4k', '16MB' as bytes."""
    m = _SIZE.match(text or "")
    if not m:
        raise UsageError(f"{what} '{text}' is not a size", "use bytes or a unit: 256, 4KiB, 16MiB, 10MB")
    return int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()])


_ZERO = re.compile(r"^\s*0+(?:\.0+)?\s*(?:ms|s|m|h)?\s*$", re.I)


def seconds(text: str, what: str, zero_ok: bool = False) -> float:
    """A duration option ('20s', '2m', '500ms') in seconds, through the one duration parser; '0' when allowed."""
    from loomctl.core.timeutil import parse_duration

    if zero_ok and _ZERO.match(text or ""):
        return 0.0
    return parse_duration(text, what).total_seconds()


def parse_rate(text: str) -> float | None:
    """'--rate 200' (writes per second overall) or 'max' (as fast as acks allow): None."""
    if (text or "").strip().lower() == "max":
        return None
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    if not (0 < rate <= 100000) or rate != rate:
        raise UsageError(f"--rate '{text}' is not a rate", "give writes per second (e.g. 50, 0.5) or max")
    return rate


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


def new_run_id() -> str:
    from loomctl.loommesh.wire import fresh_id

    return time.strftime("%Y%m%dT%H%M%S") + "-" + fresh_id(6)


@dataclass
class Plan:
    peers: list[str]
    writers: int
    readers: int
    rate: float | None  # writes per second overall; None: as fast as acks allow (`in_flight` unacked per writer)
    duration_s: float | None
    count: int | None
    size: int
    warmup_s: float
    window_s: float
    timeout_s: float
    max_bytes: int
    in_flight: int = 32
    run_id: str = field(default_factory=new_run_id)
    roles: dict[str, str] = field(default_factory=dict)  # peer URL -> relay | node | peer

    @property
    def prefix(self) -> str:
        return f"{SOUL_PREFIX}/{self.run_id}"

    def soul(self, writer: int) -> str:
        return f"{self.prefix}/w{writer}"

    @property
    def planned_writes(self) -> int | None:
        """Writes this run will make at most (warm-up included), or None when only the cap bounds them."""
        if self.count is not None:
            return self.count + (math.ceil(self.rate * self.warmup_s) if self.rate else 0)
        if self.rate is not None and self.duration_s is not None:
            return math.ceil(self.rate * (self.duration_s + self.warmup_s))
        return None

    @property
    def write_bytes(self) -> int:
        return self.size + OVERHEAD

    @property
    def planned_bytes(self) -> int | None:
        n = self.planned_writes
        return None if n is None else n * self.write_bytes


def check_plan(plan: Plan) -> None:
    """Refuse, before anything is written, a plan above the byte cap or one that cannot run."""
    if not plan.peers:
        raise UsageError("no LoomMesh peers to load", "pass --peer URL or --profile sandbox")
    if plan.size > MAX_SIZE:
        raise UsageError(f"--size {plan.size} is larger than {human_bytes(MAX_SIZE)}", "use a smaller --size")
    if plan.max_bytes > HARD_CAP:
        raise UsageError(f"--max-bytes {human_bytes(plan.max_bytes)} is above loomctl's limit of "
                         f"{human_bytes(HARD_CAP)}", f"{NO_DELETE}; use at most 1GiB")
    planned = plan.planned_bytes
    if planned is not None and planned > plan.max_bytes:
        raise UsageError(
            f"refusing to write about {human_bytes(planned)} under {plan.prefix}/: above the cap of "
            f"{human_bytes(plan.max_bytes)} ({NO_DELETE})",
            "lower --rate, --duration, --count or --size, or raise --max-bytes")


# ---- thresholds --------------------------------------------------------------------------------------------
METRICS: dict[str, tuple[str, ...]] = {
    "propagation": ("p50", "p95", "p99", "max", "min", "avg"),
    "ack": ("p50", "p95", "p99", "max", "min", "avg"),
    "loss": ("rate", "count"),
    "rate": ("achieved", "ratio"),
    "errors": ("count",),
    "reconnects": ("count",),
}
_THRESHOLD = re.compile(r"^\s*([a-z]+)\.([a-z0-9]+)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*(ms|s|%)?\s*$", re.I)
_EXAMPLES = "e.g. 'propagation.p95<250ms', 'ack.p99<1s', 'loss.rate<1%', 'rate.ratio>=0.9', 'errors.count==0'"


@dataclass
class Threshold:
    text: str
    metric: str
    stat: str
    op: str
    limit: float  # ms for latencies, a fraction for loss.rate, else the plain number


def parse_threshold(text: str) -> Threshold:
    m = _THRESHOLD.match(text or "")
    if not m:
        raise UsageError(f"--threshold '{text}' is not a threshold",
                         f"write METRIC.STAT OP VALUE, {_EXAMPLES}")
    metric, stat, op, value, unit = m.group(1).lower(), m.group(2).lower(), m.group(3), float(m.group(4)), \
        (m.group(5) or "").lower()
    if metric not in METRICS:
        raise UsageError(f"--threshold '{text}': unknown metric '{metric}'",
                         f"metrics: {', '.join(METRICS)}; {_EXAMPLES}")
    if stat not in METRICS[metric]:
        raise UsageError(f"--threshold '{text}': {metric} has no '{stat}'",
                         f"{metric} has {', '.join(METRICS[metric])}")
    latency = metric in ("propagation", "ack")
    if latency:
        if unit == "%":
            raise UsageError(f"--threshold '{text}': a latency is in ms or s, not %", _EXAMPLES)
        value = value * 1000 if unit == "s" else value
    elif unit in ("ms", "s"):
        raise UsageError(f"--threshold '{text}': {metric}.{stat} is not a time", _EXAMPLES)
    elif unit == "%":
        if (metric, stat) != ("loss", "rate"):
            raise UsageError(f"--threshold '{text}': only loss.rate takes %", _EXAMPLES)
        value /= 100
    return Threshold(text.strip(), metric, stat, op, value)


@dataclass
class ThresholdResult:
    threshold: str
    ok: bool
    value: float | None
    limit: float
    unit: str
    note: str | None = None


_OPS = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
        "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def judge(threshold: Threshold, values: dict[str, float | None]) -> ThresholdResult:
    """`values`: 'metric.stat' -> the measured value (None: no samples, which fails the threshold)."""
    key = f"{threshold.metric}.{threshold.stat}"
    unit = "ms" if threshold.metric in ("propagation", "ack") else ""
    value = values.get(key)
    if value is None:
        return ThresholdResult(threshold.text, False, None, threshold.limit, unit, f"no samples for {key}")
    return ThresholdResult(threshold.text, bool(_OPS[threshold.op](value, threshold.limit)), value,
                           threshold.limit, unit)
