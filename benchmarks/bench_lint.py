#!/usr/bin/env python3
"""`loomctl lint` of a generated ARM template with 200 resources: median wall time.

    python benchmarks/bench_lint.py [--runs N]

The template holds 40 deployments of the test Azure's topology (tests/fakeazure/topology.py), each an
environment, its environment storage, a storage account, a relay and a node (5 x 40 = 200 resources), with
expressions (parameters, format, resourceId, reference().defaultDomain) as `az bicep build` writes them.
Measured: the whole command as a user runs it (`loomctl lint FILE -o json`, a fresh process) and the lint
itself in-process (read, resolve, 40 x doctor's definition checks, positions). Target (2 cores): <= 1 s.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_S = 1.0


def generate(groups: int = 40) -> dict:
    from tests.fakeazure import topology as t

    state = t.healthy()
    resources = []
    for i in range(groups):
        env = f"env-{i:02d}"
        env_id = f"[resourceId('Microsoft.App/managedEnvironments', format('env-{{0}}', '{i:02d}'))]"
        peers = (f"[format('http://relay-{i:02d}.internal.{{0}}/gun', reference({env_id[1:-1]}, "
                 "'2024-03-01').defaultDomain)]")
        resources.append({"type": "Microsoft.App/managedEnvironments", "apiVersion": "2024-03-01", "name": env,
                          "location": "[parameters('location')]", "properties": {}})
        storage = copy.deepcopy(state["storages"][t.SHARE])
        resources.append({"type": "Microsoft.App/managedEnvironments/storages", "apiVersion": "2024-03-01",
                          "name": f"[format('{{0}}/{{1}}', '{env}', '{t.SHARE}')]",
                          "properties": storage["properties"]})
        account = copy.deepcopy(state["storage_accounts"][t.STORAGE_ACCOUNT])
        resources.append({"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2023-05-01",
                          "name": f"loomstorage{i:02d}", "kind": account["kind"], "sku": account["sku"],
                          "location": "[parameters('location')]", "properties": account["properties"]})
        for role, src in (("relay", t.RELAY), ("node", t.NODE)):
            app = copy.deepcopy(state["apps"][src])
            p = app["properties"]
            p.pop("managedEnvironmentId", None)
            p["environmentId"] = env_id
            p["configuration"]["ingress"].pop("fqdn", None)
            c = p["template"]["containers"][0]
            c["name"] = f"{role}-{i:02d}"
            if role == "node":
                for e in c["env"]:
                    if e["name"] == "GUN_PEERS":
                        e["value"] = peers
            resources.append({"type": "Microsoft.App/containerApps", "apiVersion": "2024-03-01",
                              "name": f"{role}-{i:02d}", "location": "[parameters('location')]",
                              "identity": app["identity"], "properties": p, "dependsOn": [env_id]})
    return {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0",
            "parameters": {"location": {"type": "string", "defaultValue": "[resourceGroup().location]"}},
            "resources": resources}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "main.json"
    doc = generate()
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "LOOMCTL_"))}
    env["LOOMCTL_CONFIG"] = str(tmp / "config.toml")
    loomctl = str(Path(sys.executable).with_name("loomctl"))
    walls, deployments, problems = [], None, None
    for _ in range(args.runs):
        t0 = time.perf_counter()
        run = subprocess.run([loomctl, "lint", str(path), "-o", "json"], env=env, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        out = json.loads(run.stdout)
        deployments, problems = out["summary"]["deployments"], out["summary"]["problems"]
    from loomctl.core.settings import Settings
    from loomctl.lint.run import lint_paths

    settings = Settings(profile="bench", config_path=tmp / "config.toml", values={})
    inproc = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        lint_paths([str(path)], settings)
        inproc.append(time.perf_counter() - t0)
    cmd, lib = statistics.median(walls), statistics.median(inproc)
    print(f"template: {len(doc['resources'])} resources, {deployments} deployments, {problems} problems, "
          f"{path.stat().st_size // 1024} KiB")
    print(f"loomctl lint (fresh process): median {cmd * 1000:.0f} ms over {args.runs} runs   target <= "
          f"{TARGET_S * 1000:.0f} ms   {'ok' if cmd <= TARGET_S else 'OVER'}")
    print(f"lint in-process:              median {lib * 1000:.0f} ms over {args.runs} runs   target <= "
          f"{TARGET_S * 1000:.0f} ms   {'ok' if lib <= TARGET_S else 'OVER'}")


if __name__ == "__main__":
    main()
