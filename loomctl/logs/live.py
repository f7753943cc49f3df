"""`loomctl logs --live`: follow one replica's console log, every replica's merged in time order, or the app's
system event stream; filters apply as lines arrive; the stream reconnects by itself without repeating lines."""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from loomctl.core import environment
from loomctl.core.errors import AzureError, UsageError
from loomctl.logs.matching import is_error_line, matches_grep

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.aca.logstream import LogLine, Source
    from loomctl.core.context import LoomContext

Render = Callable[["LogLine", bool, bool, bool], str]
HOLD = 0.4  # seconds a line waits so that lines from several replicas come out in time order
TOKEN_TTL = 45 * 60


def _sources(loom: LoomContext, app: str, replica: str | None, container: str | None, system: bool,
             revision: str | None) -> list[Source]:
    from loomctl.aca import target as tgt
    from loomctl.aca.logstream import Source

    s = loom.settings
    s.require("subscription", "resource_group")
    if system:
        if replica or container or revision:
            raise UsageError("--system streams the whole app's events; it takes no --replica, --container or "
                             "--revision", "drop those options, or drop --system for a replica's console log")
        from loomctl.azure.deployment import get_app

        model = get_app(loom.azure, app)
        endpoint = (model.raw.get("properties") or {}).get("eventStreamEndpoint")
        if endpoint and not environment.get(tgt.DATAPLANE_ENV):
            return [Source(endpoint.split("?")[0], True, app=app)]
        base = tgt.dataplane_from(endpoint, model.location)
        return [Source(f"{base}/subscriptions/{s.subscription}/resourceGroups/{s.resource_group}/containerApps/"
                       f"{app}/eventstream", True, app=app)]
    if replica:
        t = tgt.resolve(loom.azure, app, replica=replica, container=container, revision=revision)
        return [Source(f"{t.dataplane}{t.path}/logstream", False, t.replica, t.container, app)]
    state = tgt.app_replicas(loom.azure, app, revision)
    running = [r for r in state.replicas if r.running]
    if not running:
        raise AzureError(f"app '{app}' has no running replica in revision '{state.revision}'",
                         f"`loomctl logs --live --system --app {app}` shows why replicas do not start")
    out = []
    for r in running:
        name = container or state.template_container or (r.containers[0] if r.containers else "")
        if r.containers and name not in r.containers:
            raise UsageError(f"no such container: '{name}' in replica '{r.name}'",
                             "containers: " + ", ".join(r.containers))
        base = tgt.dataplane_from(r.log_stream_endpoints.get(name), state.location)
        t = tgt.Target(str(s.subscription), str(s.resource_group), app, state.revision, r.name, name, base)
        out.append(Source(f"{t.dataplane}{t.path}/logstream", False, t.replica, t.container, app))
    return out


def _app_names(loom: LoomContext, app: str | None, replica: str | None, revision: str | None) -> list[str]:
    """`relay`, `node`, an app name, or both apps when none is given."""
    s = loom.settings
    if not app:
        if replica or revision:
            raise UsageError("--replica and --revision belong to one app", "add --app relay|node|NAME")
        return list(dict.fromkeys([s.relay_app, s.node_app]))
    return [{"relay": s.relay_app, "node": s.node_app}.get(app, app)]


