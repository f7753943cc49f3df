"""Bad input from the environment, the config file and the command line: one line that says what and where, the
documented exit code, no traceback (issue 12: COLUMNS, deep --query, list types, non-finite numbers, workspace ids,
peer URLs and ports)."""

from __future__ import annotations

import json

import pytest

from loomctl.core.errors import LoomError
from loomctl.output.formats import Format, Output


def _config(tmp_path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("value", ["abc", "0", "-3", "9"])
def test_a_bad_columns_is_ignored_with_one_warning_and_the_table_still_prints(value, loomctl, monkeypatch):
    monkeypatch.setenv("COLUMNS", value)
    run = loomctl("config", "show", "-o", "table")
    assert run.exit_code == 0, run.stderr
    assert run.stderr == f"warning: ignoring COLUMNS='{value}': not a whole number of at least 10\n"
    assert "relay_app" in run.stdout and "gun-relay" in run.stdout  # the table, at the default width
    assert max(len(line) for line in run.stdout.splitlines()) <= 120


def test_a_good_columns_sets_the_table_width_without_a_warning(loomctl, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    run = loomctl("config", "show", "-o", "table")
    assert run.exit_code == 0 and run.stderr == ""
    assert max(len(line) for line in run.stdout.splitlines()) <= 40


def test_a_bad_numeric_variable_warns_once_per_command(azure, loomctl, monkeypatch):
    monkeypatch.setenv("LOOMCTL_HTTP_TIMEOUT", "soon")  # read for every Azure client the command builds
    run = loomctl("status", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.stderr == "warning: ignoring LOOMCTL_HTTP_TIMEOUT='soon': not a number\n"


def test_a_deeply_nested_query_is_a_usage_error(loomctl):
    query = "[" * 3000 + "]" * 3000
    run = loomctl("config", "show", "-o", "json", "--query", query)
    assert run.exit_code == 2, run.stderr
    assert run.stderr.splitlines() == [
        f"error: --query is nested too deeply (6000 characters): '{query[:77]}...'",
        "hint: write a flatter JMESPath expression, e.g. --query 'apps[].name'",
    ]


def test_a_profile_list_of_numbers_is_a_config_error_naming_file_profile_and_key(loomctl, monkeypatch, tmp_path):
    path = _config(tmp_path, 'current = "lab"\n[profiles.lab]\nazure = false\npeers = [1, 2]\n')
    monkeypatch.setenv("LOOMCTL_CONFIG", path)
    run = loomctl("diagnose", "peers", "-o", "json")
    assert run.exit_code == 2, run.stderr
    assert run.stderr.splitlines() == [
        f"error: key 'peers' in {path} [profiles.lab] must be a list of strings, not [1, 2]",
        'hint: peers: LoomMesh peer URLs to probe instead of discovering them; write it as peers = ["...", "..."]',
    ]


def test_a_mixed_list_is_refused_too(loomctl, monkeypatch, tmp_path):
    path = _config(tmp_path, '[profiles.lab]\nsuppress = ["LOOM108", true]\n')
    monkeypatch.setenv("LOOMCTL_CONFIG", path)
    run = loomctl("config", "show", "--profile", "lab", "-o", "json")
    assert run.exit_code == 2
    assert run.stderr.splitlines()[0] == (f"error: key 'suppress' in {path} [profiles.lab] must be a list of "
                                          "strings, not ['LOOM108', True]")


@pytest.mark.parametrize("text", ["nan", "inf", "-inf"])
def test_non_finite_numbers_in_the_file_are_a_config_error(text, loomctl, monkeypatch, tmp_path):
    path = _config(tmp_path, f'[profiles.lab]\nsync_latency_warn_ms = {text}\n')
    monkeypatch.setenv("LOOMCTL_CONFIG", path)
    run = loomctl("config", "show", "--profile", "lab", "-o", "json")
    assert run.exit_code == 2
    assert run.stderr.splitlines() == [
        f"error: key 'sync_latency_warn_ms' in {path} [profiles.lab] must be a finite number, not '{text}'",
        "hint: sync_latency_warn_ms: p95 LoomMesh sync latency (ms) above which doctor warns",
    ]
    assert run.stdout == ""


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "Infinity"])
def test_config_set_refuses_non_finite_numbers(text, loomctl):
    assert loomctl("config", "init", "--profile", "lab").exit_code == 0
    run = loomctl("config", "set", "sync_latency_warn_ms", text)
    assert run.exit_code == 2
    assert run.stderr.splitlines()[0] == (
        f"error: key 'sync_latency_warn_ms' in the command line must be a finite number, not '{text}'")
    show = loomctl("config", "show", "-o", "json")
    json.loads(show.stdout)  # the file still holds nothing JSON cannot carry
    assert "NaN" not in show.stdout and "Infinity" not in show.stdout


def test_json_output_never_holds_nan_or_infinity(capsys):
    with pytest.raises(LoomError) as err:
        Output(Format.JSON).emit({"peers": [{"url": "ws://a/gun", "rtt_ms": float("nan")}]})
    assert err.value.message == ("cannot write JSON: the value at peers[0].rtt_ms is not a finite number "
                                 "(JSON has no NaN or Infinity)")
    assert err.value.hint == "use -o yaml or -o table, or leave the value out with --query"
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("given", ["a/b?c=d", "../../subscriptions", "0f0e0d0c-aaaa-bbbb-cccc-00000000000"])
def test_workspace_id_flag_must_be_a_guid(given, azure, loomctl):
    from tests.loganalytics import FakeLogAnalytics

    la = FakeLogAnalytics(azure)
    run = loomctl("logs", "--workspace-id", given, "--destination", "log-analytics", "-o", "json")
    assert run.exit_code == 2
    assert run.stderr.splitlines() == [
        f"error: --workspace-id '{given}' is not a GUID (8-4-4-4-12 hex digits)",
        "hint: give the workspace's customer id: `az monitor log-analytics workspace show -g GROUP -n NAME "
        "--query customerId -o tsv`",
    ]
    assert la.queries == []  # nothing was sent


def test_workspace_id_from_the_environment_or_profile_must_be_a_guid(azure, loomctl, monkeypatch, tmp_path):
    monkeypatch.setenv("LOOMCTL_WORKSPACE_ID", "a/b?c=d")
    run = loomctl("logs", "-o", "json")
    assert run.exit_code == 2
    assert run.stderr.splitlines()[0] == ("error: key 'workspace_id' in environment variable LOOMCTL_WORKSPACE_ID "
                                          "is not a GUID (8-4-4-4-12 hex digits): 'a/b?c=d'")
    monkeypatch.delenv("LOOMCTL_WORKSPACE_ID")
    path = _config(tmp_path, '[profiles.p]\nworkspace_id = "x/../y"\n')
    monkeypatch.setenv("LOOMCTL_CONFIG", path)
    run = loomctl("logs", "--profile", "p", "-o", "json")
    assert run.exit_code == 2
    assert run.stderr.splitlines()[0] == (f"error: key 'workspace_id' in {path} [profiles.p] is not a GUID "
                                          "(8-4-4-4-12 hex digits): 'x/../y'")
    run = loomctl("config", "set", "workspace_id", "not-a-guid", "--profile", "p")
    assert run.exit_code == 2 and "is not a GUID" in run.stderr


def test_subscription_id_must_be_a_guid_before_any_request(azure, loomctl, monkeypatch, tmp_path):
    """The subscription id goes into every ARM path: `a/b?c=d` must never reach Azure."""
    before = len(azure.requests)
    run = loomctl("status", "--subscription", "a/b?c=d", "-o", "json")
    assert (run.exit_code, run.stderr.splitlines()[0]) == (
        2, "error: --subscription is not a GUID (8-4-4-4-12 hex digits): 'a/b?c=d'")
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", "../x")
    run = loomctl("status", "-o", "json")
    assert (run.exit_code, run.stderr.splitlines()[0]) == (
        2, "error: key 'subscription' in environment variable AZURE_SUBSCRIPTION_ID is not a GUID "
           "(8-4-4-4-12 hex digits): '../x'")
    assert len(azure.requests) == before  # nothing was sent
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID")
    run = loomctl("config", "set", "subscription", "my-sub")
    assert run.exit_code == 2 and "is not a GUID" in run.stderr


def _on_a_terminal(tmp_path, columns: str, width: int = 100) -> tuple[int, str]:
    """`loomctl config show` in a subprocess whose stdout and stderr are a pseudo-terminal `width` columns wide."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios
    from pathlib import Path

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, width, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOMCTL_", "AZURE_"))}
    env.update(COLUMNS=columns, LOOMCTL_CONFIG=str(tmp_path / "config.toml"), NO_COLOR="1", TERM="xterm",
               PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    proc = subprocess.Popen([sys.executable, "-m", "loomctl", "config", "show", "-o", "table"],
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    import re

    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return proc.wait(30), re.sub(r"\x1b\[[0-9;]*m", "", text)  # rich styles a terminal even with NO_COLOR


@pytest.mark.parametrize("value", ["0", "abc"])
def test_on_a_terminal_a_bad_columns_is_ignored_and_the_terminal_width_used(value, tmp_path):
    code, out = _on_a_terminal(tmp_path, value, width=100)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"warning: ignoring COLUMNS='{value}': not a whole number of at least 10"
    assert any("relay_app" in line and "gun-relay" in line for line in lines)
    assert max(len(line) for line in lines[1:]) <= 100


def test_config_set_refuses_a_bad_peer_url_when_it_is_set(loomctl, tmp_path):
    """Refused when written, not later when a command reads it; nothing is saved."""
    run = loomctl("config", "set", "peers", "ws://[::1]:8765/gun,http://a:0/gun")
    assert run.exit_code == 2
    assert run.stderr.splitlines()[0] == ("error: peer 'http://a:0/gun' (the command line) is not a peer URL: "
                                          "port 0 is not a port a peer listens on (use 1 to 65535)")
    run = loomctl("config", "set", "node_host", "node:99999")
    assert run.exit_code == 2 and "is not a number from 1 to 65535" in run.stderr
    assert not (tmp_path / "config.toml").exists()
    assert loomctl("config", "set", "peers", "ws://[::1]:8765/gun").exit_code == 0
