"""One cause, one message, the documented exit code: doctor without Azure access."""

from __future__ import annotations

import re

from tests.test_doctor_azure import checks_by_key

DOCS = "https://github.com/loomdb/loomctl/blob/main/docs/checks.md"
NOT_SIGNED_IN = "not signed in to Azure: no credential could get a token"
SIGN_IN_HINT = ("run `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service "
                "principal, or run where a managed or workload identity is available")


def test_doctor_not_signed_in_one_failure_one_skip_line_exit_3(azure, loomctl, monkeypatch):
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    run = loomctl("doctor", "-o", "table")
    assert run.exit_code == 3
    assert run.stdout == (
        "Azure access and apps\n"
        "---------------------\n"
        f"× LOOM101 signed in to Azure: {NOT_SIGNED_IN}\n"
        f"    hint: {SIGN_IN_HINT}\n"
        f"    see {DOCS}#loom101\n"
        "\n"
        "- 63 checks skipped: they need LOOM101 signed in to Azure, which failed\n"
        "\n"
        "× Status check results: problems found — 0 passed, 0 warnings, 1 failed, 63 skipped\n")
    assert run.stderr == ("error: LOOM101 signed in to Azure failed, so 63 checks that need Azure access did not run\n"
                          "hint: fix what it names (its hint is above), then run again\n")
    assert azure.arm_requests() == []


def test_doctor_not_signed_in_json_keeps_every_skipped_check_with_its_reason(azure, loomctl, monkeypatch):
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    run = loomctl("doctor", "-o", "json")
    assert run.exit_code == 3
    doc = run.json()
    assert doc["summary"] == {"pass": 0, "warn": 0, "fail": 1, "skip": 63}
    checks = checks_by_key(doc)
    assert [k for k, c in checks.items() if c["status"] == "fail"] == [("LOOM101", None)]
    assert checks[("LOOM102", None)]["message"] == "skipped: prerequisite LOOM101 fail"
    # the DNS and LoomMesh checks read their peers from the deployment: skipped for the same cause, not failed
    assert checks[("LOOM301", None)]["message"] == (
        "skipped: prerequisite LOOM105 (gun-relay) skip, LOOM105 (loom-node) skip")
    assert checks[("LOOM402", None)]["status"] == "skip"
    assert all(c["details"]["cause"] == ["LOOM101"] for k, c in checks.items() if k[0] != "LOOM101")


def test_doctor_not_signed_in_with_profile_peers_still_probes_them(azure, relays, loomctl, monkeypatch, tmp_path):
    relay = relays.start()
    (tmp_path / "config.toml").write_text(f'[profiles.mesh]\npeers = ["{relay.url}"]\n')
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    run = loomctl("doctor", "--profile", "mesh", "-o", "table")
    assert run.exit_code == 3
    lines = run.stdout.splitlines()
    assert [line[:10] for line in lines if line.startswith(("✓", "×", "‼"))] == [
        "× LOOM101 ", "✓ LOOM301 ", "✓ LOOM402 ", "× Status c"]
    assert "- 61 checks skipped: they need LOOM101 signed in to Azure, which failed" in lines
    assert run.stderr.startswith("error: LOOM101 signed in to Azure failed, so 61 checks that need Azure access")


def test_several_causes_one_line_each(azure, loomctl):
    """Two apps missing: one skip line per cause (each app's own checks), one for those that need both."""
    run = loomctl("doctor", "--category", "azure", "--category", "configuration", "-o", "table",
                  "--relay-app", "no-relay", "--node-app", "no-node")
    assert run.exit_code == 1
    skips = [line for line in run.stdout.splitlines() if line.startswith("- ")]
    assert skips == [
        "- 13 checks skipped: they need LOOM105 app exists [no-relay], which failed",
        "- 13 checks skipped: they need LOOM105 app exists [no-node], which failed",
        "- 7 checks skipped: they need LOOM105 app exists [no-relay, no-node], which failed",
    ]


def test_doctor_arm_unreachable_is_one_network_failure_exit_3(azure, loomctl, monkeypatch):
    # signing in works (the authority answers) but Resource Manager does not: nothing about the deployment was
    # checked, so "problems found" (exit 1) would be a verdict the run cannot give
    from tests.subproc import network_guards

    dead = network_guards()["LOOMCTL_DNS_SERVERS"]  # a bound loopback port that never listens
    monkeypatch.setenv("LOOMCTL_ARM_ENDPOINT", f"https://{dead}")
    host, port = dead.rsplit(":", 1)
    run = loomctl("doctor", "-o", "table")
    assert run.exit_code == 3, run.stderr
    assert run.stdout == (
        "Azure access and apps\n"
        "---------------------\n"
        f"✓ LOOM101 signed in to Azure: signed in; token for https://{dead}/.default\n"
        f"× LOOM102 subscription reachable: cannot connect to {host}: HTTPSConnection(host='{host}', port={port}): "
        "Failed to establish a new connection: [Errno 111] Connection refused\n"
        "    hint: check the network, proxy and DNS; for private clouds check LOOMCTL_ARM_ENDPOINT\n"
        f"    see {DOCS}#loom102\n"
        "\n"
        "- 62 checks skipped: they need LOOM102 subscription reachable, which failed\n"
        "\n"
        "× Status check results: problems found — 1 passed, 0 warnings, 1 failed, 62 skipped\n")
    assert run.stderr == ("error: LOOM102 subscription reachable failed, so 62 checks that need Azure access did "
                          "not run\nhint: fix what it names (its hint is above), then run again\n")


def test_doctor_environment_forbidden_is_an_access_error_exit_3(azure, loomctl):
    from tests.fakeazure.server import Fault

    azure.faults.append(Fault(r"/managedEnvironments/[^/]+$", status=403, body={"error": {
        "code": "AuthorizationFailed", "message": "no read access to the environment"}}))
    run = loomctl("doctor", "-o", "table")
    assert run.exit_code == 3, run.stdout
    assert "× LOOM104 Container Apps environment exists and is provisioned: access denied to" in run.stdout
    lines = run.stderr.splitlines()
    assert re.fullmatch(r"error: LOOM104 could not read Azure, so \d+ checks that need it did not run", lines[0]), lines
    assert lines[1] == "hint: fix what it names (its hint is above), then run again"


def test_doctor_environment_answer_not_json_is_an_access_error_exit_3(azure, loomctl):
    from tests.fakeazure.server import Fault

    azure.faults.append(Fault(r"/managedEnvironments/[^/]+$", status=200, body=b"<html>proxy login</html>"))
    run = loomctl("doctor", "-o", "json")
    assert run.exit_code == 3
    checks = checks_by_key(run.json())
    assert checks[("LOOM104", None)]["status"] == "fail"
    assert "not valid JSON" in checks[("LOOM104", None)]["message"]
    assert checks[("LOOM104", None)]["details"]["unreadable"] is True


def test_doctor_missing_environment_is_a_finding_exit_1(azure, loomctl):
    from tests.fakeazure.server import Fault

    azure.faults.append(Fault(r"/managedEnvironments/[^/]+$", status=404, body={"error": {
        "code": "ResourceNotFound", "message": "not found"}}))
    run = loomctl("doctor", "-o", "json")
    assert run.exit_code == 1
    assert "unreadable" not in checks_by_key(run.json())[("LOOM104", None)]["details"]
