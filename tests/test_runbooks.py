"""Runbooks: list/show/run against the local Azure (healthy and faulty) and on a sandbox profile (azure = false)."""

from __future__ import annotations

import pytest

from loomctl.checks.registry import all_checks
from loomctl.runbooks import load_all
from tests import faults


@pytest.fixture
def logs(azure):
    """The local Log Analytics route answering every query with no rows."""
    from tests.loganalytics import FakeLogAnalytics

    return FakeLogAnalytics(azure)


NAMES = ["after-a-deploy", "azure-files-mount-fails", "high-sync-latency", "mesh-split", "peers-not-connecting"]


def test_every_runbook_names_known_checks_and_categories():
    codes = {s.code for s in all_checks()}
    books = load_all()
    assert sorted(books) == NAMES
    for rb in books.values():
        for step in rb.steps:
            assert set(step.check) <= codes, (rb.name, step.title)
            if step.category:
                assert step.category in {"DNS", "LoomMesh"}, step.category


def test_list(loomctl):
    run = loomctl("runbook", "list", "-o", "json")
    assert run.exit_code == 0
    rows = run.json()
    assert [r["name"] for r in rows] == NAMES
    assert next(r for r in rows if r["name"] == "azure-files-mount-fails")["steps"] == 8


def test_show_prints_markdown_with_profile_values(loomctl):
    assert loomctl("config", "set", "node_app", "my-node").exit_code == 0
    run = loomctl("runbook", "show", "azure-files-mount-fails")
    assert run.exit_code == 0
    md = run.stdout
    assert md.startswith("# Runbook: Azure Files mount fails\n")
    assert "3. **The file share exists (az storage share show)** (checks LOOM503)" in md
    assert "   - **LOOM503** file share exists. If it fails: Create the share" in md
    assert "8. **Storage errors in the logs (last hour)**: `loomctl query run storage-errors --since 1h`." in md
    assert "`loomctl logs --app my-node --system --since 1h`" in md  # placeholder filled from the profile
    data = loomctl("runbook", "show", "azure-files-mount-fails", "-o", "json").json()
    assert data["steps"][0] == {"title": "Each app's volume names an existing environment storage", "kind": "check",
                                "check": ["LOOM501"]}


def test_unknown_runbook_is_a_usage_error(loomctl):
    run = loomctl("runbook", "run", "peers-not-conecting")
    assert run.exit_code == 2
    assert "error: no runbook named 'peers-not-conecting'" in run.stderr
    assert "did you mean 'peers-not-connecting'?" in run.stderr
    assert "Traceback" not in run.stderr


def test_healthy_storage_runbook_passes_end_to_end(azure, logs, loomctl):
    run = loomctl("runbook", "run", "azure-files-mount-fails", "-o", "json")
    assert run.exit_code == 0, run.stdout
    doc = run.json()
    assert doc["problem"] is False and doc["stopped_at"] is None
    assert [s["status"] for s in doc["steps"][:7]] == ["pass"] * 7
    assert doc["steps"][7]["kind"] == "query" and doc["steps"][7]["status"] == "pass"
    assert doc["next"].startswith("The storage configuration looks right.")
    assert "loomctl logs --app loom-node --system" in doc["next"]


def test_fault_stops_at_the_step_that_explains_it(azure, logs, loomctl):
    faults.read_only_storage(azure.state)
    run = loomctl("runbook", "run", "azure-files-mount-fails", "-o", "json")
    assert run.exit_code == 1
    doc = run.json()
    assert doc["problem"] is True and doc["stopped_at"] == 4
    assert [s["status"] for s in doc["steps"]] == ["pass", "pass", "pass", "fail"]
    step = doc["steps"][3]
    assert {c["code"] for c in step["checks"] if c["status"] == "fail"} == {"LOOM504"}
    assert "--access-mode ReadWrite" in doc["next"]
    assert "then run `loomctl runbook run azure-files-mount-fails` again" in doc["next"]


def test_all_runs_every_step(azure, logs, loomctl):
    faults.read_only_storage(azure.state)
    faults.share_usage(azure.state, 97)
    doc = loomctl("runbook", "run", "azure-files-mount-fails", "--all", "-o", "json").json()
    assert len(doc["steps"]) == 8 and doc["stopped_at"] is None
    assert [s["step"] for s in doc["steps"] if s["status"] == "fail"][:2] == [4, 5]


