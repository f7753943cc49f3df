"""`fleet status`: deployments grouped by region side by side, and image drift between regions (LOOM903)."""

from __future__ import annotations

from typing import Any

from loomctl.fleet.model import Fleet


def status_document(fleet: Fleet) -> dict[str, Any]:
    from loomctl.azure.model import App
    from loomctl.fleet.doctor import fleet_findings

    regions: dict[str, dict[str, Any]] = {}
    for dep in fleet.deployments:
        reg = regions.setdefault(dep.region, {"region": dep.region, "deployments": [], "apps": {}})
        reg["deployments"].append(dep.key)
        for role, (_name, row) in dep.apps.items():
            app = reg["apps"].setdefault(role, {"images": {}, "revisions": {}, "replica_bounds": {}, "missing": 0})
            if row is None:
                app["missing"] += 1
                continue
            parsed = App.parse(row)
            for bucket, value in (("images", parsed.image or "(no image)"),
                                  ("revisions", parsed.latest_revision or "(none)"),
                                  ("replica_bounds", f"{parsed.min_replicas}-{parsed.max_replicas or '?'}")):
                app[bucket][value] = app[bucket].get(value, 0) + 1
    drift = [f.result.to_json() for f in fleet_findings(fleet) if f.result.code == "LOOM903"]
    return {"regions": [regions[r] for r in sorted(regions)], "drift": drift,
            "deployments": len(fleet.deployments), "denied": sorted(fleet.denied)}
