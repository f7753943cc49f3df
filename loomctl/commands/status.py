"""loomctl status"""

from __future__ import annotations

from typing import Any

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.options import common_options


@click.command()
@click.option("--replicas", "with_replicas", is_flag=True, help="List every replica with its state and restarts.")
@common_options
@pass_loom
def status(loom: LoomContext, with_replicas: bool) -> None:
    """Show the environment, apps, revisions, replicas and ingress.

    \b
    Examples:
      loomctl status
      loomctl status --replicas -o json
      loomctl status --query 'apps[].{name:name,running:replicas.running}'
    """
    from loomctl.azure.deployment import deployment_state
    from loomctl.output.views.status import build_status

    settings = loom.settings
    settings.require("subscription", "resource_group", "environment")
    roles = {settings.relay_app: "relay", settings.node_app: "node"}
    dep = deployment_state(loom.azure, list(roles))
    doc = build_status(dep, roles, with_replicas)
    loom.output.emit(doc, table=render_status)


def render_status(doc: dict[str, Any]) -> list[Any]:
    from functools import partial

    from rich import box
    from rich.table import Table as RichTable
    from rich.text import Text

    Table = partial(RichTable, box=box.SIMPLE_HEAD, pad_edge=False)  # one look for every table here
    env = doc["environment"]
    out: list[Any] = []
    head = RichTable.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("Environment", f"{env['name']} ({env['location']}, {env['provisioning_state']})")
    head.add_row("Default domain", env["default_domain"] or "-")
    head.add_row("Logs", f"{env['logs_destination'] or 'none'}"
                 + (f" → workspace {env['log_analytics_workspace']}" if env["log_analytics_workspace"] else ""))
    out.append(head)

    apps = Table(title="Apps", title_justify="left", title_style="bold", header_style="bold")
    for col in ("App", "Role", "State", "Running", "Replicas", "Latest revision", "Image"):
        apps.add_column(col, overflow="fold")
    for a in doc["apps"]:
        rep = a["replicas"]
        ok = rep["running"] >= rep["min"]
        state = a["provisioning_state"] or "-"
        running = a["running_status"] or "-"
        apps.add_row(
            a["name"], a["role"],
            Text(state, style="green" if state == "Succeeded" else "red"),
            Text(running, style="green" if running == "Running" else "red"),
            Text(f"{rep['running']} (min {rep['min']}, max {rep['max']})", style="green" if ok else "red"),
            Text(a["latest_revision"] or "-") if a["latest_revision"] == a["latest_ready_revision"]
            else Text(f"{a['latest_revision']} (not ready; ready: {a['latest_ready_revision']})", style="yellow"),
            a["image"] or "-",
        )
    out.append(apps)

    revs = Table(title="Active revisions", title_justify="left", title_style="bold", header_style="bold")
    for col in ("App", "Revision", "Traffic", "Replicas", "Health", "Provisioning", "Created"):
        revs.add_column(col)
    for a in doc["apps"]:
        for r in a["active_revisions"]:
            revs.add_row(a["name"], r["name"], f"{r['traffic_weight']}%", str(r["replicas"]),
                         r["health_state"] or "-", r["provisioning_state"] or "-", r["created"] or "-")
    out.append(revs)

    ing = Table(title="Ingress", title_justify="left", title_style="bold", header_style="bold")
    for col in ("App", "Ingress", "Target port", "Transport", "Insecure", "FQDN"):
        ing.add_column(col, overflow="fold")
    vols = Table(title="Volumes", title_justify="left", title_style="bold", header_style="bold")
    for col in ("App", "Volume", "Type", "Storage", "Mount path"):
        vols.add_column(col, overflow="fold")
    for a in doc["apps"]:
        i = a["ingress"]
        if i is None:
            ing.add_row(a["name"], "none", "-", "-", "-", "-")
        else:
            extra = "".join(f" +{p['exposed_port']}→{p['target_port']}" for p in i["additional_ports"])
            ing.add_row(a["name"], "external" if i["external"] else "internal",
                        f"{i['target_port']}{extra}", i["transport"] or "-",
                        "yes" if i["allow_insecure"] else "no", i["fqdn"] or "-")
        for v in a["volumes"]:
            vols.add_row(a["name"], v["name"], v["storage_type"] or "-", v["storage_name"] or "-",
                         ", ".join(v["mount_paths"]) or "(not mounted)")
    out += [ing, vols]

    if "replicas" in doc:
        reps = Table(title="Replicas", title_justify="left", title_style="bold", header_style="bold")
        for col in ("App", "Revision", "Replica", "State", "Containers (ready, restarts)"):
            reps.add_column(col, overflow="fold")
        for r in doc["replicas"]:
            cs = ", ".join(f"{c['name']} ({'ready' if c['ready'] else 'not ready'}, {c['restart_count']})"
                           for c in r["containers"])
            reps.add_row(r["app"], r["revision"], r["name"],
                         Text(r["running_state"] or "-", style="green" if r["running_state"] == "Running" else "red"),
                         cs)
        out.append(reps)
    return out