def test_table_output_streams_steps_and_next(azure, logs, loomctl):
    faults.reference_peers_value(azure.state)
    run = loomctl("runbook", "run", "peers-not-connecting", "-o", "table")
    assert run.exit_code == 1
    out = run.stdout.splitlines()
    assert out[0] == "Runbook: LoomMesh peers not connecting"
    assert "1. ✓ The relay app is provisioned and running" in out
    assert any(line.startswith("4. × The node runs LoomMesh and GUN_PEERS reaches the relay") for line in out)
    assert any("× LOOM207: GUN_PEERS http://gun-relay.internal." in line for line in out)
    assert "Stopped at step 4: it explains the problem (3 later step(s) not run)." in out
    assert out[out.index("Next:") + 1].startswith("  - step 4: LOOM207: `az containerapp update -n loom-node")
    assert not any(line.startswith("5.") for line in out)


@pytest.mark.parametrize("fault,book,step,code", [
    (faults.shared_radisk_folder, "high-sync-latency", 5, "LOOM507"),
    (faults.stuck_revision, "after-a-deploy", 2, "LOOM602"),
    (faults.stopped_relay, "peers-not-connecting", 1, "LOOM106"),
])
def test_other_runbooks_find_their_fault(azure, logs, loomctl, fault, book, step, code):
    fault(azure.state)
    doc = loomctl("runbook", "run", book, "-o", "json").json()
    assert doc["stopped_at"] == step
    bad = {c["code"] for c in doc["steps"][-1]["checks"] if c["status"] in ("warn", "fail")}
    assert bad == {code}


def test_sandbox_profile_skips_azure_steps_with_a_reason(azure, loomctl):
    assert loomctl("config", "set", "azure", "false").exit_code == 0
    run = loomctl("runbook", "run", "azure-files-mount-fails", "-o", "json")
    assert run.exit_code == 0, run.stdout
    doc = run.json()
    assert len(doc["steps"]) == 8
    for s in doc["steps"]:
        assert s["status"] == "skip"
        assert "has no Azure deployment (azure = false)" in s["message"]
    assert "could not run here" in doc["next"]
    assert azure.arm_requests() == []


def test_sandbox_instruction_steps_still_print(loomctl):
    assert loomctl("config", "set", "azure", "false").exit_code == 0
    run = loomctl("runbook", "run", "high-sync-latency", "-o", "table", "--all")
    assert run.exit_code == 0, run.stdout
    assert "6. i Check Azure Files throttling" in run.stdout
    assert "ClientThrottlingError" in run.stdout
    assert "Next: Check Azure Files throttling" in run.stdout


def test_query_steps_run_against_log_analytics(azure, loomctl):
    """Query steps run against the local Log Analytics route."""
    from tests import loganalytics as la_mod

    la = la_mod.FakeLogAnalytics(azure)
    cols = [("App", "string"), ("Replica", "string"), ("Errors", "long"), ("Sample", "string")]
    la.answer = lambda kql: la_mod.body(la_mod.table(cols, []))
    doc = loomctl("runbook", "run", "azure-files-mount-fails", "-o", "json").json()
    step = doc["steps"][7]
    assert (step["status"], step["message"]) == ("pass", "query 'storage-errors': no rows in the last 1h")
    assert la.queries and "loom-node" in la.last.kql
    la.answer = lambda kql: la_mod.body(la_mod.table(cols, [["loom-node", "r-1", 4, "mount error(13)"]]))
    run = loomctl("runbook", "run", "azure-files-mount-fails", "-o", "json")
    assert run.exit_code == 1
    step = run.json()["steps"][7]
    assert step["status"] == "fail" and step["explains"] is True
    assert step["rows"] == [{"App": "loom-node", "Replica": "r-1", "Errors": 4, "Sample": "mount error(13)"}]
    assert step["hint"] == "read them all: `loomctl query run storage-errors --since 1h`"


def test_query_error_is_reported_but_does_not_stop(azure, loomctl):
    """A refused Log Analytics query (403) is shown with its hint; later steps still run; no step found a problem,
    so the run ends as the Azure error it met (exit 3), not as a problem of the deployment (exit 1)."""
    from tests.fakeazure.server import Response

    azure.route("POST", r"/v1/workspaces/([^/]+)/query", lambda req, m: Response(403, {"error": {
        "code": "InsufficientAccessError", "message": "The provided credentials have insufficient access."}}))
    run = loomctl("runbook", "run", "high-sync-latency", "-o", "json")
    assert run.exit_code == 3
    doc = run.json()
    assert doc["steps"][0]["status"] == "error" and doc["steps"][0]["hint"]
    assert len(doc["steps"]) == 6 and doc["stopped_at"] is None
    assert run.stderr.startswith("error: runbook 'high-sync-latency' could not read Azure at step 1: query ")


