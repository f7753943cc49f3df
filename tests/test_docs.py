"""Every command and option is documented: help text everywhere, a current docs/commands.md, README tour."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from loomctl.cli import COMMANDS, cli
from tools.regen import commands_md, walk

ROOT = Path(__file__).resolve().parent.parent


def all_commands():
    root = cli.make_context("loomctl", [], resilient_parsing=True)
    return [(" ".join(["loomctl", *p]), c) for p, c, _ in walk(cli, root, [])]


def test_command_reference_is_current():
    assert (ROOT / "docs" / "commands.md").read_text() == commands_md(), \
        "docs/commands.md is stale: run `python tools/regen.py`"


@pytest.mark.parametrize("name,cmd", all_commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_and_option_has_help(name, cmd):
    assert (cmd.help or "").strip(), f"`{name}` has no help text"
    for p in cmd.params:
        if isinstance(p, click.Option) and not p.hidden:
            assert (p.help or "").strip(), f"option {p.opts} of `{name}` has no help text"


def test_readme_tours_every_top_level_command():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in COMMANDS if f"loomctl {name}" not in readme]
    assert missing == [], f"README.md does not mention: {missing}"


def test_readme_documents_exit_codes():
    readme = (ROOT / "README.md").read_text()
    from loomctl.core.errors import ExitCode

    for code in (ExitCode.OK, ExitCode.PROBLEMS, ExitCode.USAGE, ExitCode.AZURE):
        assert f"| {int(code)} |" in readme
