#!/usr/bin/env python3
"""`loomctl drill join` and `loomctl drill partition` times on the sandbox (real GUN processes on 127.0.0.1).

    python benchmarks/bench_drills.py [--runs N] [--count 20] [--hold 5]

Starts a sandbox of its own (a temporary folder, the tests' pinned gun in tests/node when present), runs each
drill N times as `loomctl ... -o json` processes, prints the median and the worst beside the targets, and stops
the sandbox. Targets: join holds every probe node within the reference's ~10 s; partition converges within
10 s of the heal (the sandbox's nodes redial every second) with no finding.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def loomctl(env: dict[str, str], *args: str) -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, "-m", "loomctl", *args, "-o", "json"], env=env, capture_output=True,
                          text=True, timeout=300)
    try:
        return proc.returncode, json.loads(proc.stdout or "{}")
    except ValueError:
        return proc.returncode, {"error": proc.stderr.strip()}


def line(name: str, values: list[float], target: str) -> str:
    if not values:
        return f"{name:<38} no result                   target {target}"
    return f"{name:<38} median {statistics.median(values):6.2f} s  max {max(values):6.2f} s   target {target}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--count", type=int, default=20, help="probe nodes for drill join")
    ap.add_argument("--hold", type=float, default=5.0, help="seconds the partition lasts")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-drills-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "LOOMCTL_"))}
    env.update(LOOMCTL_CONFIG=os.path.join(tmp, "config.toml"), LOOMCTL_CACHE_DIR=os.path.join(tmp, "cache"),
               LOOMCTL_SANDBOX_DIR=os.path.join(tmp, "sandbox"), PYTHONPATH=str(ROOT))
    if (ROOT / "tests" / "node" / "node_modules" / "gun").is_dir():
        env["LOOMCTL_GUN_DIR"] = str(ROOT / "tests" / "node")
    rc, up = loomctl(env, "sandbox", "up")
    if rc != 0:
        sys.exit(f"sandbox up failed: {up}")
    joins, ready, converged, findings = [], [], [], 0
    try:
        for _ in range(args.runs):
            rc, doc = loomctl(env, "drill", "join", "--profile", "sandbox", "--count", str(args.count))
            if doc.get("held_s") is not None:
                joins.append(doc["held_s"])
                ready.append(doc["ready_s"])
            rc, doc = loomctl(env, "drill", "partition", "--hold", str(args.hold))
            if doc.get("converged_s") is not None:
                converged.append(doc["converged_s"])
            findings += len(doc.get("findings", [])) + (0 if "findings" in doc else 1)
    finally:
        loomctl(env, "sandbox", "down")
    print(f"sandbox drills, {args.runs} runs each (2-core machine; join: {args.count} probe nodes; partition: "
          f"{args.hold:g} s cut)")
    print(line("drill join: first hello", ready, "-"))
    print(line("drill join: holds every probe node", joins, "<= 10 s (the reference's ~10 s)"))
    print(line("drill partition: converged after heal", converged, "<= 10 s, 0 findings"))
    print(f"{'drill partition: findings':<38} {findings}")


if __name__ == "__main__":
    main()