def test_not_signed_in_stops_at_the_first_step_with_one_error_exit_3(azure, logs, loomctl, monkeypatch):
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    run = loomctl("runbook", "run", "azure-files-mount-fails", "-o", "json")
    assert run.exit_code == 3
    doc = run.json()
    assert [s["status"] for s in doc["steps"]] == ["error"] and doc["stopped_at"] == 1
    assert doc["steps"][0]["message"] == "not signed in to Azure: no credential could get a token"
    assert run.stderr.splitlines()[0] == ("error: runbook 'azure-files-mount-fails' could not read Azure at step 1: "
                                          "not signed in to Azure: no credential could get a token")
    assert azure.arm_requests() == []


def test_a_real_finding_beside_an_unreadable_query_is_a_problem_exit_1(azure, loomctl):
    from tests.fakeazure.server import Response

    faults.read_only_storage(azure.state)
    azure.route("POST", r"/v1/workspaces/([^/]+)/query", lambda req, m: Response(403, {"error": {
        "code": "InsufficientAccessError", "message": "no access"}}))
    run = loomctl("runbook", "run", "azure-files-mount-fails", "--all", "-o", "json")
    assert run.exit_code == 1
    assert run.stderr.startswith("error: runbook 'azure-files-mount-fails' found a problem")


def test_peers_runbook_on_the_sandbox(tmp_path, monkeypatch, loomctl):
    """End to end on the local sandbox (real GUN relay and nodes, issue 3): Azure steps skip with a reason, the
    DNS and LoomMesh steps probe the real peers."""
    from tests import gunrelay

    gunrelay.sandbox_dirs(tmp_path, monkeypatch)
    assert loomctl("sandbox", "up", "-o", "json").exit_code == 0
    try:
        run = loomctl("runbook", "run", "peers-not-connecting", "--profile", "sandbox", "-o", "json")
        assert run.exit_code == 0, run.stdout
        steps = run.json()["steps"]
        assert [s["status"] for s in steps[:4]] == ["skip"] * 4
        assert all("azure = false" in s["message"] for s in steps[:4])
        assert steps[4]["category"] == "DNS" and steps[4]["status"] == "pass"
        assert steps[5]["category"] == "LoomMesh" and steps[5]["status"] == "pass"
        assert any(c["code"] == "LOOM402" and c["status"] == "pass" for c in steps[5]["checks"])
        assert steps[6]["status"] == "skip"
    finally:
        loomctl("sandbox", "down", "-o", "json")


def test_missing_configuration_is_one_error_not_a_failing_step(loomctl):
    run = loomctl("runbook", "run", "after-a-deploy")
    assert run.exit_code == 2
    assert run.stdout == ""
    assert "error: no Azure subscription id is set" in run.stderr
    assert "hint: pass --subscription, env AZURE_SUBSCRIPTION_ID" in run.stderr


def test_hints_are_grouped_by_resource(azure, logs, loomctl):
    faults.read_only_storage(azure.state)
    doc = loomctl("runbook", "run", "azure-files-mount-fails", "-o", "json").json()
    lines = doc["next"].splitlines()
    assert lines[0].startswith("- step 4: LOOM504 [gun-relay, loom-node]: set it ReadWrite")
    assert len(lines) == 2


