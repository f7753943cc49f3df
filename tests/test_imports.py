"""Start-up stays cheap: importing the CLI, or any command module, loads no heavy library."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

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


def test_help_lists_every_command(loomctl):
    run = loomctl("--help")
    assert run.exit_code == 0
    for name, (_, short) in COMMANDS.items():
        assert f"  {name}" in run.stdout and short[:30] in run.stdout.replace("\n", " ").replace("  ", " ") or name in run.stdout


ROOT = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, at any depth (function-local imports too), as (line, dotted name)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the file's package
                pkg = list(path.relative_to(ROOT).with_suffix("").parts)[:-node.level]
                base = ".".join(pkg + ([base] if base else []))
            out += [(node.lineno, f"{base}.{a.name}") for a in node.names] + [(node.lineno, base)]
    return out


def test_nothing_below_the_cli_imports_the_cli_or_a_command():
    """Layers: `loomctl.cli` and `loomctl.commands` sit on top; library code never reaches up into them."""
    top = ("loomctl.cli", "loomctl.commands", "loomctl.__main__")
    upward = []
    for path in sorted((ROOT / "loomctl").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if module.startswith(top):
            continue
        upward += [f"{path.relative_to(ROOT)}:{line} imports {name}" for line, name in _imported_modules(path)
                   if name == "loomctl.cli" or name.startswith(("loomctl.cli.", "loomctl.commands"))]
    assert upward == []
