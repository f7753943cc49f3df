"""The package tree shows the architecture: no import cycles, nothing imports the CLI or a command from below,
and each package imports only the packages `docs/architecture.md` says it may.

Imports are read with `ast` from the source, including those inside functions and under TYPE_CHECKING, so a
cycle hidden by a function-level import is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "loomctl"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every loomctl module `name` imports (`from pkg import mod` counts as importing pkg.mod)."""
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "loomctl")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "loomctl":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in known else target)
    found.discard(name)
    return {m for m in found if m in known}


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_the_walker_sees_function_level_imports_and_cycles():
    """The test itself can fail: a cycle made only of imports inside functions is found."""
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(g) == [["a", "b", "c"]]
    mods = modules()
    deps = imports_of("loomctl.cli", mods["loomctl.cli"], set(mods))
    assert "loomctl.core.errors" in deps and "loomctl.core.lazy" in deps


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_nothing_below_imports_the_cli_or_a_command():
    offenders = sorted(f"{m} imports {d}" for m, deps in graph().items() for d in deps
                       if (d == "loomctl.cli" or d.startswith("loomctl.commands"))
                       and not (m == "loomctl.cli" or m.startswith("loomctl.commands")) and m != "loomctl.__main__")
    assert offenders == []


def test_only_cli_and_main_at_the_package_root():
    loose = sorted(p.name for p in PKG.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "cli.py"]


@pytest.mark.parametrize("package", sorted(p.name for p in PKG.iterdir() if (p / "__init__.py").exists()))
def test_every_package_says_what_it_holds(package):
    doc = ast.get_docstring(ast.parse((PKG / package / "__init__.py").read_text(encoding="utf-8")))
    assert doc and len(doc) > 20, f"loomctl/{package}/__init__.py has no docstring saying what it holds"


# What each package may import (besides itself), as docs/architecture.md draws it. `views` is loomctl.output.views
# (it shows the data of every domain); `output` is the rest of loomctl.output (formats and ui).
EVERYTHING_BELOW = {"core", "output", "azure", "aca", "loommesh", "cost", "deploy", "logs", "inside", "sandbox",
                    "drills", "mesh", "checks", "runbooks", "lint", "loadtest", "fleet"}
ALLOWED: dict[str, set[str]] = {
    "core": {"output"},  # the context holds the output handler chosen once
    "output": {"core"},
    "azure": {"core"},
    "aca": {"core", "azure"},
    "loommesh": {"core", "azure"},
    "cost": {"core"},
    "deploy": {"core", "azure"},
    "logs": {"core", "output", "azure", "aca"},
    "inside": {"core", "aca", "loommesh"},
    "loadtest": {"core", "loommesh"},
    "sandbox": {"core", "output", "loommesh"},
    "drills": {"core", "aca", "inside", "loommesh", "sandbox"},  # sandbox: its gun and link proxy; aca, inside:
    # `drill join --from-inside` (exec, the node command)
    "mesh": {"core", "azure", "aca", "inside", "sandbox"},  # inside: the node command; sandbox: its processes
    "checks": {"core", "output", "azure", "inside", "logs", "loommesh", "mesh", "sandbox"},  # sandbox: peer roles,
    # hints
    "runbooks": {"core", "output", "azure", "checks", "logs"},
    "lint": {"core", "azure", "checks", "deploy"},
    "fleet": {"core", "azure", "checks"},
    "views": EVERYTHING_BELOW,
    "commands": EVERYTHING_BELOW | {"views", "cli"},  # cli: `completion` builds its script from the root group
    "cli": {"core", "output", "azure"},  # azure: the error mapping, imported only when an error is reported
}
# Single module-level exceptions, each with its reason.
EXCEPTIONS = {
    ("loomctl.core.context", "loomctl.azure.session"): "the context builds the Azure session on first use",
}


def layer(module: str) -> str:
    parts = module.split(".")
    if parts[1:3] == ["output", "views"]:
        return "views"
    return parts[1] if len(parts) > 1 else "loomctl"


def test_each_package_imports_only_what_the_architecture_allows():
    wrong = []
    for module, deps in graph().items():
        src = layer(module)
        if src in ("loomctl", "__main__"):
            continue
        for dep in deps:
            dst = layer(dep)
            if dst in (src, "loomctl") or dst in ALLOWED[src] or (module, dep) in EXCEPTIONS:
                continue
            wrong.append(f"{module} imports {dep} ({src} may import {', '.join(sorted(ALLOWED[src]))})")
    assert wrong == []


def test_the_architecture_doc_draws_the_same_rules():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for pkg, allowed in ALLOWED.items():
        row = f"| {pkg} |"
        assert row in doc, f"docs/architecture.md has no row for {pkg}"
        line = next(ln for ln in doc.splitlines() if ln.startswith(row))
        assert line.split("|")[3].strip() == ", ".join(sorted(allowed)), f"the row for {pkg} lists other imports"
