"""`loomctl loadtest --from-inside`: the generator runs with `node` inside one replica (loomctl/data/
loadtest_inside.js, through exec), prints its progress and raw samples as `LOOMLOAD <json>` lines, and loomctl
computes the same summary from them (`run.from_samples`). One exec session: the service cuts a session after
about 30 s, so a run must fit in SESSION_BUDGET."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from loomctl.core.errors import UsageError
from loomctl.loadtest.plan import Plan

SESSION_BUDGET = 20.0  # seconds of warm-up, writing and window; connecting and the exec handshake take the rest
MARK = "LOOMLOAD "


def check(plan: Plan) -> float:
    """The session deadline for this plan, or a usage error when it cannot fit in one exec session."""
    writing = plan.duration_s if plan.duration_s is not None else (plan.count / plan.rate if plan.rate else None)
    if writing is None:
        raise UsageError("--from-inside with --count needs a --rate (the run must fit in one exec session)",
                         "give --rate R, or a --duration")
    total = plan.warmup_s + writing + plan.window_s
    if total > SESSION_BUDGET:
        raise UsageError(f"--from-inside runs in one exec session (the service cuts it after about 30 s): "
                         f"--warmup + writing + --window is {total:g}s, above {SESSION_BUDGET:g}s",
                         "shorten --duration (or --count), --warmup or --window, or run it from this machine")
    return total + plan.timeout_s * 2 + 5.0


def params(plan: Plan) -> dict[str, Any]:
    return {"peers": plan.peers, "writers": plan.writers, "readers": plan.readers, "rate": plan.rate,
            "duration_s": plan.duration_s, "count": plan.count, "size": plan.size, "warmup_s": plan.warmup_s,
            "window_s": plan.window_s, "timeout_s": plan.timeout_s, "max_bytes": plan.max_bytes,
            "in_flight": plan.in_flight, "write_bytes": plan.write_bytes, "prefix": plan.prefix}


class Lines:
    """Collects exec output as it streams in; calls `on_progress(dict)` for each complete progress line."""

    def __init__(self, on_progress: Callable[[dict[str, Any]], None] | None = None):
        self.on_progress = on_progress
        self.buf = ""
        self.result: dict[str, Any] | None = None

    def feed(self, channel: str, text: str) -> None:
        if channel != "stdout":
            return
        self.buf += text
        *lines, self.buf = self.buf.split("\n")
        for line in lines:
            self.line(line)

    def line(self, line: str) -> None:
        if not line.startswith(MARK):
            return
        try:
            doc = json.loads(line[len(MARK):])
        except ValueError:
            return
        if not isinstance(doc, dict):
            return
        if doc.get("kind") == "progress" and self.on_progress:
            self.on_progress(doc)
        elif doc.get("kind") == "result":
            self.result = doc

    def finish(self, stdout: str) -> dict[str, Any] | None:
        """The result line, from the streamed output or (if nothing streamed) the whole stdout."""
        if self.result is None:
            self.on_progress = None  # shown already, as it streamed
            for line in stdout.splitlines():
                self.line(line)
        return self.result
