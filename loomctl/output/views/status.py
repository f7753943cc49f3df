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
