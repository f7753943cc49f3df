"""`loomctl logs` against the local HTTPS Log Analytics route, for both log destinations."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from tests.fakeazure import topology
from tests.fakeazure.server import Fault
from tests.loganalytics import CONSOLE, SYSTEM, FakeLogAnalytics, body, query_error, table

T0 = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(minutes=20)


@pytest.fixture
def la(azure):
    return FakeLogAnalytics(azure)


@pytest.fixture
def kolkata(monkeypatch):
    """Local time zone UTC+05:30 (no DST), so local times are checkable."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def console_rows():
    return [[T0, "loom-node", "loom-node--n1", "loom-node--n1-abc", "loom-node", "stdout", "sync ok"],
            [T0 + dt.timedelta(seconds=5), "loom-node", "loom-node--n1", "loom-node--n1-abc", "loom-node", "stderr",
             "Error: ECONNREFUSED 10.0.0.4:80 peer http://gun-relay.internal/gun"]]


@pytest.mark.also_subprocess
def test_logs_console_local_time_and_recorded_kql(azure, la, loomctl, kolkata, kusto):
    la.answer = lambda kql: body(table(CONSOLE, console_rows()))
    run = loomctl("logs", "-o", "table")
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    local = (T0 + dt.timedelta(hours=5, minutes=30)).strftime("%Y-%m-%d %H:%M:%S") + "+05:30"
    assert lines[0] == f"{local} loom-node/loom-node--n1-abc sync ok"
    assert lines[1].endswith("[stderr] Error: ECONNREFUSED 10.0.0.4:80 peer http://gun-relay.internal/gun")
    q = la.last
    assert q.workspace == topology.WORKSPACE_ID  # from the environment's appLogsConfiguration
    assert "ContainerAppConsoleLogs_CL" in q.kql and "ReplicaName_s" not in q.kql
    assert 'pack_array("gun-relay", "loom-node")' in q.kql
    assert list(kusto.errors(q.kql)) == []


