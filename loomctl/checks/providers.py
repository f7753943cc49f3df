"""Build the `Inputs` for a doctor run: the base providers plus those each category module declares.

A category module may define `providers(loom, apps) -> dict[str, Provider]`; per-app inputs are registered
as "name:app" so that a per-app check naming "name" in `needs` gets its own app's value.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
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
        "token": lambda i: i.get("session").token(),  # signed in: one sign-in per run, shared with `fetch_plan`
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


# inputs that read ARM (per app as "name:app"); `fetch_plan` starts those a run needs at once
ARM_INPUTS = ("subscription", "resource_group", "environment", "storage")
ARM_APP_INPUTS = {"app_obj": "app", "app": "app", "app_state": "app_state"}


def arm_inputs(instances: list[Any], inputs: Inputs) -> list[str]:
    """The ARM inputs the planned check instances need (their prerequisites are planned too)."""
    out: dict[str, None] = {}
    for inst in instances:
        if not inst.spec.needs_azure:
            continue
        for need in inst.spec.needs:
            if need in ARM_INPUTS:
                out[need] = None
            elif need == "apps":
                out.update({k: None for k in ("app:" + n for n in _app_names(inputs)) if inputs.has(k)})
            elif need == "log_target":
                out["environment"] = None  # the environment names the workspace (unless the settings do)
            elif need in ARM_APP_INPUTS and inst.app is not None:
                out[f"{ARM_APP_INPUTS[need]}:{inst.app.name}"] = None
    return [n for n in out if inputs.has(n)]


def _app_names(inputs: Inputs) -> list[str]:
    s = inputs.get("settings")
    return [s.relay_app, s.node_app]


def fetch_plan(instances: list[Any], inputs: Inputs, also: tuple[str, ...] = ()) -> Callable[[float], None]:
    """Start every ARM read the run needs at once, in the background; returns `wait(timeout)`, which waits for
    them to end (the run calls it before it returns, so no request outlives the command).

    What the settings name (subscription, resource group, environment, apps, their revisions, environment
    storages) goes out together; what depends on an answer (replicas of the active revisions, the storage account
    an environment storage names, its file share) follows inside its provider as soon as that answer is in.
    Prerequisites still gate what a check reports, not what is fetched: the checks then find their inputs already
    fetched (or fetching), each value or error once (`Inputs` and the reads' memo in azure/deployment.py).
    Started once per Inputs: `diagnose storage` starts it before its overview, then runs the checks on them.
    `also`: further ARM inputs the caller will read besides the checks (a runbook's Log Analytics target names the
    environment)."""
    import threading

    def begin() -> Callable[[float], None]:
        settings = inputs.get("settings")
        wanted = arm_inputs(instances, inputs) + [n for n in also if inputs.has(n)]
        names = list(dict.fromkeys(wanted)) if settings.azure_enabled else []
        threads: list[threading.Thread] = []

        def get(name: str) -> None:
            try:
                inputs.get(name)
            except Exception:  # noqa: BLE001 - memoised: the check that needs it reports it
                pass

        def start() -> None:
            try:
                inputs.get("token")  # not signed in: fetch nothing (LOOM101 says why, once)
            except Exception:  # noqa: BLE001
                return
            for name in names:
                thread = threading.Thread(target=get, args=(name,), daemon=True, name=f"fetch-{name}")
                threads.append(thread)
                thread.start()

        starter = threading.Thread(target=start, daemon=True, name="fetch-plan")
        if names:
            starter.start()

        def wait(timeout: float) -> None:
            import time

            end = time.monotonic() + timeout
            if names:
                starter.join(timeout)
            for thread in list(threads):
                thread.join(max(0.0, end - time.monotonic()))

        return wait

    return inputs.started.get("fetch_plan", begin)


def build_inputs(loom: LoomContext, modules: list[str], **given: Any) -> Inputs:
    apps = app_refs(loom)
    providers = base_providers(loom, apps)
    for module in modules:
        mod = importlib.import_module(module)
        if hasattr(mod, "providers"):
            providers.update(mod.providers(loom, apps))
    return Inputs(providers, **given)
