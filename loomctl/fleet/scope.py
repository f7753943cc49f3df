"""Which deployments a fleet command looks at: flags, then the profile's fleet keys, then the profile itself."""

from __future__ import annotations

from typing import Any

from loomctl.core.errors import UsageError
from loomctl.fleet.model import FleetScope


def parse_tag(text: str) -> tuple[str, str | None]:
    key, sep, value = text.partition("=")
    if not key.strip():
        raise UsageError(f"--tag '{text}' names no tag", "write it as KEY=VALUE (e.g. loomdb=prod), or KEY")
    return key.strip(), value.strip() if sep else None


def resolve_scope(settings: Any, subscriptions: tuple[str, ...], all_subscriptions: bool, relay: str | None,
                  node: str | None, environment: str | None, tag: str | None) -> FleetScope:
    from loomctl.core.profiles import guid_problem

    if subscriptions and all_subscriptions:
        raise UsageError("--subscription and --all-subscriptions exclude each other",
                         "name subscriptions, or ask for every one you can read")
    subs: tuple[str, ...] | None
    if all_subscriptions:
        subs = None
    elif subscriptions:
        subs = tuple(dict.fromkeys(subscriptions))
    elif settings.get("fleet_subscriptions"):
        subs = tuple(dict.fromkeys(settings.get("fleet_subscriptions")))
    elif settings.subscription:
        subs = (str(settings.subscription),)
    else:
        raise UsageError("no subscriptions for the fleet",
                         "pass --subscription ID (repeatable) or --all-subscriptions, or "
                         "`loomctl config set fleet_subscriptions ID,ID`")
    where = "--subscription" if subscriptions else "fleet_subscriptions"
    for sub in subs or ():
        if (problem := guid_problem(sub)) is not None:
            raise UsageError(f"{where} {problem}: '{sub}'", "subscription ids look like "
                             "8efdecc5-919e-44eb-b179-915dca89ebf9 (`az account list --query [].id`)")
    tag_text = tag if tag is not None else settings.get("fleet_tag")
    return FleetScope(subscriptions=subs,
                      relay=relay or settings.get("fleet_relay_app") or settings.relay_app,
                      node=node or settings.get("fleet_node_app") or settings.node_app,
                      environment=environment or settings.get("fleet_environment") or "*",
                      tag=parse_tag(tag_text) if tag_text else None)
