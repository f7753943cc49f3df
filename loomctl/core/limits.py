"""Local resource limits: the open-file limit (RLIMIT_NOFILE), how many probes may run at once under it, and the
one error for "this machine ran out of file descriptors" (EMFILE/ENFILE), which is never a fault of a peer."""

from __future__ import annotations

import errno

from loomctl.core.errors import ExitCode, LoomError

MAX_SLOTS = 64  # probes at once, whatever the limit: enough for a run to take as long as its slowest wave


def open_file_limit() -> int | None:
    """The soft RLIMIT_NOFILE, or None where it is unknown or unlimited."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY or soft <= 0 else int(soft)


def probe_slots(limit: int | None = None) -> int:
    """Concurrent probes allowed: a quarter of the open-file limit (each probe holds a socket or two, and the
    process already holds some), at most MAX_SLOTS, at least 1."""
    limit = open_file_limit() if limit is None else limit
    return MAX_SLOTS if limit is None else max(1, min(MAX_SLOTS, limit // 4))


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
