"""`loomctl cost estimate --from-live` against the local HTTPS Azure."""

from __future__ import annotations

from decimal import Decimal

import pytest


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOMCTL_CACHE_DIR", str(tmp_path / "cache"))


def test_from_live_reads_the_reference_deployment(azure, loomctl):
    run = loomctl("cost", "estimate", "--from-live", "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    apps = {a["name"]: a for a in doc["inputs"]["apps"]}
    assert apps["gun-relay"] == {"name": "gun-relay", "role": "relay", "replicas": 2, "cpu": 0.5, "memory_gib": 1,
                                 "max_replicas": 5, "peak_replicas": None, "peak_hours": 0, "idle_fraction": 0}
    assert apps["loom-node"]["replicas"] == 3 and apps["loom-node"]["max_replicas"] == 20
    assert doc["inputs"]["source"] == "live"
    assert doc["total_exact"] == "324.71"  # the same shape as the defaults, so the same figure
    assert doc["prices"]["region"] == "eastus"  # from the apps' location "East US"
    assert any("minimum replica count (gun-relay 2, loom-node 3)" in a for a in doc["assumptions"])
    gets = azure.arm_requests("GET")
    assert {r.path.rsplit("/", 1)[-1] for r in gets} == {"gun-relay", "loom-node"}
    assert azure.arm_requests() == gets  # read-only


def test_from_live_uses_min_replicas_and_summed_containers(azure, loomctl):
    node = azure.state["apps"]["loom-node"]["properties"]["template"]
    node["scale"]["minReplicas"] = 1
    node["containers"][0]["resources"] = {"cpu": 1.5, "memory": "3Gi"}
    node["containers"].append({"name": "sidecar", "image": "x", "resources": {"cpu": 0.5, "memory": "1.0Gi"}})
    doc = loomctl("cost", "estimate", "--from-live", "--peak-hours", "4", "--peak-replicas", "20",
                  "-o", "json").json()
    got = {(x["component"], x["item"]): Decimal(x["exact"]) for x in doc["lines"]}
    # 2 vCPU / 4 GiB per replica: 1 x 20 h x 109,500 s + 20 x 4 h x 109,500 s = 2,190,000 + 8,760,000 replica-s
    assert got[("loom-node", "vCPU (active)")] == Decimal("525.6")  # 10,950,000 x 2 x 0.000024
    assert got[("loom-node", "memory (active)")] == Decimal("131.4")  # 10,950,000 x 4 x 0.000003


def test_from_live_refuses_overrides_and_reports_missing_apps(azure, loomctl):
    run = loomctl("cost", "estimate", "--from-live", "--node-replicas", "5")
    assert run.exit_code == 2
    assert "--node-replicas cannot be combined with --from-live" in run.stderr
    run = loomctl("cost", "estimate", "--from-live", "--peak-hours", "2", "--peak-replicas", "21")
    assert run.exit_code == 2 and "range of 3 to 20" in run.stderr
    del azure.state["apps"]["loom-node"]
    run = loomctl("cost", "estimate", "--from-live", "-o", "json")
    assert run.exit_code == 3 and run.stdout == ""
    assert "container app 'loom-node' not found in resource group 'rg-loom'" in run.stderr