def test_dead_azure_endpoint_fails_steps_with_a_network_hint(azure, loomctl, monkeypatch):
    monkeypatch.setenv("LOOMCTL_ARM_ENDPOINT", "https://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("LOOMCTL_RETRIES", "0")
    run = loomctl("runbook", "run", "azure-files-mount-fails", "-o", "json")
    assert run.exit_code == 3  # Azure could not be reached: not a problem of the deployment
    doc = run.json()
    assert [s["status"] for s in doc["steps"]] == ["error"] and doc["stopped_at"] == 1
    step = doc["steps"][0]
    assert step["explains"] is False
    assert "Traceback" not in run.stdout + run.stderr
    assert step["checks"][0]["hint"] and step["hint"] == step["checks"][0]["hint"]
    assert run.stderr.startswith("error: runbook 'azure-files-mount-fails' could not read Azure at step 1: ")


def test_peer_count_outside_the_expected_range_explains_latency(azure, loomctl):
    """high-sync-latency: the reference's 'peer count should be 2-5' judged on the peers-connected query rows."""
    from tests import loganalytics as la_mod

    la = la_mod.FakeLogAnalytics(azure)
    cols = [("TimeGenerated", "datetime"), ("App", "string"), ("MinPeers", "real"), ("AvgPeers", "real"),
            ("MaxPeers", "real"), ("Replicas", "long")]

    def answer(kql):
        if '"gun.peers.connected"' in kql:
            return la_mod.body(la_mod.table(cols, [[None, "loom-node", 3.0, 3.0, 3.0, 3],
                                                   [None, "loom-node", 1.0, 1.5, 2.0, 3]]))
        return la_mod.body(la_mod.table([("p95", "real")], []))

    la.answer = answer
    run = loomctl("runbook", "run", "high-sync-latency", "-o", "json")
    assert run.exit_code == 1
    doc = run.json()
    assert doc["stopped_at"] == 2
    step = doc["steps"][1]
    assert step["status"] == "warn"
    assert step["message"].startswith("query 'peers-connected': 1 row(s) with MinPeers outside 2-5")
    assert step["rows"][0]["MinPeers"] == 1.0
    assert "peers-not-connecting" in step["hint"]


def test_expect_shown_in_markdown(loomctl):
    md = loomctl("runbook", "show", "high-sync-latency").stdout
    assert "`loomctl query run peers-connected --since 1h`. Expect MinPeers between 2 and 5." in md


@pytest.mark.parametrize("book", NAMES)
def test_a_runbook_run_reads_each_resource_once(azure, logs, loomctl, book):
    run = loomctl("runbook", "run", book, "--all", "-o", "json")
    assert run.exit_code in (0, 1), run.stderr
    assert azure.counts()
    assert {k: n for k, n in azure.counts().items() if n > 1} == {}


def test_a_runbook_fetches_what_its_steps_need_at_once(azure, logs, loomctl):
    """The storage runbook's checks read the environment, its storages and the node app: they go out
    together when the run starts (the fetch plan of doctor), not step after step. The test Azure holds their answers
    until all have arrived; a run that waited for one step's answer before the next step's request times the
    round out."""
    from tests.fakeazure import topology as t

    group = f"/subscriptions/{t.SUB}/resourceGroups/{t.RG}"
    first = {("GET", p) for p in (f"{group}/providers/Microsoft.App/managedEnvironments/{t.ENV}",
                                  f"{group}/providers/Microsoft.App/managedEnvironments/{t.ENV}/storages",
                                  f"{group}/providers/Microsoft.App/containerApps/{t.NODE}")}
    azure.hold_waves([first], timeout=5)
    run = loomctl("runbook", "run", "azure-files-mount-fails", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert first <= set(azure.counts())
    assert [w.timed_out for w in azure.waves] == [False]


def test_mesh_split_confirms_finds_fixes_verifies(loomctl):
    run = loomctl("runbook", "show", "mesh-split")
    assert run.exit_code == 0
    md = run.stdout
    assert md.startswith("# Runbook: Mesh split between relay replicas\n")
    assert ("1. **The relay's definition can split the mesh (several replicas, one ingress, no peering)** "
            "(checks LOOM213)") in md
    assert "`loomctl diagnose mesh --write-probe`" in md
    # the profile's names filled in (a resource group the profile does not set stays a placeholder)
    assert "`az containerapp update -n gun-relay -g {resource_group} --min-replicas 1 --max-replicas 1`" in md
    assert "several relay URLs in the GUN_PEERS of loom-node" in md
    steps = loomctl("runbook", "show", "mesh-split", "-o", "json").json()["steps"]
    assert [s["title"].split(":")[0] for s in steps][1:] == [
        "Confirm from inside every replica", "Find which relay replica each node is attached to", "Join the relays",
        "Verify"]


def test_mesh_split_flags_the_reference_relay(azure, loomctl):
    faults.unpeered_relay_replicas(azure.state)
    run = loomctl("runbook", "run", "mesh-split", "-o", "json")
    assert run.exit_code == 1, run.stdout
    step = run.json()["steps"][0]
    assert step["status"] == "warn"
    assert [c["code"] for c in step["checks"]] == ["LOOM213"]
    assert "so the mesh can split" in step["checks"][0]["message"]
