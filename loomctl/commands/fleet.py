"""loomctl fleet: many deployments at once, through Azure Resource Graph."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import ProblemsFound
from loomctl.core.options import debug_option, output_options, profile_option


def fleet_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Scope (subscriptions, name patterns, tag), output, profile and debug."""
    for opt in reversed([
        click.option("--subscription", "subscriptions", multiple=True, metavar="ID",
                     help="Subscription to look in (repeatable); default: the profile's fleet_subscriptions, "
                          "else its subscription."),
        click.option("--all-subscriptions", is_flag=True, help="Every subscription you can read."),
        click.option("--relay-app", "relay", metavar="PATTERN", default=None,
                     help="Name (or shell pattern, e.g. 'gun-relay*') of the relay apps; default: relay_app."),
        click.option("--node-app", "node", metavar="PATTERN", default=None,
                     help="Name (or shell pattern) of the node apps; default: node_app."),
        click.option("--environment", metavar="PATTERN", default=None,
                     help="Only environments whose name matches (shell pattern)."),
        click.option("--tag", metavar="KEY[=VALUE]", default=None,
                     help="Only environments with this tag, e.g. loomdb=prod (profile key fleet_tag)."),
    ]):
        func = opt(func)
    return debug_option(output_options(profile_option(func)))


def _discover(loom: LoomContext, opts: dict[str, Any]) -> Any:
    from loomctl.fleet.discover import discover
    from loomctl.fleet.scope import resolve_scope

    scope = resolve_scope(loom.settings, opts["subscriptions"], opts["all_subscriptions"], opts["relay"],
                          opts["node"], opts["environment"], opts["tag"])
    fleet = discover(loom.azure, scope)
    if fleet.subscriptions and set(fleet.subscriptions) <= set(fleet.denied):
        from loomctl.core.errors import AzureError

        raise AzureError(f"Resource Graph refused every subscription of the fleet ({len(fleet.denied)})",
                         "ask for the Reader role on them, or check --subscription / fleet_subscriptions")
    return fleet


@click.group()
def fleet() -> None:
    """Many deployments at once: list, judge and compare them across subscriptions and regions.

    One Azure Resource Graph query finds every LoomDB deployment (a managed environment with a
    relay and a node app) in the subscriptions given.
    """


@fleet.command("list")
@fleet_options
@pass_loom
def list_(loom: LoomContext, **opts: Any) -> None:
    """List every LoomDB deployment: subscription, group, environment, region and apps.

    \b
    Examples:
      loomctl fleet list --subscription SUB1 --subscription SUB2
      loomctl fleet list --all-subscriptions --tag loomdb=prod -o json
      loomctl fleet list --query 'deployments[].environment'
    """
    from loomctl.fleet.inventory import fleet_document
    from loomctl.output.views.fleet import list_table

    loom.output.emit(fleet_document(_discover(loom, opts)), table=list_table)


@fleet.command("doctor")
@click.option("--live", is_flag=True, help="Also run the checks that need live state, per deployment.")
@click.option("--parallel", type=click.IntRange(1, 64), default=8, show_default=True,
              help="With --live: deployments checked at once.")
@click.option("--short", is_flag=True, help="Show only deployments and findings with warnings or failures.")
@click.option("--fail-on-warn", is_flag=True, help="Exit 1 on warnings too.")
@fleet_options
@pass_loom
def doctor(loom: LoomContext, live: bool, parallel: int, short: bool, fail_on_warn: bool, **opts: Any) -> None:
    """Judge every deployment: definition checks on Resource Graph's rows, fleet checks, --live.

    The definition checks are doctor's own, run on the rows (no per-deployment request); what
    the rows do not hold (environment storages) is "not judged". Exit 0 when nothing failed,
    1 when a check failed (or warned, with --fail-on-warn), 3 when Resource Graph could not be read.

    \b
    Examples:
      loomctl fleet doctor --all-subscriptions --short
      loomctl fleet doctor --subscription SUB -o json --query 'findings[?status==`fail`]'
      loomctl fleet doctor --live --parallel 4
    """
    from loomctl.fleet.doctor import document, is_success, judge
    from loomctl.output.views.fleet import doctor_table

    fleet_ = _discover(loom, opts)
    runner = None
    if live:
        from loomctl.fleet.live import live_checks

        def runner(dep: Any) -> Any:
            return live_checks(loom, dep)
    report = judge(fleet_, loom.settings, runner, parallel)
    loom.output.emit(document(report, short, fail_on_warn), table=doctor_table)
    if not is_success(report, fail_on_warn):
        raise ProblemsFound("")


@fleet.command("status")
@fleet_options
@pass_loom
def status(loom: LoomContext, **opts: Any) -> None:
    """Deployments by region side by side: images, revisions, replica bounds, image drift.

    A region running another image than the others is a warning (LOOM903); `fleet doctor`
    counts it among its findings.

    \b
    Examples:
      loomctl fleet status --all-subscriptions
      loomctl fleet status --tag loomdb=prod -o json --query drift
    """
    from loomctl.fleet.regions import status_document
    from loomctl.output.views.fleet import status_table

    loom.output.emit(status_document(_discover(loom, opts)), table=status_table)
