"""loomctl diagnose sync"""

from __future__ import annotations

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import ProblemsFound, UsageError
from loomctl.core.options import debug_option, output_options


@click.command()
@click.option("--across", required=True, metavar="A,B",
              help="Two profiles, one deployment each (their relay is found as `diagnose peers` finds it).")
@click.option("--samples", type=click.IntRange(1, 200), default=3, show_default=True,
              help="Writes through each deployment (median, p95 and max of the lag).")
@click.option("--timeout", type=click.FloatRange(0.1, 300), default=60.0, show_default=True,
              help="Seconds a write may take to arrive (the RPO is 60 s).")
@output_options
@debug_option
@pass_loom
def sync(loom: LoomContext, across: str, samples: int, timeout: float) -> None:
    """Time a write through one deployment's relay until it arrives through another's.

    Both ways, against the reference's "RPO < 1 minute". It writes only under
    loomctl/probe/<run id>. Exit 1 when a write did not arrive, or arrived later than the RPO.

    \b
    Examples:
      loomctl diagnose sync --across prod-eastus,prod-westeurope
      loomctl diagnose sync --across east,west --samples 20 -o json
    """
    import asyncio

    from loomctl.commands.diagnose._peer_options import targets
    from loomctl.loommesh.cross_sync import measure, relay_url
    from loomctl.output.views.peers import render_sync

    names = [n.strip() for n in across.split(",") if n.strip()]
    if len(names) != 2 or names[0] == names[1]:
        raise UsageError(f"--across '{across}' must name two different profiles", "e.g. --across east,west")
    urls: dict[str, str] = {}
    for name in names:
        ctx = LoomContext(profile=name, debug=loom.debug)
        url = relay_url(targets(ctx))
        if url is None:
            raise UsageError(f"profile '{name}' names no LoomMesh relay",
                             f"`loomctl config set peers ws://HOST:PORT/gun --profile {name}`, or an Azure deployment")
        urls[name] = url
    if len(set(urls.values())) < 2:
        raise UsageError(f"profiles {names[0]} and {names[1]} reach the same relay ({urls[names[0]]})",
                         "name two deployments")
    result = asyncio.run(measure(urls, samples=samples, timeout=timeout))
    loom.output.emit(result, table=render_sync)
    if not result.ok:
        raise ProblemsFound("")
