"""Start-up stays cheap: importing the CLI, or any command module, loads no heavy library."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from loomctl.cli import COMMANDS

HEAVY = ("azure", "rich", "dns", "websockets", "msal", "requests", "yaml", "jmespath")

PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))
"""


def loaded_by(module: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, module], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_cli_import_loads_no_heavy_library():
    heavy = loaded_by("loomctl.cli") & set(HEAVY)
    assert heavy == set(), f"importing loomctl.cli loads {heavy}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_module_import_is_light(name):
    module = COMMANDS[name][0].split(":")[0]
    if importlib.util.find_spec(module) is None:
        pytest.fail(f"command '{name}' is registered but {module} does not exist")
    heavy = loaded_by(module) & set(HEAVY)
    assert heavy == set(), f"importing {module} (for `loomctl {name}` and its completion) loads {heavy}"


VIEWS = ("checks", "config", "cost", "deploy", "dns", "loadtest", "logs", "metrics", "peers", "query", "results",
         "runbooks", "sandbox", "status", "storage")


@pytest.mark.parametrize("name", VIEWS)
def test_view_module_import_is_light(name):
    """Renderers import rich inside their functions: a command may import its view at any time."""
    heavy = loaded_by(f"loomctl.output.views.{name}") & set(HEAVY)
    assert heavy == set(), f"importing loomctl.output.views.{name} loads {heavy}"


def listed_commands(help_text: str) -> dict[str, str]:
    """The "Commands:" section of a --help text: name -> short help (continuation lines joined)."""
    import re

    listed: dict[str, str] = {}
    name = None
    for line in help_text.split("Commands:\n", 1)[1].splitlines():
        m = re.match(r"^  (\S+)\s+(.*)$", line)
        if m:
            name = m.group(1)
            listed[name] = m.group(2).strip()
        elif line.strip() and name:
            listed[name] += " " + line.strip()
    return listed


def test_help_lists_every_command(loomctl):
    run = loomctl("--help")
    assert run.exit_code == 0
    assert listed_commands(run.stdout) == {name: short for name, (_, short) in COMMANDS.items()}
