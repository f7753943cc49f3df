"""`loomctl logs` from Log Analytics: one query, or `--follow` polling that prints only new lines."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from loomctl.core.errors import ProblemsFound
from loomctl.core.timeutil import local_time, parse_duration, resolve_range
from loomctl.logs.query import LogLine, LogQuery, build_query, to_lines

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.core.context import LoomContext

# How lines reach the user: `show(lines, ndjson)` (the command passes `output.views.logs.print_lines`).
Show = Callable[[list[LogLine], bool], Any]

# Rows can arrive in Log Analytics minutes after their TimeGenerated: each poll looks back this far again.
INGESTION_OVERLAP = dt.timedelta(minutes=10)


def _prepare(loom: LoomContext, app: str | None, workspace_id: str | None, destination: str | None) -> Any:
    from loomctl.logs.target import app_names, resolve_target

    apps = app_names(loom, app)
    return apps, resolve_target(loom, workspace_id, destination)


def _query(loom: LoomContext, target: Any, q: LogQuery, show_query: bool) -> tuple[list[LogLine], Any]:
    from loomctl.azure.loganalytics import run_query

    kql = build_query(q)
    if show_query:
        click.echo(kql, err=True)
    result = run_query(loom.azure, target.workspace_id, kql, q.start, q.end, target.destination)
    return to_lines(result.columns, result.rows, q.system), result


def _partial(result: Any) -> None:
    from loomctl.output import ui

    if result.partial_error:
        ui.warn(f"partial result: {result.partial_error}")
        ui.info("hint: some lines may be missing; narrow the range or the filters and run again")
        raise ProblemsFound()  # the warning above says it


def show_logs(loom: LoomContext, *, app: str | None, errors: bool, grep: str | None, replica: str,
              revision: str, since: str | None, start: str | None, end: str | None, limit: int, system: bool,
              show_query: bool, workspace_id: str | None, destination: str | None, show: Show) -> None:
    from loomctl.output import ui
    from loomctl.output.formats import Format

    rng = resolve_range(since, start, end)
    apps, target = _prepare(loom, app, workspace_id, destination)
    q = LogQuery(apps, rng.start, rng.end, target.destination, system, errors, grep, replica, revision, limit)
    lines, result = _query(loom, target, q, show_query)
    if not lines:
        what = "error lines" if errors else "log lines"
        if not (loom.output.format is Format.TABLE and not loom.output.query):
            loom.output.emit([])
        from loomctl.logs.target import unknown_apps_note

        note = unknown_apps_note(loom, apps)
        ui.info(f"no {what} between {local_time(rng.start)} and {local_time(rng.end)}"
                + (note or (" (Log Analytics lags a few minutes behind: --live shows what happens now)"
                            if rng.since else "")))
    else:
        show(lines, False)
        if len(lines) >= limit:
            ui.info(f"showing the newest {limit} lines; raise --limit or narrow --since for more")
    _partial(result)


def follow_logs(loom: LoomContext, *, interval: float, max_polls: int | None, app: str | None, errors: bool,
                grep: str | None, replica: str, revision: str, since: str | None, start: str | None,
                end: str | None, limit: int, system: bool, show_query: bool, workspace_id: str | None,
                destination: str | None, show: Show) -> None:
    from loomctl.core.errors import ExitCode, LoomError
    from loomctl.output import ui
    from loomctl.output.formats import Format

    if loom.output.format is Format.YAML or loom.output.format is Format.TSV:
        from loomctl.core.errors import UsageError

        raise UsageError("--follow prints table lines or JSON lines", "use -o table or -o json with --follow")
    apps, target = _prepare(loom, app, workspace_id, destination)
    lookback = parse_duration(since or "10m")
    ui.info(f"following {'system' if system else 'console'} logs of {', '.join(apps)} every {interval:g} s; "
            "Log Analytics ingestion lags by a few minutes, so new lines show up late (--live for now). Ctrl-C stops.")
    seen: dict[tuple[Any, ...], dt.datetime] = {}
    window_start = dt.datetime.now(dt.timezone.utc) - lookback
    polls = 0
    # Ctrl-C is not caught here: like every command, `--follow` exits 130 with one line (cli.py)
    while True:
        now = dt.datetime.now(dt.timezone.utc)
        q = LogQuery(apps, window_start, now, target.destination, system, errors, grep, replica, revision, limit)
        try:
            lines, result = _query(loom, target, q, show_query and polls == 0)
        except LoomError as exc:
            if polls == 0 or exc.exit_code != ExitCode.AZURE:
                raise  # a first failure is the answer; usage and config errors never get better
            ui.warn(f"poll failed, trying again in {interval:g} s: {exc.message}")
            polls += 1
            if max_polls is not None and polls >= max_polls:
                break
            time.sleep(interval)
            continue
        new = [ln for ln in lines if ln.key not in seen and (ln.time is None or ln.time >= window_start)]
        for ln in new:
            seen[ln.key] = ln.time or now
        show(new, True)
        if result.partial_error:
            ui.warn(f"partial result: {result.partial_error}")
        polls += 1
        if max_polls is not None and polls >= max_polls:
            break
        newest = max((t for t in seen.values()), default=window_start)
        window_start = max(window_start, min(newest, now) - INGESTION_OVERLAP)
        for k in [k for k, t in seen.items() if t < window_start]:
            del seen[k]
        time.sleep(interval)
