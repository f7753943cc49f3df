"""Shell completion: the committed scripts match the CLI, and TAB completes commands and options."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = {"bash": "loomctl.bash", "zsh": "_loomctl", "fish": "loomctl.fish"}


@pytest.mark.parametrize("shell", sorted(FILES))
def test_committed_scripts_are_current(loomctl, shell):
    run = loomctl("completion", shell)
    assert run.exit_code == 0
    committed = (ROOT / "completions" / FILES[shell]).read_text()
    assert run.stdout == committed, (f"completions/{FILES[shell]} is stale: "
                                     "run `python tools/regen.py`")


def complete(words: str) -> list[str]:
    env = dict(os.environ, _LOOMCTL_COMPLETE="bash_complete", COMP_WORDS=words,
               COMP_CWORD=str(len(words.split(" ")) - 1))
    out = subprocess.run([sys.executable, "-m", "loomctl"], env=env, capture_output=True, text=True, timeout=30)
    return [line.split(",", 1)[1] for line in out.stdout.splitlines() if "," in line]


def test_tab_completes_commands_and_options():
    assert {"status", "doctor", "diagnose", "config"} <= set(complete("loomctl "))
    assert complete("loomctl sta") == ["status"]
    opts = complete("loomctl status --")
    assert {"--replicas", "--output", "--query", "--subscription", "--resource-group", "--debug"} <= set(opts)
    assert set(complete("loomctl status -o ")) == {"table", "json", "yaml", "tsv", "none"}
    assert set(complete("loomctl diagnose ")) >= {"dns", "peers", "storage"}
