"""A closed stdout ends the command quietly, as Unix tools do: no message, exit 141 (128 + SIGPIPE).

Real pipes and real processes (`python -m loomctl`), not CliRunner: the broken pipe is the operating system's.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.loganalytics import CONSOLE, FakeLogAnalytics, body, table

ROOT = Path(__file__).resolve().parents[1]
T0 = dt.datetime(2026, 1, 15, 10, 0, tzinfo=dt.timezone.utc)


def run_into_closed_pipe(*args: str) -> subprocess.CompletedProcess[str]:
    """Run loomctl with stdout a pipe whose reading end is closed before loomctl writes a byte."""
    r, w = os.pipe()
    os.close(r)
    try:
        proc = subprocess.run([sys.executable, "-m", "loomctl", *args], stdout=w, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, cwd=ROOT, env=dict(os.environ), text=True, timeout=120)
    finally:
        os.close(w)
    return proc


def run_into_head(*args: str) -> tuple[int, str, str]:
    """`loomctl ARGS | head -1`: read one line, then close the pipe while loomctl still writes."""
    proc = subprocess.Popen([sys.executable, "-m", "loomctl", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, cwd=ROOT, env=dict(os.environ), text=True)
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    return proc.wait(timeout=120), first, err


@pytest.fixture
def many_logs(azure):
    la = FakeLogAnalytics(azure)
    rows = [[T0 + dt.timedelta(seconds=i), "loom-node", "loom-node--n1", "loom-node--n1-abc", "loom-node", "stdout",
             f"sync ok {i} " + "x" * 80] for i in range(3000)]  # ~300 KB: more than a pipe holds
    la.answer = lambda kql: body(table(CONSOLE, rows))
    return la


@pytest.mark.parametrize("args", [("logs", "--since", "2h"), ("doctor", "-o", "table", "--category", "azure"),
                                  ("status", "-o", "table"), ("status", "-o", "json")])
def test_closed_stdout_is_quiet_exit_141(azure, many_logs, args):
    proc = run_into_closed_pipe(*args)
    assert (proc.returncode, proc.stderr) == (141, "")


def test_logs_into_head_one_line_then_quiet(azure, many_logs):
    code, first, err = run_into_head("logs", "--since", "2h", "-o", "table")
    assert first.rstrip("\n").endswith("loom-node/loom-node--n1-abc sync ok 0 " + "x" * 80)
    assert (code, err) == (141, "")
