"""The `loomctl` entry point: the command tree and the one place that turns errors into exit codes."""

from __future__ import annotations

import sys
from typing import Any

import click

from loomctl import __version__
from loomctl.core import environment
from loomctl.core.errors import ExitCode, ProblemsFound, broken_pipe
from loomctl.core.lazy import LazyGroup

# name -> ("module:attr", short help). Each command module is imported only when it runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "status": ("loomctl.commands.status:status", "Show the environment, apps, revisions, replicas and ingress."),
    "doctor": ("loomctl.commands.doctor:doctor", "Run every check and say what is wrong and how to fix it."),
    "lint": ("loomctl.commands.lint:lint", "Judge deployment definitions (ARM templates, exports, spec) offline."),
    "checks": ("loomctl.commands.checks:checks", "List the checks loomctl knows (codes, meaning, fixes)."),
    "diagnose": ("loomctl.commands.diagnose:diagnose", "Diagnose DNS, LoomMesh peers and Azure Files storage."),
    "sandbox": ("loomctl.commands.sandbox:sandbox", "Run a local LoomMesh (relay and two nodes) to try loomctl on."),
    "logs": ("loomctl.commands.logs:logs", "Show console or system logs (Log Analytics, or live)."),
    "query": ("loomctl.commands.query:query", "Canned KQL queries: list, show, run."),
    "metrics": ("loomctl.commands.metrics:metrics", "LoomMesh metrics: peers, graph size, sync latency."),
    "runbook": ("loomctl.commands.runbook:runbook", "Troubleshooting runbooks: list, show, run."),
    "deploy": ("loomctl.commands.deploy:deploy", "Roll out images with a health gate; apply infrastructure."),
    "cost": ("loomctl.commands.cost:cost", "Estimate the monthly cost of the deployment."),
    "exec": ("loomctl.commands.exec:exec_", "Run a command inside a replica."),
    "config": ("loomctl.commands.config:config", "Manage profiles: init, show, use, set."),
    "completion": ("loomctl.commands.completion:completion", "Print a shell completion script (bash, zsh, fish)."),
}


def _debug_requested(ctx: click.Context) -> bool:
    obj = ctx.find_root().obj
    return bool(getattr(obj, "debug", False))


def report(exc: BaseException) -> int:
    """Print one line and a hint for an error; return the exit code."""
    from loomctl.azure.errors import as_loom_error  # the whole mapping, Azure SDK included: imported only on error
    from loomctl.output import ui

    err = as_loom_error(exc)
    ui.error(err.message, err.hint)
    return int(err.exit_code)


def interrupted(ctx: click.Context) -> None:
    """Ctrl-C: one line on stderr and exit 130, whatever the command was doing."""
    from loomctl.output import ui

    ui.error("interrupted", None)
    ctx.exit(int(ExitCode.INTERRUPTED))


def stopped_by_closed_stdout(exc: BaseException) -> bool:
    """A write to a stdout nobody reads any more (`| head -1`): end quietly, as Unix tools do (exit 141); stdout
    then points at the null device. A broken pipe of a network connection stays a network error."""
    from loomctl.output import ui

    if not broken_pipe(exc) or not ui.stdout_closed():
        return False
    ui.silence_stdout()
    return True


class RootGroup(LazyGroup):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Everything loomctl prints, usage errors included, passes the credential mask."""
        from loomctl.output.masked import masked_streams

        with masked_streams():
            return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        environment.forget_warnings()  # each command warns once about an ignored environment value
        try:
            return super().invoke(ctx)
        except click.exceptions.Abort as exc:
            if not isinstance(exc.__context__, KeyboardInterrupt):  # end of input at a prompt
                raise
            interrupted(ctx)  # Ctrl-C at a prompt (click turns it into Abort): the same rule as anywhere
        except (click.exceptions.Exit, click.ClickException):
            raise
        except KeyboardInterrupt:  # Ctrl-C, in every command, streaming ones included (README, exit codes)
            interrupted(ctx)
        except Exception as exc:  # noqa: BLE001 - the one place errors become exit codes
            if stopped_by_closed_stdout(exc):
                ctx.exit(int(ExitCode.BROKEN_PIPE))
            if isinstance(exc, ProblemsFound) and exc.silent:  # the output already says what is wrong
                ctx.exit(int(exc.exit_code))
            debug = _debug_requested(ctx)
            if debug:
                import traceback

                traceback.print_exc()
            ctx.exit(report(exc))


@click.group(cls=RootGroup, lazy_subcommands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="loomctl")
def cli() -> None:
    """Operate and troubleshoot LoomDB on Azure Container Apps.

    Exit codes: 0 all well, 1 problems found, 2 usage, configuration or file error,
    3 Azure, authentication or network error, 130 interrupted (Ctrl-C), 141 stdout closed early.
    """


def main() -> None:
    code: Any = 0
    try:
        cli(prog_name="loomctl")
    except SystemExit as done:
        code = done.code
    try:  # what is still buffered goes out now, so that a closed stdout ends as above (not at interpreter exit)
        sys.stdout.flush()
    except BrokenPipeError:
        from loomctl.output import ui

        ui.silence_stdout()
        code = int(ExitCode.BROKEN_PIPE)
    sys.exit(code)
