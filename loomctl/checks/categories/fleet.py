"""Category "Fleet": what only a view over many deployments shows (`loomctl fleet doctor`, not `doctor`).

A subscription Resource Graph refused, a deployment missing an app, a region running other images than the
rest, an inventory Resource Graph cut short, a deployment the live checks could not reach. The fleet commands
call these functions with what they found (loomctl/fleet/doctor.py); `doctor` never plans this category.
"""

from __future__ import annotations

from typing import Any

from loomctl.checks.base import Outcome, failed, passed, spec_maker, warned

CATEGORY = "Fleet"


def check_subscription_readable(subscription: str, denied: dict[str, str]) -> Outcome:
    if subscription in denied:
        return failed(f"Resource Graph refused subscription {subscription} ({denied[subscription]})",
                      f"ask for the Reader role on /subscriptions/{subscription}, or leave it out of the fleet "
                      "(--subscription, or fleet_subscriptions in the profile)", subscription=subscription)
    return passed(f"subscription {subscription} read through Resource Graph", subscription=subscription)


def check_deployment_complete(deployment: Any) -> Outcome:
    missing = deployment.missing
    if missing:
        names = " and no ".join(f"{role} app ('{deployment.apps[role][0]}')" for role in missing)
        return failed(f"environment '{deployment.environment}' has no {names}",
                      "deploy the missing app into this environment, or pass --relay-app/--node-app patterns that "
                      "name it", missing=missing)
    if deployment.others:
        return warned(f"more apps match the role patterns: {', '.join(deployment.others)}; the first of each role "
                      f"was judged ({', '.join(name for name, _ in deployment.apps.values())})",
                      "narrow --relay-app/--node-app", others=deployment.others)
    return passed(f"relay '{deployment.apps['relay'][0]}' and node '{deployment.apps['node'][0]}'")


def check_region_images(role: str, images: dict[str, dict[str, list[str]]]) -> Outcome:
    """images: region -> image -> deployments running it (for one role)."""
    per_region = {region: sorted(found) for region, found in images.items()}
    if len({tuple(found) for found in per_region.values()}) <= 1:
        same = ", ".join(next(iter(per_region.values()), [])) or "nothing"
        return passed(f"every region runs {same} ({role})", role=role)
    shown = "; ".join(f"{region}: {', '.join(found)}" for region, found in sorted(per_region.items()))
    return warned(f"the {role} image differs between regions ({shown})",
                  "roll the same image out to every region (`loomctl deploy` per deployment), or pin the one "
                  "you mean", role=role, images=per_region)


def check_inventory_complete(truncated: bool, rows: int) -> Outcome:
    if truncated:
        return failed(f"Resource Graph truncated the inventory after {rows} rows: some deployments are not shown",
                      "narrow the scope (fewer subscriptions, --tag, --environment)", rows=rows)
    return passed(f"inventory complete ({rows} rows)", rows=rows)


def check_deployment_reachable(deployment: str, error: str | None, hint: str | None = None) -> Outcome:
    if error:
        return failed(f"the live checks could not read deployment {deployment}: {error}", hint)
    return passed(f"live checks ran on {deployment}")


_spec = spec_maker(CATEGORY, needs=("fleet",), needs_azure=True)  # they read Resource Graph

CHECKS = [
    _spec("LOOM901", "subscription readable through Resource Graph",
          "Resource Graph refused a subscription of the fleet (403): none of its deployments is seen, listed or "
          "judged.",
          "Get the Reader role on the subscription, or leave it out of the fleet's subscriptions.",
          check_subscription_readable),
    _spec("LOOM902", "deployment has its relay and node apps",
          "An environment that holds one LoomDB app but not the other: the missing app is not deployed (or is "
          "named differently), and the checks of that app are not judged.",
          "Deploy the missing app, or set --relay-app/--node-app (fleet_relay_app/fleet_node_app) to its name.",
          check_deployment_complete),
    _spec("LOOM903", "every region runs the same image",
          "A region runs another relay or node image than the others: the regions sync one graph with different "
          "code, which the reference's multi-region setup does not intend.",
          "Roll the same image out to every region's deployment.",
          check_region_images),
    _spec("LOOM904", "Resource Graph inventory complete",
          "Resource Graph said the result was truncated: deployments beyond it are neither listed nor judged.",
          "Narrow the scope: fewer subscriptions, a tag filter or an environment pattern.",
          check_inventory_complete),
    _spec("LOOM905", "deployment reachable for the live checks",
          "With --live, a deployment's live state (replicas, revisions, logs) could not be read: its live checks "
          "did not run.",
          "Fix what the message names (access, network), then run `loomctl fleet doctor --live` again.",
          check_deployment_reachable),
]
