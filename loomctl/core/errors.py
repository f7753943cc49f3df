"""Exit codes and the error types every command raises.

One place (``loomctl.cli.main``) catches these and turns them into a one-line message, a hint and an exit
status. Nothing else prints tracebacks or calls ``sys.exit`` with a number of its own.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Documented exit statuses (README, "Exit codes")."""

    OK = 0
    PROBLEMS = 1  # a check failed / problems were found
    USAGE = 2  # bad usage or configuration
    AZURE = 3  # Azure, authentication or network error that stopped the command
    INTERRUPTED = 130


class LoomError(Exception):
    """An error with a one-line message, a hint and an exit code."""

    exit_code: ExitCode = ExitCode.AZURE

    def __init__(self, message: str, hint: str | None = None, *, exit_code: ExitCode | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class UsageError(LoomError):
    """Bad input on the command line."""

    exit_code = ExitCode.USAGE


class ConfigError(LoomError):
    """A configuration file or value that cannot be used."""

    exit_code = ExitCode.USAGE


class AzureError(LoomError):
    """Azure answered with an error (HTTP status known)."""

    exit_code = ExitCode.AZURE

    def __init__(self, message: str, hint: str | None = None, *, status: int | None = None, code: str | None = None):
        super().__init__(message, hint)
        self.status = status
        self.code = code


class AuthError(LoomError):
    """No credential could sign in."""

    exit_code = ExitCode.AZURE


class NetworkError(LoomError):
    """A connection, TLS or timeout failure."""

    exit_code = ExitCode.AZURE


class ProblemsFound(LoomError):
    """The command ran and found problems (exit 1). Output has already been printed.

    An empty message means the output already says everything: the exit is 1 with no `error:` line.
    """

    exit_code = ExitCode.PROBLEMS

    def __init__(self, message: str = "", hint: str | None = None, *, exit_code: ExitCode | None = None):
        super().__init__(message, hint, exit_code=exit_code)

    @property
    def silent(self) -> bool:
        return not self.message


def as_loom_error(exc: BaseException) -> LoomError:
    """Any exception as a LoomError with a hint: Azure SDK, network and TLS errors get specific advice."""
    if isinstance(exc, LoomError):
        return exc
    root = type(exc).__module__.split(".")[0]
    if root in ("azure", "msal", "requests", "urllib3", "ssl", "socket") or isinstance(exc, (OSError, TimeoutError)):
        from loomctl.azure.errors import map_exception

        mapped = map_exception(exc)
        if mapped is not None:
            return mapped
    return LoomError(f"unexpected error: {type(exc).__name__}: {exc}",
                     "run again with --debug for the traceback, and report it", exit_code=ExitCode.AZURE)


def describe(exc: BaseException) -> tuple[str, str | None]:
    """The one-line message and the hint for any exception (as `as_loom_error` sees it)."""
    err = as_loom_error(exc)
    return err.message, err.hint


def did_you_mean(name: str, known: list[str]) -> str:
    """"did you mean 'x'? " for the closest known name, or "" (for hints on a mistyped name)."""
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    return f"did you mean '{close[0]}'? " if close else ""
