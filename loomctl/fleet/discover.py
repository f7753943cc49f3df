"""Find every LoomDB deployment with one Resource Graph query and group its rows (no other ARM call)."""

from __future__ import annotations

from typing import Any

from loomctl.fleet.model import Deployment, Fleet, FleetScope

ENV_TYPE = "microsoft.app/managedenvironments"
APP_TYPE = "microsoft.app/containerapps"


def _kql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def build_query(scope: FleetScope) -> str:
    """The one query: environments and container apps (only the two app names when they are exact), ARM-shaped
    columns, ordered by id (Resource Graph pages are stable only when `id` is in the result)."""
    where = f"type in~ ({_kql_string(ENV_TYPE)}, {_kql_string(APP_TYPE)})"
    names = scope.exact_app_names()
    lines = ["resources", f"| where {where}"]
    if names:
        lines.append(f"| where type =~ {_kql_string(ENV_TYPE)} or name in~ ({', '.join(map(_kql_string, names))})")
    lines += ["| project id, name, type, location, resourceGroup, subscriptionId, tags, identity, properties",
              "| order by id asc"]
    return "\n".join(lines)


def _tag_ok(scope: FleetScope, tags: dict[str, Any]) -> bool:
    if scope.tag is None:
        return True
    key, value = scope.tag
    found = {str(k).lower(): v for k, v in (tags or {}).items()}
    if key.lower() not in found:
        return False
    return value is None or str(found[key.lower()]).lower() == value.lower()


def group(rows: list[dict[str, Any]], scope: FleetScope) -> list[Deployment]:
    """Environments with their relay and node apps. An environment counts when one of its apps matches a role's
    pattern, or (with a tag filter) when it carries the tag; a role no app matches is a missing app."""
    envs = [r for r in rows if str(r.get("type", "")).lower() == ENV_TYPE]
    by_env: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if str(r.get("type", "")).lower() == APP_TYPE:
            env_id = str((r.get("properties") or {}).get("managedEnvironmentId")
                          or (r.get("properties") or {}).get("environmentId") or "").lower()
            by_env.setdefault(env_id, []).append(r)
    out = []
    for env in envs:
        tags = env.get("tags") or {}
        if not FleetScope.matches(scope.environment, str(env.get("name", ""))) or not _tag_ok(scope, tags):
            continue
        apps: dict[str, tuple[str, dict[str, Any] | None]] = {}
        others: list[str] = []
        candidates = sorted(by_env.get(str(env.get("id", "")).lower(), []), key=lambda a: str(a.get("name")))
        for role, pattern in (("relay", scope.relay), ("node", scope.node)):
            found = [a for a in candidates if FleetScope.matches(pattern, str(a.get("name", "")))]
            apps[role] = (str(found[0]["name"]), found[0]) if found else (pattern, None)
            others += [str(a["name"]) for a in found[1:]]
        if all(row is None for _, row in apps.values()) and scope.tag is None:
            continue  # an environment of something else
        out.append(Deployment(subscription=str(env.get("subscriptionId", "")),
                              resource_group=str(env.get("resourceGroup", "")), environment=str(env.get("name", "")),
                              region=str(env.get("location", "")), env_row=env, apps=apps,
                              tags={str(k): str(v) for k, v in tags.items()}, others=others))
    out.sort(key=lambda d: (d.region, d.subscription, d.resource_group.lower(), d.environment.lower()))
    return out


def discover(session: Any, scope: FleetScope) -> Fleet:
    from loomctl.azure import resourcegraph

    kql = build_query(scope)
    subs = list(scope.subscriptions) if scope.subscriptions is not None else None
    result = resourcegraph.query(session, kql, subs)
    deployments = group(result.rows, scope)
    seen = sorted({str(r.get("subscriptionId", "")) for r in result.rows})
    return Fleet(scope=scope, deployments=deployments, subscriptions=subs if subs is not None else seen,
                 denied=result.denied, truncated=result.truncated, requests=result.requests, pages=result.pages,
                 rows=len(result.rows), query=kql)
