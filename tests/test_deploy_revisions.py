"""`loomctl deploy status | history | rollback`, `--verify`, and Ctrl-C during a rollout."""

from __future__ import annotations

import threading

import pytest

from tests.fakeazure import topology
from tests.fakeazure.writes import install, multiple_mode
from tests.fakeazure.writes import write_requests as writes

NODE = topology.NODE


@pytest.fixture
def fake(azure, monkeypatch):
    monkeypatch.setenv("LOOMCTL_POLL_INTERVAL", "0.02")
    return install(azure)


def deployed(loomctl, tag):
    run = loomctl("deploy", "app", "--image", f"myacr.azurecr.io/loom:{tag}", "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    return run.json()["revision"]


def test_status_shows_active_revisions_with_traffic_and_health(fake, azure, loomctl):
    run = loomctl("deploy", "status", "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["app"] == NODE and doc["mode"] == "single"
    assert doc["traffic"] == {"loom-node--n1": 100}
    [rev] = doc["revisions"]
    assert rev == {**rev, "name": "loom-node--n1", "image": "myacr.azurecr.io/loom:1.4.2", "traffic": 100,
                   "replicas_running": 3, "healthy": True, "health": "Healthy"}
    assert writes(azure) == []


def test_history_lists_every_revision_newest_first(fake, azure, loomctl):
    deployed(loomctl, "1234")
    fake.scenario = "fail"
    assert loomctl("deploy", "app", "--image", "myacr.azurecr.io/loom:1235", "--yes").exit_code == 1
    run = loomctl("deploy", "history", "-o", "json")
    assert run.exit_code == 0, run.stderr
    revs = run.json()["revisions"]
    assert [r["name"] for r in revs] == ["loom-node--v1235", "loom-node--v1234", "loom-node--n1"]
    assert [(r["active"], r["traffic"], r["provisioning"]) for r in revs] == [
        (False, 0, "Failed"), (True, 100, "Provisioned"), (False, 0, "Provisioned")]
    table = loomctl("deploy", "history", "-o", "table")
    assert "loom-node--v1235" in table.stdout and "Failed" in table.stdout


def test_rollback_goes_to_the_previous_healthy_revision_and_verifies(fake, azure, loomctl):
    deployed(loomctl, "1234")
    before = len(writes(azure))
    run = loomctl("deploy", "rollback", "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert (doc["from"], doc["to"]) == ("loom-node--v1234", "loom-node--n1")
    assert doc["traffic"] == {"loom-node--n1": 100}
    assert writes(azure)[before:] == [("POST", "containerApps/loom-node/revisions/loom-node--n1/activate")]
    status = loomctl("deploy", "status", "-o", "json").json()
    assert status["traffic"] == {"loom-node--n1": 100}


def test_rollback_in_multiple_mode_moves_traffic(fake, azure, loomctl):
    multiple_mode(azure)
    new = deployed(loomctl, "1234")
    run = loomctl("deploy", "rollback", "--to", "loom-node--n1", "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["traffic"] == {"loom-node--n1": 100}
    last = azure.arm_requests("PATCH")[-1].json()
    assert last["properties"]["configuration"]["ingress"]["traffic"] == [{"revisionName": "loom-node--n1",
                                                                          "weight": 100}]
    assert new == "loom-node--v1234"


def test_rollback_refuses_unknown_or_failed_revisions(fake, azure, loomctl):
    run = loomctl("deploy", "rollback", "--to", "loom-node--nope", "--yes")
    assert run.exit_code == 2 and "revision 'loom-node--nope' does not exist" in run.stderr
    run = loomctl("deploy", "rollback", "--yes")
    assert run.exit_code == 2 and "no earlier revision" in run.stderr
    fake.scenario = "fail"
    loomctl("deploy", "app", "--image", "myacr.azurecr.io/loom:9", "--yes")
    run = loomctl("deploy", "rollback", "--to", "loom-node--v9", "--yes")
    assert run.exit_code == 2 and "failed to provision" in run.stderr
    assert ("POST", "containerApps/loom-node/revisions/loom-node--v9/activate") not in writes(azure)


def test_rollback_dry_run_writes_nothing(fake, azure, loomctl):
    deployed(loomctl, "1234")
    before = len(writes(azure))
    run = loomctl("deploy", "rollback", "--dry-run", "-o", "json")
    assert run.exit_code == 0
    assert run.json()["to"] == "loom-node--n1"
    assert len(writes(azure)) == before


def test_verify_gate_failure_rolls_back(fake, azure, loomctl):
    """--verify runs doctor's checks after the switch; a relay below its minimum fails LOOM107."""
    azure.state["replicas"]["gun-relay--r1"] = azure.state["replicas"]["gun-relay--r1"][:1]
    run = loomctl("deploy", "app", "--image", "myacr.azurecr.io/loom:1234", "--verify",
                  "--verify-category", "azure", "--yes", "-o", "json")
    assert run.exit_code == 1, run.stderr
    doc = run.json()
    assert doc["stage"] == "verify" and doc["result"] == "rolled-back"
    assert "LOOM107 (gun-relay)" in doc["message"]
    assert doc["verify"] == ["Azure access and apps"]
    assert doc["traffic"] == {"loom-node--n1": 100}
    assert ("POST", "containerApps/loom-node/revisions/loom-node--n1/activate") in writes(azure)


def test_verify_gate_passes(fake, azure, loomctl):
    run = loomctl("deploy", "app", "--image", "myacr.azurecr.io/loom:1234", "--verify",
                  "--verify-category", "azure", "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["result"] == "succeeded"
    assert "verified: 12 checks passed, 0 warned, 0 skipped (Azure access and apps)" in run.stderr


def test_ctrl_c_during_rollout_reports_state_and_exits_130(fake, azure):
    """Ctrl-C while the new revision is being polled: a real loomctl process gets a real SIGINT from the test
    Azure's handler of the first poll of that revision, before the answer is sent. The rollout cannot get past
    that poll without the answer, so the interrupt always lands in the health stage (no timer, no race with the
    rollout finishing; `_thread.interrupt_main` in-process could be noticed late, after the rollout ended)."""
    from tests.fakeazure.server import Response
    from tests.subproc import Running

    fake.scenario = "unhealthy"
    proc: list[Running] = []
    started = threading.Event()
    polls: list[str] = []

    def on_revision(req, m):
        polls.append(m.group(4))
        if len(polls) == 1:
            started.wait(30)  # the Popen object is stored (it always is by now; this makes it certain)
            proc[0].interrupt()
        rev = next(r for r in azure.state["revisions"][NODE] if r["name"] == m.group(4))
        return Response(200, rev)

    azure.route("GET", r"/subscriptions/([^/]+)/resource[gG]roups/([^/]+)/providers/Microsoft\.App/containerApps/"
                       r"([^/]+)/revisions/(loom-node--v1234)", on_revision)
    proc.append(Running("deploy", "app", "--image", "myacr.azurecr.io/loom:1234", "--yes", "-o", "json"))
    started.set()
    run = proc[0].finish()
    assert run.exit_code == 130, run.stderr
    assert run.json()["result"] == "interrupted"
    assert "error: interrupted during health; traffic now: loom-node--n1 100%" in run.stderr
    assert "undo with `loomctl deploy rollback --app loom-node`" in run.stderr
    assert polls == ["loom-node--v1234"]  # interrupted at the first poll: no poll after it
    assert writes(azure) == [("PATCH", "containerApps/loom-node")]  # nothing written after the interrupt


def test_ctrl_c_at_the_confirmation_prompt_exits_130(fake, azure):
    """Ctrl-C at `Roll out ...? [y/N]` on a real terminal: the same rule as anywhere (130, `error: interrupted`),
    not click's `Aborted!` with exit 1; nothing is written."""
    from tests.subproc import Pty

    term = Pty("deploy", "app", "--image", "myacr.azurecr.io/loom:1234")
    try:
        term.read_until(b"[y/N]")
        term.send(b"\x03")  # the terminal turns it into SIGINT for loomctl
        code = term.wait()
        term.read_until(b"interrupted")
    finally:
        term.close()
    assert code == 130, term.out
    assert b"Aborted!" not in term.out and b"Traceback" not in term.out
    assert writes(azure) == []


def test_rollback_to_the_serving_revision_is_refused(fake, azure, loomctl):
    run = loomctl("deploy", "rollback", "--to", "loom-node--n1", "--dry-run")
    assert run.exit_code == 2
    assert "loom-node--n1 already serves traffic" in run.stderr


def test_default_rollback_skips_a_revision_that_was_rolled_back(fake, azure, loomctl):
    deployed(loomctl, "1234")
    fake.scenario = "unhealthy"
    assert loomctl("deploy", "app", "--image", "myacr.azurecr.io/loom:1235", "--yes").exit_code == 1
    fake.scenario = "ok"
    deployed(loomctl, "1236")
    run = loomctl("deploy", "rollback", "--dry-run", "-o", "json")
    assert (run.json()["from"], run.json()["to"]) == ("loom-node--v1236", "loom-node--v1234")


def test_verify_defaults_to_loommesh_and_dns_when_present(fake, azure, loomctl):
    run = loomctl("deploy", "app", "--image", "myacr.azurecr.io/loom:1234", "--verify", "--dry-run", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["verify"] == ["LoomMesh", "DNS"]
