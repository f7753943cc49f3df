"""`loomctl` as a real process: cold module caches as users have them, and real signals (Ctrl-C is SIGINT).

It inherits the test's environment (the fixtures point loomctl at the local doubles through it). Output is read
as it comes, so a test can wait for a line and only then act (no timers).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass


@dataclass
class Finished:
    exit_code: int
    stdout: str
    stderr: str


# Python gives SIGINT its KeyboardInterrupt handler only when the process starts with SIGINT at its default, as
# a terminal's foreground job does. A test run started in the background of a non-interactive shell (`.ci/run &`)
# inherits SIGINT ignored, and loomctl would then ignore Ctrl-C: start it as a terminal would.
AS_FOREGROUND = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                 "runpy.run_module('loomctl', run_name='__main__', alter_sys=True)")


class CliProcess:
    def __init__(self, *args: str):
        self.proc = subprocess.Popen([sys.executable, "-c", AS_FOREGROUND, *args], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
        self.lines: list[str] = []

    @property
    def pid(self) -> int:
        return self.proc.pid

    def first_line(self) -> str:
        """Block until loomctl has written its first line to stdout (the assertion shows stderr if it ended)."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if not line:
            self.proc.wait()
            raise AssertionError(f"loomctl ended (exit {self.proc.returncode}) before writing a line: "
                                 f"{self.proc.stderr.read().decode() if self.proc.stderr else ''}")
        self.lines.append(line)
        return line

    def interrupt(self) -> None:
        """What Ctrl-C in a terminal does: SIGINT to the process."""
        self.proc.send_signal(signal.SIGINT)

    def finish(self, timeout: float = 30) -> Finished:
        try:
            out, err = self.proc.communicate(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        return Finished(self.proc.returncode, "".join(self.lines) + out.decode(), err.decode())
