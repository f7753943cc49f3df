"""Where logs live: the Log Analytics workspace, the logs destination (table family) and the metric table.

Precedence: --workspace-id / --destination, then the profile or environment variables (workspace_id,
logs_destination), then the Container Apps environment's `appLogsConfiguration`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from loomctl.core.errors import ConfigError, UsageError
from loomctl.core.profiles import guid_problem
from loomctl.logs.kql import views

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.core.context import LoomContext


@dataclass(frozen=True)
class LogTarget:
    workspace_id: str
    destination: str
    metrics_source: str
    source: str  # where the workspace id came from, for messages


def check_destination(value: str | None) -> str | None:
    if value is None:
        return None
    v = value.strip().lower()
    if v not in views.DESTINATIONS:
        raise UsageError(f"unknown logs destination '{value}'", f"use one of {', '.join(views.DESTINATIONS)}")
    return v


def check_metrics_source(value: str | None) -> str:
    v = (value or views.APP_METRICS).strip()
    for known in views.METRIC_SOURCES:
        if v.lower() == known.lower():
            return known
    raise UsageError(f"unknown metrics source '{value}'", f"use one of {', '.join(views.METRIC_SOURCES)}")


def resolve_target(loom: LoomContext, workspace: str | None = None, destination: str | None = None,
                   metrics_source: str | None = None) -> LogTarget:
    s = loom.settings
    if not s.azure_enabled:  # Log Analytics is Azure
        raise s.no_azure()
    if workspace is not None and guid_problem(workspace.strip()):
        raise UsageError(f"--workspace-id '{workspace}' {guid_problem(workspace.strip())}",
                         "give the workspace's customer id: `az monitor log-analytics workspace show -g GROUP "
                         "-n NAME --query customerId -o tsv`")
    workspace = workspace.strip() if workspace else workspace
    ws = workspace or s.get("workspace_id")
    source = "--workspace-id" if workspace else (s.sources.get("workspace_id") if ws else "")
    dest = check_destination(destination or s.get("logs_destination"))
    msrc = check_metrics_source(metrics_source or s.get("metrics_source"))
    if ws and dest:
        return LogTarget(ws, dest, msrc, source or "settings")
    if not s.environment:
        if ws:
            return LogTarget(ws, views.LOG_ANALYTICS, msrc, source or "settings")
        raise ConfigError("no Log Analytics workspace is set",
                          "pass --workspace-id ID (env LOOMCTL_WORKSPACE_ID), or --environment NAME to read it "
                          "from the Container Apps environment")
    from loomctl.azure.deployment import get_environment

    env = get_environment(loom.azure)
    env_dest = (env.logs_destination or "").lower()
    if not dest:
        if env_dest in ("", "none"):
            raise ConfigError(f"environment '{env.name}' keeps no logs (appLogsConfiguration.destination is "
                              f"{env.logs_destination or 'not set'})",
                              "send logs to Log Analytics: `az containerapp env update -n NAME -g GROUP "
                              "--logs-destination log-analytics --logs-workspace-id ID --logs-workspace-key KEY`")
        dest = check_destination(env_dest)
    if not ws:
        ws = env.workspace_customer_id
        source = f"environment '{env.name}'"
        if not ws:
            raise ConfigError(
                f"environment '{env.name}' sends logs to {env_dest or dest} but names no workspace "
                "(diagnostic settings keep it)",
                "pass --workspace-id ID (the workspace's customer id), or set workspace_id in the profile",
            )
    return LogTarget(ws, dest or views.LOG_ANALYTICS, msrc, source)


def app_names(loom: LoomContext, app: str | None) -> list[str]:
    """`--app relay|node|NAME` as app names; no --app means both LoomDB apps."""
    s = loom.settings
    if not app:
        return [s.relay_app, s.node_app]
    role = app.strip().lower()
    if role == "relay":
        return [s.relay_app]
    if role == "node":
        return [s.node_app]
    if not app.strip():
        raise UsageError("--app is empty", "use --app relay, --app node or an app name")
    return [app]


def unknown_apps_note(loom: LoomContext, apps: list[str]) -> str:
    """" (app 'x' is not one of the profile's apps gun-relay, loom-node: check the name)" for an empty answer
    whose --app names an app the profile does not know (a typo reads as "no lines" otherwise); else ""."""
    s = loom.settings
    known = [s.relay_app, s.node_app]
    other = [a for a in apps if a not in known]
    if not other:
        return ""
    from loomctl.output.text import visible

    names = ", ".join(f"'{visible(a)}'" for a in other)
    return (f" (app {names} is not one of the profile's apps {', '.join(known)}: check the name, or "
            "`loomctl status` lists the apps)")

