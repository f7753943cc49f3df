"""loomctl exec: run one command in a replica and exit with its exit code."""

from __future__ import annotations

import sys

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import UsageError
from loomctl.core.options import common_options


@click.command("exec", context_settings={"ignore_unknown_options": False})
@click.option("--app", "app", metavar="NAME", default=None, help="App to run in (default: the node app).")
@click.option("--replica", metavar="NAME", default=None, help="Replica (default: the first running one).")
@click.option("--container", metavar="NAME", default=None, help="Container (default: the app's first).")
@click.option("--revision", metavar="NAME", default=None, help="Revision (default: the latest).")
@click.option("--interactive", "-i", is_flag=True, help="A terminal session (stdin must be a terminal).")
@click.option("--timeout", type=click.FloatRange(1, 3600), default=60.0, show_default=True,
              help="Seconds the whole session may take.")
@click.argument("command", nargs=-1, required=False)
@common_options
@pass_loom
def exec_(loom: LoomContext, app: str | None, replica: str | None, container: str | None, revision: str | None,
          interactive: bool, timeout: float, command: tuple[str, ...]) -> None:
    """Run COMMAND inside a replica, print its output and exit with its exit code.

    \b
    loomctl exec --app gun-relay -- ls -la /opt/data
    loomctl exec --app loom-node --replica loom-node--n1-abc -- node -v
    loomctl exec --app loom-node --interactive          (a shell on your terminal)

    Put `--` before the command. The service splits the command like a shell; loomctl quotes each word.
    """
    import shlex

    from loomctl.aca import target as tgt

    if not command and not interactive:
        raise UsageError("no command given", "put the command after `--`, e.g. `loomctl exec --app loom-node -- ls /`")
    if interactive and not sys.stdin.isatty():
        raise UsageError("--interactive needs a terminal on stdin",
                         "run it from a terminal, or drop --interactive to run one command non-interactively")
    name = app or loom.settings.node_app
    cmd = shlex.join(command) if command else "sh"
    target, token = tgt.resolve_with_token(loom.azure, name, replica=replica, container=container, revision=revision)
    if interactive:
        from loomctl.aca.interactive import session

        code = session(target, token, cmd, timeout)
        click.get_current_context().exit(code)

    from loomctl.aca.exec_client import run

    structured = loom.output_format is not None and loom.output_format.value != "table"
    if structured:
        result = run(target, token, cmd, timeout=timeout)
        loom.output.emit(result)
    else:
        def echo(kind: str, text: str) -> None:
            click.echo(text, nl=False, err=kind == "stderr")

        result = run(target, token, cmd, timeout=timeout, on_output=echo)
    if result.exit_code == 137:
        from loomctl.output import ui

        ui.warn("exit code 137: the process was killed (out of memory, or the replica is being replaced: "
                "`loomctl status` shows whether a new revision is rolling out)")
    click.get_current_context().exit(result.exit_code)
