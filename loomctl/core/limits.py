"""Local resource limits: the open-file limit (RLIMIT_NOFILE), how many probes may run at once under it, and the
one error for "this machine ran out of file descriptors" (EMFILE/ENFILE; defined in core/errors.py, where every
exception becomes a LoomError), which is never a fault of a peer."""

from __future__ import annotations

from loomctl.core.errors import fd_limit_error, fd_limit_in, is_fd_limit, open_file_limit

MAX_SLOTS = 64  # probes at once, whatever the limit: enough for a run to take as long as its slowest wave


def probe_slots(limit: int | None = None) -> int:
    """Concurrent probes allowed: a quarter of the open-file limit (each probe holds a socket or two, and the
    process already holds some), at most MAX_SLOTS, at least 1."""
    limit = open_file_limit() if limit is None else limit
    return MAX_SLOTS if limit is None else max(1, min(MAX_SLOTS, limit // 4))


__all__ = ["MAX_SLOTS", "fd_limit_error", "fd_limit_in", "is_fd_limit", "open_file_limit", "probe_slots"]
