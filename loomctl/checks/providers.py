"""Build the `Inputs` for a doctor run: the base providers plus those each category module declares.

A category module may define `providers(loom, apps) -> dict[str, Provider]`; per-app inputs are registered
as "name:app" so that a per-app check naming "name" in `needs` gets its own app's value.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from loomctl.checks.base import AppRef
from loomctl.checks.inputs import Inputs, Provider

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.core.context import LoomContext


def app_refs(loom: LoomContext) -> list[AppRef]:
    s = loom.settings
    return [AppRef("relay", s.relay_app), AppRef("node", s.node_app)]


def base_providers(loom: LoomContext, apps: list[AppRef]) -> dict[str, Provider]:
    from loomctl.azure import deployment as d

    providers: dict[str, Provider] = {
        "settings": lambda i: loom.settings,
        "session": lambda i: loom.azure,
        "subscription": lambda i: d.get_subscription(i.get("session")),
        "resource_group": lambda i: d.get_resource_group(i.get("session")),
        "environment": lambda i: d.get_environment(i.get("session")),
        # the app whose replica runs the DNS and LoomMesh probes (`doctor --from-inside` gives it), or None
        "inside_app": lambda i: None,
    }
    for ref in apps:
        providers[f"app:{ref.name}"] = lambda i, n=ref.name: d.get_app(i.get("session"), n)
        providers[f"app_state:{ref.name}"] = lambda i, n=ref.name: d.app_state(i.get("session"), n)
    # every app by role, for checks that look at both (e.g. GUN_PEERS of the node against the relay's ingress)
    providers["apps"] = lambda i: {ref.role: i.get(f"app:{ref.name}") for ref in apps}
    return providers


def build_inputs(loom: LoomContext, modules: list[str], **given: Any) -> Inputs:
    apps = app_refs(loom)
    providers = base_providers(loom, apps)
    for module in modules:
        mod = importlib.import_module(module)
        if hasattr(mod, "providers"):
            providers.update(mod.providers(loom, apps))
    return Inputs(providers, **given)
