#!/usr/bin/env python3
"""Signing in: `loomctl status -o json` against the local HTTPS test Azure, signed in with the Azure CLI (the
stand-in `az` of tests/standin_az.py, first on PATH, which counts its invocations) with a cold and a warm token
cache, beside environment credentials (a service principal; cache off, so each run signs in as before the token
cache, and cache warm). Median wall time and `az` starts per run.

    python benchmarks/bench_signin.py [--runs N]

Targets (2 cores, issue 13): `az` starts 1 per run cold and 0 warm; warm within 1.2x of environment credentials.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    loomctl = str(Path(sys.executable).with_name("loomctl"))
    tmp = Path(tempfile.mkdtemp())

    from tests.fakeazure import topology
    from tests.fakeazure.server import CLIENT_ID, CLIENT_SECRET, TENANT, FakeAzure
    from tests.standin_az import StandinAz, install_script

    server = FakeAzure(str(tmp)).start()
    server.reset(topology.healthy())
    az = StandinAz(tmp / "az")
    install_script(az)
    az.sign_in("alice@example.com")
    cache = tmp / "cache"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "LOOMCTL_"))}
    base.update(LOOMCTL_CONFIG=str(tmp / "config.toml"), LOOMCTL_CACHE_DIR=str(cache),
                AZURE_AUTHORITY_HOST=server.url, LOOMCTL_ARM_ENDPOINT=server.url, REQUESTS_CA_BUNDLE=server.ca_path,
                AZURE_SUBSCRIPTION_ID=topology.SUB, LOOMCTL_RESOURCE_GROUP=topology.RG,
                LOOMCTL_ENVIRONMENT=topology.ENV, AZURE_CONFIG_DIR=str(az.config_dir))
    env_creds = dict(base, AZURE_TENANT_ID=TENANT, AZURE_CLIENT_ID=CLIENT_ID, AZURE_CLIENT_SECRET=CLIENT_SECRET,
                     AZURE_TOKEN_CREDENTIALS="EnvironmentCredential")
    cli = dict(base, AZURE_TOKEN_CREDENTIALS="AzureCliCredential",
               PATH=f"{az.bin}{os.pathsep}{os.environ.get('PATH', '')}")

    def run(env: dict[str, str], cold: bool) -> tuple[float, int]:
        if cold:
            shutil.rmtree(env["LOOMCTL_CACHE_DIR"], ignore_errors=True)
        before = az.calls()
        t = time.perf_counter()
        p = subprocess.run([loomctl, "status", "-o", "json"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t
        if p.returncode != 0:
            raise SystemExit(f"status failed ({p.returncode}): {p.stderr}")
        return wall, az.calls() - before

    rows = {
        "environment credentials, token cache off": (dict(env_creds, LOOMCTL_TOKEN_CACHE="0"), True),
        "environment credentials, warm cache": (env_creds, False),
        "az (stand-in), cold cache": (cli, True),
        "az (stand-in), warm cache": (cli, False),
    }
    samples: dict[str, tuple[list[float], list[int]]] = {}
    for i, (name, (env, cold)) in enumerate(rows.items()):
        rows[name] = (dict(env, LOOMCTL_CACHE_DIR=str(cache / str(i))), cold)  # a cache folder per row
        run(*rows[name])  # warm-up (and, for a warm row, the run that fills the cache)
        samples[name] = ([], [])
    for _ in range(args.runs):  # round-robin, so that a busy moment of the machine falls on every row alike
        for name, (env, cold) in rows.items():
            wall, n = run(env, cold)
            samples[name][0].append(wall)
            samples[name][1].append(n)
    results = {name: (statistics.median(walls) * 1000, spawns) for name, (walls, spawns) in samples.items()}
    server.stop()
    shutil.rmtree(tmp, ignore_errors=True)

    print(f"{'loomctl status -o json, signed in with':44} {'median ms':>10} {'az starts per run':>18}")
    for name, (ms, spawns) in results.items():
        shown = ",".join(map(str, sorted(set(spawns)))) if "az" in name else "-"
        print(f"{name:44} {ms:10.1f} {shown:>18}")
    env_ms = results["environment credentials, token cache off"][0]
    env_warm_ms = results["environment credentials, warm cache"][0]
    cold_spawns = results["az (stand-in), cold cache"][1]
    warm_ms, warm_spawns = results["az (stand-in), warm cache"]
    print()
    print(f"target az starts cold = 1 per run:       {set(cold_spawns)}  "
          f"{'met' if set(cold_spawns) == {1} else 'MISSED'}")
    print(f"target az starts warm = 0 per run:       {set(warm_spawns)}  "
          f"{'met' if set(warm_spawns) == {0} else 'MISSED'}")
    ratio = warm_ms / env_ms
    print(f"target az warm <= 1.2x env credentials:  {ratio:.2f}x  {'met' if ratio <= 1.2 else 'MISSED'}"
          f"  (vs env credentials with a warm cache: {warm_ms / env_warm_ms:.2f}x)")


if __name__ == "__main__":
    main()
