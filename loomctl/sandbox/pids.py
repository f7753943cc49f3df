"""Process and port helpers the sandbox's processes and its link proxy share (Linux /proc)."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def start_ticks(pid: int) -> int | None:
    """Process start time in clock ticks since boot (Linux /proc), to tell our process from a reused PID."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        return int(text.rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def running(pid: int, marker: str, ticks: int | None) -> bool:
    """Alive, not a zombie, its command line holds `marker`, and it started at `ticks` (when known)."""
    try:
        os.kill(pid, 0)
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return marker in cmd and state != "Z" and (ticks is None or start_ticks(pid) == ticks)


def reap(pid: int) -> None:
    """Collect the exit status when the process is our own child (in-process `up` then `down`)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
