"""`--from-inside`, `--app` and `--replica` for the commands that can probe from inside a replica."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

F = Callable[..., Any]


def inside_options(func: F) -> F:
    func = click.option("--replica", "inside_replica", metavar="NAME", default=None,
                        help="With --from-inside: the replica to probe from (default: the first running one).")(func)
    func = click.option("--app", "inside_app_name", metavar="NAME", default=None,
                        help="With --from-inside: the app whose replica runs the probe (default: the node app).")(func)
    func = click.option("--from-inside", is_flag=True, default=False,
                        help="Run the probes inside a replica (through exec), so environment-internal names "
                             "resolve as the app sees them.")(func)
    return func


def inside_app(loom: Any, from_inside: bool, app: str | None, replica: str | None) -> str | None:
    """The app to probe from, or None; --app/--replica without --from-inside is a usage error."""
    from loomctl.core.errors import UsageError

    if not from_inside:
        if app or replica:
            raise UsageError("--app and --replica choose where --from-inside probes run",
                             "add --from-inside, or drop --app/--replica")
        return None
    if not loom.settings.azure_enabled:
        raise UsageError("--from-inside needs an Azure deployment (this profile has azure = false)",
                         "use a profile that points at Azure, or drop --from-inside")
    return app or loom.settings.node_app


def notes(run: Any) -> list[str]:
    out = [f"probed inside replica {run.where} with {run.tool}" + (f" ({run.note})" if run.note else "")]
    return out
