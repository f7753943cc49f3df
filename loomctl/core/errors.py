"""Exit codes and the error types every command raises.

One place (``loomctl.cli.main``) catches these and turns them into a one-line message, a hint and an exit
status. Nothing else prints tracebacks or calls ``sys.exit`` with a number of its own.
"""

from __future__ import annotations

import enum
import errno
from typing import TypeVar

try:  # imported now: when the open-file limit is reached, importing even this small module would fail
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

T = TypeVar("T")


class ExitCode(enum.IntEnum):
    """Documented exit statuses (README, "Exit codes")."""

    OK = 0
    PROBLEMS = 1  # a check failed / problems were found
    USAGE = 2  # bad usage, configuration or a local file that cannot be used
    AZURE = 3  # Azure, authentication or network error that stopped the command
    INTERRUPTED = 130
    BROKEN_PIPE = 141  # stdout closed early (`| head`): quiet, as a tool ended by SIGPIPE (128 + 13)


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


class FileError(LoomError):
    """A local file or folder that cannot be read or written (names the file)."""

    exit_code = ExitCode.USAGE


class AzureError(LoomError):
    """Azure answered with an error (HTTP status known)."""

    exit_code = ExitCode.AZURE

    def __init__(self, message: str, hint: str | None = None, *, status: int | None = None, code: str | None = None):
        super().__init__(message, hint)
        self.status = status
        self.code = code


class AuthError(LoomError):
    """No credential could sign in (`.code`: the sign-in service's error code, e.g. "AADSTS7000215")."""

    exit_code = ExitCode.AZURE
    code: str | None = None


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


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        inner = getattr(cur, "inner_exception", None) or getattr(cur, "exc_value", None)
        cur = inner if isinstance(inner, BaseException) else (cur.__cause__ or cur.__context__)
    return seen


def broken_pipe(exc: BaseException) -> bool:
    """A BrokenPipeError anywhere in the exception's chain."""
    return any(isinstance(e, BrokenPipeError) for e in _chain(exc))


def host_in(text: str) -> str | None:
    """The host named in an exception's text (urllib3's host='...' or a URL), else None."""
    import re

    m = re.search(r"host='([^']+)'", text) or re.search(r"https?://([^/\s:'\"]+)", text)
    return m.group(1) if m else None


def is_tls(exc: BaseException) -> bool:
    """A TLS failure anywhere in the exception's chain."""
    import ssl

    for e in _chain(exc):
        if isinstance(e, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(e) or "SSLError" in type(e).__name__:
            return True
    return False


def tls_error(text: str) -> NetworkError:
    return NetworkError(f"TLS verification failed for {host_in(text) or 'the Azure endpoint'}",
                        "if a proxy or private cloud uses its own CA, set REQUESTS_CA_BUNDLE to its PEM file")


def timeout_error(text: str) -> NetworkError:
    return NetworkError(f"no answer from {host_in(text) or 'the Azure endpoint'} in time",
                        "check the network or proxy; raise the limit with LOOMCTL_HTTP_TIMEOUT=SECONDS")


def connect_error(text: str) -> NetworkError:
    return NetworkError(f"cannot connect to {host_in(text) or 'the Azure endpoint'}: {text.splitlines()[0][:160]}",
                        "check the network, proxy and DNS; for private clouds check LOOMCTL_ARM_ENDPOINT")


# errno values of a socket that could not connect or lost its connection (an OSError with no file name)
_SOCKET_ERRNOS = {"ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "ENETUNREACH", "ENETDOWN", "EHOSTUNREACH",
                  "EHOSTDOWN", "EADDRNOTAVAIL", "ETIMEDOUT", "EPIPE"}
_NET_MODULES = ("requests", "urllib3", "ssl", "socket", "aiohttp", "websockets", "dns")


def is_socket_error(exc: BaseException) -> bool:
    """A failure of a network connection, not of a local file: only these are network errors."""
    import socket

    if isinstance(exc, OSError) and exc.filename is not None:
        return False
    if isinstance(exc, (ConnectionError, socket.gaierror, socket.herror, TimeoutError)):
        return True
    if type(exc).__module__.split(".")[0] in _NET_MODULES:
        return True
    return isinstance(exc, OSError) and errno.errorcode.get(exc.errno or -1) in _SOCKET_ERRNOS


def network_error(exc: BaseException) -> LoomError | None:
    """A TLS, timeout or connection failure as a NetworkError with advice, else None (a file error is not one)."""
    text = str(exc)
    if is_tls(exc):
        return tls_error(text)
    if isinstance(exc, OSError) and exc.filename is not None:
        return None
    if isinstance(exc, TimeoutError) or "timed out" in text.lower():
        return timeout_error(text)
    if is_socket_error(exc):
        return connect_error(text)
    return None


# errno name -> (why, what to do) for a file that cannot be used
_FILE_CAUSES = {
    "ENOENT": ("no such file or folder", "check the path; create a missing folder first (`mkdir -p FOLDER`)"),
    "ENOTDIR": ("a part of the path is a file, not a folder", "give a path whose folders are folders"),
    "EEXIST": ("a part of the path is a file, not a folder", "give a path whose folders are folders"),
    "EISDIR": ("it is a folder", "give the path of a file"),
    "EACCES": ("permission denied", "check the permissions of the file and its folder"),
    "EPERM": ("permission denied", "check the permissions of the file and its folder"),
    "ENOSPC": ("no space left on the device", "free some space, or write somewhere else"),
    "EROFS": ("the file system is read-only", "write somewhere else"),
    "ENAMETOOLONG": ("the name is too long", "give a shorter path"),
}


def file_error(exc: OSError, path: object = None, action: str = "use") -> FileError:
    """A local file problem as a FileError naming the file (`path`, else the one the error names)."""
    name = errno.errorcode.get(exc.errno or -1, "")
    why, fix = _FILE_CAUSES.get(name, (exc.strerror or str(exc), "check the path and its permissions"))
    if name == "ENOENT" and action == "write":
        why, fix = "its folder does not exist", "create the folder first (`mkdir -p FOLDER`), or give another path"
    target = path if path is not None else exc.filename
    return FileError(f"cannot {action} {target if target is not None else 'a file'}: {why}", fix)


# -- the one error for "this machine ran out of file descriptors" (core/limits.py bounds probes under the limit) --
def open_file_limit() -> int | None:
    """The soft RLIMIT_NOFILE, or None where it is unknown or unlimited."""
    if resource is None:  # pragma: no cover - not on Windows
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY or soft <= 0 else int(soft)


def is_fd_limit(exc: BaseException) -> bool:
    """EMFILE (this process's open-file limit) or ENFILE (the system's)."""
    return isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE)


