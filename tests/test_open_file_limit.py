"""Many peers under a low open-file limit (issue 12): probes are bounded by a semaphore sized from RLIMIT_NOFILE,
and running out of file descriptors is one local error, never a failure of each peer. Each test runs loomctl in
a subprocess whose limit is lowered with setrlimit, against a real GUN relay."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _limit(n: int):
    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    return lower


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOMCTL_", "AZURE_", "GUN_", "LOOM_"))}
    env.update(LOOMCTL_CONFIG=str(tmp_path / "config.toml"), PYTHONPATH=str(ROOT), COLUMNS="160")
    return env


def _warm_then_starved(first: list[str], second: list[str], free: int) -> str:
    """A Python script: `loomctl FIRST` (a warm-up that imports everything), then the process fills its descriptor
    table, as other open files would, leaving `free`, and exits with `loomctl SECOND`'s code. What reports an error
    is imported with the warm-up: a process that ran out mid-command has closed the failed sockets by then, but here
    the descriptors stay held."""
    return textwrap.dedent(f"""
        import os, sys
        from loomctl.cli import cli
        import loomctl.azure.errors, loomctl.output.ui
        def run(args):
            try:
                cli.main(args, prog_name="loomctl")
            except SystemExit as exc:
                return exc.code
        assert run({first!r}) == 0
        sys.stdout.flush()
        print("=== second run", flush=True)
        held = []
        try:
            while True:
                held.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:
            pass
        for fd in held[len(held) - {free}:]:
            os.close(fd)
        sys.exit(run({second!r}))
    """)


@pytest.mark.skipif(resource.getrlimit(resource.RLIMIT_NOFILE)[1] < 256, reason="hard open-file limit below 256")
def test_500_peers_under_a_256_file_limit_all_answer(relays, tmp_path):
    relay = relays.start()
    args = [sys.executable, "-m", "loomctl", "diagnose", "peers", "--timeout", "20", "-o", "json"]
    for i in range(500):  # 500 distinct URLs, one real relay (the query string keeps them apart)
        args += ["--peer", f"ws://127.0.0.1:{relay.port}/gun?n={i}"]
    proc = subprocess.run(args, capture_output=True, text=True, env=_env(tmp_path), preexec_fn=_limit(256),
                          timeout=300)
    assert proc.returncode == 0, proc.stderr + proc.stdout[-2000:]
    peers = json.loads(proc.stdout)["peers"]
    assert len(peers) == 500
    assert [p for p in peers if not p["ok"]] == []
    assert "Too many open files" not in proc.stdout + proc.stderr


def test_running_out_of_file_descriptors_is_one_local_error(relays, tmp_path):
    relay = relays.start()
    peers = [f"ws://127.0.0.1:{relay.port}/gun?n={i}" for i in range(40)]
    # a warm-up run imports everything; then the process fills its descriptor table (as other open files would)
    # and leaves three free: the event loop's epoll and self-pipe, none for the probes' sockets
    args = ["diagnose", "peers", "-o", "json"]
    script = _warm_then_starved([*args, "--peer", peers[0]], [*args, *(w for p in peers for w in ("--peer", p))],
                                free=3)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=_env(tmp_path),
                          preexec_fn=_limit(128), timeout=120)
    second = proc.stdout.split("=== second run\n", 1)[1]
    assert proc.returncode == 2, proc.stderr
    assert second == ""  # no per-peer report
    assert proc.stderr.splitlines() == [
        "error: local open-file limit (ulimit -n 128) reached: 40 of 40 peer probes could not open a socket",
        "hint: this is a limit of this machine, not a fault of the peers or of Azure: raise it (`ulimit -n 4096`) "
        "or probe fewer peers at once",
    ]


def test_probe_slots_follow_the_soft_limit():
    from loomctl.core.limits import probe_slots

    assert probe_slots(256) == 64
    assert probe_slots(100) == 25
    assert probe_slots(4096) == 64
    assert probe_slots(3) == 1


@pytest.mark.parametrize("token_cache", ["0", "1"])
def test_running_out_of_file_descriptors_talking_to_azure_is_the_local_limit(azure, tmp_path, token_cache):
    """No descriptor left after a warm-up run (signing in again, or with the token kept by the first run): the
    machine's limit, exit 2, never "not signed in", "TLS verification failed" or "unexpected error". Only "none
    left" is deterministic: with one or more free, whether `status` succeeds depends on how many connections happen
    to be open at once."""
    from tests import subproc

    script = _warm_then_starved(["status", "-o", "json"], ["status", "-o", "json"], free=0)
    env = subproc.child_env({"PYTHONPATH": str(ROOT), "LOOMCTL_TOKEN_CACHE": token_cache})
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          preexec_fn=_limit(128), timeout=120)
    assert "=== second run" in proc.stdout, proc.stderr
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        "error: local open-file limit (ulimit -n 128) reached",
        "hint: this is a limit of this machine, not a fault of the peers or of Azure: raise it (`ulimit -n 4096`) "
        "or probe fewer peers at once",
    ]
