"""Option decorators shared by every leaf command (as ggshield's `common_options`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from loomctl.core.context import get_context
from loomctl.output.formats import FORMAT_NAMES, Format

F = Callable[..., Any]


def _store_flag(key: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value not in (None, (), []):
            get_context(ctx).flags[key] = value
        return value

    return callback


def _store_attr(attr: str, convert: Callable[[Any], Any] = lambda v: v) -> Callable[..., Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value not in (None, False):
            setattr(get_context(ctx), attr, convert(value))
        return value

    return callback


def output_options(func: F) -> F:
    func = click.option(
        "-o",
        "--output",
        type=click.Choice(FORMAT_NAMES),
        default=None,
        expose_value=False,
        callback=_store_attr("output_format", Format),
        is_eager=True,
        help="Output format: table (default on a terminal), json (default when piped), yaml, tsv, none.",
    )(func)
    func = click.option("--query", metavar="JMESPATH", default=None, expose_value=False,
                        callback=_store_attr("query"),
                        help="JMESPath query applied to the JSON output, as in `az`.")(func)
    return func


def debug_option(func: F | None = None, *, hidden: bool = False) -> Any:
    """`--debug`; as `@debug_option(hidden=True)` it works the same but is left out of help and docs."""

    def decorate(f: F) -> F:
        return click.option("--debug", is_flag=True, default=False, expose_value=False, is_eager=True,
                            callback=_store_attr("debug"), hidden=hidden,
                            help="Show tracebacks and HTTP details on errors.")(f)

    return decorate if func is None else decorate(func)


def profile_option(func: F) -> F:
    return click.option("--profile", metavar="NAME", envvar="LOOMCTL_PROFILE", default=None, expose_value=False,
                        callback=_store_attr("profile"),
                        help="Configuration profile to use (env LOOMCTL_PROFILE).")(func)


def azure_options(func: F) -> F:
    func = click.option("--subscription", metavar="ID", default=None, expose_value=False,
                        callback=_store_flag("subscription"),
                        help="Azure subscription id (env AZURE_SUBSCRIPTION_ID).")(func)
    func = click.option("-g", "--resource-group", metavar="NAME", default=None, expose_value=False,
                        callback=_store_flag("resource_group"),
                        help="Resource group of the deployment (env LOOMCTL_RESOURCE_GROUP).")(func)
    func = click.option("--environment", metavar="NAME", default=None, expose_value=False,
                        callback=_store_flag("environment"),
                        help="Container Apps managed environment (env LOOMCTL_ENVIRONMENT).")(func)
    func = click.option("--relay-app", metavar="NAME", default=None, expose_value=False,
                        callback=_store_flag("relay_app"),
                        help="Name of the LoomMesh relay app (default gun-relay).")(func)
    func = click.option("--node-app", metavar="NAME", default=None, expose_value=False,
                        callback=_store_flag("node_app"),
                        help="Name of the application app (default loom-node).")(func)
    return func


def peer_option(func: F) -> F:
    """`--peer URL` (repeatable): the LoomMesh peers to probe, as the setting `peers` from a flag, so that it
    overrides the environment (LOOMCTL_PEERS), the profile and discovery alike in every command that takes it."""
    return click.option("--peer", "peers", multiple=True, metavar="URL", expose_value=False,
                        callback=_store_flag("peers"),
                        help="Probe this peer URL (repeatable), e.g. ws://127.0.0.1:8765/gun; "
                             "overrides discovery (profile key peers, env LOOMCTL_PEERS).")(func)


def common_options(func: F) -> F:
    """Every leaf command: output, query, Azure scope, profile and debug."""
    func = azure_options(func)
    func = profile_option(func)
    func = output_options(func)
    func = debug_option(func)
    return func


def local_options(func: F) -> F:
    """Leaf commands that never talk to Azure: output, query, profile and debug."""
    func = profile_option(func)
    func = output_options(func)
    func = debug_option(func)
    return func
