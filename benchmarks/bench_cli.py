#!/usr/bin/env python3
"""Start-up and `status` figures: median wall time and peak memory (RSS) over repeated runs.

    python benchmarks/bench_cli.py [--runs N]

Measures, in this environment: a bare `python -c pass`, `loomctl --help`, a TAB completion
(`loomctl status --<TAB>`), and `loomctl status -o json` against the local HTTPS test Azure (started here).
Targets (2 cores): --help and completion <= 150 ms median and <= 6x the bare interpreter; status < 1.5 s.
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
sys.path.insert(0, str(ROOT))

# Runs one command and prints its wall time and the child's peak RSS (ru_maxrss of the only child).
WRAPPER = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "rc": p.returncode}))
"""


def measure(cmd: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    walls, rss, rcs = [], [], set()
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], env=env, capture_output=True, text=True,
                             check=True)
        d = json.loads(out.stdout)
        walls.append(d["wall"])
        rss.append(d["rss_kib"])
        rcs.add(d["rc"])
    return {"median_ms": statistics.median(walls) * 1000, "peak_rss_mib": max(rss) / 1024, "exit_codes": sorted(rcs)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    py = sys.executable
    loomctl = str(Path(py).with_name("loomctl"))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "LOOMCTL_"))}
    tmp = tempfile.mkdtemp()
    base["LOOMCTL_CONFIG"] = os.path.join(tmp, "config.toml")
    base["LOOMCTL_CACHE_DIR"] = os.path.join(tmp, "cache")  # tokens kept here, never in ~/.cache

    from tests.fakeazure import topology
    from tests.fakeazure.server import CLIENT_ID, CLIENT_SECRET, TENANT, FakeAzure

    server = FakeAzure(tmp).start()
    server.reset(topology.healthy())
    azure_env = dict(
        base,
        AZURE_TENANT_ID=TENANT,
        AZURE_CLIENT_ID=CLIENT_ID,
        AZURE_CLIENT_SECRET=CLIENT_SECRET,
        AZURE_AUTHORITY_HOST=server.url,
        LOOMCTL_ARM_ENDPOINT=server.url,
        REQUESTS_CA_BUNDLE=server.ca_path,
        AZURE_SUBSCRIPTION_ID=topology.SUB,
        LOOMCTL_RESOURCE_GROUP=topology.RG,
        LOOMCTL_ENVIRONMENT=topology.ENV,
        AZURE_TOKEN_CREDENTIALS="EnvironmentCredential",
    )
    complete_env = dict(base, _LOOMCTL_COMPLETE="bash_complete", COMP_WORDS="loomctl status --", COMP_CWORD="2")

    rows = [
        ("python -c pass", [py, "-c", "pass"], base),
        ("loomctl --help", [loomctl, "--help"], base),
        ("TAB: loomctl status --", [loomctl], complete_env),
        ("loomctl status -o json (local Azure)", [loomctl, "status", "-o", "json"], azure_env),
    ]
    results = {}
    for name, cmd, env in rows:
        runs = args.runs if "status" not in name or "TAB" in name else max(5, args.runs // 3)
        results[name] = measure(cmd, env, runs)
    server.stop()
    bare = results["python -c pass"]["median_ms"]
    print(f"{'command':40} {'median ms':>10} {'x bare':>7} {'peak RSS MiB':>13}  exit")
    for name, r in results.items():
        print(f"{name:40} {r['median_ms']:10.1f} {r['median_ms'] / bare:7.1f} {r['peak_rss_mib']:13.1f}  "
              f"{','.join(map(str, r['exit_codes']))}")
    help_ms = results["loomctl --help"]["median_ms"]
    tab_ms = results["TAB: loomctl status --"]["median_ms"]
    status_ms = results["loomctl status -o json (local Azure)"]["median_ms"]
    print()
    print(f"target --help <= 150 ms and <= 6x bare: {'met' if help_ms <= 150 and help_ms <= 6 * bare else 'MISSED'}")
    print(f"target TAB    <= 150 ms and <= 6x bare: {'met' if tab_ms <= 150 and tab_ms <= 6 * bare else 'MISSED'}")
    print(f"target status < 1500 ms:                {'met' if status_ms < 1500 else 'MISSED'}")


if __name__ == "__main__":
    main()
