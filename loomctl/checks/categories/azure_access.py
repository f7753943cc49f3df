"""Category "Azure access and apps": signed in, scope reachable, both apps present, provisioned and running."""

from __future__ import annotations

from typing import Any

from loomctl.checks.base import (
    AppRef,
    Outcome,
    failed,
    passed,
    spec_maker,
    warned,
)

CATEGORY = "Azure access and apps"

RESTART_WARN = 2
RESTART_FAIL = 5


def check_signed_in(settings: Any, token: Any) -> Outcome:
    return passed(f"signed in; token for {settings.arm_scope}", authority=settings.authority_host,
                  expires_on=getattr(token, "expires_on", None))


def check_subscription(subscription: dict[str, Any]) -> Outcome:
    state = subscription.get("state", "Enabled")
    name = subscription.get("displayName") or subscription.get("subscriptionId")
    if state not in ("Enabled", "PastDue"):
        return failed(f"subscription '{name}' is {state}",
                      "an Azure subscription that is disabled or warned runs no workloads; see the Azure portal",
                      state=state)
    return passed(f"subscription '{name}' ({subscription.get('subscriptionId')}) is {state}")


def check_resource_group(resource_group: dict[str, Any]) -> Outcome:
    return passed(f"resource group '{resource_group.get('name')}' exists in {resource_group.get('location')}")


def check_environment(environment: Any) -> Outcome:
    state = environment.provisioning_state
    if state != "Succeeded":
        return failed(f"environment '{environment.name}' is {state}",
                      "wait for the operation to finish; if it Failed, see the activity log of the environment",
                      provisioning_state=state)
    return passed(f"environment '{environment.name}' in {environment.location}, domain {environment.default_domain}")


def check_app_exists(app: AppRef, app_obj: Any, environment: Any) -> Outcome:
    env_id = (app_obj.environment_id or "").lower()
    if env_id and environment.id and env_id != environment.id.lower():
        return warned(f"app '{app.name}' belongs to another environment ({env_id.rsplit('/', 1)[-1]})",
                      f"point --environment at the app's environment, or check the {app.role} app name",
                      environment_id=app_obj.environment_id)
    return passed(f"app '{app.name}' exists ({app_obj.image})")


def check_app_running(app: AppRef, app_obj: Any) -> Outcome:
    prov, run = app_obj.provisioning_state, app_obj.running_status
    details = {"provisioning_state": prov, "running_status": run}
    if prov != "Succeeded":
        return failed(f"app '{app.name}' provisioning state is {prov}",
                      f"see `loomctl status` and the revision's state; `az containerapp revision list -n {app.name}`",
                      **details)
    if run and run not in ("Running",):
        return failed(f"app '{app.name}' is {run}",
                      f"start it with `az containerapp start -n {app.name} -g <group>`", **details)
    return passed(f"app '{app.name}' is provisioned and {run or 'running'}", **details)


def check_replicas(app: AppRef, app_state: Any) -> Outcome:
    running, minimum = app_state.running_replicas, app_state.app.min_replicas
    states = {r.name: r.running_state for r in app_state.replicas}
    if running < minimum:
        return failed(f"{running} running replicas of '{app.name}', below its minimum of {minimum}",
                      "see `loomctl status --replicas` for replica states and `loomctl logs --app "
                      f"{app.name} --system` for why replicas do not start", running=running, min=minimum,
                      replicas=states)
    if running == 0:
        return warned(f"no running replicas of '{app.name}' (minimum 0: it scales to zero)",
                      "LoomMesh peers on a scaled-to-zero app cannot be reached; set minReplicas >= 1",
                      running=running, min=minimum)
    return passed(f"{running} running replicas (min {minimum}, max {app_state.app.max_replicas})",
                  running=running, min=minimum)


def check_restarts(app: AppRef, app_state: Any) -> Outcome:
    worst = sorted(((c.restart_count, r.name, c.name) for r in app_state.replicas for c in r.containers),
                   reverse=True)
    counts = {r.name: r.restarts for r in app_state.replicas}
    if worst and worst[0][0] >= RESTART_FAIL:
        n, rep, cont = worst[0]
        return failed(f"container '{cont}' in replica {rep} restarted {n} times",
                      f"it is crash-looping: `loomctl logs --app {app.name} --replica {rep}` shows why",
                      restarts=counts)
    if worst and worst[0][0] >= RESTART_WARN:
        n, rep, cont = worst[0]
        return warned(f"container '{cont}' in replica {rep} restarted {n} times",
                      f"look at its logs: `loomctl logs --app {app.name} --replica {rep}`", restarts=counts)
    return passed("no replica restarting repeatedly", restarts=counts)


_spec = spec_maker(CATEGORY, needs_azure=True)


CHECKS = [
    _spec("LOOM101", "signed in to Azure",
          "No credential could get a token for Azure Resource Manager, so nothing else can be checked.",
          "Run `az login`, or set AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, or use a managed identity.",
          check_signed_in, needs=("settings", "token"), access=True),
    _spec("LOOM102", "subscription reachable",
          "The subscription does not exist, is not visible to this identity, or is disabled.",
          "Check --subscription / AZURE_SUBSCRIPTION_ID against `az account list`.",
          check_subscription, needs=("subscription",), after=("LOOM101",), access=True),
    _spec("LOOM103", "resource group exists",
          "The resource group named in the profile or -g does not exist in the subscription.",
          "Check -g / LOOMCTL_RESOURCE_GROUP; `az group list -o table` lists them.",
          check_resource_group, needs=("resource_group",), after=("LOOM102",)),
    _spec("LOOM104", "Container Apps environment exists and is provisioned",
          "The managed environment is missing or not in the Succeeded state; apps in it cannot run.",
          "Check --environment / LOOMCTL_ENVIRONMENT; `az containerapp env list -g <group>` lists them.",
          check_environment, needs=("environment",), after=("LOOM103",)),
    _spec("LOOM105", "app exists",
          "The relay or node app named in the profile does not exist in the resource group.",
          "Check --relay-app / --node-app (relay_app / node_app in the profile).",
          lambda app, app_obj, environment: check_app_exists(app, app_obj, environment),
          needs=("app_obj", "environment"), after=("LOOM104",), per_app=True),
    _spec("LOOM106", "app provisioned and running",
          "The app's last operation failed or the app is stopped, so it serves nothing.",
          "Look at the latest revision's state in `loomctl status`; start a stopped app with `az containerapp start`.",
          check_app_running, needs=("app_obj",), after=("LOOM105",), per_app=True),
    _spec("LOOM107", "running replicas at or above minimum",
          "Fewer replicas run than the app's minReplicas: a replica fails to start or is being evicted.",
          "`loomctl status --replicas` shows replica states; system logs say why they do not start.",
          check_replicas, needs=("app_state",), after=("LOOM106",), per_app=True),
    _spec("LOOM108", "no replica restarting repeatedly",
          "A container that restarts again and again is crash-looping; LoomMesh peers on it keep dropping.",
          "Read the replica's console and system logs (`loomctl logs --app NAME --replica R`).",
          check_restarts, needs=("app_state",), after=("LOOM105",), per_app=True),
]


def providers(loom: Any, apps: list[AppRef]) -> dict[str, Any]:
    # "app_obj" per app is the App model itself (the base provider "app:<name>")
    return {f"app_obj:{ref.name}": (lambda i, n=ref.name: i.get(f"app:{n}")) for ref in apps}
