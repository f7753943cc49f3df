#!/usr/bin/env python3
"""`loomctl cost estimate` figures: median wall time of the command, and of the model alone.

    python benchmarks/bench_cost.py [--runs N]

Target: the estimate answers in well under a second, offline (no network, no Azure SDK import).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def wall(cmd: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, LOOMCTL_CACHE_DIR=tmp, LOOMCTL_CONFIG=f"{tmp}/config.toml", COLUMNS="140")
        py = sys.executable
        bare = wall([py, "-c", "pass"], env, args.runs)
        as_json = wall([py, "-m", "loomctl", "cost", "estimate", "-o", "json"], env, args.runs)
        as_table = wall([py, "-m", "loomctl", "cost", "estimate", "-o", "table", "--explain"], env, args.runs)
        peak = wall([py, "-m", "loomctl", "cost", "estimate", "-o", "json", "--peak-hours", "8",
                     "--peak-replicas", "10"], env, args.runs)

    from loomctl.cost import inputs, prices
    from loomctl.cost.model import estimate

    pl = prices.load("eastus")
    inp = inputs.build(dict.fromkeys(inputs.DEFAULTS) | {"dev": False, "peak_hours": None,
                                                             "peak_replicas": None})
    rates = pl.rates()
    n = 2000
    t = time.perf_counter()
    for _ in range(n):
        estimate(inp, rates)
    model_us = (time.perf_counter() - t) / n * 1e6

    print(f"runs per figure: {args.runs} (median wall time)")
    print(f"python -c pass                              {bare * 1000:7.0f} ms")
    print(f"loomctl cost estimate -o json               {as_json * 1000:7.0f} ms")
    print(f"loomctl cost estimate -o table --explain    {as_table * 1000:7.0f} ms")
    print(f"loomctl cost estimate --peak-hours ... json {peak * 1000:7.0f} ms")
    print(f"model only (estimate(), in process)         {model_us:7.0f} µs per call")


if __name__ == "__main__":
    main()