def test_logs_json_is_utc(azure, la, loomctl, kolkata):
    la.answer = lambda kql: body(table(CONSOLE, console_rows()))
    run = loomctl("logs", "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc[0]["time"] == T0.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    assert doc[1]["stream"] == "stderr" and doc[1]["replica"] == "loom-node--n1-abc"


def test_logs_azure_monitor_destination_system_errors(azure, la, loomctl, monkeypatch, kusto):
    azure.state["environment"]["properties"]["appLogsConfiguration"] = {"destination": "azure-monitor"}
    monkeypatch.setenv("LOOMCTL_WORKSPACE_ID", "0f0e0d0c-aaaa-bbbb-cccc-000000000001")
    la.answer = lambda kql: body(table(SYSTEM, [[T0, "gun-relay", "gun-relay--r1", "gun-relay--r1-x", "BackOff",
                                                  "Warning", "Back-off restarting failed container"]]))
    run = loomctl("logs", "--system", "--errors", "--app", "relay", "--grep", 'say "hi"\\', "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()[0]["stream"] == "BackOff"
    q = la.last
    assert q.workspace == "0f0e0d0c-aaaa-bbbb-cccc-000000000001"
    assert "ContainerAppSystemLogs\n" in q.kql and "_CL" not in q.kql
    assert 'pack_array("gun-relay")' in q.kql
    assert 'Log contains "say \\"hi\\"\\\\"' in q.kql
    assert "_is_error(Log)" in q.kql
    assert kusto.errors(q.kql) == []


def test_logs_azure_monitor_without_workspace_is_config_error(azure, la, loomctl):
    azure.state["environment"]["properties"]["appLogsConfiguration"] = {"destination": "azure-monitor"}
    run = loomctl("logs")
    assert run.exit_code == 2
    assert "sends logs to azure-monitor but names no workspace" in run.stderr
    assert "hint: pass --workspace-id" in run.stderr
    assert la.queries == []


def test_logs_environment_without_logs(azure, la, loomctl):
    azure.state["environment"]["properties"]["appLogsConfiguration"] = {"destination": None}
    run = loomctl("logs")
    assert run.exit_code == 2
    assert "keeps no logs" in run.stderr


def test_logs_empty_says_no_rows(azure, la, loomctl):
    run = loomctl("logs", "--errors", "--since", "15m", "-o", "table")
    assert run.exit_code == 0
    assert run.stdout == ""
    assert "no error lines between" in run.stderr


def test_logs_empty_for_an_app_the_profile_does_not_know_says_to_check_the_name(azure, la, loomctl):
    run = loomctl("logs", "--app", "loom-nod", "--since", "15m", "-o", "table")
    assert run.exit_code == 0  # an app of another name may exist: no lines is an answer, not an error
    assert run.stdout == ""
    assert run.stderr.rstrip("\n").endswith(
        " (app 'loom-nod' is not one of the profile's apps gun-relay, loom-node: check the name, or `loomctl status` "
        "lists the apps)")
    # the known apps get the usual note
    run = loomctl("logs", "--app", "node", "--since", "15m", "-o", "table")
    assert "is not one of the profile's apps" not in run.stderr and "Log Analytics lags" in run.stderr


def test_logs_show_query_prints_kql(azure, la, loomctl):
    run = loomctl("logs", "--show-query", "--replica", "x", "-o", "json")
    assert run.exit_code == 0
    assert run.stderr.startswith("// loomctl logs (console, log-analytics)")
    assert 'let _replica = "x";' in run.stderr
    assert run.json() == []


@pytest.mark.also_subprocess
def test_logs_partial_error_shows_rows_warns_exit_1(azure, la, loomctl):
    la.answer = lambda kql: body(table(CONSOLE, console_rows()), partial="Query exceeded the row limit")
    run = loomctl("logs", "-o", "json")
    assert run.exit_code == 1
    assert len(run.json()) == 2
    assert "warning: partial result" in run.stderr and "Query exceeded the row limit" in run.stderr


def test_logs_bad_query_400(azure, la, loomctl):
    la.answer = lambda kql: query_error(400, "BadArgumentError",
                                        "'where' operator: Failed to resolve table or column expression named "
                                        "'ContainerAppConsoleLogs_CL'")
    run = loomctl("logs")
    assert run.exit_code == 3
    assert "error: Log Analytics rejected the query (400, BadArgumentError)" in run.stderr
    assert "hint: the workspace has no table ContainerAppConsoleLogs_CL" in run.stderr
    assert "--destination azure-monitor" in run.stderr
    assert "Traceback" not in run.stderr


def test_logs_forbidden_403(azure, la, loomctl):
    la.answer = lambda kql: query_error(403, "InsufficientAccessError", "The provided credentials have "
                                        "insufficient access to perform the requested operation")
    run = loomctl("logs")
    assert run.exit_code == 3
    assert f"access denied to Log Analytics workspace '{topology.WORKSPACE_ID}' (403" in run.stderr
    assert "Log Analytics Reader" in run.stderr


def test_logs_timeout(azure, la, loomctl, monkeypatch):
    monkeypatch.setenv("LOOMCTL_HTTP_TIMEOUT", "0.5")
    monkeypatch.setenv("LOOMCTL_RETRIES", "0")
    azure.faults.append(Fault(r"/v1/workspaces/", status=None, delay=1.5))
    run = loomctl("logs")
    assert run.exit_code == 3
    assert "no answer from 127.0.0.1 in time" in run.stderr
    assert "LOOMCTL_HTTP_TIMEOUT" in run.stderr


def test_logs_bad_since_and_app(azure, la, loomctl):
    run = loomctl("logs", "--since", "yesterday")
    assert run.exit_code == 2 and "--since 'yesterday' is not a duration" in run.stderr
    run = loomctl("logs", "--since", "1h", "--start", "2026-01-01T00:00")
    assert run.exit_code == 2 and "cannot be combined" in run.stderr
    assert la.queries == []


def test_logs_live_hands_over_to_the_log_stream(azure, la, loomctl, monkeypatch):
    """What `logs --live` passes on to the log stream (tests/test_logs_live.py streams for real)."""
    calls = []
    monkeypatch.setattr("loomctl.logs.live.run_live", lambda loom, **kw: calls.append(kw))
    run = loomctl("logs", "--live", "--app", "node", "--errors", "--grep", "sync", "--tail", "5", "--system")
    assert run.exit_code == 0, run.stderr
    from loomctl.output.views.logs import live_line

    assert calls == [{"render": live_line, "app": "node", "replica": None, "container": None, "system": True,
                      "tail": 5, "errors": True, "grep": "sync", "revision": None}]
    assert la.queries == []


def test_logs_follow_prints_only_new_lines(azure, la, loomctl):
    rows = console_rows()
    answers = [rows[:1], rows, rows + [[T0 + dt.timedelta(seconds=9), "gun-relay", "r", "gun-relay--r-1", "gun-relay",
                                        "stdout", "third"]]]
    calls = {"n": 0}

    def answer(kql):
        i = min(calls["n"], len(answers) - 1)
        calls["n"] += 1
        return body(table(CONSOLE, answers[i]))

    la.answer = answer
    run = loomctl("logs", "--follow", "--since", "1h", "--interval", "0.1", "--max-polls", "3", "-o", "json")
    assert run.exit_code == 0, run.stderr
    got = [json.loads(line)["message"] for line in run.stdout.splitlines()]
    assert got == ["sync ok", "Error: ECONNREFUSED 10.0.0.4:80 peer http://gun-relay.internal/gun", "third"]
    assert "ingestion lags by a few minutes" in run.stderr
    assert len(la.queries) == 3


def test_logs_garbage_answer_and_dead_endpoint(azure, la, loomctl, monkeypatch):
    from tests.fakeazure.server import Response

    la.answer = lambda kql: Response(200, b"<html>proxy login</html>")
    run = loomctl("logs")
    assert run.exit_code == 3
    assert "error: Log Analytics returned a response that is not valid JSON" in run.stderr
    assert "LOOMCTL_LOGS_ENDPOINT" in run.stderr

    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("LOOMCTL_LOGS_ENDPOINT", f"https://127.0.0.1:{port}")
    monkeypatch.setenv("LOOMCTL_RETRIES", "0")
    run = loomctl("logs")
    assert run.exit_code == 3
    assert "error: cannot connect to 127.0.0.1" in run.stderr
    monkeypatch.setenv("LOOMCTL_LOGS_ENDPOINT", "http://127.0.0.1:1")
    run = loomctl("logs")
    assert run.exit_code == 2 and "is not an https URL" in run.stderr


def test_workspace_flag_and_destination_skip_arm(azure, la, loomctl):
    given = "0f0e0d0c-aaaa-bbbb-cccc-00000000000a"
    run = loomctl("logs", "--workspace-id", given, "--destination", "azure-monitor", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert la.last.workspace == given
    assert "ContainerAppConsoleLogs\n" in la.last.kql
    assert not [r for r in azure.arm_requests() if "managedEnvironments" in r.path]


def test_logs_follow_survives_a_failed_poll(azure, la, loomctl, monkeypatch):
    from tests.fakeazure.server import Response

    monkeypatch.setenv("LOOMCTL_RETRIES", "0")
    rows = console_rows()
    replies = [body(table(CONSOLE, rows[:1])), Response(503, {"error": {"code": "ServiceUnavailable",
                                                                        "message": "try later"}}),
               body(table(CONSOLE, rows))]
    la.answer = lambda kql: replies[min(len(la.queries), 3) - 1]
    run = loomctl("logs", "--follow", "--since", "1h", "--interval", "0.1", "--max-polls", "3", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert [json.loads(x)["message"] for x in run.stdout.splitlines()] == [
        "sync ok", "Error: ECONNREFUSED 10.0.0.4:80 peer http://gun-relay.internal/gun"]
    assert "warning: poll failed, trying again in 0.1 s" in run.stderr


@pytest.mark.parametrize("answer,what", [
    ({"tables": "nope"}, "'tables' is not a list of tables"),
    ([{"tables": []}], "it is a list, not an object"),
    (b"null", "it is null, not an object"),
    ({"tables": [{"name": "T", "columns": [{"name": "x"}], "rows": "abc"}]}, "'rows' is not a list of rows"),
    ({"tables": [{"name": "PrimaryResult", "columns": "abc", "rows": []}]}, "'columns' is not a list of columns"),
])
def test_logs_json_answer_that_is_no_query_result_is_named_so(azure, la, loomctl, answer, what):
    # valid JSON of the wrong shape (a proxy, a different API): neither "not valid JSON" nor a crash
    from tests.fakeazure.server import Response

    la.answer = lambda kql: Response(200, answer) if isinstance(answer, bytes) else answer
    for args in (("logs",), ("query", "run", "restarts")):
        run = loomctl(*args)
        assert (run.exit_code, run.stdout) == (3, ""), run.stderr
        assert run.stderr == (f"error: Log Analytics answered with JSON that is not a query result: {what}\n"
                              "hint: a proxy may be answering instead of Log Analytics; check LOOMCTL_LOGS_ENDPOINT\n")