def run_live(
    loom: LoomContext,
    *,
    render: Render,
    app: str | None = None,
    replica: str | None = None,
    container: str | None = None,
    system: bool = False,
    tail: int | None = None,
    errors: bool = False,
    grep: str | None = None,
    revision: str | None = None,
    duration: float | None = None,
    max_lines: int | None = None,
) -> int:
    """Stream until Ctrl+C (or `duration` seconds / `max_lines` lines, env LOOMCTL_LIVE_DURATION); return 0.

    `render(line, merged, system, as_json)` makes the text of each line (the command passes
    `output.views.logs.live_line`)."""
    from loomctl.aca import target as tgt
    from loomctl.aca.logstream import StreamStats, follow
    from loomctl.output import ui

    if tail is not None and not 0 <= tail <= 300:
        raise UsageError(f"--tail {tail} is out of range for live logs", "the log stream serves 0 to 300 lines")
    if duration is None:
        duration = environment.get("LOOMCTL_LIVE_DURATION")
    names = _app_names(loom, app, replica, revision)
    sources: list[Source] = []
    from loomctl.azure.deployment import parallel

    for found in parallel([lambda n=n: _sources(loom, n, replica, container, system, revision) for n in names]):
        sources.extend(found)
    fmt = loom.output_format.value if loom.output_format is not None else "table"
    as_json = fmt in ("json", "yaml", "tsv")

    lock = threading.Lock()
    cached: dict[str, tuple[str, float]] = {}

    def token_for(name: str) -> Any:
        def token(refresh: bool = False) -> str:
            with lock:
                if refresh or name not in cached or time.monotonic() - cached[name][1] > TOKEN_TTL:
                    cached[name] = (tgt.auth_token(loom.azure, name), time.monotonic())
                return cached[name][0]
        return token

    parallel([token_for(n) for n in names])  # fail fast (and once per app) on a token problem
    stop = threading.Event()
    lines: queue.Queue[Any] = queue.Queue()
    stats = [StreamStats() for _ in sources]
    failures: dict[int, BaseException] = {}
    tail_n = 20 if tail is None else tail

    def pump(i: int, src: Source) -> None:
        try:
            for line in follow(src, token_for(src.app or names[0]), tail_n, stop, stats[i]):
                lines.put(line)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures[i] = exc
        finally:
            lines.put(("done", i))

    threads = [threading.Thread(target=pump, args=(i, s), daemon=True, name=f"logstream-{i}")
               for i, s in enumerate(sources)]
    for t in threads:
        t.start()
    merged = len(sources) > 1
    heap: list[Any] = []
    seq = itertools.count()
    done = 0
    shown = 0
    end = time.monotonic() + duration if duration else None
    interrupted = False

    def emit(line: LogLine) -> bool:
        nonlocal shown
        if errors and not (is_error_line(line.text) or (system and (line.type or "").lower() == "warning")):
            return True
        if grep and not matches_grep(line.text, grep):
            return True
        click.echo(render(line, merged, system, as_json))
        shown += 1
        return max_lines is None or shown < max_lines

    try:
        while done < len(sources):
            now = time.monotonic()
            if end is not None and now >= end:
                break
            try:
                item = lines.get(timeout=0.1)
            except queue.Empty:
                item = None
            if isinstance(item, tuple):
                done += 1
                failed = failures.get(item[1])
                if failed is not None and done < len(sources):
                    from loomctl.azure.errors import describe

                    ui.warn(f"the stream of {sources[item[1]].replica or sources[item[1]].app} stopped: "
                            f"{describe(failed)[0]}")
            elif item is not None:
                key = item.time.timestamp() if item.time is not None else 0.0
                heapq.heappush(heap, (now + HOLD if merged else now, key, next(seq), item))
            # release lines whose hold expired, oldest timestamp first among those due
            due = [h for h in heap if h[0] <= time.monotonic()]
            if due:
                heap = [h for h in heap if h[0] > time.monotonic()]
                heapq.heapify(heap)
                for _, _, _, line in sorted(due, key=lambda h: (h[1], h[2])):
                    if not emit(line):
                        end = 0.0
                        break
    except KeyboardInterrupt:
        interrupted = True  # Ctrl-C: show the lines already received, then exit 130 like every command (cli.py)
    finally:
        stop.set()
    for _, _, _, line in sorted(heap, key=lambda h: (h[1], h[2])):
        if end == 0.0 or not emit(line):
            break
    if interrupted:
        raise KeyboardInterrupt
    malformed = sum(s.malformed for s in stats)
    if malformed:
        first = next(s.first_malformed for s in stats if s.first_malformed)
        ui.warn(f"ignored {malformed} line(s) from the log stream that were not log records (first: {first!r})")
    if failures and len(failures) == len(sources):
        raise next(iter(failures.values()))
    return 0
