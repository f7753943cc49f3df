"""loomctl cost estimate | prices update | prices show"""

from __future__ import annotations

from typing import Any

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.options import common_options, local_options

STALE_DAYS = 365  # warn when the prices in use are older than this


@click.group()
def cost() -> None:
    """Estimate the monthly cost of the deployment (offline) and refresh Azure prices."""


@cost.command()
@click.option("--relay-replicas", type=int, default=None, metavar="N", help="Relay replicas (default 2).")
@click.option("--relay-cpu", default=None, metavar="VCPU", help="vCPU per relay replica (default 0.5).")
@click.option("--relay-memory", default=None, metavar="GIB", help="Memory per relay replica, e.g. 1Gi (default 1).")
@click.option("--node-replicas", type=int, default=None, metavar="N", help="Node replicas (default 3).")
@click.option("--node-cpu", default=None, metavar="VCPU", help="vCPU per node replica (default 1.0).")
@click.option("--node-memory", default=None, metavar="GIB", help="Memory per node replica, e.g. 2Gi (default 2).")
@click.option("--storage-gib", default=None, metavar="GIB", help="Azure Files share size in GiB (default 100).")
@click.option("--storage-tier", default=None, metavar="TIER",
              help="transaction_optimized (default), hot, cool or premium (provisioned).")
@click.option("--storage-transactions", type=int, default=None, metavar="N",
              help="Azure Files transactions per month (default 10,000,000; 30% writes).")
@click.option("--requests-per-month", type=int, default=None, metavar="N",
              help="HTTP requests from outside the environment per month (default 10,000,000).")
@click.option("--idle-fraction", default=None, metavar="F",
              help="Share (0..1) of the time at the minimum replica count that replicas are idle (default 0).")
@click.option("--peak-hours", default=None, metavar="H", help="Hours a day the nodes run at --peak-replicas.")
@click.option("--peak-replicas", type=int, default=None, metavar="N", help="Node replicas during the peak hours.")
@click.option("--dev", is_flag=True, default=False, help="A dev environment: one relay and one node.")
@click.option("--from-live", is_flag=True, default=False,
              help="Read replicas (minimum count), vCPU and memory from the deployed apps.")
@click.option("--region", default=None, metavar="REGION",
              help="Azure region of the price list (default eastus; with --from-live, the apps' region).")
@click.option("--currency", default="USD", show_default=True, metavar="CODE", help="Currency of the price list.")
@click.option("--explain", is_flag=True, default=False, help="Print the arithmetic of every line.")
@common_options
@pass_loom
def estimate(loom: LoomContext, from_live: bool, region: str | None, currency: str, explain: bool,
             **opts: Any) -> None:
    """Estimate the monthly cost: Container Apps consumption, requests, Azure Files, the free grant.

    Offline and instant: prices come from the shipped price list, or from the cache that
    `loomctl cost prices update` fills. A month is 730 hours.

    \b
    Examples:
      loomctl cost estimate
      loomctl cost estimate --node-replicas 5 --explain
      loomctl cost estimate --peak-hours 8 --peak-replicas 10
      loomctl cost estimate --dev -o json
      loomctl cost estimate --from-live
    """
    from loomctl.cost import inputs as inp
    from loomctl.cost import prices
    from loomctl.cost.compare import compare
    from loomctl.cost.model import estimate as run_model
    from loomctl.cost.report import build_doc

    currency = prices.check_currency(currency)
    if region is not None:
        region = prices.check_region(region)
    live = None
    names = ("gun-relay", "loom-node")
    if from_live:
        live, names, live_region = _read_live(loom)
        if region is None and live_region:
            region = prices.check_region(live_region)
    pl = prices.load(region or "eastus", currency)
    if pl.age_days() > STALE_DAYS:
        from loomctl.output import ui

        ui.warn(f"the {pl.origin} price list for {pl.region} is {pl.age_days()} days old; "
                f"refresh it with `loomctl cost prices update --region {pl.region} --currency {pl.currency}`")
    inputs = inp.build(opts, live, names)
    rates = pl.rates()
    est = run_model(inputs, rates, pl.symbol)
    always_peak = None
    node = inputs.apps[1]
    if node.peak_replicas:
        from dataclasses import replace

        flat = replace(node, replicas=node.peak_replicas, peak_replicas=None, peak_hours=0)
        always_peak = run_model(replace(inputs, apps=(inputs.apps[0], flat)), rates, pl.symbol)
    cmp = compare(est, inputs, rates, pl.symbol, usd=pl.currency == "USD", always_peak=always_peak)
    doc = build_doc(est, inputs, pl, cmp, "live" if from_live else "options")
    from loomctl.output.views.cost import render_estimate

    loom.output.emit(doc, table=lambda d: render_estimate(d, explain))


def _read_live(loom: LoomContext) -> tuple[dict[str, Any], tuple[str, str], str | None]:
    from loomctl.azure.deployment import get_app, parallel
    from loomctl.cost.inputs import parse_live

    settings = loom.settings
    settings.require("subscription", "resource_group")
    relay_name, node_name = settings.relay_app, settings.node_app
    relay, node = parallel([lambda: get_app(loom.azure, relay_name), lambda: get_app(loom.azure, node_name)])
    live = {"relay": parse_live(relay), "node": parse_live(node)}
    from loomctl.cost.inputs import region_of

    return live, (relay_name, node_name), region_of(node.location or relay.location)


@cost.group("prices")
def prices_group() -> None:
    """The price list the estimate uses: show it, or refresh it from the Azure Retail Prices API."""


@prices_group.command("update")
@click.option("--region", default="eastus", show_default=True, metavar="REGION", help="Azure region (armRegionName).")
@click.option("--currency", default="USD", show_default=True, metavar="CODE", help="Currency code.")
@local_options
@pass_loom
def prices_update(loom: LoomContext, region: str, currency: str) -> None:
    """Fetch current prices from the Azure Retail Prices API and cache them (the only network call).

    The endpoint is https://prices.azure.com/api/retail/prices (override: LOOMCTL_PRICES_ENDPOINT).
    The cache is $LOOMCTL_CACHE_DIR, else $XDG_CACHE_HOME/loomctl, else ~/.cache/loomctl.
    """
    from loomctl.cost import prices
    from loomctl.cost.report import price_doc
    from loomctl.cost.retail_api import fetch_price_list
    from loomctl.output import ui
    from loomctl.output.views.cost import render_prices

    region, currency = prices.check_region(region), prices.check_currency(currency)
    pl = fetch_price_list(region, currency)
    path = prices.save(pl)
    ui.info(f"saved {len(pl.meters)} prices for {region} ({currency}) to {path}")
    loom.output.emit(price_doc(pl), table=render_prices)


@prices_group.command("show")
@click.option("--region", default="eastus", show_default=True, metavar="REGION", help="Azure region.")
@click.option("--currency", default="USD", show_default=True, metavar="CODE", help="Currency code.")
@local_options
@pass_loom
def prices_show(loom: LoomContext, region: str, currency: str) -> None:
    """Show the price list `cost estimate` would use: rates, where they come from and how old they are."""
    from loomctl.cost import prices
    from loomctl.cost.report import price_doc
    from loomctl.output.views.cost import render_prices

    pl = prices.load(region, currency)
    loom.output.emit(price_doc(pl), table=render_prices)
