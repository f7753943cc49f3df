"""`loomctl deploy app`: rollouts against the local HTTPS Azure's write side (tests/fakeazure/writes.py)."""

from __future__ import annotations

import json

import pytest

from tests.fakeazure import topology
from tests.fakeazure.server import Fault, arm_error
from tests.fakeazure.writes import install, multiple_mode
from tests.fakeazure.writes import write_requests as writes

NODE = topology.NODE
IMAGE = "myacr.azurecr.io/loom:1234"


@pytest.fixture
def fake(azure, monkeypatch):
    monkeypatch.setenv("LOOMCTL_POLL_INTERVAL", "0.02")
    return install(azure)


def revision(azure, name):
    return next(r for r in azure.state["revisions"][NODE] if r["name"] == name)


def test_good_rollout_single_mode(fake, azure, loomctl):
    run = loomctl("deploy", "app", "--image", IMAGE, "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["result"] == "succeeded"
    assert doc["revision"] == "loom-node--v1234"
    assert doc["traffic"] == {"loom-node--v1234": 100}
    assert doc["previous_traffic"] == {"loom-node--n1": 100}
    # exactly one write: the PATCH of the image with the suffix derived from the tag
    assert writes(azure) == [("PATCH", "containerApps/loom-node")]
    body = azure.arm_requests("PATCH")[0].json()
    assert body["properties"]["template"]["revisionSuffix"] == "v1234"
    assert body["properties"]["template"]["containers"][0]["image"] == IMAGE
    # the rest of the container is sent unchanged (a merge patch replaces the whole list)
    assert body["properties"]["template"]["containers"][0]["env"][2]["name"] == "GUN_PEERS"
    assert "configuration" not in body["properties"]
    # the operation was polled at the Azure-AsyncOperation URL this server handed out
    assert any("containerappOperationResults" in r.path for r in azure.requests)
    assert "write: PATCH container app 'loom-node' (image myacr.azurecr.io/loom:1234" in run.stderr
    assert revision(azure, "loom-node--n1")["properties"]["active"] is False


def test_canary_in_multiple_mode_moves_traffic_in_steps(fake, azure, loomctl):
    multiple_mode(azure)
    run = loomctl("deploy", "app", "--image", IMAGE, "--canary", "10,50,100", "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["traffic"] == {"loom-node--v1234": 100}
    bodies = [r.json() for r in azure.arm_requests("PATCH")]
    assert len(bodies) == 4
    # first the image, with traffic pinned to the current revision so the new one gets none yet
    assert bodies[0]["properties"]["configuration"]["ingress"]["traffic"] == [
        {"revisionName": "loom-node--n1", "weight": 100}]
    steps = [b["properties"]["configuration"]["ingress"]["traffic"] for b in bodies[1:]]
    assert steps == [
        [{"revisionName": "loom-node--v1234", "weight": 10}, {"revisionName": "loom-node--n1", "weight": 90}],
        [{"revisionName": "loom-node--v1234", "weight": 50}, {"revisionName": "loom-node--n1", "weight": 50}],
        [{"revisionName": "loom-node--v1234", "weight": 100}],
    ]
    assert "traffic: loom-node--n1 90%, loom-node--v1234 10%" in run.stderr


def test_failed_provisioning_rolls_back(fake, azure, loomctl):
    fake.scenario = "fail"
    run = loomctl("deploy", "app", "--image", IMAGE, "--yes", "-o", "json")
    assert run.exit_code == 1, run.stderr
    doc = run.json()
    assert doc["result"] == "rolled-back"
    assert doc["stage"] == "update"
    assert doc["traffic"] == {"loom-node--n1": 100}
    assert "image pull failed" in doc["message"]
    assert "error: rollout of loom-node--v1234 failed (update)" in run.stderr
    assert "provisioning Failed" in run.stderr  # the revision's own status
    assert "hint: see `loomctl deploy status --app loom-node`" in run.stderr
    # the failed revision was never active, the old one kept serving: nothing else to write
    assert writes(azure) == [("PATCH", "containerApps/loom-node")]


def test_crash_looping_revision_is_rolled_back(fake, azure, loomctl):
    fake.scenario = "unhealthy"
    multiple_mode(azure)
    run = loomctl("deploy", "app", "--image", IMAGE, "--canary", "50,100", "--yes", "-o", "json")
    assert run.exit_code == 1, run.stderr
    doc = run.json()
    assert doc["result"] == "rolled-back" and doc["stage"] == "health"
    assert doc["revision_status"]["health"] == "Unhealthy"
    assert doc["revision_status"]["max_restarts"] == 6
    assert doc["traffic"] == {"loom-node--n1": 100}
    assert writes(azure) == [
        ("PATCH", "containerApps/loom-node"),  # image
        ("PATCH", "containerApps/loom-node"),  # traffic restored
        ("POST", "containerApps/loom-node/revisions/loom-node--v1234/deactivate"),
    ]
    restore = azure.arm_requests("PATCH")[1].json()
    assert restore["properties"]["configuration"]["ingress"]["traffic"] == [
        {"revisionName": "loom-node--n1", "weight": 100}]
    assert revision(azure, "loom-node--v1234")["properties"]["active"] is False
    assert "Deployment Progress Deadline Exceeded" in run.stderr


def test_hanging_operation_times_out_and_rolls_back(fake, azure, loomctl):
    fake.scenario = "hang"
    run = loomctl("deploy", "app", "--image", IMAGE, "--yes", "--timeout", "1", "-o", "json")
    assert run.exit_code == 1, run.stderr
    doc = run.json()
    assert doc["stage"] == "update"
    assert "did not finish within 1 s" in doc["message"]
    assert doc["traffic"] == {"loom-node--n1": 100}
    assert ("POST", "containerApps/loom-node/revisions/loom-node--v1234/deactivate") in writes(azure)


def test_conflict_409_is_waited_out(fake, azure, loomctl):
    azure.faults.append(Fault(r"/containerApps/loom-node$", status=409, method="PATCH", times=2,
                              body=arm_error("ContainerAppOperationInProgress",
                                             "Cannot modify a container app while an operation is in progress.")))
    run = loomctl("deploy", "app", "--image", IMAGE, "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["result"] == "succeeded"
    assert len(azure.arm_requests("PATCH")) == 3
    assert run.stderr.count("another operation is in progress (409)") == 2


def test_conflict_409_beyond_timeout_is_exit_3(fake, azure, loomctl):
    azure.faults.append(Fault(r"/containerApps/loom-node$", status=409, method="PATCH"))
    run = loomctl("deploy", "app", "--image", IMAGE, "--yes", "--timeout", "0.5")
    assert run.exit_code == 3
    assert "still in progress (409)" in run.stderr
    assert "Traceback" not in run.stderr
    assert all(r.method == "PATCH" for r in azure.arm_requests() if r.method != "GET")


@pytest.mark.parametrize("image,why", [
    ("myacr.azurecr.io/Loom:1234", "lower case"),
    ("myacr.azurecr.io/loom:", "empty tag"),
    ("myacr.azurecr.io/loom@sha256:xyz", "digest"),
    ("my acr/loom:1", "white space"),
    ("", "empty"),
])
def test_bad_image_refused_before_any_request(fake, azure, loomctl, image, why):
    run = loomctl("deploy", "app", "--image", image, "--yes")
    assert run.exit_code == 2
    assert why in run.stderr and "hint:" in run.stderr
    assert azure.requests == []  # not even a sign-in


@pytest.mark.parametrize("suffix,why", [
    ("1234", "start with a lower-case letter"), ("Build", "start with a lower-case letter"),
    ("a--b", "'--'"), ("rel_1", "only lower-case letters"), ("x" * 60, "longer than 64"),
])
def test_bad_revision_suffix_refused_before_any_request(fake, azure, loomctl, suffix, why):
    run = loomctl("deploy", "app", "--image", IMAGE, "--revision-suffix", suffix, "--yes")
    assert run.exit_code == 2, run.stderr
    assert why in run.stderr
    assert azure.requests == []


def test_existing_suffix_refused_without_writing(fake, azure, loomctl):
    run = loomctl("deploy", "app", "--image", IMAGE, "--revision-suffix", "n1", "--yes")
    assert run.exit_code == 2
    assert "revision 'loom-node--n1' already exists" in run.stderr
    assert writes(azure) == []


def test_tag_already_deployed_gets_a_unique_suffix(fake, azure, loomctl):
    assert loomctl("deploy", "app", "--image", IMAGE, "--yes").exit_code == 0
    run = loomctl("deploy", "app", "--image", IMAGE, "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["revision"] == "loom-node--v1234-2"


def test_dry_run_writes_nothing(fake, azure, loomctl):
    run = loomctl("deploy", "app", "--image", IMAGE, "--dry-run", "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["result"] == "dry-run"
    assert doc["request"]["body"]["properties"]["template"]["revisionSuffix"] == "v1234"
    assert writes(azure) == []
    assert "nothing was changed" in run.stderr


def test_no_yes_without_terminal_refuses(fake, azure, loomctl):
    run = loomctl("deploy", "app", "--image", IMAGE)
    assert run.exit_code == 2
    assert "refusing to change Azure without --yes" in run.stderr
    assert "hint: add --yes" in run.stderr
    assert writes(azure) == []


def test_canary_refused_in_single_mode(fake, azure, loomctl):
    run = loomctl("deploy", "app", "--image", IMAGE, "--canary", "10,100", "--yes")
    assert run.exit_code == 2
    assert "single revision mode" in run.stderr
    assert writes(azure) == []


def test_no_wait_returns_after_the_update(fake, azure, loomctl):
    fake.polls = 50
    run = loomctl("deploy", "app", "--image", IMAGE, "--no-wait", "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["result"] == "started"
    assert writes(azure) == [("PATCH", "containerApps/loom-node")]
    assert not any("containerappOperationResults" in r.path for r in azure.requests)


def test_unknown_app_is_exit_3_before_any_write(fake, azure, loomctl):
    run = loomctl("deploy", "app", "--image", IMAGE, "--app", "loom-nodes", "--yes")
    assert run.exit_code == 3
    assert "container app 'loom-nodes' not found in resource group 'rg-loom'" in run.stderr
    assert writes(azure) == []


def test_scale_to_zero_app_needs_no_running_replica(fake, azure, loomctl, monkeypatch):
    azure.state["apps"][NODE]["properties"]["template"]["scale"]["minReplicas"] = 0
    run = loomctl("deploy", "app", "--image", IMAGE, "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["revision_status"]["replicas_min"] == 0


def test_unhealthy_without_restarts_waits_until_timeout(fake, azure, loomctl):
    """Replicas that never become ready (but do not crash) are waited for until --timeout, then rolled back."""
    fake.scenario = "unhealthy"
    orig = fake._settle_revision

    def settle(app, rev, scenario):
        orig(app, rev, scenario)
        for rep in azure.state["replicas"][rev]:
            for c in rep["properties"]["containers"]:
                c["restartCount"] = 0
    fake._settle_revision = settle
    run = loomctl("deploy", "app", "--image", IMAGE, "--yes", "--timeout", "1.5", "-o", "json")
    assert run.exit_code == 1, run.stderr
    doc = run.json()
    assert doc["stage"] == "health"
    assert "not healthy within 1.5 s" in doc["message"]
    assert doc["revision_status"]["replicas_running"] == 0
    assert doc["traffic"] == {"loom-node--n1": 100}
    assert ("POST", "containerApps/loom-node/revisions/loom-node--v1234/deactivate") in writes(azure)


def test_rollback_says_the_template_still_names_the_failed_image(fake, azure, loomctl):
    assert loomctl("deploy", "app", "--image", IMAGE, "--yes").exit_code == 0
    fake.scenario = "unhealthy"
    run = loomctl("deploy", "app", "--image", "myacr.azurecr.io/loom:1235", "--yes", "-o", "json")
    assert run.exit_code == 1
    doc = run.json()
    assert doc["previous_image"] == IMAGE
    assert "the app's template still names myacr.azurecr.io/loom:1235" in doc["template_note"]
    assert f"--image {IMAGE}" in run.stderr
    # the next rollout starts from the image that serves, not from the failed template
    fake.scenario = "ok"
    again = loomctl("deploy", "app", "--image", "myacr.azurecr.io/loom:1236", "--dry-run", "-o", "json")
    assert again.json()["previous_image"] == IMAGE


def test_azure_errors_while_waiting_are_waited_out(fake, azure, loomctl):
    # every try of the first read of the new revision fails (the SDK retries 3 times), the next poll works
    azure.faults.append(Fault(r"/revisions/loom-node--v1234$", status=500, method="GET", times=4))
    run = loomctl("deploy", "app", "--image", IMAGE, "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["result"] == "succeeded"
    assert "could not read the revision (Azure answered 500 for GET revision 'loom-node--v1234'" in run.stderr


def test_dry_run_hides_secret_looking_env_values(fake, azure, loomctl):
    env = azure.state["apps"][NODE]["properties"]["template"]["containers"][0]["env"]
    env.append({"name": "DB_PASSWORD", "value": "hunter2-DO-NOT-PRINT"})
    run = loomctl("deploy", "app", "--image", IMAGE, "--dry-run", "-o", "json")
    assert run.exit_code == 0
    assert "hunter2" not in run.stdout + run.stderr
    sent = run.json()["request"]["body"]["properties"]["template"]["containers"][0]["env"]
    assert {"name": "DB_PASSWORD", "value": "***"} in sent
    # the real update sends the value (Azure needs it), but never prints it
    run = loomctl("deploy", "app", "--image", IMAGE, "--yes", "-o", "json")
    assert run.exit_code == 0 and "hunter2" not in run.stdout + run.stderr
    assert {"name": "DB_PASSWORD", "value": "hunter2-DO-NOT-PRINT"} in \
        azure.arm_requests("PATCH")[0].json()["properties"]["template"]["containers"][0]["env"]


@pytest.mark.parametrize("canary,why", [("abc", "not a list of percentages"), ("50,10,100", "must rise"),
                                        ("10,50", "must rise from above 0 to 100"), ("0,100", "must rise")])
def test_bad_canary_refused_before_any_request(fake, azure, loomctl, canary, why):
    run = loomctl("deploy", "app", "--image", IMAGE, "--canary", canary, "--yes")
    assert run.exit_code == 2
    assert why in run.stderr and "hint: e.g. --canary 10,50,100" in run.stderr
    assert azure.requests == []


def test_progress_is_live_on_a_terminal(fake, azure, tmp_path):
    """On a terminal (a real pseudo-terminal here) progress is drawn by rich: a spinner and coloured lines."""
    import os
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "120"}
    proc = subprocess.run([sys.executable, "-m", "loomctl", "deploy", "app", "--image", IMAGE, "--yes", "-o", "json"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env, timeout=60)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    err = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, err
    assert json.loads(proc.stdout)["result"] == "succeeded"
    assert "\x1b[" in err  # drawn, not plain lines
    assert "switched: loom-node--v1234 100%" in err
    assert "write: PATCH container app 'loom-node'" in err


def test_failed_rollback_is_exit_3_with_the_state_and_the_way_back(fake, azure, loomctl):
    fake.scenario = "unhealthy"
    azure.faults.append(Fault(r"/deactivate$", status=500, method="POST"))
    run = loomctl("deploy", "app", "--image", IMAGE, "--yes", "-o", "json")
    assert run.exit_code == 3, run.stderr
    doc = run.json()
    assert doc["result"] == "rollback-failed"
    assert doc["rollback"].startswith("failed: Azure answered 500 for POST revision 'loom-node--v1234'")
    assert "traffic now: loom-node--n1 100%" in run.stderr
    assert "hint: put traffic back with `loomctl deploy rollback --app loom-node --to loom-node--n1`" in run.stderr
    assert "Traceback" not in run.stderr
