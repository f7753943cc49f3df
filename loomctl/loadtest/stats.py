"""Percentiles, distributions and a latency histogram: plain functions over lists of milliseconds."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from loomctl.loommesh.write_probe import percentile


@dataclass
class Distribution:
    count: int
    min_ms: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    avg_ms: float | None = None


def distribution(values: list[float]) -> Distribution:
    if not values:
        return Distribution(0)
    return Distribution(len(values), round(min(values), 2), round(percentile(values, 0.50), 2),
                        round(percentile(values, 0.95), 2), round(percentile(values, 0.99), 2),
                        round(max(values), 2), round(sum(values) / len(values), 2))


@dataclass
class Bucket:
    lo_ms: float
    hi_ms: float
    count: int


@dataclass
class Histogram:
    buckets: list[Bucket] = field(default_factory=list)


def histogram(values: list[float], bins: int = 12) -> Histogram:
    """Log-spaced buckets from the smallest to the largest value (latencies have a long tail)."""
    if not values:
        return Histogram()
    lo, hi = max(min(values), 0.01), max(values)
    if hi <= lo * 1.0001:
        return Histogram([Bucket(round(lo, 2), round(hi, 2), len(values))])
    step = (math.log(hi) - math.log(lo)) / bins
    edges = [lo * math.exp(step * i) for i in range(bins + 1)]
    edges[-1] = hi
    counts = [0] * bins
    for v in values:
        i = 0 if v <= lo else min(bins - 1, int((math.log(v) - math.log(lo)) / step))
        counts[i] += 1
    return Histogram([Bucket(round(edges[i], 2), round(edges[i + 1], 2), c) for i, c in enumerate(counts)])
