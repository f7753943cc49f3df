"""Group a file's resources into deployments (one managed environment and its apps) and build the
`Definitions` that doctor's definition checks judge.

Which app is the relay and which the node: the apps named by the profile's `relay_app` and `node_app` (default
gun-relay and loom-node); failing that, the relay is the app whose ingress targets GUN's port 8765 (or that sets
GUN_PORT) without GUN_ENABLED (a relay may set GUN_PEERS: relays that peer each other, LOOM213), and the node the
app that sets GUN_ENABLED, or GUN_PEERS without looking like a relay. An app that is neither is not judged
(LOOM801).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loomctl.lint.expressions import domain_symbol
from loomctl.lint.resources import ACCOUNT, APP, ENV, ENV_STORAGE, SHARE, Note, Resource


@dataclass
class Deployment:
    """One environment's resources in a file; `targets` names the resource behind each judge prefix."""

    label: str
    definitions: Any
    apps: dict[str, Resource] = field(default_factory=dict)  # app name -> resource
    targets: dict[str, Resource] = field(default_factory=dict)  # "relay", "node", "environment", "storage", ...


def _env_names(app: Resource) -> set[str]:
    p = app.body.get("properties") or {}
    rid = p.get("environmentId") or p.get("managedEnvironmentId") or ""
    parts = str(rid).rstrip("/").split("/")
    return {parts[-1].lower()} if rid else set()


def _gun(app: Resource) -> tuple[bool, bool]:
    """(looks like a relay, looks like a node) from its GUN settings."""
    p = app.body.get("properties") or {}
    containers = (p.get("template") or {}).get("containers") or [{}]
    env = {e.get("name") for e in (containers[0].get("env") or []) if isinstance(e, dict)}
    port = ((p.get("configuration") or {}).get("ingress") or {}).get("targetPort")
    relay = "GUN_ENABLED" not in env and (port == 8765 or "GUN_PORT" in env)
    node = "GUN_ENABLED" in env or ("GUN_PEERS" in env and not relay)
    return relay, node


def assign_roles(apps: list[Resource], relay_name: str, node_name: str) -> dict[str, Resource]:
    by_name = {a.short_name: a for a in apps}
    roles: dict[str, Resource] = {}
    if relay_name in by_name:
        roles["relay"] = by_name[relay_name]
    if node_name in by_name:
        roles["node"] = by_name[node_name]
    for app in apps:
        if app in roles.values():
            continue
        relay, node = _gun(app)
        if relay and "relay" not in roles:
            roles["relay"] = app
        elif node and "node" not in roles:
            roles["node"] = app
    return roles


def group(resources: list[Resource], settings: Any, notes: list[Note]) -> list[Deployment]:
    """The deployments of one template (or export): one per environment it defines (apps in no environment
    of the file form one more)."""
    envs = [r for r in resources if r.type == ENV]
    apps = [r for r in resources if r.type == APP]
    groups: dict[str, list[Resource]] = {e.short_name.lower(): [] for e in envs}
    for app in apps:
        names = _env_names(app) & set(groups)
        key = next(iter(names)) if names else (next(iter(groups)) if len(groups) == 1 else "")
        groups.setdefault(key, []).append(app)
    out = []
    for key, members in groups.items():
        env = next((e for e in envs if e.short_name.lower() == key), None)
        out.append(_deployment(env, members, resources, settings, notes))
    return out


def _deployment(env: Resource | None, apps: list[Resource], resources: list[Resource], settings: Any,
                notes: list[Note]) -> Deployment:
    from loomctl.azure.model import App, Environment
    from loomctl.azure.storage import EnvStorage, FileShare, StorageAccount, StorageInventory
    from loomctl.checks.definitions import Definitions

    relay_name, node_name = settings.relay_app, settings.node_app
    roles = assign_roles(apps, relay_name, node_name)
    for app in apps:
        if app not in roles.values():
            notes.append(Note("LOOM801", f"app '{app.short_name}' is neither the relay ('{relay_name}') nor the node "
                              f"('{node_name}'): its definition is not judged", app.source, app.doc_path))
    defs_apps: dict[str, tuple[str, Any]] = {}
    missing: dict[str, str] = {}
    for role, default in (("relay", relay_name), ("node", node_name)):
        res = roles.get(role)
        defs_apps[role] = (res.short_name, App.parse(res.body)) if res else (default, None)
        if res is None:
            missing[role] = f"the file defines no {role} app '{default}'"
    targets: dict[str, Resource] = dict(roles)
    environment = None
    if env is not None:
        props = env.body.get("properties") or {}  # an export holds the domain; a template does not
        domain = props.get("defaultDomain") or domain_symbol(env.short_name)
        body = {**env.body, "properties": {**props, "defaultDomain": domain}}
        environment = Environment.parse(body)
        targets["environment"] = env
    else:
        missing["environment"] = "the file defines no managed environment"
    storages = [r for r in resources if r.type == ENV_STORAGE and
                (env is None or r.name.split("/")[0].lower() == env.short_name.lower())]
    accounts = [r for r in resources if r.type == ACCOUNT]
    shares = [r for r in resources if r.type == SHARE]
    inventory = None
    if env is not None or storages:
        known = {"storages"} | ({"accounts"} if accounts else set()) | ({"shares"} if shares else set())
        inventory = StorageInventory(
            storages={s.short_name: EnvStorage.parse(s.body) for s in storages},
            accounts={a.short_name: StorageAccount.parse(a.body) for a in accounts},
            shares={(s.name.split("/")[0], s.short_name): FileShare.parse(s.name.split("/")[0], s.body)
                    for s in shares},
            known=frozenset(known))
        used = _used_storage(roles, storages)
        if used is not None:
            targets["storage"] = used
            account = (used.body.get("properties") or {}).get("azureFile", {}).get("accountName")
            for a in accounts:
                if a.short_name == account:
                    targets["account"] = a
            for s in shares:
                if s.name.split("/")[0] == account:
                    targets["share"] = s
    defs = Definitions(settings=settings, apps=defs_apps, environment=environment, storage=inventory,
                       missing=missing)
    label = env.short_name if env is not None else ", ".join(a.short_name for a in apps) or "no app"
    return Deployment(label, defs, {a.short_name: a for a in roles.values()}, targets)


def _used_storage(roles: dict[str, Resource], storages: list[Resource]) -> Resource | None:
    by_name = {s.short_name: s for s in storages}
    for app in roles.values():
        for v in ((app.body.get("properties") or {}).get("template") or {}).get("volumes") or []:
            if isinstance(v, dict) and v.get("storageName") in by_name:
                return by_name[v["storageName"]]
    return storages[0] if storages else None
