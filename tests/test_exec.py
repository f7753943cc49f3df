"""loomctl exec against the local exec WebSocket double (real commands run on this machine)."""

from __future__ import annotations

import logging
import re
import termios

import pytest

from tests import subproc
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


@pytest.mark.parametrize("status", [500, 502, 503])
def test_exec_retries_a_refused_handshake_until_the_replica_answers(loomctl, aca_exec, monkeypatch, status):
    monkeypatch.setenv("LOOMCTL_EXEC_RETRY_DELAY", "0.01")  # backoff 0.01, 0.02, 0.04, ... s
    aca_exec.statuses = [status] * 5  # a replica that was just created refuses for a while
    r = loomctl("exec", "--app", "loom-node", "-o", "json", "--", "echo", "up")
    assert r.exit_code == 0, r.stderr
    assert r.json()["stdout"] == "up\n"
    seen = [s.status for s in aca_exec.sessions]
    # the five refusals in order, then the session that ran; a starved machine may lose one more handshake on
    # the way (a reset before the server saw it), which the client counts and retries too
    assert seen[:5] == [status] * 5 and seen[5:] == [101], seen
    assert r.json()["attempts"] >= len(seen) == 6


def test_exec_retries_a_reset_connection(loomctl, aca_exec, monkeypatch):
    from tests.acafakes.exec_server import RESET

    monkeypatch.setenv("LOOMCTL_EXEC_RETRY_DELAY", "0.01")
    aca_exec.statuses = [RESET, RESET]
    r = loomctl("exec", "--app", "loom-node", "-o", "json", "--", "echo", "up")
    assert r.exit_code == 0, r.stderr
    assert r.json()["attempts"] == 3

    monkeypatch.setenv("LOOMCTL_EXEC_HANDSHAKE_TIMEOUT", "0.3")
    aca_exec.refuse = RESET
    r = loomctl("exec", "--app", "loom-node", "--", "true")
    assert r.exit_code == 3
    assert re.match(rf"error: exec handshake failed: connection reset by replica '{NODE_REPLICA}' of 'loom-node' "
                    r"after \d+ tries in \d+\.\d s$", r.stderr.splitlines()[0]), r.stderr


def test_exec_handshake_refused_until_the_deadline_says_tries_and_seconds(loomctl, aca_exec, monkeypatch):
    monkeypatch.setenv("LOOMCTL_EXEC_RETRY_DELAY", "0.05")
    monkeypatch.setenv("LOOMCTL_EXEC_HANDSHAKE_TIMEOUT", "0.5")
    aca_exec.refuse = 500  # never starts
    r = loomctl("exec", "--app", "loom-node", "--", "true")
    assert r.exit_code == 3
    m = re.fullmatch(rf"error: exec handshake failed: HTTP 500 from replica '{NODE_REPLICA}' of 'loom-node' "
                     r"after (\d+) tries in (\d+\.\d) s", r.stderr.splitlines()[0])
    assert m, r.stderr
    assert int(m.group(1)) == len(aca_exec.sessions) >= 3
    assert float(m.group(2)) >= 0.5  # it kept trying for the whole handshake deadline
    assert "not running or is still starting" in r.stderr and "hint:" in r.stderr
    assert "Traceback" not in r.stderr


def test_exec_timeout_bounds_the_handshake_retries(loomctl, aca_exec, monkeypatch):
    monkeypatch.setenv("LOOMCTL_EXEC_RETRY_DELAY", "0.05")
    aca_exec.refuse = 503
    r = loomctl("exec", "--app", "loom-node", "--timeout", "1", "--", "true")
    assert r.exit_code == 3
    m = re.search(r"exec handshake failed: HTTP 503 .* after (\d+) tries in (\d+\.\d) s", r.stderr)
    assert m, r.stderr
    assert int(m.group(1)) == len(aca_exec.sessions) and float(m.group(2)) >= 0.9


def test_connect_backoff_doubles_from_the_given_base(aca_exec, azure, loomctl):
    """Our connect() with a short backoff base: the waits between tries double (at least 0.1, 0.2, 0.4 s)."""
    from loomctl.aca.exec_client import connect
    from loomctl.aca.target import Target

    aca_exec.statuses = [500, 502, 503]
    target = Target("s", "g", "loom-node", "loom-node--n1", NODE_REPLICA, "loom-node", aca_exec.url)
    conn, tries = connect(target, aca_exec.token, "true", 60, backoff_base=0.1, handshake_timeout=60)
    conn.close()
    # the refusals in order, then the session that opened; on a starved machine a handshake may also be reset
    # on the way (one more try), which the waits between the refusals below allow for
    refused = [s for s in aca_exec.sessions if s.status in (500, 502, 503)]
    assert [s.status for s in refused] == [500, 502, 503] and aca_exec.sessions[-1].status == 101
    assert tries >= 4
    seen = [s.at for s in refused] + [aca_exec.sessions[-1].at]
    gaps = [b - a for a, b in zip(seen, seen[1:])]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2 and gaps[2] >= 0.4, gaps


