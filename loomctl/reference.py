"""Generate docs/commands.md, the command reference, from the CLI itself (python -m loomctl.reference)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import click


def walk(cmd: click.Command, ctx: click.Context, path: list[str]) -> Iterator[tuple[list[str], click.Command, click.Context]]:
    yield path, cmd, ctx
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            sub_ctx = sub.make_context(name, [], parent=ctx, resilient_parsing=True)
            yield from walk(sub, sub_ctx, path + [name])


def render() -> str:
    from loomctl.cli import cli

    root = cli.make_context("loomctl", [], resilient_parsing=True, terminal_width=100, max_content_width=100)
    out = ["# loomctl command reference", "",
           "Generated from the CLI by `python -m loomctl.reference`; a test fails when it is stale.", ""]
    for path, cmd, ctx in walk(cli, root, []):
        title = " ".join(["loomctl", *path])
        out += [f"## {title}", "", "```", cmd.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(out)


def main() -> None:
    Path("docs/commands.md").write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
