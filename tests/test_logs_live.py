"""`logs --live` (loomctl.logs.live.run_live) against the local chunked log stream double.

The `logs` command itself belongs to another module; these tests call `run_live` with a real LoomContext
(settings from the environment, the real Azure SDK against the local ARM) and read what it printed.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import pytest

from loomctl.core.context import LoomContext
from loomctl.core.errors import AzureError, UsageError
from loomctl.logs import live
from loomctl.output.formats import Format
from loomctl.output.views.logs import live_line
from tests.acafakes.fixtures import aca_logs, fake_logstream_server  # noqa: F401 - fixtures


def run_live(loom, **kw):
    """`run_live` as `loomctl logs --live` calls it, with the command's line renderer."""
    return live.run_live(loom, render=live_line, **kw)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _utc(monkeypatch):
    """Text output is in local time: make local time UTC so the expected strings hold anywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()

REV = "loom-node--n1"
REPS = [f"{REV}-5d9774cff-{i:05d}" for i in range(3)]
T0 = dt.datetime(2026, 11, 28, 3, 0, 0, tzinfo=dt.timezone.utc)


def _prime(logs, lines_per_replica=0):
    for r in REPS:
        logs.streams[(r, "loom-node")] = []
        for i in range(lines_per_replica):
            logs.write(r, "loom-node", f"{r[-1]} backlog {i}", T0 + dt.timedelta(seconds=i * 3 + int(r[-1])))


def _after(logs, connections, delay, fn):
    """Call fn `delay` seconds after the double has seen `connections` requests (bounded wait)."""
    def run():
        end = time.monotonic() + 10
        while len(logs.requests) < connections and time.monotonic() < end:
            time.sleep(0.01)
        time.sleep(delay)
        fn()

    threading.Thread(target=run, daemon=True).start()


def _loom(fmt=None):
    loom = LoomContext()
    loom.output_format = fmt
    return loom


def test_one_replica_reconnects_after_idle_close_without_gaps_or_duplicates(aca_logs, capsys):
    _prime(aca_logs, 3)
    aca_logs.idle_close = 0.5
    _after(aca_logs, 1, 0.2, lambda: aca_logs.write(REPS[0], "loom-node", "live one"))
    # the double ends the quiet stream 0.5 s later; these are written while loomctl reconnects and after
    _after(aca_logs, 1, 0.75, lambda: aca_logs.write(REPS[0], "loom-node", "after close"))
    _after(aca_logs, 2, 0.1, lambda: aca_logs.write(REPS[0], "loom-node", "after reconnect"))
    run_live(_loom(), app="loom-node", replica=REPS[0], tail=2, duration=3.0)
    out = capsys.readouterr().out.splitlines()
    texts = [line.split(" ", 2)[2] for line in out]
    assert texts == ["0 backlog 1", "0 backlog 2", "live one", "after close", "after reconnect"]
    assert out[0].startswith("2026-11-28 03:00:03.000+00:00 ")
    assert not any("No logs since" in o or "Connect" in o for o in out)
    queries = [r["query"] for r in aca_logs.requests]
    assert len(queries) >= 2, "the stream was not reconnected"
    assert queries[0] == {"follow": "true", "tailLines": "2", "output": "json"}
    assert queries[1]["tailLines"] == "300"  # a backlog on reconnect closes the gap; replays are dropped
    assert all(r["auth_ok"] for r in aca_logs.requests)


def test_close_while_lines_flow_loses_nothing(aca_logs, capsys):
    _prime(aca_logs)
    aca_logs.close_after = 2  # the service ends the response after two live lines (Azure/azure-cli 28267)

    def burst():
        for i in range(6):
            aca_logs.write(REPS[1], "loom-node", f"line {i}")
            time.sleep(0.12)

    _after(aca_logs, 1, 0.2, burst)
    run_live(_loom(), app="loom-node", replica=REPS[1], tail=0, duration=2.5)
    texts = [line.split(" ", 2)[2] for line in capsys.readouterr().out.splitlines()]
    assert texts == [f"line {i}" for i in range(6)]
    assert len(aca_logs.requests) >= 3


def test_all_replicas_merged_in_time_order(aca_logs, capsys):
    _prime(aca_logs, 2)
    run_live(_loom(), app="loom-node", tail=5, duration=1.0)
    out = capsys.readouterr().out.splitlines()
    # backlog i of replica r was written at T0 + 3*i + r seconds
    assert [o.split(" ", 3)[2:] for o in out] == [
        [f"[{REPS[r]}]", f"{r} backlog {i}"] for i in range(2) for r in range(3)]
    paths = sorted(r["path"].rsplit("/replicas/", 1)[1] for r in aca_logs.requests[:3])
    assert paths == sorted(f"{r}/containers/loom-node/logstream" for r in REPS)


def test_errors_and_grep_apply_as_lines_arrive(aca_logs, capsys):
    _prime(aca_logs)
    for text in ("GET /health 200", "ERROR relay unreachable", "peer connected relay-1", "error: relay timeout"):
        aca_logs.write(REPS[0], "loom-node", text)
    run_live(_loom(), app="loom-node", replica=REPS[0], errors=True, grep="RELAY", duration=0.8)
    texts = [line.split(" ", 2)[2] for line in capsys.readouterr().out.splitlines()]
    assert texts == ["ERROR relay unreachable", "error: relay timeout"]


def test_json_lines_output(aca_logs, capsys):
    _prime(aca_logs, 1)
    run_live(_loom(Format.JSON), app="loom-node", replica=REPS[2], duration=0.8)
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert docs == [{"time": "2026-11-28T03:00:02.000Z", "replica": REPS[2], "container": "loom-node",
                     "type": None, "reason": None, "text": "2 backlog 0"}]


def test_garbage_lines_are_skipped_and_counted(aca_logs, capsys):
    _prime(aca_logs, 1)
    aca_logs.garbage = ["<html>proxy error</html>", '{"unexpected": true}', "[1,2]"]
    aca_logs.idle_close = 5
    run_live(_loom(), app="loom-node", replica=REPS[0], duration=0.8)
    cap = capsys.readouterr()
    assert [line.split(" ", 2)[2] for line in cap.out.splitlines()] == ["0 backlog 0"]
    assert "ignored 3 line(s)" in cap.err and "<html>proxy error</html>" in cap.err


def test_system_event_stream(aca_logs, capsys):
    aca_logs.event("loom-node", {"TimeStamp": "2026-11-28 03:00:01.4145161 +0000 UTC", "Type": "Warning",
                                 "ContainerAppName": "loom-node", "RevisionName": REV, "ReplicaName": REPS[0],
                                 "Msg": "Probe of StartUp failed with timeout in 1 seconds.",
                                 "Reason": "ProbeFailed", "EventSource": "ContainerAppController", "Count": 1})
    aca_logs.event("loom-node", {"TimeStamp": "2026-11-28T03:00:02Z", "Type": "Normal", "ContainerAppName":
                                 "loom-node", "RevisionName": REV, "ReplicaName": REPS[0], "Msg": "Pulling image",
                                 "Reason": "PullingImage", "EventSource": "ContainerAppController", "Count": 1})
    run_live(_loom(), app="loom-node", system=True, errors=True, duration=0.8)
    out = capsys.readouterr().out.splitlines()
    assert out == [f"2026-11-28 03:00:01.414+00:00 Warning ProbeFailed [{REPS[0]}] "
                   "Probe of StartUp failed with timeout in 1 seconds."]
    assert aca_logs.requests[0]["path"].endswith("/containerApps/loom-node/eventstream")
    assert "output" not in aca_logs.requests[0]["query"]


def test_system_rejects_replica(aca_logs):
    with pytest.raises(UsageError, match="--system streams the whole app"):
        run_live(_loom(), app="loom-node", system=True, replica=REPS[0], duration=0.5)


def test_rejected_token_is_named(aca_logs):
    _prime(aca_logs)
    aca_logs.token = "something-else"
    with pytest.raises(AzureError, match=r"refused the Container Apps token \(401\)"):
        run_live(_loom(), app="loom-node", replica=REPS[0], duration=2)


def test_unknown_replica_and_bad_tail(aca_logs):
    _prime(aca_logs)
    with pytest.raises(UsageError, match="replica 'nope' not found"):
        run_live(_loom(), app="loom-node", replica="nope", duration=0.5)
    with pytest.raises(UsageError, match="out of range"):
        run_live(_loom(), app="loom-node", tail=1000, duration=0.5)


def test_no_running_replica(aca_logs, azure):
    _prime(aca_logs)
    for rep in azure.state["replicas"][REV]:
        rep["properties"]["runningState"] = "NotRunning"
    with pytest.raises(AzureError, match="no running replica"):
        run_live(_loom(), app="loom-node", duration=0.5)


def test_parse_time_formats():
    from loomctl.aca.logstream import parse_time

    assert parse_time("2026-06-03T04:45:59.2214149+00:00") == dt.datetime(2026, 6, 3, 4, 45, 59, 221414,
                                                                           tzinfo=dt.timezone.utc)
    assert parse_time("2026-06-03T04:48:25.34888").microsecond == 348880
    assert parse_time("2025-08-26 17:42:19.4145161 +0000 UTC").second == 19
    assert parse_time("2025-12-09T14:04:24.125429697Z").microsecond == 125429
    assert parse_time("2026-01-01T02:00:00+02:00").hour == 0
    assert parse_time("garbage") is None


def test_both_apps_when_no_app_is_given_and_aliases(aca_logs, capsys):
    _prime(aca_logs)
    relay_reps = [f"gun-relay--r1-5d9774cff-{i:05d}" for i in range(2)]
    for i, r in enumerate(relay_reps):
        aca_logs.streams[(r, "gun-relay")] = []
        aca_logs.write(r, "gun-relay", f"relay {i}", T0 + dt.timedelta(seconds=10 + i))
    aca_logs.write(REPS[1], "loom-node", "node 1", T0 + dt.timedelta(seconds=10.5))
    run_live(_loom(), app=None, duration=1.0)
    out = capsys.readouterr().out.splitlines()
    assert [o.split(" ", 3)[3] for o in out] == ["relay 0", "node 1", "relay 1"]
    assert len(aca_logs.requests) == 5  # 2 relay + 3 node replicas
    run_live(_loom(), app="relay", duration=0.6)
    assert [o.split(" ", 3)[3] for o in capsys.readouterr().out.splitlines()] == ["relay 0", "relay 1"]
    with pytest.raises(UsageError, match="belong to one app"):
        run_live(_loom(), replica=REPS[0], duration=0.5)


def test_expired_token_on_reconnect_is_refreshed(aca_logs, azure, capsys):
    _prime(aca_logs)
    aca_logs.idle_close = 0.3

    def rotate():
        aca_logs.token = "rotated-token"  # the first token expires; ARM now hands out the new one
        from tests.acafakes.fixtures import add_auth_token_route

        add_auth_token_route(azure, "rotated-token")

    _after(aca_logs, 1, 0.05, rotate)
    _after(aca_logs, 1, 1.5, lambda: aca_logs.write(REPS[0], "loom-node", "after rotation"))
    run_live(_loom(), app="loom-node", replica=REPS[0], duration=2.5)
    assert [line.split(" ", 2)[2] for line in capsys.readouterr().out.splitlines()] == ["after rotation"]
    assert [r["auth_ok"] for r in aca_logs.requests][:2] == [True, False]
    assert aca_logs.requests[-1]["auth_ok"]


def test_one_replica_gone_is_warned_while_others_stream(aca_logs, capsys):
    _prime(aca_logs, 1)
    del aca_logs.streams[(REPS[2], "loom-node")]  # the log endpoint no longer knows this replica (404)
    run_live(_loom(), app="loom-node", duration=1.0)
    cap = capsys.readouterr()
    assert [o.split(" ", 3)[3] for o in cap.out.splitlines()] == ["0 backlog 0", "1 backlog 0"]
    assert f"the stream of {REPS[2]} stopped" in cap.err and "(404)" in cap.err


def test_cli_logs_live_one_replica(loomctl, aca_logs, monkeypatch):
    _prime(aca_logs, 3)
    monkeypatch.setenv("LOOMCTL_LIVE_DURATION", "0.8")  # end the stream (a user presses Ctrl+C)
    r = loomctl("logs", "--live", "--app", "node", "--replica", REPS[1], "--tail", "2", "-o", "table")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == ["2026-11-28 03:00:04.000+00:00 1 backlog 1",
                                     "2026-11-28 03:00:07.000+00:00 1 backlog 2"]
    assert aca_logs.requests[0]["query"]["tailLines"] == "2"


def test_cli_logs_live_system_errors_as_json_lines(loomctl, aca_logs, monkeypatch):
    aca_logs.event("gun-relay", {"TimeStamp": "2026-11-28T03:00:05Z", "Type": "Warning",
                                 "ContainerAppName": "gun-relay", "RevisionName": "gun-relay--r1",
                                 "ReplicaName": "gun-relay--r1-5d9774cff-00001", "Msg": "Volume mount failed",
                                 "Reason": "VolumeMountFailure", "EventSource": "ContainerAppController",
                                 "Count": 2})
    monkeypatch.setenv("LOOMCTL_LIVE_DURATION", "0.8")
    r = loomctl("logs", "--live", "--system", "--app", "relay", "--errors", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert [json.loads(line) for line in r.stdout.splitlines()] == [
        {"time": "2026-11-28T03:00:05.000Z", "replica": "gun-relay--r1-5d9774cff-00001", "container": "gun-relay",
         "type": "Warning", "reason": "VolumeMountFailure", "text": "Volume mount failed"}]


def test_cli_logs_live_refused_token(loomctl, aca_logs, monkeypatch):
    _prime(aca_logs)
    aca_logs.token = "not-the-one"
    monkeypatch.setenv("LOOMCTL_LIVE_DURATION", "2")
    r = loomctl("logs", "--live", "--app", "node", "--replica", REPS[0])
    assert r.exit_code == 3
    assert "refused the Container Apps token (401)" in r.stderr and "hint:" in r.stderr
    assert aca_logs.token not in r.stderr and "aca-test-token" not in r.stderr


def test_text_shows_control_characters_and_json_keeps_them(aca_logs, capsys):
    _prime(aca_logs)
    aca_logs.write(REPS[0], "loom-node", "a\x1b]0;pwned\x07b\u202ec\nforged line")
    run_live(_loom(), app="loom-node", replica=REPS[0], duration=0.8)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert [line.split(" ", 2)[2] for line in out.splitlines()] == ["a\\x1b]0;pwned\\x07b\\u202ec\\nforged line"]
    run_live(_loom(Format.JSON), app="loom-node", replica=REPS[0], duration=0.8)
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["text"] for d in docs] == ["a\x1b]0;pwned\x07b\u202ec\nforged line"]


# -- Ctrl-C: one rule for every command (README, exit codes): exit 130 with one `error: interrupted` line ---------

def test_ctrl_c_during_logs_live_exits_130(aca_logs):
    """A real SIGINT to a real loomctl process once the first line is out, as `kubectl logs -f` dies by it."""
    from tests.subproc import Running

    _prime(aca_logs, 3)
    proc = Running("logs", "--live", "--app", "node", "--replica", REPS[1], "--tail", "2", "-o", "table")
    assert proc.first_line() == "2026-11-28 03:00:04.000+00:00 1 backlog 1\n"
    proc.interrupt()
    r = proc.finish()
    assert r.exit_code == 130, r.stderr
    backlog = ["2026-11-28 03:00:04.000+00:00 1 backlog 1", "2026-11-28 03:00:07.000+00:00 1 backlog 2"]
    out = r.stdout.splitlines()
    assert out == backlog[:len(out)]  # what had arrived is shown (the second line may still have been on the way)
    assert r.stderr.splitlines()[-1] == "error: interrupted"
    assert "Traceback" not in r.stderr


def test_ctrl_c_during_logs_follow_exits_130(azure):
    from tests.loganalytics import CONSOLE, FakeLogAnalytics, body, table
    from tests.subproc import Running

    la = FakeLogAnalytics(azure)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(minutes=5)
    la.answer = lambda kql: body(table(CONSOLE, [[now, "loom-node", "loom-node--n1", "loom-node--n1-abc",
                                                  "loom-node", "stdout", "sync ok"]]))
    proc = Running("logs", "--follow", "--since", "1h", "--interval", "0.1", "-o", "json")
    assert json.loads(proc.first_line())["message"] == "sync ok"
    proc.interrupt()
    r = proc.finish()
    assert r.exit_code == 130, r.stderr
    assert len(r.stdout.splitlines()) == 1  # a line is shown once, however many polls ran
    assert r.stderr.splitlines()[-1] == "error: interrupted"
    assert "stopped" not in r.stderr and "Traceback" not in r.stderr