def fd_limit_error(exc: BaseException | None = None, affected: str | None = None) -> LoomError:
    """A local problem, so exit 2 like other local configuration; one message for every probe it stopped."""
    system = isinstance(exc, OSError) and exc.errno == errno.ENFILE
    limit = open_file_limit()
    what = "the system's open-file table is full (ENFILE)" if system else \
        f"local open-file limit (ulimit -n {limit if limit is not None else 'unknown'}) reached"
    return LoomError(f"{what}{': ' + affected if affected else ''}",
                     "this is a limit of this machine, not a fault of the peers or of Azure: raise it "
                     "(`ulimit -n 4096`) or probe fewer peers at once", exit_code=ExitCode.USAGE)


def fd_limit_in(exc: BaseException) -> BaseException | None:
    """The EMFILE/ENFILE error in `exc`'s chain (its causes, an SDK's inner exception, or only its text, as urllib3
    and msal keep it), else None: whatever was being opened, the cause is this machine's limit."""
    for e in _chain(exc):
        text = str(e)
        if is_fd_limit(e) or "[Errno 24]" in text or "[Errno 23]" in text or "Too many open files" in text:
            return e
    return None


def as_loom_error(exc: BaseException) -> LoomError:
    """Any exception as a LoomError with a hint: network and TLS errors get specific advice.

    Azure SDK exceptions are mapped by `loomctl.azure.errors.as_loom_error`, which falls back to this one.
    """
    if isinstance(exc, LoomError):
        return exc
    if (limit := fd_limit_in(exc)) is not None:
        return fd_limit_error(limit)
    root = type(exc).__module__.split(".")[0]
    if root in ("requests", "urllib3", "ssl", "socket") or isinstance(exc, (OSError, TimeoutError)):
        mapped = network_error(exc)
        if mapped is not None:
            return mapped
    if isinstance(exc, OSError) and exc.filename is not None:
        return file_error(exc)
    return LoomError(f"unexpected error: {type(exc).__name__}: {exc}",
                     "run again with --debug for the traceback, and report it", exit_code=ExitCode.AZURE)


def by_name(table: dict[str, T], name: str, what: str, listing: str) -> T:
    """`table[name]`, or a usage error "no WHAT named 'NAME'" with a did-you-mean and where to list them."""
    if name in table:
        return table[name]
    raise UsageError(f"no {what} named '{name}'", f"{did_you_mean(name, list(table))}{listing}")


def did_you_mean(name: str, known: list[str]) -> str:
    """"did you mean 'x'? " for the closest known name, or "" (for hints on a mistyped name)."""
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    return f"did you mean '{close[0]}'? " if close else ""
