"""Desired state (spec) against live state: read, compare field by field, apply with create-or-update, export.

Both sides are reduced to the same flat view (`field -> value`), so a diff is a comparison of two dicts and
an export re-imported gives no diff. Secret values never appear: a secret is compared by its Key Vault
reference; a live secret holding a plain value, and an environment value that is a credential (`core.secrets`),
show as `***`; an export refuses both.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loomctl.azure.writes import Deadline, OperationTimeout, Writer
from loomctl.core.errors import AzureError, ConfigError
from loomctl.core.secrets import MASK, holds_credential, mask
from loomctl.deploy import spec as sp

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.core.settings import Settings

READ_ONLY = ("provisioningState", "runningStatus", "latestRevisionName", "latestReadyRevisionName",
             "latestRevisionFqdn", "eventStreamEndpoint", "outboundIpAddresses", "customDomainVerificationId")


@dataclass
class Live:
    environment: dict[str, Any]
    storages: dict[str, dict[str, Any]]
    apps: dict[str, dict[str, Any] | None]  # None: does not exist
    spec: sp.Spec  # the spec resolved against this environment


@dataclass
class Change:
    kind: str  # "storage" | "app"
    name: str
    field: str
    before: Any
    after: Any

    @property
    def action(self) -> str:
        return "create" if self.field == "(resource)" else "update"

    def as_dict(self) -> dict[str, Any]:
        return {"resource": f"{self.kind} {self.name}", "action": self.action, "field": self.field,
                "before": self.before, "after": self.after}


# -- flat views ---------------------------------------------------------------------------------------------
def _kv(url: str | None, identity: str | None) -> str:
    return f"keyvault {url} (identity {identity or 'none'})"


def flat_storage_spec(s: sp.StorageSpec) -> dict[str, Any]:
    out = {"account_name": s.account_name, "share_name": s.share_name, "access_mode": s.access_mode}
    if s.account_key_vault_url:
        out["account_key"] = _kv(s.account_key_vault_url, s.identity)
    return out


def flat_storage_live(d: dict[str, Any], managed_key: bool) -> dict[str, Any]:
    af = ((d.get("properties") or {}).get("azureFile") or {})
    out = {"account_name": af.get("accountName"), "share_name": af.get("shareName"),
           "access_mode": af.get("accessMode")}
    kv = af.get("accountKeyVaultProperties")
    if managed_key:
        out["account_key"] = _kv(kv.get("keyVaultUrl"), kv.get("identity")) if kv else "(account key, not Key Vault)"
    return out


def _rule(r: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in r.items() if k != "name"}, sort_keys=True)


def flat_app_spec(a: sp.AppSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"identity": a.identity, "revisions_mode": a.revisions_mode.lower(),
                           "cpu": float(a.cpu), "memory": a.memory,
                           "min_replicas": a.min_replicas, "max_replicas": a.max_replicas}
    if a.image:
        out["image"] = a.image
    ing = a.ingress
    if ing is None:
        out["ingress"] = "none"
    else:
        out.update({"ingress.external": bool(ing.get("external", False)), "ingress.target_port": ing.get("target_port"),
                    "ingress.transport": (ing.get("transport") or "auto").lower(),
                    "ingress.allow_insecure": bool(ing.get("allow_insecure", False))})
    for k, v in a.env.items():
        out[f"env.{k}"] = f"secret:{v['secret']}" if isinstance(v, dict) else v
    for k, v in a.secrets.items():
        out[f"secret.{k}"] = _kv(v.get("key_vault_url"), v.get("identity"))
    for k, v in a.volumes.items():
        out[f"volume.{k}"] = f"{v.get('type', 'AzureFile')}:{v['storage']} at {v['mount_path']}"
    for r in a.scale_rules:
        out[f"scale_rule.{r.get('name')}"] = _rule(r)
    return out


def _live_parts(d: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """The parts of a live container app (ARM JSON) both the diff and the export read: configuration, template,
    first container, its resources, scale, and the user-assigned identity ids (in ARM's order)."""
    p = d.get("properties") or {}
    conf = p.get("configuration") or {}
    tmpl = p.get("template") or {}
    c = (tmpl.get("containers") or [{}])[0]
    ids = list(((d.get("identity") or {}).get("userAssignedIdentities") or {}).keys())
    return conf, tmpl, c, c.get("resources") or {}, tmpl.get("scale") or {}, ids


def flat_app_live(d: dict[str, Any], spec_has_image: bool) -> dict[str, Any]:
    conf, tmpl, c, res, scale, ids = _live_parts(d)
    ids = sorted(ids)
    out: dict[str, Any] = {"identity": ids[0] if len(ids) == 1 else (",".join(ids) or None),
                           "revisions_mode": (conf.get("activeRevisionsMode") or "Single").lower(),
                           "cpu": float(res["cpu"]) if res.get("cpu") is not None else None,
                           "memory": res.get("memory"), "min_replicas": int(scale.get("minReplicas") or 0),
                           "max_replicas": scale.get("maxReplicas")}
    if spec_has_image:
        out["image"] = c.get("image")
    ing = conf.get("ingress")
    if not ing:
        out["ingress"] = "none"
    else:
        out.update({"ingress.external": bool(ing.get("external", False)), "ingress.target_port": ing.get("targetPort"),
                    "ingress.transport": (ing.get("transport") or "auto").lower(),
                    "ingress.allow_insecure": bool(ing.get("allowInsecure", False))})
    for e in c.get("env") or []:
        out[f"env.{e.get('name')}"] = f"secret:{e['secretRef']}" if e.get("secretRef") else e.get("value")
    for s in conf.get("secrets") or []:
        out[f"secret.{s.get('name')}"] = _kv(s["keyVaultUrl"], s.get("identity")) if s.get("keyVaultUrl") else MASK
    mounts = {m.get("volumeName"): m.get("mountPath") for m in c.get("volumeMounts") or []}
    for v in tmpl.get("volumes") or []:
        out[f"volume.{v.get('name')}"] = f"{v.get('storageType') or 'AzureFile'}:{v.get('storageName')} at " \
                                         f"{mounts.get(v.get('name'))}"
    for r in scale.get("rules") or []:
        out[f"scale_rule.{r.get('name')}"] = _rule(r)
    return out


# -- read and compare ---------------------------------------------------------------------------------------
def load_spec(path: str | None, s: Settings) -> sp.Spec:
    return sp.load(path, s.relay_app, s.node_app)


def read_live(w: Writer, s: Settings, spec: sp.Spec) -> Live:
    from loomctl.azure.deployment import get_environment, parallel

    names = list(spec.apps)
    env, storages, *apps = parallel([lambda: get_environment(w.session, fresh=True),
                                     lambda: w.storages(str(s.environment))]
                                    + [lambda n=n: w.find_app(n) for n in names])
    resolved = sp.resolved(spec, env.default_domain, s.relay_app, str(s.subscription), str(s.resource_group))
    return Live(env.raw, {st["name"]: st for st in storages}, dict(zip(names, apps)), resolved)


def diff(spec: sp.Spec, live: Live) -> list[Change]:
    changes: list[Change] = []
    want = live.spec
    for name, st in want.storages.items():
        cur = live.storages.get(name)
        if cur is None:
            changes.append(Change("storage", name, "(resource)", None, flat_storage_spec(st)))
            continue
        a, b = flat_storage_live(cur, bool(st.account_key_vault_url)), flat_storage_spec(st)
        changes += [
            Change("storage", name, k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)
        ]
    for name, app in want.apps.items():
        cur = live.apps.get(name)
        if cur is None:
            changes.append(Change("app", name, "(resource)", None, mask_flat(flat_app_spec(app))))
            continue
        a, b = flat_app_live(cur, bool(app.image)), flat_app_spec(app)
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                changes.append(Change("app", name, k, mask_one(k, a.get(k)), mask_one(k, b.get(k))))
    return changes


def mask_one(key: str, value: Any) -> Any:
    """A flat field's value to show: `env.NAME` by its name (a `secret:` reference is only a name)."""
    if key.startswith("env.") and isinstance(value, str) and not value.startswith("secret:"):
        return mask(value, key.split(".", 1)[1])
    return mask(value)


def mask_flat(flat: dict[str, Any]) -> dict[str, Any]:
    return {k: mask_one(k, v) for k, v in flat.items()}


# -- apply --------------------------------------------------------------------------------------------------
def storage_body(st: sp.StorageSpec) -> dict[str, Any]:
    af: dict[str, Any] = {"accountName": st.account_name, "shareName": st.share_name, "accessMode": st.access_mode}
    if st.account_key_vault_url:
        af["accountKeyVaultProperties"] = {"keyVaultUrl": st.account_key_vault_url, "identity": st.identity}
    return {"properties": {"azureFile": af}}


def app_body(app: sp.AppSpec, current: dict[str, Any] | None, env: dict[str, Any]) -> dict[str, Any]:
    """The PUT body: the live app (if any) with the spec's fields laid over it; read-only fields dropped."""
    body = copy.deepcopy(current) if current else {"location": env.get("location"), "properties": {}}
    for k in ("id", "name", "type", "systemData"):
        body.pop(k, None)
    p = body.setdefault("properties", {})
    for k in READ_ONLY:
        p.pop(k, None)
    p["environmentId"] = p.get("environmentId") or p.get("managedEnvironmentId") or env.get("id")
    p.pop("managedEnvironmentId", None)
    if app.identity:
        body["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {app.identity: {}}}
    conf = p.setdefault("configuration", {})
    conf["activeRevisionsMode"] = app.revisions_mode
    if app.ingress is None:
        conf.pop("ingress", None)
    else:
        ing = conf.setdefault("ingress", {})
        ing.pop("fqdn", None)
        ing.update({"external": bool(app.ingress.get("external", False)), "targetPort": app.ingress.get("target_port"),
                    "transport": app.ingress.get("transport", "auto"),
                    "allowInsecure": bool(app.ingress.get("allow_insecure", False))})
        ing.setdefault("traffic", [{"weight": 100, "latestRevision": True}])
    conf["secrets"] = [{"name": k, "keyVaultUrl": v["key_vault_url"], "identity": v.get("identity")}
                       for k, v in app.secrets.items()]
    tmpl = p.setdefault("template", {})
    tmpl.pop("revisionSuffix", None)  # Azure names the revision; a reused suffix would be refused
    containers = tmpl.get("containers") or [{}]
    c = containers[0]
    c["name"] = c.get("name") or app.name
    if app.image:
        c["image"] = app.image
    c["resources"] = {**(c.get("resources") or {}), "cpu": app.cpu, "memory": app.memory}
    c.get("resources", {}).pop("ephemeralStorage", None)
    c["env"] = [{"name": k, "secretRef": v["secret"]} if isinstance(v, dict) else {"name": k, "value": v}
                for k, v in app.env.items()]
    c["volumeMounts"] = [{"volumeName": k, "mountPath": v["mount_path"]} for k, v in app.volumes.items()]
    tmpl["containers"] = [c] + containers[1:]
    tmpl["volumes"] = [{"name": k, "storageType": v.get("type", "AzureFile"), "storageName": v["storage"]}
                       for k, v in app.volumes.items()]
    tmpl["scale"] = {**(tmpl.get("scale") or {}), "minReplicas": app.min_replicas, "maxReplicas": app.max_replicas,
                     "rules": copy.deepcopy(app.scale_rules)}
    return body


def preflight(live: Live, changes: list[Change]) -> None:
    """Refuse before any write what Azure would refuse half-way."""
    want = live.spec
    for ch in changes:
        if ch.kind == "storage" and ch.action == "create" and not want.storages[ch.name].account_key_vault_url:
            raise ConfigError(f"storage '{ch.name}' does not exist and the spec gives no account key",
                              f"set account_key_vault_url (and identity) in [storages.{ch.name}]; "
                              "the key is read from Key Vault, never written in the spec")
        if ch.kind == "storage" and ch.action == "update" and not want.storages[ch.name].account_key_vault_url:
            raise ConfigError(f"storage '{ch.name}' would change ({ch.field}) but the spec gives no account key",
                              f"set account_key_vault_url in [storages.{ch.name}]; an update must resend the key")
        if ch.kind == "app" and ch.action == "create" and not want.apps[ch.name].image:
            raise ConfigError(f"app '{ch.name}' does not exist and the spec gives no image",
                              f"set image = \"REGISTRY/REPOSITORY:TAG\" in [apps.{ch.name}]")
    if "{default_domain}" in json.dumps([a.env for a in want.apps.values()]):
        raise ConfigError("the environment has no default domain to put in {default_domain}",
                          "write the relay's address into GUN_PEERS in the spec")


def apply(w: Writer, s: Settings, spec: sp.Spec, live: Live, changes: list[Change], timeout: float) -> list[str]:
    preflight(live, changes)
    deadline = Deadline(timeout)
    done: list[str] = []
    by_resource: dict[tuple[str, str], list[Change]] = {}
    for ch in changes:
        by_resource.setdefault((ch.kind, ch.name), []).append(ch)
    try:
        for (kind, name), chs in by_resource.items():  # storages first: the apps mount them
            if kind != "storage":
                continue
            what = "create" if chs[0].action == "create" else "update " + ", ".join(c.field for c in chs)
            w.put_storage(str(s.environment), name, storage_body(live.spec.storages[name]), what, deadline)
            done.append(f"storage {name}: {what}")
            w.log(f"done: {done[-1]}")
        for (kind, name), chs in by_resource.items():
            if kind != "app":
                continue
            what = "create" if chs[0].action == "create" else "update " + ", ".join(c.field for c in chs)
            result = w.put_app(name, app_body(live.spec.apps[name], live.apps.get(name), live.environment), what,
                               deadline)
            before = ((live.apps.get(name) or {}).get("properties") or {}).get("latestRevisionName")
            after = (result.get("properties") or {}).get("latestRevisionName")
            done.append(f"app {name}: {what}" + (f" (new revision {after})" if after and after != before else ""))
            w.log(f"done: {done[-1]}")
    except OperationTimeout as exc:
        raise AzureError(f"{exc}; applied so far: {'; '.join(done) or 'nothing'}",
                         "the operation may still finish: run `loomctl deploy infra --dry-run` to see what remains",
                         ) from None
    except KeyboardInterrupt:
        from loomctl.core.errors import ExitCode, LoomError

        raise LoomError(f"interrupted; applied so far: {'; '.join(done) or 'nothing'}",
                        "each resource is written in one operation, so none is half-changed; "
                        "`loomctl deploy infra --dry-run` shows what remains", exit_code=ExitCode.INTERRUPTED) from None
    return done


# -- export -------------------------------------------------------------------------------------------------
def export(w: Writer, s: Settings) -> str:
    from loomctl.azure.deployment import parallel

    names = [s.relay_app, s.node_app]
    storages, *apps = parallel([lambda: w.storages(str(s.environment))] + [lambda n=n: w.find_app(n) for n in names])
    out = sp.Spec("export")
    for st in storages:
        af = (st.get("properties") or {}).get("azureFile") or {}
        kv = af.get("accountKeyVaultProperties") or {}
        out.storages[st["name"]] = sp.StorageSpec(st["name"], af.get("accountName", ""), af.get("shareName", ""),
                                                  af.get("accessMode") or "ReadWrite", kv.get("keyVaultUrl"),
                                                  kv.get("identity"))
    for name, role, d in zip(names, ("relay", "node"), apps):
        if d is None:
            continue
        out.apps[name] = app_from_live(name, role, d)
    header = (f"loomctl deployment spec, exported from {s.resource_group}/{s.environment}.\n"
              "Apply with `loomctl deploy infra --spec FILE`. Secrets are Key Vault references, never values.\n"
              "Delete an app's `image` line to leave the image to `loomctl deploy app`.")
    return sp.dumps(out, header)


def app_from_live(name: str, role: str, d: dict[str, Any]) -> sp.AppSpec:
    conf, tmpl, c, res, scale, ids = _live_parts(d)
    ing = conf.get("ingress")
    mounts = {m.get("volumeName"): m.get("mountPath") for m in c.get("volumeMounts") or []}
    secrets = {}
    for sec in conf.get("secrets") or []:
        if not sec.get("keyVaultUrl"):
            raise ConfigError(f"secret '{sec.get('name')}' of app '{name}' holds a value, not a Key Vault reference",
                              "move it to Key Vault first; a spec never holds secret values")
        secrets[sec["name"]] = {"key_vault_url": sec["keyVaultUrl"], "identity": sec.get("identity")}
    vols = {}
    for v in tmpl.get("volumes") or []:
        entry = {"storage": v.get("storageName"), "mount_path": mounts.get(v.get("name"))}
        if (v.get("storageType") or "AzureFile") != "AzureFile":
            entry["type"] = v.get("storageType")
        vols[v["name"]] = entry
    return sp.AppSpec(
        name, role, image=c.get("image"), identity=ids[0] if ids else None,
        revisions_mode=conf.get("activeRevisionsMode") or "Single",
        cpu=float(res.get("cpu") or 0.5), memory=res.get("memory") or "1Gi",
        min_replicas=int(scale.get("minReplicas") or 0), max_replicas=int(scale.get("maxReplicas") or 10),
        ingress=None if not ing else {"external": bool(ing.get("external", False)),
                                      "target_port": ing.get("targetPort"),
                                      "transport": ing.get("transport") or "auto",
                                      "allow_insecure": bool(ing.get("allowInsecure", False))},
        env=_export_env(name, c),
        secrets=secrets, volumes=vols, scale_rules=copy.deepcopy(scale.get("rules") or []))


def _export_env(app: str, c: dict[str, Any]) -> dict[str, Any]:
    """The container's environment for a spec; a literal credential is refused, as a plain-value secret is."""
    env: dict[str, Any] = {}
    for e in c.get("env") or []:
        if e.get("secretRef"):
            env[e["name"]] = {"secret": e["secretRef"]}
            continue
        value = e.get("value", "")
        if holds_credential(value, e["name"]):
            raise ConfigError(f"environment variable '{e['name']}' of app '{app}' holds a credential as a literal "
                              "value", "store it as a Key Vault secret and set the variable with secretRef; "
                              "a spec never holds secret values")
        env[e["name"]] = value
    return env


__all__ = ["Change", "Live", "diff", "apply", "export", "read_live", "load_spec"]
