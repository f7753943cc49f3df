"""`loomctl status`: the live deployment as a summary (pure functions over the fetched state)."""

from __future__ import annotations

from typing import Any

from loomctl.azure.deployment import AppState, DeploymentState


def ingress_summary(state: AppState) -> dict[str, Any] | None:
    ing = state.app.ingress
    if ing is None:
        return None
    return {
        "external": ing.external,
        "target_port": ing.target_port,
        "exposed_port": ing.exposed_port,
        "transport": ing.transport,
        "allow_insecure": ing.allow_insecure,
        "fqdn": ing.fqdn,
        "additional_ports": [{"target_port": p.target_port, "exposed_port": p.exposed_port, "external": p.external}
                             for p in ing.additional_ports],
    }


def traffic_of(state: AppState) -> dict[str, int]:
    """Traffic weight per active revision (a `latestRevision` entry resolves to the latest revision)."""
    weights: dict[str, int] = {}
    ing = state.app.ingress
    if ing and ing.traffic:
        for t in ing.traffic:
            name = t.revision or (state.app.latest_revision if t.latest else None)
            if name:
                weights[name] = weights.get(name, 0) + t.weight
    else:
        for r in state.revisions:
            if r.active:
                weights[r.name] = r.traffic_weight
    return weights


def app_summary(role: str, state: AppState) -> dict[str, Any]:
    app = state.app
    weights = traffic_of(state)
    return {
        "name": app.name,
        "role": role,
        "provisioning_state": app.provisioning_state,
        "running_status": app.running_status,
        "latest_revision": app.latest_revision,
        "latest_ready_revision": app.latest_ready_revision,
        "revisions_mode": app.revisions_mode,
        "image": app.image,
        "replicas": {"running": state.running_replicas, "min": app.min_replicas, "max": app.max_replicas},
        "active_revisions": [
            {"name": r.name, "traffic_weight": weights.get(r.name, 0), "replicas": r.replicas,
             "health_state": r.health_state, "provisioning_state": r.provisioning_state,
             "running_state": r.running_state, "created": r.created, "image": r.image}
            for r in state.revisions if r.active
        ],
        "ingress": ingress_summary(state),
        "volumes": [{"name": v.name, "storage_type": v.storage_type, "storage_name": v.storage_name,
                     "mount_paths": [m.mount_path for c in app.containers for m in c.mounts if m.volume == v.name]}
                    for v in app.volumes],
    }


def replica_rows(state: AppState) -> list[dict[str, Any]]:
    return [
        {"app": state.app.name, "revision": r.revision, "name": r.name, "running_state": r.running_state,
         "created": r.created, "restarts": r.restarts,
         "containers": [{"name": c.name, "ready": c.ready, "running_state": c.running_state,
                         "restart_count": c.restart_count} for c in r.containers]}
        for r in state.replicas
    ]


def build_status(dep: DeploymentState, roles: dict[str, str], with_replicas: bool) -> dict[str, Any]:
    env = dep.environment
    doc: dict[str, Any] = {
        "environment": {
            "name": env.name, "location": env.location, "provisioning_state": env.provisioning_state,
            "default_domain": env.default_domain, "static_ip": env.static_ip,
            "logs_destination": env.logs_destination, "log_analytics_workspace": env.workspace_customer_id,
        },
        "apps": [app_summary(roles[name], state) for name, state in dep.apps.items()],
    }
    if with_replicas:
        doc["replicas"] = [row for state in dep.apps.values() for row in replica_rows(state)]
    return doc


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
