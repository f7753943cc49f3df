"""`loomctl status` against the local HTTPS Azure."""

from __future__ import annotations

import pytest

from tests.fakeazure import topology
from tests.fakeazure.server import Fault


@pytest.mark.also_subprocess
def test_status_json_describes_both_apps(azure, loomctl):
    run = loomctl("status", "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["environment"]["default_domain"] == topology.DOMAIN
    assert doc["environment"]["log_analytics_workspace"] == topology.WORKSPACE_ID
    apps = {a["name"]: a for a in doc["apps"]}
    assert set(apps) == {"gun-relay", "loom-node"}
    relay = apps["gun-relay"]
    assert relay["role"] == "relay"
    assert relay["replicas"] == {"running": 2, "min": 2, "max": 5}
    assert relay["ingress"]["external"] is False
    assert relay["ingress"]["target_port"] == 8765
    assert relay["ingress"]["allow_insecure"] is True
    assert relay["active_revisions"][0]["traffic_weight"] == 100
    assert apps["loom-node"]["volumes"][0]["mount_paths"] == ["/mnt/gun-data"]
    assert "replicas" not in doc
    # the SDK really signed in and called ARM with a bearer token
    assert azure.tokens_issued >= 1
    assert all(r.headers.get("authorization") == "Bearer" for r in azure.arm_requests())


def test_status_replicas_lists_each_replica(azure, loomctl):
    azure.state["replicas"]["loom-node--n1"][1] = topology.replica(
        azure.state["apps"]["loom-node"], "loom-node--n1", 1, running="NotRunning", restarts=7, ready=False)
    run = loomctl("status", "--replicas", "-o", "json")
    assert run.exit_code == 0, run.stderr
    reps = run.json()["replicas"]
    assert len(reps) == 5
    bad = [r for r in reps if r["running_state"] != "Running"]
    assert [(r["app"], r["restarts"]) for r in bad] == [("loom-node", 7)]
    node = next(a for a in run.json()["apps"] if a["name"] == "loom-node")
    assert node["replicas"]["running"] == 2


def test_status_table_on_request(azure, loomctl):
    run = loomctl("status", "-o", "table")
    assert run.exit_code == 0, run.stderr
    assert "loom-env" in run.stdout
    squashed = run.stdout.replace("\n", "").replace("│", "").replace(" ", "")  # a folded FQDN joins up again
    # Ingress rows: App, Ingress, Target port, Transport, Insecure, FQDN
    assert f"gun-relayinternal8765httpyesgun-relay.internal.{topology.DOMAIN}" in squashed
    assert f"loom-nodeexternal3000autonoloom-node.{topology.DOMAIN}" in squashed
    assert "Active revisions" in run.stdout
    assert "Volumes" in run.stdout and "/mnt/gun-data" in run.stdout


def test_status_missing_app_is_exit_3_with_hint(azure, loomctl):
    del azure.state["apps"]["gun-relay"]
    run = loomctl("status", "-o", "json")
    assert run.exit_code == 3
    assert run.stdout == ""
    assert "error: container app 'gun-relay' not found in resource group 'rg-loom'" in run.stderr
    assert "hint: check --relay-app" in run.stderr
    assert "Traceback" not in run.stderr


def test_status_server_error_retried_then_reported(azure, loomctl):
    azure.faults.append(Fault(r"/managedEnvironments/loom-env$", status=503))
    run = loomctl("status")
    assert run.exit_code == 3
    assert "Azure answered 503" in run.stderr
    hits = [r for r in azure.requests if r.path.endswith("/managedEnvironments/loom-env")]
    assert len(hits) == 4  # first try + 3 retries
