#!/usr/bin/env python3
"""Start-up and `status` figures: median wall time, CPU time (user+sys of the child) and peak memory (RSS) over
repeated runs, and `loomctl status --replicas` beside the Azure CLI commands that show the same.

    python benchmarks/bench_cli.py [--runs N] [--az PATH]

Measures, in this environment: a bare `python -c pass`, `loomctl --help`, a TAB completion
(`loomctl status --<TAB>`), and `loomctl status -o json` / `status --replicas -o json` against the local HTTPS
test Azure (started here), with the token cache warm (a first run fills it).
Targets (2 cores): --help and completion <= 150 ms median and <= 6x the bare interpreter; status < 1.5 s;
`status -o json` CPU <= 0.6 s (issue 13).

Where the Azure CLI is installed (`--az`, else `/tmp/azcli/bin/az`, else `az` on PATH; e.g.
`python3 -m venv /tmp/azcli && /tmp/azcli/bin/pip install azure-cli`), the same local Azure is registered as a
custom cloud in a temporary AZURE_CONFIG_DIR (`az cloud register --skip-endpoint-discovery` with its ARM and
sign-in endpoints, `REQUESTS_CA_BUNDLE` for its CA, instance discovery off), az signs in to its Entra stand-in as
the test service principal (`az login --service-principal`), and `az containerapp show`, `az containerapp list`
and `az containerapp replica list` run warm (az keeps its token too). Target: loomctl >= 6x faster than the three
together (wall). Proxies point at a closed port (loopback excepted), so neither tool reaches the internet. Without
the Azure CLI, or when it cannot be pointed at the local Azure, that part is skipped with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Runs one command and prints its wall time, the CPU time (user + sys) and the peak RSS of the child (the only
# child: RUSAGE_CHILDREN counts it and its own children, e.g. az's).
WRAPPER = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - t
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": u.ru_utime + u.ru_stime, "rss_kib": u.ru_maxrss, "rc": p.returncode}))
"""


def measure(cmd: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    walls, cpus, rss, rcs = [], [], [], set()
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], env=env, capture_output=True, text=True,
                             check=True)
        d = json.loads(out.stdout)
        walls.append(d["wall"])
        cpus.append(d["cpu"])
        rss.append(d["rss_kib"])
        rcs.add(d["rc"])
    return {"median_ms": statistics.median(walls) * 1000, "cpu_ms": statistics.median(cpus) * 1000,
            "peak_rss_mib": max(rss) / 1024, "exit_codes": sorted(rcs)}


