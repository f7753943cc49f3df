"""loomctl exec against the local exec WebSocket double (real commands run on this machine)."""

from __future__ import annotations

import logging

import pytest

from tests.acafakes.fixtures import aca_exec, fake_exec_server  # noqa: F401 - fixtures
from tests.fakeazure import topology

pytestmark = pytest.mark.timeout(60)

NODE_REPLICA = f"{topology.NODE}--n1-5d9774cff-00000"


def test_exec_prints_output_and_exit_code_zero(loomctl, aca_exec):
    r = loomctl("exec", "--app", "loom-node", "--", "sh", "-c", "printf 'héllo wörld\\n'; echo oops >&2")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "héllo wörld\n"  # multi-byte characters split across 3-byte frames decode intact
    assert "oops" in r.stderr
    s = aca_exec.sessions[-1]
    assert s.path.endswith(f"/containerApps/loom-node/revisions/loom-node--n1/replicas/{NODE_REPLICA}"
                           "/containers/loom-node/exec")
    assert s.command == "sh -c 'printf '\"'\"'héllo wörld\\n'\"'\"'; echo oops >&2'"
    assert s.auth_ok


def test_exec_non_zero_exit_comes_from_the_error_frame(loomctl, aca_exec):
    r = loomctl("exec", "--app", "gun-relay", "--", "sh", "-c", "echo partial; exit 7")
    assert r.exit_code == 7
    assert r.stdout == "partial\n"
    assert "ClusterExecFailure" not in r.stdout


