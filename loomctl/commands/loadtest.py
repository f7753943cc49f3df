"""loomctl loadtest"""

from __future__ import annotations

from typing import Any

import click

from loomctl.commands.diagnose._peer_options import peer_target_options, targets
from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import ProblemsFound
from loomctl.core.options import common_options
from loomctl.inside.options import inside_app, inside_options


@click.command()
@peer_target_options
@click.option("--writers", type=click.IntRange(1, 256), default=None,
              help="Concurrent writer connections, spread over the peers. Default: one per peer.")
@click.option("--readers", type=click.IntRange(1, 256), default=None,
              help="Subscriber connections, spread over the peers: reader j on the peer after writer j's, so that "
                   "what it sees has crossed peers. Default: one per peer.")
@click.option("--rate", metavar="R|max", default=None,
              help="Writes per second overall, or max (as fast as acks allow, --in-flight unacked puts per "
                   "writer). Default: 100 on the sandbox, a modest 20 elsewhere.")
@click.option("--duration", metavar="DURATION", default=None,
              help="How long to write after the warm-up, e.g. 20s or 2m (default 10s unless --count).")
@click.option("--count", type=click.IntRange(1, 10_000_000), default=None,
              help="Measured writes to make instead of a --duration.")
@click.option("--size", "size_text", metavar="BYTES", default="64", show_default=True,
              help="Size of each written value, e.g. 256 or 4KiB (at most 64KiB).")
@click.option("--warmup", metavar="DURATION", default="1s", show_default=True,
              help="Write for this long first without measuring (0 for none).")
@click.option("--window", metavar="DURATION", default="5s", show_default=True,
              help="A write not seen by a reader within this time of being sent is lost.")
@click.option("--in-flight", type=click.IntRange(1, 1024), default=32, show_default=True,
              help="Unacked puts per writer with --rate max.")
@click.option("--max-bytes", "max_bytes_text", metavar="BYTES", default="16MiB", show_default=True,
              help="Refuse a run planned to write more than this, and stop writing at it (GUN cannot delete).")
@click.option("--timeout", type=click.FloatRange(0.1, 300), default=5.0, show_default=True,
              help="Deadline to connect each connection, and for a put's ack to free its --in-flight slot, in "
                   "seconds.")
@click.option("--threshold", "thresholds", metavar="EXPR", multiple=True,
              help="Fail (exit 1) when the run breaches it, k6-style (repeatable), e.g. 'propagation.p95<250ms', "
                   "'ack.p99<1s', 'loss.rate<1%', 'rate.ratio>=0.9', 'errors.count==0'.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before loading peers that are not the sandbox's.")
