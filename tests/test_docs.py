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

    for code in ExitCode:
        assert f"| {int(code)} |" in readme, code


def test_help_lists_every_exit_code(loomctl):
    from loomctl.core.errors import ExitCode

    run = loomctl("--help")
    listed = " ".join(run.stdout.split("Exit codes:")[1].split("Options:")[0].split())
    for code in ExitCode:
        assert f" {int(code)} " in f" {listed}", (code, listed)


def test_errors_reference_is_current():
    from tools.regen import errors_md

    committed = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    assert committed == errors_md(), "docs/errors.md is stale: run `python tools/regen.py`"


def _loom_error_types():
    import importlib
    import pkgutil

    import loomctl
    from loomctl.core.errors import LoomError

    for mod in pkgutil.walk_packages(loomctl.__path__, "loomctl."):
        if not mod.name.endswith("__main__"):
            importlib.import_module(mod.name)
    todo, seen = [LoomError], []
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


def test_errors_reference_names_every_error_type_and_exit_code():
    """A new LoomError subclass or exit code must be documented in docs/errors.md (tools/errors_doc.py FAMILIES)."""
    from loomctl.core.errors import ExitCode

    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    missing = [cls.__name__ for cls in _loom_error_types() if f"`{cls.__name__}`" not in text]
    assert missing == []
    assert [int(c) for c in ExitCode if f"| {int(c)} |" not in text] == []
    readme = (ROOT / "README.md").read_text()
    assert [int(c) for c in ExitCode if f"| {int(c)} |" not in readme] == []
