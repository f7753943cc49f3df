"""`fleet list`: each deployment's apps as Resource Graph shows them (pure functions over the rows)."""

from __future__ import annotations

from typing import Any

from loomctl.fleet.model import Deployment, Fleet


def app_summary(role: str, name: str, row: dict[str, Any] | None) -> dict[str, Any]:
    from loomctl.azure.model import App

    if row is None:
        return {"role": role, "name": name, "missing": True}
    app = App.parse(row)
    ing = app.ingress
    return {"role": role, "name": app.name, "missing": False, "latest_revision": app.latest_revision,
            "image": app.image, "min_replicas": app.min_replicas, "max_replicas": app.max_replicas,
            "ingress": None if ing is None else {"external": ing.external, "target_port": ing.target_port,
                                                 "transport": ing.transport, "fqdn": ing.fqdn}}


def deployment_summary(dep: Deployment) -> dict[str, Any]:
    return {"deployment": dep.key, "subscription": dep.subscription, "resource_group": dep.resource_group,
            "environment": dep.environment, "region": dep.region, "tags": dep.tags,
            "apps": [app_summary(role, name, row) for role, (name, row) in dep.apps.items()],
            "also_matching": dep.others}


def fleet_document(fleet: Fleet) -> dict[str, Any]:
    return {"deployments": [deployment_summary(d) for d in fleet.deployments],
            "subscriptions": {"asked": len(fleet.subscriptions), "denied": fleet.denied},
            "resource_graph": {"requests": fleet.requests, "pages": fleet.pages, "rows": fleet.rows,
                               "truncated": fleet.truncated}}
