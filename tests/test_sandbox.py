"""`loomctl sandbox up | status | down`: real GUN processes on loopback, then doctor and the write probe on them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.gunrelay import sandbox_dirs


@pytest.fixture
def sandbox_env(tmp_path, monkeypatch, loomctl):
    sandbox_dirs(tmp_path, monkeypatch)
    yield tmp_path / "sandbox"
    loomctl("sandbox", "down", "-o", "json")  # always clean up


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text() if Path(f"/proc/{pid}/stat").exists() else ""
    return " Z " not in stat


def test_up_doctor_probe_down(sandbox_env, loomctl, tmp_path):
    run = loomctl("sandbox", "up", "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert [p["name"] for p in doc["peers"]] == ["relay", "node-1", "node-2"]
    assert all(p["alive"] for p in doc["peers"])
    assert len({p["data"] for p in doc["peers"]}) == 3  # a data folder each
    pids = [p["pid"] for p in doc["peers"]]
    assert "loomctl doctor --profile sandbox" in run.stderr
    cfg = (tmp_path / "config.toml").read_text()
    assert '[profiles."sandbox"]' in cfg and "azure = false" in cfg

    run = loomctl("doctor", "--profile", "sandbox", "-o", "json")
    assert run.exit_code == 0, run.stdout
    cats = {c["name"] if "name" in c else c.get("categoryName"): c for c in run.json()["categories"]}
    statuses = {c["code"]: c["status"] for cat in run.json()["categories"] for c in cat["checks"]}
    assert statuses["LOOM301"] == "pass" and statuses["LOOM402"] == "pass"
    assert statuses["LOOM101"] == "skip"
    assert cats

    run = loomctl("diagnose", "peers", "--profile", "sandbox", "--write-probe", "--samples", "2", "-o", "json")
    assert run.exit_code == 0, run.stdout
    probe = run.json()["write_probe"]
    assert len(probe["pairs"]) == 6 and all(p["ok"] for p in probe["pairs"])  # node-1 → relay → node-2 and back

    # again: already up, nothing new started
    run = loomctl("sandbox", "up", "-o", "json")
    assert run.exit_code == 0 and [p["pid"] for p in run.json()["peers"]] == pids
    assert "already runs" in run.stderr

    run = loomctl("sandbox", "status", "-o", "json")
    assert run.exit_code == 0 and run.json()["running"] is True
    assert all(p["answers"] for p in run.json()["peers"])

    run = loomctl("sandbox", "down", "-o", "json")
    assert run.exit_code == 0
    stopped = [(r["name"], r["result"]) for r in run.json()["stopped"]]
    assert stopped == [(n, "stopped") for n in ("relay", "node-1", "node-2", "links")]  # the link proxy too
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)
    assert not (sandbox_env / "state.json").exists()

    run = loomctl("sandbox", "status", "-o", "json")
    assert run.exit_code == 1 and run.json()["running"] is False
    run = loomctl("doctor", "--profile", "sandbox", "-o", "json")
    assert run.exit_code == 1  # the profile stays; its peers are gone: connection refused
    peers = {c["code"]: c for cat in run.json()["categories"] for c in cat["checks"]}["LOOM402"]
    assert "failed at tcp" in peers["message"]


def test_down_never_signals_a_process_it_did_not_start(sandbox_env, loomctl):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        sandbox_env.mkdir(parents=True)
        (sandbox_env / "state.json").write_text(json.dumps({"folder": str(sandbox_env), "started_at": 0, "procs": [
            {"name": "relay", "role": "relay", "pid": other.pid, "port": 1, "url": "http://127.0.0.1:1/gun",
             "data": "x", "log": "x", "start_ticks": 1}]}))
        run = loomctl("sandbox", "down", "-o", "json")
        assert run.exit_code == 0
        assert run.json()["stopped"] == [{"name": "relay", "pid": other.pid, "result": "was not running"}]
        assert other.poll() is None  # still running
    finally:
        other.kill()
        other.wait()


def test_up_without_node_is_a_clear_error(sandbox_env, loomctl, monkeypatch, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    run = loomctl("sandbox", "up")
    assert run.exit_code == 2
    assert "error: the sandbox needs Node.js, and `node` is not on PATH" in run.stderr
    assert "hint: install Node.js" in run.stderr
    assert not (sandbox_env / "state.json").exists()


def test_gun_dir_without_gun_is_a_clear_error(sandbox_env, loomctl, monkeypatch, tmp_path):
    monkeypatch.setenv("LOOMCTL_GUN_DIR", str(tmp_path))
    run = loomctl("sandbox", "up")
    assert run.exit_code == 2
    assert "holds no node_modules/gun" in run.stderr and "npm install --prefix" in run.stderr


def _readme() -> str:
    return (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _readme_block(command: str) -> str:
    """What the README shows after `$ COMMAND` up to the next command or the end of its block."""
    text = _readme()
    start = text.index(command) + len(command)
    end = min(i for i in (text.find("\n$ ", start), text.index("```", start)) if i >= 0)
    return text[start:end].rstrip("\n")


def _readme_doctor_block() -> list[str]:
    return _readme_block("$ loomctl doctor --profile sandbox\n").split("\n")


def _as_pattern(line: str) -> re.Pattern[str]:
    """A README line as a pattern: ports, pids, GUN ids and timings vary from run to run; `, ...)` stands for more
    peers."""
    out = re.escape(line)
    out = re.sub(r"127\\\.0\\\.0\\\.1:\d+", r"127\\.0\\.0\\.1:\\d+", out)
    out = re.sub(r"pid\\ [A-Za-z0-9]+", r"pid\\ \\S+", out)
    out = re.sub(r"ping\\ [\d\\.]+\\ ms", r"ping\\ [\\d.]+\\ ms", out)
    out = out.replace(r",\ \.\.\.\)", r",\ .*\)")
    return re.compile(out)


def test_readme_sandbox_transcript_is_what_doctor_prints(sandbox_env, loomctl, loomctl_proc):
    """The README's first command ends in `loomctl doctor --profile sandbox` after `loomctl sandbox break
    blackhole`: what it shows there is what a user gets, line by line (run as real processes, as the user runs
    them), a real diagnosis with its fix."""
    first = next(line for line in _readme().split("\n") if line.startswith("python3 -m venv .venv"))
    assert first.endswith("&& loomctl sandbox up && loomctl sandbox break blackhole && loomctl doctor --profile "
                          "sandbox")
    assert loomctl("sandbox", "up", "-o", "json").exit_code == 0
    run = loomctl_proc("sandbox", "break", "blackhole", "-o", "table")
    assert run.exit_code == 0, run.stderr
    assert run.stdout + run.stderr == _readme_block("$ loomctl sandbox break blackhole\n") + "\n"
    run = loomctl_proc("doctor", "--profile", "sandbox", "-o", "table")
    assert run.exit_code == 1, run.stderr
    got = run.stdout.rstrip("\n").split("\n")
    want = _readme_doctor_block()
    assert len(got) == len(want), run.stdout
    for line, expected in zip(got, want, strict=True):
        assert _as_pattern(expected).fullmatch(line.rstrip()), (line, expected)
