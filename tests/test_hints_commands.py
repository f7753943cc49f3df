"""Every `loomctl ...` command that loomctl tells a user to run (hints, runbooks, help text, README, docs) exists
as written: the command path resolves, each option belongs to that command, and a command run through `exec`
puts its own words after `--`. A hint that names a command which does not exist sends the user nowhere."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from loomctl.cli import cli

ROOT = Path(__file__).resolve().parent.parent
_QUOTED = re.compile(r"`(loomctl [^`\n]+)`")  # on one line: a hint split across string literals is not read


def _sources() -> list[Path]:
    files = [p for p in (ROOT / "loomctl").rglob("*") if p.suffix in (".py", ".toml", ".kql", ".md")]
    return sorted(files) + [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _mentions() -> list[tuple[str, str]]:
    out = []
    for path in _sources():
        for m in _QUOTED.finditer(path.read_text(encoding="utf-8")):
            for part in re.split(r"\s*(?:&&|\|\||;|\|)\s*", m.group(1).replace("\\|", "|")):  # `\|` in a table
                if part.startswith("loomctl ") and "<command>" not in part:
                    out.append((f"{path.relative_to(ROOT)}", part.split(" >")[0].strip()))
    return sorted(set(out))


def _words(text: str) -> list[str]:
    text = re.sub(r"\{[^{}]*\}", "X", text)  # a placeholder filled in at run time
    text = re.sub(r"(^|\s)\[|\](?=\s|$)", r"\1", text)  # usage syntax: `[--since 6h]` is an optional option
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _problem(text: str) -> str | None:
    words = _words(text)[1:]
    cmd: click.Command = cli
    ctx = click.Context(cli, info_name="loomctl", resilient_parsing=True)
    path = ["loomctl"]
    while isinstance(cmd, click.Group) and words and not words[0].startswith("-"):
        sub = cmd.get_command(ctx, words[0])
        if sub is None:
            return f"`{' '.join(path)}` has no command '{words[0]}'"
        path.append(words.pop(0))
        cmd = sub
    if isinstance(cmd, click.Group) and words:
        return f"`{' '.join(path)}` is a group: '{words[0]}' needs a command before it"
    takes_value: dict[str, bool] = {}
    for p in cmd.params:
        if isinstance(p, click.Option):
            for name in p.opts + p.secondary_opts:
                takes_value[name] = not (p.is_flag or p.count)
    for name in ("--help", "-h"):
        takes_value[name] = False
    variadic = [p for p in cmd.params if isinstance(p, click.Argument) and p.nargs == -1]
    positional = [p for p in cmd.params if isinstance(p, click.Argument)]
    seen_positional = 0
    i = 0
    while i < len(words):
        w = words[i]
        if w == "--":
            break
        if w.startswith("-") and w != "-":
            name = w.split("=", 1)[0]
            if name not in takes_value:
                return f"`{' '.join(path)}` has no option {name}"
            i += 2 if takes_value[name] and "=" not in w else 1
            continue
        seen_positional += 1
        if not positional:
            return f"`{' '.join(path)}` takes no argument, but '{w}' is given"
        if variadic and "--" in words:
            return f"`{' '.join(path)}`: '{w}' stands before `--`, so it would run as the command"
        i += 1
    return None


MENTIONS = _mentions()


def test_the_scan_finds_the_commands_loomctl_names():
    assert len(MENTIONS) > 50
    assert any(text.startswith("loomctl doctor --from-inside") for _, text in MENTIONS)


@pytest.mark.parametrize(("where", "text"), MENTIONS, ids=[f"{w}:{t}" for w, t in MENTIONS])
def test_every_command_loomctl_names_exists(where, text):
    assert _problem(text) is None, f"{where}: `{text}`: {_problem(text)}"


@pytest.mark.parametrize(("text", "why"), [
    ("loomctl exec loom-node -- ls", "would run as the command"),
    ("loomctl diagnose peer", "has no command 'peer'"),
    ("loomctl doctor --from-outside", "has no option --from-outside"),
    ("loomctl status extra", "takes no argument"),
])
def test_the_checker_finds_a_wrong_command(text, why):
    assert why in (_problem(text) or "")
