"""Reads as a fetch plan: every ARM resource is requested once per run, and doctor's requests fall into the three
rounds their dependencies need (what the settings name, then what those answers name, then the file share).

The order is checked through the test Azure, not the clock: `hold_waves` holds the answers to one round's requests
until all of them have arrived, so a client that waits for one answer before sending the next request leaves the
round waiting (the round then records `timed_out`).
"""

from __future__ import annotations

import pytest

from tests.fakeazure import topology as t
from tests.fakeazure.server import Fault

LIVE = ("--category", "azure", "--category", "configuration", "--category", "storage", "--category", "runtime",
        "--category", "logs")
GROUP = f"/subscriptions/{t.SUB}/resourceGroups/{t.RG}"
APPS = f"{GROUP}/providers/Microsoft.App/containerApps"
ACCOUNT = f"{GROUP}/providers/Microsoft.Storage/storageAccounts/{t.STORAGE_ACCOUNT}"
REVISION = {t.RELAY: f"{t.RELAY}--r1", t.NODE: f"{t.NODE}--n1"}  # the active revision of each app (topology)

# what the settings name: subscription, group, environment, its storages, both apps and their revisions
SETTINGS_NAME = {f"/subscriptions/{t.SUB}", f"/subscriptions/{t.SUB}/resourcegroups/{t.RG}",
                 f"{GROUP}/providers/Microsoft.App/managedEnvironments/{t.ENV}",
                 f"{GROUP}/providers/Microsoft.App/managedEnvironments/{t.ENV}/storages",
                 *(f"{APPS}/{a}" for a in (t.RELAY, t.NODE)), *(f"{APPS}/{a}/revisions" for a in (t.RELAY, t.NODE))}
# what those answers name: the replicas of the active revisions, the account the environment storage names
ANSWERS_NAME = {*(f"{APPS}/{a}/revisions/{r}/replicas" for a, r in REVISION.items()), ACCOUNT}
SHARE = {f"{ACCOUNT}/fileServices/default/shares/{t.SHARE}"}


def gets(paths):
    return {("GET", p) for p in paths}


def twice(azure):
    return {k: n for k, n in azure.counts().items() if n > 1}


def test_healthy_doctor_sends_each_arm_request_once(azure, loomctl):
    run = loomctl("doctor", *LIVE, "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert twice(azure) == {}
    assert set(azure.counts()) == gets(SETTINGS_NAME | ANSWERS_NAME | SHARE)


def test_healthy_doctor_reads_arm_in_three_rounds(azure, loomctl):
    rounds = [gets(SETTINGS_NAME), gets(ANSWERS_NAME), gets(SHARE)]
    azure.hold_waves(rounds, timeout=10)
    run = loomctl("doctor", *LIVE, "-o", "json")
    assert run.exit_code == 0, run.stderr
    # each round's requests were all in flight together: none waited for an answer of its own round
    assert [w.timed_out for w in azure.waves] == [False, False, False]
    assert set(azure.counts()) == set().union(*rounds)  # and no ARM request outside these three rounds
    assert twice(azure) == {}


def test_doctor_after_a_failed_prerequisite_still_skips_with_its_reason(azure, loomctl):
    """Fetching ahead does not change what is reported: the app check after a missing environment is skipped."""
    azure.state["environment"]["name"] = "other-env"
    run = loomctl("doctor", "--category", "azure", "-o", "json")
    assert run.exit_code == 1
    checks = {(c["code"], c["resource"]): c for cat in run.json()["categories"] for c in cat["checks"]}
    assert checks[("LOOM104", None)]["status"] == "fail"
    assert checks[("LOOM105", t.RELAY)]["message"] == "skipped: prerequisite LOOM104 fail"
    assert twice(azure) == {}


def test_diagnose_storage_reads_in_three_rounds_each_once(azure, loomctl):
    """Its overview and its checks share the reads; the Storage checks need no revisions."""
    first = SETTINGS_NAME - {f"{APPS}/{a}/revisions" for a in (t.RELAY, t.NODE)}
    rounds = [gets(first), gets({ACCOUNT}), gets(SHARE)]
    azure.hold_waves(rounds, timeout=10)
    run = loomctl("diagnose", "storage", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert [w.timed_out for w in azure.waves] == [False, False, False]
    assert set(azure.counts()) == set().union(*rounds)
    assert twice(azure) == {}


@pytest.mark.parametrize("args", [("status", "-o", "json"), ("status", "--replicas", "-o", "json"),
                                  ("runbook", "run", "azure-files-mount-fails", "-o", "json")])
def test_command_sends_no_arm_request_twice(azure, loomctl, args):
    run = loomctl(*args)
    assert run.exit_code == 0, run.stderr
    assert azure.counts(), "the command read nothing from ARM"
    assert twice(azure) == {}


def test_a_failed_read_is_not_sent_again(azure, loomctl):
    """The memo keeps errors too: the app that answered 403 is asked once, although four checks need it."""
    azure.faults.append(Fault(rf"/containerApps/{t.RELAY}$", status=403, body={"error": {
        "code": "AuthorizationFailed", "message": "no read access to the app"}}))
    run = loomctl("doctor", *LIVE, "-o", "json")
    assert run.exit_code == 3  # could not read: an Azure access error
    checks = {(c["code"], c["resource"]): c for cat in run.json()["categories"] for c in cat["checks"]}
    assert checks[("LOOM105", t.RELAY)]["status"] == "fail"
    assert checks[("LOOM105", t.RELAY)]["message"] == (f"access denied to container app '{t.RELAY}' "
                                                       "(403, AuthorizationFailed)")
    assert azure.counts()[("GET", f"{APPS}/{t.RELAY}")] == 1
    assert twice(azure) == {}
