"""loomctl logs"""

from __future__ import annotations

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.options import common_options


@click.command()
@click.option("--app", metavar="relay|node|NAME", help="Only this app: relay, node or an app name (default both).")
@click.option("--errors", is_flag=True, help="Only error lines (error, exception, fatal, ECONNREFUSED, ...).")
@click.option("--grep", metavar="TEXT", help="Only lines containing TEXT (case-insensitive).")
@click.option("--replica", metavar="NAME", default="", help="Only this replica.")
@click.option("--revision", metavar="NAME", default="", help="Only this revision.")
@click.option("--since", metavar="DURATION", help="Window ending now: 15m, 1h (default), 2d.")
@click.option("--start", metavar="TIME", help="Window start, ISO 8601 (local time without an offset).")
@click.option("--end", metavar="TIME", help="Window end (default now).")
@click.option("--limit", type=click.IntRange(1, 30000), default=200, show_default=True,
              help="Newest lines to show.")
@click.option("--system", is_flag=True, help="System logs (scheduling, probes, restarts, mounts) instead of console.")
@click.option("--show-query", is_flag=True, help="Print the KQL sent to stderr.")
@click.option("--follow", "-f", is_flag=True, help="Keep polling and print new lines (Ctrl-C stops).")
@click.option("--interval", type=click.FloatRange(0.1, 3600), default=15.0, show_default=True,
              help="Seconds between polls with --follow.")
@click.option("--max-polls", type=click.IntRange(1), default=None, hidden=True)
@click.option("--live", is_flag=True, help="Stream from the replica's log stream instead of Log Analytics (no lag).")
@click.option("--tail", type=click.IntRange(0, 300), default=20, show_default=True,
              help="With --live: lines of history to start with.")
@click.option("--workspace-id", metavar="ID", help="Log Analytics workspace (customer) id.")
@click.option("--destination", type=click.Choice(["log-analytics", "azure-monitor"]), default=None,
              help="Log tables: log-analytics (*_CL) or azure-monitor. Default: from the environment.")
@common_options
@pass_loom
def logs(loom: LoomContext, app: str | None, errors: bool, grep: str | None, replica: str, revision: str,
         since: str | None, start: str | None, end: str | None, limit: int, system: bool, show_query: bool,
         follow: bool, interval: float, max_polls: int | None, live: bool, tail: int, workspace_id: str | None,
         destination: str | None) -> None:
    """Show console or system logs of the LoomDB apps from Log Analytics.

    Times are shown in your local time zone with the offset; JSON carries UTC.
    Log Analytics ingests with a delay of a few minutes: use --live for what happens right now.

    \b
    Examples:
      loomctl logs --errors
      loomctl logs --app node --grep "sync" --since 6h
      loomctl logs --system --app relay --replica gun-relay--r1-abc
      loomctl logs --follow --errors
    """
    from loomctl.core.errors import UsageError

    if live:
        from loomctl.logs.live import run_live
        from loomctl.output.views.logs import live_line

        run_live(
            loom,
            render=live_line,
            app=app,
            replica=replica or None,
            container=None,
            system=system,
            tail=tail,
            errors=errors,
            grep=grep,
            revision=revision or None,
        )
        return

    from loomctl.logs.history import follow_logs, show_logs
    from loomctl.output.views.logs import print_lines

    opts = {"show": lambda lines, ndjson: print_lines(loom, lines, ndjson=ndjson), "app": app, "errors": errors,
            "grep": grep, "replica": replica, "revision": revision, "since": since, "start": start, "end": end,
            "limit": limit, "system": system, "show_query": show_query, "workspace_id": workspace_id,
            "destination": destination}
    if follow:
        if start or end:
            raise UsageError("--follow cannot be combined with --start/--end",
                             "use --since to say how far back to begin")
        follow_logs(loom, interval=interval, max_polls=max_polls, **opts)
    else:
        show_logs(loom, **opts)


