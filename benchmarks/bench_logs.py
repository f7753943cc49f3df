#!/usr/bin/env python3
"""A 100,000-row Log Analytics result through `loomctl query run`: wall time and peak memory.

    python benchmarks/bench_logs.py [--rows 100000] [--runs 3]

Starts the local HTTPS test Azure with a Log Analytics route that answers every query with ROWS rows
(TimeGenerated, App, Replica, Log; as the service sends them: strings on the wire), then runs, as a user would:
  loomctl query run loommesh-errors -o json   (stdout to a file; the JSON must parse and hold every row)
  loomctl query run loommesh-errors -o table  (the table caps rows and says how many were left out)
Targets (2 cores): -o json < 2 s wall and < 300 MB peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRAPPER = r"""
import json, resource, subprocess, sys, time
out = open(sys.argv[1], "wb")
t = time.perf_counter()
p = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.PIPE)
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "rc": p.returncode,
                  "stderr": p.stderr.decode()[-300:]}))
"""


def big_body(n: int) -> bytes:
    t0 = dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.timezone.utc)
    rows = [[(t0 + dt.timedelta(milliseconds=30 * i)).isoformat().replace("+00:00", "Z"),
             "loom-node" if i % 3 else "gun-relay", f"loom-node--n1-{i % 7:04d}",
             f"Error: sync of soul 'user/{i}' failed: ECONNRESET from peer ws://10.0.{i % 250}.4:8765/gun"]
            for i in range(n)]
    doc = {"tables": [{"name": "PrimaryResult",
                       "columns": [{"name": "TimeGenerated", "type": "datetime"}, {"name": "App", "type": "string"},
                                   {"name": "Replica", "type": "string"}, {"name": "Log", "type": "string"}],
                       "rows": rows}]}
    return json.dumps(doc).encode()


def measure(cmd: list[str], env: dict[str, str], runs: int, out_path: str) -> dict[str, object]:
    walls, rss, rcs, err = [], [], set(), ""
    for _ in range(runs):
        d = json.loads(subprocess.run([sys.executable, "-c", WRAPPER, out_path, *cmd], env=env, capture_output=True,
                                      text=True, check=True).stdout)
        walls.append(d["wall"])
        rss.append(d["rss_kib"])
        rcs.add(d["rc"])
        err = d["stderr"]
    return {"median_s": statistics.median(walls), "peak_rss_mib": max(rss) / 1024, "exit": sorted(rcs), "stderr": err}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    from tests.fakeazure import topology
    from tests.fakeazure.server import CLIENT_ID, CLIENT_SECRET, TENANT, FakeAzure, Response

    tmp = tempfile.mkdtemp()
    server = FakeAzure(tmp).start()
    server.reset(topology.healthy())
    payload = big_body(args.rows)
    server.route("POST", r"/v1/workspaces/([^/]+)/query", lambda req, m: Response(200, payload))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "LOOMCTL_"))}
    env.update(LOOMCTL_CONFIG=os.path.join(tmp, "config.toml"), LOOMCTL_CACHE_DIR=os.path.join(tmp, "cache"),
               AZURE_TENANT_ID=TENANT, AZURE_CLIENT_ID=CLIENT_ID,
               AZURE_CLIENT_SECRET=CLIENT_SECRET, AZURE_AUTHORITY_HOST=server.url, LOOMCTL_ARM_ENDPOINT=server.url,
               LOOMCTL_LOGS_ENDPOINT=server.url, REQUESTS_CA_BUNDLE=server.ca_path, AZURE_SUBSCRIPTION_ID=topology.SUB,
               LOOMCTL_RESOURCE_GROUP=topology.RG, LOOMCTL_ENVIRONMENT=topology.ENV,
               AZURE_TOKEN_CREDENTIALS="EnvironmentCredential", LOOMCTL_WORKSPACE_ID=topology.WORKSPACE_ID,
               LOOMCTL_LOGS_DESTINATION="log-analytics", COLUMNS="160")
    loomctl = str(Path(sys.executable).with_name("loomctl"))
    out_json = os.path.join(tmp, "out.json")
    out_table = os.path.join(tmp, "out.txt")
    base = [loomctl, "query", "run", "loommesh-errors", "--since", "1h"]
    j = measure(base + ["-o", "json"], env, args.runs, out_json)
    rows = json.loads(Path(out_json).read_text())
    t = measure(base + ["-o", "table"], env, args.runs, out_table)
    table_text = Path(out_table).read_text()
    server.stop()
    print(f"response: {args.rows:,} rows, {len(payload) / 1e6:.1f} MB JSON from the local Log Analytics route")
    print(f"{'command':34} {'median s':>9} {'peak RSS MiB':>13}  exit")
    print(f"{'query run ... -o json':34} {j['median_s']:9.2f} {j['peak_rss_mib']:13.1f}  {j['exit']}")
    print(f"{'query run ... -o table':34} {t['median_s']:9.2f} {t['peak_rss_mib']:13.1f}  {t['exit']}")
    print(f"json rows written: {len(rows):,} (expected {args.rows:,}); "
          f"{Path(out_json).stat().st_size / 1e6:.1f} MB")
    note = next((line for line in table_text.splitlines() if "more rows not shown" in line), "(no cap note)")
    print(f"table: {note.strip()}")
    ok = j["median_s"] < 2.0 and j["peak_rss_mib"] < 300 and len(rows) == args.rows
    print(f"target -o json < 2 s and < 300 MB: {'met' if ok else 'MISSED'}")
    if j["exit"] != [0]:
        print("stderr:", j["stderr"])


if __name__ == "__main__":
    main()