def test_exec_json_output_separates_streams(loomctl, aca_exec):
    r = loomctl("exec", "--app", "loom-node", "-o", "json", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert r.exit_code == 3
    data = r.json()
    assert data["stdout"] == "out\n" and data["stderr"] == "err\n" and data["exit_code"] == 3
    assert data["target"] == f"loom-node/{NODE_REPLICA}"
    assert any("Successfully connected" in i for i in data["info"])
    assert "exit code 3" in data["errors"][0]


def test_exec_picks_named_replica_and_container(loomctl, aca_exec):
    rep = f"{topology.NODE}--n1-5d9774cff-00002"
    r = loomctl("exec", "--app", "loom-node", "--replica", rep, "--", "true")
    assert r.exit_code == 0, r.stderr
    assert f"/replicas/{rep}/containers/loom-node/exec" in aca_exec.sessions[-1].path


def test_exec_skips_replicas_that_are_not_running(loomctl, aca_exec, azure):
    rev = "loom-node--n1"
    azure.state["replicas"][rev][0]["properties"]["runningState"] = "NotRunning"
    r = loomctl("exec", "--app", "loom-node", "--", "true")
    assert r.exit_code == 0, r.stderr
    assert "/replicas/loom-node--n1-5d9774cff-00001/" in aca_exec.sessions[-1].path


def test_exec_wrong_container_name_case(loomctl, aca_exec):
    r = loomctl("exec", "--app", "loom-node", "--container", "Loom-Node", "--", "true")
    assert r.exit_code == 2
    assert "no such container: 'Loom-Node'" in r.stderr
    assert "use 'loom-node'" in r.stderr
    assert aca_exec.sessions == []


def test_exec_unknown_replica_and_app(loomctl, aca_exec):
    r = loomctl("exec", "--app", "loom-node", "--replica", "nope", "--", "true")
    assert r.exit_code == 2 and "replica 'nope' not found" in r.stderr and "hint:" in r.stderr
    r = loomctl("exec", "--app", "ghost", "--", "true")
    assert r.exit_code == 3 and "container app 'ghost' not found" in r.stderr


def test_exec_missing_command_is_usage_error(loomctl, aca_exec):
    r = loomctl("exec", "--app", "loom-node")
    assert r.exit_code == 2 and "no command given" in r.stderr


def test_exec_interactive_needs_a_terminal(loomctl, aca_exec):
    r = loomctl("exec", "--app", "loom-node", "--interactive", input="ls\n")
    assert r.exit_code == 2 and "--interactive needs a terminal" in r.stderr


def test_exec_401_is_named_and_token_never_shown(loomctl, aca_exec, caplog):
    caplog.set_level(logging.DEBUG)
    real = aca_exec.token
    aca_exec.token = "a-different-token"  # the service rejects the token ARM handed out
    r = loomctl("exec", "--app", "loom-node", "--debug", "--", "true")
    assert r.exit_code == 3
    assert "refused the Container Apps token (401)" in r.stderr
    assert "Container Apps Operator" in r.stderr
    for text in (r.stdout, r.stderr, caplog.text):
        assert real not in text
    assert len(aca_exec.sessions) == 1  # a 401 is not retried


def test_exec_retries_a_500_once_while_starting(loomctl, aca_exec, monkeypatch):
    aca_exec.statuses = [500]
    r = loomctl("exec", "--app", "loom-node", "-o", "json", "--", "echo", "up")
    assert r.exit_code == 0, r.stderr
    assert r.json()["attempts"] == 2 and r.json()["stdout"] == "up\n"


def test_exec_500_twice_names_the_not_running_container(loomctl, aca_exec):
    aca_exec.statuses = [500, 500]
    r = loomctl("exec", "--app", "loom-node", "--", "true")
    assert r.exit_code == 3
    assert "could not open a session" in r.stderr and "(500)" in r.stderr and "not running" in r.stderr
    assert len(aca_exec.sessions) == 2


def test_exec_honours_429_retry_after(loomctl, aca_exec):
    aca_exec.statuses = [429]
    aca_exec.retry_after = "1"
    r = loomctl("exec", "--app", "loom-node", "-o", "json", "--", "echo", "ok")
    assert r.exit_code == 0, r.stderr
    assert r.json()["attempts"] == 2 and r.json()["duration_ms"] >= 900


def test_exec_persistent_429_is_named(loomctl, aca_exec):
    aca_exec.statuses = [429, 429, 429]
    aca_exec.retry_after = "0"
    r = loomctl("exec", "--app", "loom-node", "--", "true")
    assert r.exit_code == 3 and "throttled (429" in r.stderr


def test_exec_cut_session_is_named(loomctl, aca_exec):
    aca_exec.cut_after = 10
    r = loomctl("exec", "--app", "loom-node", "--", "sh", "-c", "echo 0123456789abcdefghij; sleep 5")
    assert r.exit_code == 3
    assert "was cut before the command finished" in r.stderr
    assert "Traceback" not in r.stderr


def test_exec_timeout_bounds_the_session(loomctl, aca_exec):
    r = loomctl("exec", "--app", "loom-node", "--timeout", "1", "--", "sleep", "10")
    assert r.exit_code == 3 and "did not finish within 1 s" in r.stderr


def test_exec_executable_not_found(loomctl, aca_exec):
    r = loomctl("exec", "--app", "loom-node", "--", "no-such-tool", "--x")
    assert r.exit_code == 127


def test_exec_dead_dataplane(loomctl, aca_exec, monkeypatch):
    monkeypatch.setenv("LOOMCTL_ACA_DATAPLANE_ENDPOINT", "https://127.0.0.1:9")
    r = loomctl("exec", "--app", "loom-node", "--", "true")
    assert r.exit_code == 3 and "cannot reach the Container Apps data plane" in r.stderr


def test_exec_hostile_argument_stays_data(loomctl, aca_exec, tmp_path):
    marker = tmp_path / "pwned"
    hostile = f"x'; touch {marker}; echo '$(touch {marker})"
    r = loomctl("exec", "--app", "loom-node", "--", "echo", hostile)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == hostile + "\n"
    assert not marker.exists()


def test_exec_error_frame_for_a_container_that_is_not_running(loomctl, aca_exec):
    aca_exec.not_attachable = {NODE_REPLICA}
    r = loomctl("exec", "--app", "loom-node", "--", "true")
    assert r.exit_code == 3
    assert f"container 'loom-node' in '{NODE_REPLICA}' is not running" in r.stderr
    assert "--replica" in r.stderr


def test_exec_killed_process_exit_137_is_explained(loomctl, aca_exec):
    r = loomctl("exec", "--app", "loom-node", "--", "sh", "-c", "kill -9 $$")
    assert r.exit_code == 137
    assert "process was killed" in r.stderr


def test_exec_no_replicas(loomctl, aca_exec, azure):
    azure.state["replicas"]["loom-node--n1"] = []
    r = loomctl("exec", "--app", "loom-node", "--", "true")
    assert r.exit_code == 3 and "has no replicas" in r.stderr and "min-replicas" in r.stderr


def test_exec_interactive_on_a_terminal(aca_exec, azure, tmp_path):
    """--interactive needs a real terminal: run loomctl as a process on a pseudo-terminal."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    env = dict(os.environ)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "loomctl", "exec", "--app", "loom-node", "--interactive"],
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    out = b""
    try:
        end = time.monotonic() + 30
        while b"Ctrl+D exits" not in out and time.monotonic() < end:
            if select.select([master], [], [], 0.2)[0]:
                out += os.read(master, 4096)
        os.write(master, b"echo interactive-$((40+2))\n")
        while b"interactive-42" not in out and time.monotonic() < end:
            if select.select([master], [], [], 0.2)[0]:
                out += os.read(master, 4096)
        os.write(master, b"exit 5\n")
        code = proc.wait(timeout=max(1, end - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert b"interactive-42" in out, out
    assert code == 5
    s = aca_exec.sessions[-1]
    assert s.command == "sh" and s.resized and '"Width": ' in s.resized[0]
    assert b"echo interactive" in s.stdin
