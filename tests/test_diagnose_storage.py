"""`loomctl diagnose storage` against the local Azure: overview tables/JSON plus the Storage checks."""

from __future__ import annotations

from tests import faults
from tests.fakeazure import topology as t


def _storage(doc):
    """The Storage category's results (doctor adds their Azure prerequisites before them)."""
    return next(cat["checks"] for cat in doc["checks"]["categories"] if cat["name"] == "Storage")


def test_healthy_json_overview_and_checks(azure, loomctl):
    run = loomctl("diagnose", "storage", "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["storages"] == [{"name": "gun-storage", "kind": "AzureFile", "account": t.STORAGE_ACCOUNT,
                                "share": t.SHARE, "access_mode": "ReadWrite", "account_key_from_key_vault": False}]
    assert doc["shares"][0]["quota_gib"] == 100 and doc["shares"][0]["percent"] == 12.0
    node = next(m for m in doc["mounts"] if m["app"] == t.NODE)
    assert node["mount_path"] == "/mnt/gun-data" and node["per_replica"] is True
    assert doc["checks"]["success"] is True
    assert {c["status"] for c in _storage(doc)} == {"pass"}
    # the share was read with its statistics
    share_reqs = [r for r in azure.arm_requests() if "/shares/" in r.path]
    assert share_reqs and all(r.query.get("$expand") == ["stats"] for r in share_reqs)


def test_table_shows_mounts_shares_and_findings(azure, loomctl):
    faults.share_usage(azure.state, 97)
    faults.shared_radisk_folder(azure.state)
    run = loomctl("diagnose", "storage", "-o", "table")
    assert run.exit_code == 1
    out = run.stdout
    assert "97.0 GiB (97 %)" in out
    assert "/opt/data/$(CONTAINER_APP_REPLICA_NAME)" in out and "(per replica)" in out
    assert "× LOOM505 share usage below quota" in out
    assert "‼ LOOM507 each replica writes its own data folder" in out
    assert out.rstrip().splitlines()[-1].startswith("× Status check results: problems found")


def test_query_reshapes_output(azure, loomctl):
    run = loomctl("diagnose", "storage", "-o", "json", "--query", "shares[0].percent")
    assert run.exit_code == 0
    assert run.stdout.strip() == "12.0"


def test_missing_app_reports_without_traceback(azure, loomctl):
    run = loomctl("diagnose", "storage", "-o", "table", "--node-app", "no-such-app")
    assert run.exit_code == 1
    assert "no-such-app" not in run.stderr  # said once, by the check below, not again as a warning
    assert "Traceback" not in run.stdout + run.stderr
    # the prerequisite says what is wrong, once; the storage check that needs the app is skipped
    assert "× LOOM105 app exists [no-such-app]: container app 'no-such-app' not found" in run.stdout
    # one failure for one cause: the relay's storage checks read the storages of both apps, so they wait for both
    assert [line for line in run.stdout.splitlines() if line.startswith("× LOOM")] == [
        "× LOOM105 app exists [no-such-app]: container app 'no-such-app' not found in resource group 'rg-loom'"]
    assert "- 11 checks skipped: they need LOOM105 app exists [no-such-app], which failed" in run.stdout


def test_sandbox_profile_says_it_has_no_azure(azure, loomctl):
    """Azure Files exists only on Azure: not "all checks passed" with every check skipped, but the reason (exit 2)."""
    assert loomctl("config", "set", "azure", "false").exit_code == 0
    run = loomctl("diagnose", "storage", "-o", "json")
    assert run.exit_code == 2
    assert run.stdout == ""
    assert run.stderr.startswith("error: `loomctl diagnose storage` needs an Azure deployment, and profile "
                                 "'default' has none (azure = false)\nhint: ")
    assert azure.arm_requests() == []


def test_missing_environment_storage_names_the_fix(azure, loomctl):
    faults.missing_env_storage(azure.state)
    run = loomctl("diagnose", "storage", "-o", "json")
    assert run.exit_code == 1
    fails = [
        c for c in [c for cat in run.json()["checks"]["categories"] for c in cat["checks"]] if c["status"] == "fail"
    ]
    assert {c["code"] for c in fails} == {"LOOM501"}
    assert "az containerapp env storage set" in fails[0]["hint"]


def test_missing_configuration_is_a_usage_error(loomctl):
    run = loomctl("diagnose", "storage")
    assert run.exit_code == 2
    assert "error: no Azure subscription id is set" in run.stderr and run.stdout == ""


def test_share_stats_garbage_is_reported_by_the_share_check(azure, loomctl):
    from tests.fakeazure.server import Response

    azure.route("GET", r".*/fileServices/default/shares/[^/]+", lambda req, m: Response(200, b"{not json"))
    run = loomctl("diagnose", "storage", "-o", "json")
    assert run.exit_code == 3  # the share could not be read: an Azure error, not a finding
    checks = [c for cat in run.json()["checks"]["categories"] for c in cat["checks"]]
    fails = {c["code"]: c for c in checks if c["status"] == "fail"}
    assert set(fails) == {"LOOM503"}
    assert fails["LOOM503"]["message"] == ("file share 'gun-storage' could not be read: Azure returned a response for "
                                           "file share 'gun-storage' that is not valid JSON")
    assert "Traceback" not in run.stderr


def test_not_signed_in_is_one_failure_exit_3(azure, loomctl, monkeypatch):
    # as doctor: when Azure access itself fails nothing was checked, so "storage problems found" (exit 1) is untrue
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    run = loomctl("diagnose", "storage", "-o", "table")
    assert run.exit_code == 3
    assert "- 17 checks skipped: they need LOOM101 signed in to Azure, which failed\n" in run.stdout
    assert run.stderr == ("error: LOOM101 signed in to Azure failed, so 17 checks that need Azure access did not run\n"
                          "hint: fix what it names (its hint is above), then run again\n")