@pytest.mark.parametrize("status", [401, 403, 404])
def test_exec_4xx_handshake_is_not_retried(loomctl, aca_exec, status):
    aca_exec.refuse = status
    r = loomctl("exec", "--app", "loom-node", "--", "true")
    assert r.exit_code == 3
    assert f"({status})" in r.stderr and "handshake failed" not in r.stderr
    assert len(aca_exec.sessions) == 1


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


def test_exec_interactive_on_a_terminal(aca_exec, azure):
    """--interactive needs a real terminal: run loomctl as a process on a pseudo-terminal."""
    term = subproc.Pty("exec", "--app", "loom-node", "--interactive")
    try:
        term.read_until(b"Ctrl+D exits")
        term.send(b"echo interactive-$((40+2))\n")
        term.read_until(b"interactive-42")
        term.send(b"exit 5\n")
        code = term.wait()
    finally:
        term.close()
    assert code == 5
    s = aca_exec.sessions[-1]
    assert s.command == "sh" and s.resized and '"Width": ' in s.resized[0]
    assert b"echo interactive" in s.stdin


REMOTE_INT = ("import signal, sys; signal.signal(signal.SIGINT, lambda *a: print('remote-got-SIGINT', flush=True)); "
              "print('remote-ready', flush=True); sys.exit(int(sys.stdin.readline()))")


def test_exec_interactive_ctrl_c_goes_to_the_remote_process(aca_exec, azure):
    """Raw mode, as `kubectl exec -it`: Ctrl-C (0x03) reaches the remote process, which keeps running; the session
    ends when it exits, with its exit code, and the local terminal mode is restored."""
    import sys

    aca_exec.tty = True  # the remote process has a terminal: its line discipline turns 0x03 into SIGINT
    term = subproc.Pty("exec", "--app", "loom-node", "--interactive", "--", sys.executable, "-c", REMOTE_INT)
    try:
        term.read_until(b"remote-ready")
        raw = termios.tcgetattr(term.slave)
        term.send(b"\x03")  # what the terminal sends for Ctrl-C
        term.read_until(b"remote-got-SIGINT")
        assert term.proc.poll() is None  # loomctl was not interrupted
        term.send(b"7\r")  # raw mode: Enter is \r; the remote terminal makes it \n
        code = term.wait()
        after = termios.tcgetattr(term.slave)
    finally:
        term.close()
    assert code == 7, term.out
    assert b"interrupted" not in term.out
    lflag = raw[3]
    assert not lflag & (termios.ICANON | termios.ISIG | termios.ECHO)  # raw while the session ran
    assert after == term.mode_before  # restored
    assert aca_exec.sessions[-1].stdin == b"\x037\r"


def test_exec_interactive_ctrl_d_ends_the_remote_shell(aca_exec, azure):
    """Ctrl-D (0x04) is sent to the remote; its terminal makes it end of input, the remote shell exits 0."""
    aca_exec.tty = True
    term = subproc.Pty("exec", "--app", "loom-node", "--interactive", "--", "cat")
    try:
        term.read_until(b"Ctrl+D exits")
        term.send(b"hello\r")
        term.read_until(b"hello\r\nhello")  # the remote terminal's echo, then cat's copy
        term.send(b"\x04")
        code = term.wait()
        after = termios.tcgetattr(term.slave)
    finally:
        term.close()
    assert code == 0, term.out
    assert after == term.mode_before
    assert aca_exec.sessions[-1].stdin.endswith(b"\x04")


def test_ctrl_c_during_exec_exits_130(aca_exec):
    """exec streams the remote output: Ctrl-C (a real SIGINT) ends it with 130, as every command (README)."""
    from tests.subproc import Running

    proc = Running("exec", "--app", "loom-node", "--", "sh", "-c", "echo started; sleep 30")
    assert proc.first_line() == "started\n"
    proc.interrupt()
    r = proc.finish()
    assert r.exit_code == 130, r.stderr
    assert r.stderr.splitlines()[-1] == "error: interrupted"
