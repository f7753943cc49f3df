"""`loomctl doctor --category azure` on healthy and faulty deployments, and the check framework's behaviour."""

from __future__ import annotations

import pytest

from tests.fakeazure import topology
from tests.fakeazure.server import Fault


def checks_by_key(doc):
    return {(c["code"], c["resource"]): c for cat in doc["categories"] for c in cat["checks"]}


@pytest.mark.also_subprocess
def test_healthy_all_pass(azure, loomctl):
    run = loomctl("doctor", "--category", "azure", "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["success"] is True
    assert [c["name"] for c in doc["categories"]] == ["Azure access and apps"]
    checks = checks_by_key(doc)
    assert {k[0] for k in checks} == {f"LOOM10{i}" for i in range(1, 9)}
    assert all(c["status"] == "pass" for c in checks.values()), checks
    assert checks[("LOOM107", "loom-node")]["details"] == {"running": 3, "min": 3}


@pytest.mark.also_subprocess
def test_table_output_lines_and_summary(azure, loomctl):
    run = loomctl("doctor", "--category", "azure", "-o", "table")
    assert run.exit_code == 0
    lines = run.stdout.splitlines()
    assert lines[0] == "Azure access and apps"
    assert lines[2].startswith("✓ LOOM101 signed in to Azure")
    assert "✓ LOOM107 running replicas at or above minimum [gun-relay]: 2 running replicas (min 2, max 5)" in lines
    assert lines[-1] == ("✓ Status check results: all checks passed — 12 passed, 0 warnings, 0 failed, 0 skipped")


def test_missing_environment_fails_and_skips_dependents(azure, loomctl):
    azure.state["environment"]["name"] = "other-env"
    run = loomctl("doctor", "--category", "azure", "-o", "json")
    assert run.exit_code == 1
    checks = checks_by_key(run.json())
    assert checks[("LOOM104", None)]["status"] == "fail"
    assert "environment 'loom-env' not found" in checks[("LOOM104", None)]["message"]
    assert "--environment" in checks[("LOOM104", None)]["hint"]
    for app in ("gun-relay", "loom-node"):
        assert checks[("LOOM105", app)]["status"] == "skip"
        assert checks[("LOOM105", app)]["message"] == "skipped: prerequisite LOOM104 fail"
        assert checks[("LOOM107", app)]["status"] == "skip"


def test_stopped_relay_and_low_replicas(azure, loomctl):
    azure.state["apps"]["gun-relay"]["properties"]["runningStatus"] = "Stopped"
    run = loomctl("doctor", "--category", "azure", "-o", "json")
    assert run.exit_code == 1
    checks = checks_by_key(run.json())
    assert checks[("LOOM106", "gun-relay")]["status"] == "fail"
    assert checks[("LOOM106", "gun-relay")]["message"] == "app 'gun-relay' is Stopped"
    assert checks[("LOOM106", "loom-node")]["status"] == "pass"
    assert checks[("LOOM107", "gun-relay")]["status"] == "skip"


def test_replicas_below_min(azure, loomctl):
    rev = "loom-node--n1"
    azure.state["replicas"][rev] = azure.state["replicas"][rev][:1]
    run = loomctl("doctor", "--category", "azure", "-o", "json")
    assert run.exit_code == 1
    c = checks_by_key(run.json())[("LOOM107", "loom-node")]
    assert c["status"] == "fail"
    assert c["message"] == "1 running replicas of 'loom-node', below its minimum of 3"


def test_crash_looping_replica(azure, loomctl):
    node = azure.state["apps"]["loom-node"]
    azure.state["replicas"]["loom-node--n1"][2] = topology.replica(node, "loom-node--n1", 2, restarts=9)
    run = loomctl("doctor", "--category", "azure", "-o", "json", "--short")
    assert run.exit_code == 1
    checks = checks_by_key(run.json())
    assert list(checks) == [("LOOM108", "loom-node")]  # --short: only problems
    assert "restarted 9 times" in checks[("LOOM108", "loom-node")]["message"]


def test_ignore_and_fail_on_warn(azure, loomctl):
    node = azure.state["apps"]["loom-node"]
    azure.state["replicas"]["loom-node--n1"][0] = topology.replica(node, "loom-node--n1", 0, restarts=3)
    run = loomctl("doctor", "--category", "azure", "-o", "json")
    assert run.exit_code == 0  # a warning alone is not a failure
    assert checks_by_key(run.json())[("LOOM108", "loom-node")]["status"] == "warn"
    assert loomctl("doctor", "--category", "azure", "-o", "json", "--fail-on-warn").exit_code == 1
    run = loomctl("doctor", "--category", "azure", "-o", "json", "--fail-on-warn", "--ignore", "LOOM108")
    assert run.exit_code == 0
    assert "LOOM108" not in {k[0] for k in checks_by_key(run.json())}


def test_suppression_from_profile(azure, loomctl):
    node = azure.state["apps"]["loom-node"]
    azure.state["replicas"]["loom-node--n1"][0] = topology.replica(node, "loom-node--n1", 0, restarts=12)
    assert loomctl("config", "set", "suppress", "LOOM108=loom-node").exit_code == 0
    run = loomctl("doctor", "--category", "azure", "-o", "json")
    assert run.exit_code == 0, run.stdout
    c = checks_by_key(run.json())[("LOOM108", "loom-node")]
    assert c["status"] == "skip"
    assert c["message"].startswith("suppressed by profile")
    assert c["details"]["suppressed_status"] == "fail"


def test_unknown_ignore_code_and_category(azure, loomctl):
    run = loomctl("doctor", "--ignore", "LOOM999")
    assert run.exit_code == 2
    assert "unknown check code LOOM999" in run.stderr
    run = loomctl("doctor", "--category", "nonsense")
    assert run.exit_code == 2
    assert "unknown check category 'nonsense'" in run.stderr


def test_not_signed_in_fails_first_check_only(azure, loomctl, monkeypatch):
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    run = loomctl("doctor", "--category", "azure", "-o", "json")
    assert run.exit_code == 3  # Azure access itself failed (README exit codes)
    checks = checks_by_key(run.json())
    assert checks[("LOOM101", None)]["status"] == "fail"
    assert "az login" in checks[("LOOM101", None)]["hint"]
    assert all(c["status"] == "skip" for k, c in checks.items() if k[0] != "LOOM101")
    assert azure.arm_requests() == []


def test_slow_check_hits_its_deadline(azure, loomctl, monkeypatch):
    """A check that does not finish is failed at its deadline; the others still run."""
    from loomctl.checks.categories import azure_access

    spec = next(s for s in azure_access.CHECKS if s.code == "LOOM103")
    patched = [s if s.code != "LOOM103" else type(spec)(**{**spec.__dict__, "timeout": 0.5})
               for s in azure_access.CHECKS]
    monkeypatch.setattr(azure_access, "CHECKS", patched)  # our own catalogue, with a short deadline
    azure.faults.append(Fault(r"/resourcegroups/rg-loom$", status=None, delay=2.0))
    run = loomctl("doctor", "--category", "azure", "-o", "json")
    assert run.exit_code == 1
    c = checks_by_key(run.json())[("LOOM103", None)]
    assert c["status"] == "fail"
    assert c["message"] == "did not finish within 0.5 s"


def test_checks_list(loomctl):
    run = loomctl("checks", "list", "-o", "json")
    assert run.exit_code == 0
    rows = {r["code"]: r for r in run.json()}
    assert rows["LOOM101"]["category"] == "Azure access and apps"
    assert rows["LOOM107"]["per_app"] is True
    assert rows["LOOM104"]["after"] == ["LOOM103"]
    assert all(r["fix"] and r["failure_means"] for r in rows.values())
    assert rows["LOOM101"]["docs"].endswith("docs/checks.md#loom101")


def test_category_brings_its_prerequisites(azure, loomctl, monkeypatch):
    """`--category storage` when not signed in: one LOOM101 failure, the storage checks skipped with the reason."""
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    run = loomctl("doctor", "--category", "storage", "-o", "json")
    assert run.exit_code == 3
    doc = run.json()
    assert [c["name"] for c in doc["categories"]] == ["Azure access and apps", "Storage"]
    checks = checks_by_key(doc)
    assert [k for k, c in checks.items() if c["status"] == "fail"] == [("LOOM101", None)]
    assert checks[("LOOM501", "gun-relay")]["message"] == ("skipped: prerequisite LOOM105 (gun-relay) skip, "
                                                           "LOOM105 (loom-node) skip")  # it reads both apps' storages
    assert checks[("LOOM501", "gun-relay")]["details"] == {"cause": ["LOOM101"]}
    assert "DefaultAzureCredential" not in run.stderr  # the SDK's own warnings stay quiet
