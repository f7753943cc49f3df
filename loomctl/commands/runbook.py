"""loomctl runbook list | show NAME | run NAME"""

from __future__ import annotations

from typing import Any

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import ExitCode, ProblemsFound
from loomctl.core.options import common_options, local_options


def _names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    from loomctl.runbooks import load_all

    return [CompletionItem(n) for n in load_all() if n.startswith(incomplete)]


@click.group()
def runbook() -> None:
    """Troubleshooting runbooks: list, show, run.

    \b
    Examples:
      loomctl runbook list
      loomctl runbook show peers-not-connecting > wiki/peers.md
      loomctl runbook run azure-files-mount-fails --all
    """


@runbook.command("list")
@local_options
@pass_loom
def list_(loom: LoomContext) -> None:
    """List the runbooks."""
    from loomctl.output.views.runbooks import runbook_list
    from loomctl.runbooks import load_all

    rows = [{"name": rb.name, "title": rb.title, "steps": len(rb.steps), "summary": rb.summary}
            for rb in load_all().values()]
    loom.output.emit(rows, table=runbook_list)


@runbook.command("show")
@click.argument("name", shell_complete=_names)
@local_options
@pass_loom
def show(loom: LoomContext, name: str) -> None:
    """Print a runbook as Markdown (for an operations wiki); -o json for its data."""
    from loomctl.output.formats import Format
    from loomctl.runbooks import get
    from loomctl.runbooks.markdown import markdown

    rb = get(name)
    if loom.output_format in (None, Format.TABLE) and not loom.output.query:  # Markdown unless asked for data
        from loomctl.runbooks.runner import placeholders

        click.echo(markdown(rb, placeholders(loom)), nl=False)
    else:
        loom.output.emit(rb.to_json())


@runbook.command("run")
@click.argument("name", shell_complete=_names)
@click.option("--all", "all_steps", is_flag=True, help="Run every step, even after one explains the problem.")
@common_options
@pass_loom
def run(loom: LoomContext, name: str, all_steps: bool) -> None:
    """Run a runbook's steps in order and say what to do next.

    Stops at the first step that explains the problem (unless --all). Exit 0 when no step found a
    problem, 1 when one did, 3 when no step did but Azure could not be read (signed out, no access,
    unreachable: the run then stops at the first step that needs it).
    """
    from loomctl.runbooks import get, runner

    rb = get(name)
    out = loom.output
    if out.is_table and not out.query:
        from loomctl.runbooks.render import StepPrinter

        printer = StepPrinter(rb)
        result = runner.run(loom, rb, all_steps, printer)
        printer.finish(result)
    else:
        result = runner.run(loom, rb, all_steps)
        out.emit(result.to_json())
    unread = result.azure_error
    if unread is not None:
        raise ProblemsFound(f"runbook '{rb.name}' could not read Azure at step {unread.index}: {unread.message}",
                            unread.hint, exit_code=ExitCode.AZURE)
    if result.problem:
        raise ProblemsFound(f"runbook '{rb.name}' found a problem", None)
