"""Messages to stderr and the rich consoles, created lazily so that `--help` never imports rich."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from loomctl.core import environment
from loomctl.core.once import OncePerKey
from loomctl.output.text import visible


def color_enabled(stream: Any = None) -> bool:
    if environment.get("NO_COLOR"):
        return False
    if environment.get("FORCE_COLOR"):
        return True
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def is_terminal(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def _style(text: str, **kw: Any) -> str:
    return click.style(text, **kw) if color_enabled(sys.stderr) else text


# Messages often carry text from outside (Azure error messages, names, peer replies): shown with `visible`.
def error(message: str, hint: str | None = None) -> None:
    click.echo(_style("error: ", fg="red", bold=True) + visible(message), err=True)
    if hint:
        click.echo(_style("hint: ", fg="cyan") + visible(hint), err=True)


def warn(message: str) -> None:
    click.echo(_style("warning: ", fg="yellow") + visible(message), err=True)


def info(message: str) -> None:
    click.echo(visible(message), err=True)


def confirm(question: str, yes: bool, refusal: str, hint: str) -> None:
    """Ask on a terminal; without --yes, refuse (a usage error: `refusal`, `hint`) when stdin is not a terminal."""
    from loomctl.core.errors import UsageError

    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(refusal, hint)
    if not click.confirm(visible(question), default=False, err=True):
        raise UsageError("cancelled; nothing was changed", None)


def stdout_closed() -> bool:
    """Whether nothing reads our stdout any more (`loomctl logs | head -1` after head has exited)."""
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        return True
    except OSError:
        return False
    try:
        import select

        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poll.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll() (Windows), or not a real file (tests)
        return False


def silence_stdout() -> None:
    """Point stdout at the null device, so that nothing written later (nor Python's flush at exit) fails again
    (the recipe of the Python docs, "Note on SIGPIPE")."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _raise_broken_pipe() -> None:
    raise BrokenPipeError("stdout was closed")  # to cli.py, the one place that ends the command for it


_CONSOLES = OncePerKey()  # one Console per stream: progress threads and the main thread share it


def _console(stderr: bool, stream_id: int) -> Any:
    return _CONSOLES.get((stderr, stream_id), lambda: _new_console(stderr))


def _new_console(stderr: bool) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = is_terminal(stream)
    # on a terminal rich measures it; COLUMNS (checked once, here) overrides that, and rich never reads it itself
    width = environment.given("COLUMNS") if tty else environment.get("COLUMNS")
    con = Console(
        _environ={k: v for k, v in os.environ.items() if k != "COLUMNS"},
        file=stream,
        stderr=stderr,
        no_color=not color_enabled(stream),
        force_terminal=tty or None,
        width=width,
        soft_wrap=False,
        highlight=False,
        emoji=False,
        markup=False,  # strings are printed as they are: `[bold red]` in an Azure name is not rich markup
    )
    con.on_broken_pipe = _raise_broken_pipe  # rich would exit 1 on its own
    return con


def console(stderr: bool = False) -> Any:
    """A rich Console for stdout (data) or stderr (progress). Keyed on the stream so tests get a fresh one."""
    stream = sys.stderr if stderr else sys.stdout
    return _console(stderr, id(stream))
