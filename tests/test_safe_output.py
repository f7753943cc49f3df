"""Text from outside reaches the terminal (or a text file) with its control characters shown, never obeyed, and
never read as rich markup; JSON keeps it exact."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from loomctl.output.text import visible
from tests.fakeazure.server import Fault, arm_error
from tests.loganalytics import CONSOLE, FakeLogAnalytics, body, table

ROOT = Path(__file__).resolve().parent.parent
T0 = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(minutes=20)
# sets the window title, clears the screen, reverses what follows, and a second line forged into the record
EVIL = "sync \x1b]0;pwned\x07 ok \x1b[2J\u202eevil\u202c\r\nERROR forged \x9b31m line\x7f"
SHOWN = "sync \\x1b]0;pwned\\x07 ok \\x1b[2J\\u202eevil\\u202c\\r\\nERROR forged \\x9b31m line\\x7f"
RAW = ("\x1b", "\x07", "\x9b", "\x7f", "\u202e", "\r")


@pytest.fixture
def la(azure):
    fake = FakeLogAnalytics(azure)
    fake.answer = lambda kql: body(table(CONSOLE, [[T0, "loom-node", "loom-node--n1", "loom-node--n1-abc",
                                                    "loom-node", "stdout", EVIL]]))
    return fake


def test_visible_shows_controls_and_keeps_the_rest():
    assert visible(EVIL) == SHOWN
    assert visible("tab\tkept, é ✓ unchanged") == "tab\tkept, é ✓ unchanged"
    assert visible("\x00\x1f\x85\u2066\u2069") == "\\x00\\x1f\\x85\\u2066\\u2069"


def test_logs_text_shows_an_escape_sequence_as_text_one_record_one_line(azure, la, loomctl):
    run = loomctl("logs", "-o", "table")
    assert run.exit_code == 0, run.stderr
    assert not any(c in run.stdout for c in RAW)
    lines = run.stdout.splitlines()
    assert len(lines) == 1 and lines[0].endswith(" loom-node/loom-node--n1-abc " + SHOWN)


def test_logs_json_keeps_the_line_exact(azure, la, loomctl):
    run = loomctl("logs", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()[0]["message"] == EVIL
    assert "\x1b" not in run.stdout  # JSON escaping keeps the terminal safe


def test_logs_table_written_to_a_file_by_a_real_process(azure, la, tmp_path):
    out = tmp_path / "logs.txt"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with open(out, "w", encoding="utf-8") as fh:
        proc = subprocess.run([sys.executable, "-m", "loomctl", "logs", "-o", "table"], env=env, stdout=fh,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    assert not any(c in text for c in RAW)
    assert text.count("\n") == 1 and text.rstrip("\n").endswith(SHOWN)


def test_query_run_table_shows_control_characters(azure, la, loomctl):
    la.answer = lambda kql: body(table([("TimeGenerated", "datetime"), ("App", "string"), ("Log", "string")],
                                       [[T0, "loom-node\x1b[31m", "x\x1b]8;;http://evil/\x1b\\link"]]))
    run = loomctl("query", "run", "loommesh-errors", "-o", "table")
    assert run.exit_code == 0, run.stderr
    assert "\x1b" not in run.stdout
    assert "loom-node\\x1b[31m" in run.stdout and "x\\x1b]8;;http://evil/\\x1b\\link" in run.stdout


def _evil_image(azure, image):
    app = azure.state["apps"]["loom-node"]
    app["properties"]["template"]["containers"][0]["image"] = image


def test_rich_markup_in_an_azure_value_is_printed_as_it_is(azure, loomctl):
    _evil_image(azure, "myacr.azurecr.io/[bold red]loom[/bold red]:1")
    run = loomctl("status", "-o", "table")
    assert run.exit_code == 0, run.stderr
    assert "myacr.azurecr.io/[bold red]loom[/bold red]:1" in run.stdout


def test_a_stray_closing_tag_from_azure_does_not_break_the_table(azure, loomctl):
    _evil_image(azure, "myacr.azurecr.io/loom:[/]\x1b[2J")
    run = loomctl("status", "-o", "table")
    assert run.exit_code == 0, run.stderr
    assert "myacr.azurecr.io/loom:[/]\\x1b[2J" in run.stdout and "\x1b" not in run.stdout
    doc = loomctl("status", "-o", "json").json()
    assert next(a for a in doc["apps"] if a["name"] == "loom-node")["image"] == "myacr.azurecr.io/loom:[/]\x1b[2J"


def test_tsv_shows_control_characters(azure, loomctl):
    _evil_image(azure, "loom:1\x1b]0;t\x07")
    run = loomctl("status", "-o", "tsv", "--query", "apps[?name=='loom-node'].image")
    assert run.exit_code == 0, run.stderr
    assert run.stdout == "loom:1\\x1b]0;t\\x07\n"


def test_an_azure_error_message_is_shown_with_its_controls_visible(azure, loomctl):
    azure.faults.append(Fault(r"/managedEnvironments/loom-env$", status=400,
                              body=arm_error("BadRequest", "no \x1b]0;pwned\x07 such\nthing [bold]x[/]")))
    run = loomctl("status", "-o", "table")
    assert run.exit_code != 0
    assert not any(c in run.stderr for c in RAW)
    error = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert len(error) == 1 and "no \\x1b]0;pwned\\x07 such\\nthing [bold]x[/]" in error[0]


def test_doctor_lines_show_control_characters_from_azure(azure, loomctl):
    _evil_image(azure, "myacr.azurecr.io/loom\x1b]0;pwned\x07")  # no tag: LOOM211 warns and quotes the image
    run = loomctl("doctor", "--category", "configuration", "-o", "table")
    assert "\x1b" not in run.stdout and "\x07" not in run.stdout
    assert "image myacr.azurecr.io/loom\\x1b]0;pwned\\x07 of 'loom-node' is not pinned" in run.stdout
    doc = loomctl("doctor", "--category", "configuration", "-o", "json").json()
    checks = [c for cat in doc["categories"] for c in cat["checks"] if c["code"] == "LOOM211"]
    assert any("myacr.azurecr.io/loom\x1b]0;pwned\x07" in c["message"] for c in checks)


def test_runbook_query_rows_show_control_characters(azure, la, loomctl):
    cols = [("App", "string"), ("Replica", "string"), ("Errors", "long"), ("Sample", "string")]
    la.answer = lambda kql: body(table(cols, [["loom-node", "r-1", 4, "mount error(13)\x1b]0;pwned\x07\nforged"]]))
    run = loomctl("runbook", "run", "azure-files-mount-fails", "-o", "table")
    assert run.exit_code == 1
    assert "\x1b" not in run.stdout and "\x07" not in run.stdout
    assert "Sample=mount error(13)\\x1b]0;pwned\\x07\\nforged" in run.stdout