@inside_options
@common_options
@pass_loom
def loadtest(loom: LoomContext, writers: int | None, readers: int | None, rate: str | None, duration: str | None,
             count: int | None, size_text: str, warmup: str, window: str, in_flight: int, max_bytes_text: str,
             timeout: float, thresholds: tuple[str, ...], yes: bool, from_inside: bool, inside_app_name: str | None,
             inside_replica: str | None) -> None:
    """Load the LoomMesh peers with writes and measure ack and propagation latency, rate and loss.

    Writer connections put values on their peer while subscriber (reader) connections on the other peers wait
    for them. It measures per writer peer and overall: put-ack latency, cross-peer propagation latency (write on
    one peer, seen on another), the achieved rate against the asked one, writes never seen within --window
    (loss), errors and reconnects; live progress on stderr, then a summary with P50/P95/P99/max and a histogram.

    It writes only under loomctl/probe/loadtest/<run id>/. GUN cannot delete: what it writes stays in the
    peers' stores, so the planned bytes are capped (--max-bytes). Against anything but the sandbox it asks
    first (--yes off a terminal). Exit 1 when a threshold is breached, a write is lost or a connection fails.

    --from-inside runs the generator with node inside one replica (through exec, one session: warm-up, writing
    and window within 20 s); the image needs node.

    \b
    Examples:
      loomctl loadtest --profile sandbox --duration 20s
      loomctl loadtest --profile sandbox --rate max --writers 4 --readers 4 --threshold 'propagation.p95<250ms'
      loomctl loadtest --peer ws://127.0.0.1:8765/gun --count 500 --size 1KiB --yes -o json
      loomctl loadtest --from-inside --duration 10s --yes
    """
    import asyncio
    import sys

    from loomctl.loadtest import plan as lp
    from loomctl.output import ui

    parsed = [lp.parse_threshold(t) for t in thresholds]  # syntax errors first: exit 2 before any peer is read
    size = lp.parse_size(size_text, "--size")
    max_bytes = lp.parse_size(max_bytes_text, "--max-bytes")
    duration_s = lp.seconds(duration, "--duration") if duration else None
    if duration_s is not None and count is not None:
        from loomctl.core.errors import UsageError

        raise UsageError("--duration cannot be combined with --count", "give one of them")
    warmup_s = lp.seconds(warmup, "--warmup", zero_ok=True)
    window_s = lp.seconds(window, "--window")
    where_app = inside_app(loom, from_inside, inside_app_name, inside_replica)
    plist = targets(loom)
    urls = [p.url for p in plist.peers]
    sandbox = _all_sandbox(urls)
    asked = lp.parse_rate(rate) if rate else (lp.SANDBOX_RATE if sandbox else lp.MODEST_RATE)
    plan = lp.Plan(urls, writers or len(urls), readers or len(urls), asked,
                   duration_s if duration_s is not None or count is not None else 10.0, count, size, warmup_s,
                   window_s, timeout, max_bytes, in_flight, roles={p.url: p.role for p in plist.peers})
    lp.check_plan(plan)
    session = None
    if where_app:
        from loomctl.loadtest.inside import check

        session = check(plan)
    for note in plist.notes:
        ui.warn(note)
    if not sandbox:
        planned = plan.planned_bytes
        amount = lp.human_bytes(planned) if planned is not None else f"up to {lp.human_bytes(plan.max_bytes)}"
        ui.confirm(f"Write about {amount} under {plan.prefix}/ on {', '.join(urls)}? {lp.NO_DELETE}.", yes,
                   "refusing to load peers that are not the sandbox's without --yes (stdin is not a terminal)",
                   f"add --yes to go ahead ({lp.NO_DELETE}), or run it on the sandbox: --profile sandbox")
    from loomctl.loadtest.run import run, threshold_values
    from loomctl.output.views.loadtest import Progress, render_summary, start_line

    ui.info(start_line(plan))
    with Progress(live=ui.is_terminal(sys.stderr)) as progress:
        if where_app and session is not None:
            result = _from_inside(loom, where_app, inside_replica, plan, session, progress)
        else:
            result = asyncio.run(run(plan, progress.update))
    values = threshold_values(result)
    judged = [lp.judge(t, values) for t in parsed]
    doc: dict[str, Any] = {**_asdict(result), "thresholds": judged}
    problems = _problems(result, judged)
    doc["ok"] = not problems
    loom.output.emit(doc, table=render_summary)
    if problems:
        raise ProblemsFound("; ".join(problems), _hint(result))


def _from_inside(loom: LoomContext, app: str, replica: str | None, plan: Any, session: float, progress: Any) -> Any:
    from loomctl.inside.run import run_node
    from loomctl.loadtest.inside import Lines, params
    from loomctl.loadtest.run import from_samples, snapshot_of

    lines = Lines(lambda doc: progress.update(snapshot_of(doc)))
    where, res = run_node(loom, app, "loadtest_inside.js", params(plan), replica=replica, timeout=session,
                          on_output=lines.feed)
    doc = lines.finish(res.stdout)
    if doc is None:
        detail = (res.stderr or "").strip().splitlines()[-1:] or [f"exit {res.exit_code}"]
        raise ProblemsFound(f"the load generator inside replica {where} did not finish: {detail[0][:200]}",
                            "run it from this machine (drop --from-inside); `loomctl exec` opens a shell there")
    return from_samples(plan, doc, where)


def _asdict(result: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(result)


def _all_sandbox(urls: list[str]) -> bool:
    """Whether every peer is a process of the running sandbox (by its state file)."""
    from loomctl.loommesh.peer_url import parse
    from loomctl.sandbox.hints import processes

    procs = processes()
    try:
        return bool(urls) and all(parse(u).url() in procs for u in urls)
    except ValueError:
        return False


def _problems(result: Any, judged: list[Any]) -> list[str]:
    out = []
    failed = [t.threshold for t in judged if not t.ok]
    if failed:
        out.append(f"{len(failed)} threshold(s) breached: {', '.join(failed)}")
    if result.loss.lost:
        out.append(f"{result.loss.lost} of {result.loss.expected} arrivals lost (writes not seen within the window)")
    if result.error_count:
        out.append(f"{result.error_count} error(s): {result.errors[0]}")
    if not result.measured:
        out.append("no write was measured")
    return out


def _hint(result: Any) -> str | None:
    if result.error_count and any("cannot connect" in e for e in result.errors):
        return "a peer cannot be reached: `loomctl diagnose peers` names the stage that fails"
    if result.loss.lost:
        return ("`loomctl diagnose peers --write-probe` checks each pair of peers; a relay that lost its link does "
                "not redial it (amark/gun#1316)")
    return None