def closed_port() -> tuple[socket.socket, str]:
    """A loopback port that is bound but never listens (held open by the caller): proxies pointed at it fail."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


def find_az(given: str | None) -> str | None:
    for candidate in ((given,) if given else ("/tmp/azcli/bin/az", shutil.which("az"))):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def az_setup(az: str, server: Any, tmp: str, proxy: str) -> tuple[dict[str, str] | None, str]:
    """An environment in which `az` talks to the local Azure, signed in; or None and why not."""
    from tests.fakeazure.server import CLIENT_ID, CLIENT_SECRET, TENANT

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "LOOMCTL_"))}
    env.update(AZURE_CONFIG_DIR=os.path.join(tmp, "azure-cli"), REQUESTS_CA_BUNDLE=server.ca_path,
               AZURE_CORE_INSTANCE_DISCOVERY="false", AZURE_CORE_COLLECT_TELEMETRY="false",
               AZURE_CORE_ONLY_SHOW_ERRORS="true", AZURE_CORE_NO_COLOR="true",
               AZURE_EXTENSION_USE_DYNAMIC_INSTALL="no", AZURE_CORE_SURVEY_MESSAGE="false")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = proxy
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    steps = [
        ["cloud", "register", "-n", "LoomLocal", "--skip-endpoint-discovery",
         "--endpoint-resource-manager", server.url + "/", "--endpoint-active-directory", server.url,
         "--endpoint-active-directory-resource-id", "https://management.core.windows.net/",
         "--endpoint-active-directory-graph-resource-id", server.url + "/",
         "--endpoint-microsoft-graph-resource-id", server.url + "/"],
        ["cloud", "set", "-n", "LoomLocal"],
        ["login", "--service-principal", "-u", CLIENT_ID, "-p", CLIENT_SECRET, "--tenant", TENANT, "-o", "none"],
    ]
    for step in steps:
        try:
            p = subprocess.run([az, *step], env=env, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"`az {' '.join(step[:2])}` could not run: {exc}"
        if p.returncode != 0:
            why = (p.stderr.strip().splitlines() or ["no message"])[-1][:200]
            return None, f"`az {' '.join(step[:2])}` against the local Azure failed: {why}"
    return env, ""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--az", help="the Azure CLI to compare with (default: /tmp/azcli/bin/az, else az on PATH)")
    args = ap.parse_args()
    py = sys.executable
    loomctl = str(Path(py).with_name("loomctl"))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "LOOMCTL_"))}
    tmp = tempfile.mkdtemp()
    base["LOOMCTL_CONFIG"] = os.path.join(tmp, "config.toml")
    base["LOOMCTL_CACHE_DIR"] = os.path.join(tmp, "cache")  # tokens kept here, never in ~/.cache
    held, proxy = closed_port()

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
        HTTP_PROXY=proxy, HTTPS_PROXY=proxy, NO_PROXY="127.0.0.1,localhost",
    )
    complete_env = dict(base, _LOOMCTL_COMPLETE="bash_complete", COMP_WORDS="loomctl status --", COMP_CWORD="2")
    status = [loomctl, "status", "-o", "json"]
    replicas = [loomctl, "status", "--replicas", "-o", "json"]
    subprocess.run(status, env=azure_env, stdout=subprocess.DEVNULL, check=True)  # fills the token cache

    rows = [
        ("python -c pass", [py, "-c", "pass"], base),
        ("loomctl --help", [loomctl, "--help"], base),
        ("TAB: loomctl status --", [loomctl], complete_env),
        ("loomctl status -o json (local Azure)", status, azure_env),
        ("loomctl status --replicas -o json", replicas, azure_env),
    ]
    az = find_az(args.az)
    az_env, az_skip = (None, "the Azure CLI is not installed (pass --az PATH, or `python3 -m venv /tmp/azcli && "
                             "/tmp/azcli/bin/pip install azure-cli`)")
    if az is not None:
        az_env, az_skip = az_setup(az, server, tmp, proxy)
    az_rows = []
    if az is not None and az_env is not None:
        g = topology.RG
        az_rows = [(f"az containerapp show -n {topology.RELAY}", [az, "containerapp", "show", "-n", topology.RELAY,
                                                                  "-g", g, "-o", "json"], az_env),
                   ("az containerapp list", [az, "containerapp", "list", "-g", g, "-o", "json"], az_env),
                   (f"az containerapp replica list -n {topology.RELAY}",
                    [az, "containerapp", "replica", "list", "-n", topology.RELAY, "-g", g, "-o", "json"], az_env)]
        for _name, cmd, env in az_rows:  # warm-up: az's own caches (command index, token)
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = {}
    for name, cmd, env in rows + az_rows:
        fast = "status" not in name and not name.startswith("az ")
        runs = args.runs if fast or "TAB" in name else max(5, args.runs // 3)
        results[name] = measure(cmd, env, runs)
    server.stop()
    held.close()
    shutil.rmtree(tmp, ignore_errors=True)
    bare = results["python -c pass"]["median_ms"]
    print(f"{'command':44} {'median ms':>10} {'CPU ms':>8} {'x bare':>7} {'peak RSS MiB':>13}  exit")
    for name, r in results.items():
        print(f"{name:44} {r['median_ms']:10.1f} {r['cpu_ms']:8.1f} {r['median_ms'] / bare:7.1f} "
              f"{r['peak_rss_mib']:13.1f}  {','.join(map(str, r['exit_codes']))}")
    help_ms = results["loomctl --help"]["median_ms"]
    tab_ms = results["TAB: loomctl status --"]["median_ms"]
    status_ms = results["loomctl status -o json (local Azure)"]["median_ms"]
    status_cpu = results["loomctl status -o json (local Azure)"]["cpu_ms"]
    print()
    print(f"target --help <= 150 ms and <= 6x bare: {'met' if help_ms <= 150 and help_ms <= 6 * bare else 'MISSED'}")
    print(f"target TAB    <= 150 ms and <= 6x bare: {'met' if tab_ms <= 150 and tab_ms <= 6 * bare else 'MISSED'}")
    print(f"target status < 1500 ms:                {'met' if status_ms < 1500 else 'MISSED'}")
    print(f"target status -o json CPU <= 600 ms:    {status_cpu:.0f} ms (warm token cache)  "
          f"{'met' if status_cpu <= 600 else 'MISSED'}")
    if not az_rows:
        print(f"target loomctl >= 6x faster than az:    skipped: {az_skip}")
        return
    ours = results["loomctl status --replicas -o json"]
    theirs_ms = sum(results[name]["median_ms"] for name, _, _ in az_rows)
    theirs_cpu = sum(results[name]["cpu_ms"] for name, _, _ in az_rows)
    ratio = theirs_ms / ours["median_ms"]
    print(f"target loomctl >= 6x faster than az:    {ratio:.1f}x (status --replicas {ours['median_ms']:.0f} ms "
          f"against the three az commands' {theirs_ms:.0f} ms; CPU {ours['cpu_ms']:.0f} against {theirs_cpu:.0f} "
          f"ms, ratio {ours['cpu_ms'] / theirs_cpu:.2f})  {'met' if ratio >= 6 else 'MISSED'}")


if __name__ == "__main__":
    main()
