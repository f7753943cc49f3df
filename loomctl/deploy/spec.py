"""The declarative spec of a LoomDB deployment (TOML): model, defaults, load, save.

The defaults are the reference architecture with its known defects corrected: `GUN_PEERS` is
`http://<relay>.internal.<domain>/gun` (no `:8765`, path `/gun`), every replica has its own data folder
(`$(CONTAINER_APP_REPLICA_NAME)`), and secrets are Key Vault references read with a user-assigned identity.
`{default_domain}` and `{relay_app}` in values are replaced with the live environment's domain and the
relay app's name. Registry, Key Vault, identity and storage account names are the reference's placeholders:
start from `loomctl deploy infra --export` to get your own.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loomctl.core import toml
from loomctl.core.errors import ConfigError

IDENTITY_NAME = "loom-id"
KEY_VAULT = "https://loom-kv.vault.azure.net/secrets"


@dataclass
class StorageSpec:
    name: str
    account_name: str
    share_name: str
    access_mode: str = "ReadWrite"
    account_key_vault_url: str | None = None  # the account key as a Key Vault secret (needed to create)
    identity: str | None = None


@dataclass
class AppSpec:
    name: str
    role: str
    image: str | None = None  # None: keep the live image (`loomctl deploy app` manages it)
    identity: str | None = None
    revisions_mode: str = "Single"
    cpu: float = 0.5
    memory: str = "1Gi"
    min_replicas: int = 1
    max_replicas: int = 10
    ingress: dict[str, Any] | None = None  # external, target_port, transport, allow_insecure
    env: dict[str, Any] = field(default_factory=dict)  # NAME -> "value" | {secret = "name"}
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> {key_vault_url, identity}
    volumes: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> {storage, mount_path, type}
    scale_rules: list[dict[str, Any]] = field(default_factory=list)  # REST shape: {name, http|custom|tcp: ...}


@dataclass
class Spec:
    source: str
    storages: dict[str, StorageSpec] = field(default_factory=dict)
    apps: dict[str, AppSpec] = field(default_factory=dict)


def reference(relay: str = "gun-relay", node: str = "loom-node") -> Spec:
    """The reference architecture, corrected."""
    share = "gun-storage"
    return Spec(
        source="reference architecture (built-in defaults)",
        storages={share: StorageSpec(share, "loomstorage01", share, "ReadWrite")},
        apps={
            relay: AppSpec(
                relay, "relay", identity=IDENTITY_NAME, cpu=0.5, memory="1Gi", min_replicas=2, max_replicas=5,
                ingress={"external": False, "target_port": 8765, "transport": "http", "allow_insecure": True},
                env={"GUN_PORT": "8765", "GUN_DATA_PATH": "/opt/data/$(CONTAINER_APP_REPLICA_NAME)"},
                volumes={"gun-data": {"storage": share, "mount_path": "/opt/data"}},
                scale_rules=[{"name": "http-scaling", "http": {"metadata": {"concurrentRequests": "100"}}}]),
            node: AppSpec(
                node, "node", identity=IDENTITY_NAME, cpu=1.0, memory="2Gi", min_replicas=3, max_replicas=20,
                ingress={"external": True, "target_port": 3000, "transport": "auto", "allow_insecure": False},
                env={"GUN_ENABLED": "true", "GUN_SERVER_PORT": "8765",
                     "GUN_PEERS": "http://{relay_app}.internal.{default_domain}/gun",
                     "GUN_DATA_PATH": "/mnt/gun-data/$(CONTAINER_APP_REPLICA_NAME)",
                     "GUN_ALLOW_OFFLINE": "true", "OPENAI_API_KEY": {"secret": "openai-api-key"}},
                secrets={"openai-api-key": {"key_vault_url": f"{KEY_VAULT}/openai-api-key",
                                            "identity": IDENTITY_NAME}},
                volumes={"gun-data": {"storage": share, "mount_path": "/mnt/gun-data"}},
                scale_rules=[{"name": "cpu-scaling", "custom": {"type": "cpu", "metadata": {
                    "type": "Utilization", "value": "70"}}}]),
        })


# -- load ---------------------------------------------------------------------------------------------------
_STORAGE_KEYS = {"account_name": str, "share_name": str, "access_mode": str, "account_key_vault_url": str,
                 "identity": str}
_APP_KEYS = {"role": str, "image": str, "identity": str, "revisions_mode": str, "cpu": (int, float), "memory": str,
             "min_replicas": int, "max_replicas": int, "ingress": dict, "env": dict, "secrets": dict,
             "volumes": dict, "scale_rules": list}
_INGRESS_KEYS = {"external": bool, "target_port": int, "transport": str, "allow_insecure": bool}
# the bounds Container Apps accepts (Microsoft.App containerApps: scale minReplicas 0-1000, maxReplicas 1-1000,
# ingress targetPort a TCP port, consumption CPU 0.25-4 cores): a value outside is refused here, not by Azure
# half-way through an apply
_BOUNDS = {"min_replicas": (0, 1000), "max_replicas": (1, 1000), "target_port": (1, 65535), "cpu": (0.25, 4.0)}


def _bounded(table: dict[str, Any], where: str, path: str) -> None:
    for k, (low, high) in _BOUNDS.items():
        v = table.get(k)
        if v is not None and not low <= v <= high:
            raise ConfigError(f"key '{k}' in [{where}] of {path} is {v!r}, outside {low:g} to {high:g}",
                              "Container Apps accepts only values in that range; see `loomctl deploy infra --export`")


def _check(table: dict[str, Any], allowed: dict[str, Any], where: str, path: str) -> None:
    for k, v in table.items():
        if k not in allowed:
            raise ConfigError(f"unknown key '{k}' in [{where}] of {path}", f"known keys: {', '.join(sorted(allowed))}")
        kind = allowed[k]
        if isinstance(v, bool) and kind in (int, (int, float)) or not isinstance(v, kind):
            name = kind.__name__ if isinstance(kind, type) else "number"
            raise ConfigError(f"key '{k}' in [{where}] of {path} must be a {name}, not {v!r}",
                              "see `loomctl deploy infra --export` for a valid spec")


def parse(doc: dict[str, Any], source: str) -> Spec:
    for k in doc:
        if k not in ("storages", "apps"):
            raise ConfigError(f"unknown table [{k}] in {source}", "a spec has [storages.NAME] and [apps.NAME] tables")
    spec = Spec(source)
    for name, t in (doc.get("storages") or {}).items():
        _check(t, _STORAGE_KEYS, f"storages.{name}", source)
        for req in ("account_name", "share_name"):
            if req not in t:
                raise ConfigError(f"[storages.{name}] in {source} has no {req}", f"add {req} = \"...\"")
        spec.storages[name] = StorageSpec(name, **t)
    for name, t in (doc.get("apps") or {}).items():
        _check(t, _APP_KEYS, f"apps.{name}", source)
        _bounded(t, f"apps.{name}", source)
        if t.get("ingress") is not None:
            _check(t["ingress"], _INGRESS_KEYS, f"apps.{name}.ingress", source)
            _bounded(t["ingress"], f"apps.{name}.ingress", source)
        if t.get("min_replicas", 0) > t.get("max_replicas", 1000):
            raise ConfigError(f"[apps.{name}] in {source} has min_replicas {t['min_replicas']} above max_replicas "
                              f"{t.get('max_replicas')}", "make max_replicas at least min_replicas")
        for env, v in (t.get("env") or {}).items():
            if not isinstance(v, str) and not (isinstance(v, dict) and set(v) == {"secret"}):
                raise ConfigError(f"env {env} of [apps.{name}] in {source} must be a string or {{secret = \"name\"}}",
                                  "secret values never go in the spec: reference a Key Vault secret")
        for sname, s in (t.get("secrets") or {}).items():
            if not isinstance(s, dict) or "value" in s or "key_vault_url" not in s:
                raise ConfigError(f"secret '{sname}' of [apps.{name}] in {source} must be a Key Vault reference",
                                  'write {key_vault_url = "https://VAULT.vault.azure.net/secrets/NAME", '
                                  'identity = "IDENTITY"}; never a value')
        for v in (t.get("volumes") or {}).values():
            if not isinstance(v, dict) or "storage" not in v or "mount_path" not in v:
                raise ConfigError(f"a volume of [apps.{name}] in {source} needs storage and mount_path",
                                  'e.g. gun-data = {storage = "gun-storage", mount_path = "/mnt/gun-data"}')
        kw = dict(t)
        kw.setdefault("role", "app")
        if "cpu" in kw:
            kw["cpu"] = float(kw["cpu"])
        spec.apps[name] = AppSpec(name, **kw)
    return spec


def load(path: str | None, relay: str, node: str) -> Spec:
    if path is None:
        if Path("loom.toml").is_file():
            path = "loom.toml"
        else:
            return reference(relay, node)
    from loomctl.core.files import read_text

    try:
        text = read_text(path, "give the path of a spec file (TOML)")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"spec file '{path}' is not UTF-8 text: {exc}", "save it as UTF-8 TOML") from None
    if text is None:
        raise ConfigError(f"spec file '{path}' not found",
                          "write one with `loomctl deploy infra --export > loom.toml`, or omit --spec for the defaults")
    try:
        import tomllib  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"spec file '{path}' is not valid TOML: {exc}", "fix the line named above") from None
    return parse(doc, str(path))


# -- save ---------------------------------------------------------------------------------------------------


def dumps(spec: Spec, header: str = "") -> str:
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    if lines:
        lines.append("")
    for s in spec.storages.values():
        lines.append(f"[storages.{toml.key(s.name)}]")
        for k in _STORAGE_KEYS:
            v = getattr(s, k)
            if v is not None:
                lines.append(f"{k} = {toml.value(v)}")
        lines.append("")
    for a in spec.apps.values():
        lines.append(f"[apps.{toml.key(a.name)}]")
        for k in ("role", "image", "identity", "revisions_mode", "cpu", "memory", "min_replicas", "max_replicas",
                  "scale_rules"):
            v = getattr(a, k)
            if v is not None:
                lines.append(f"{k} = {toml.value(v)}")
        for table in ("ingress", "env", "secrets", "volumes"):
            v = getattr(a, table)
            if v:
                lines += ["", f"[apps.{toml.key(a.name)}.{table}]"]
                lines += [f"{toml.key(k)} = {toml.value(x)}" for k, x in v.items()]
        lines.append("")
    return "\n".join(lines)


def resolved(spec: Spec, default_domain: str | None, relay_app: str, sub: str, rg: str) -> Spec:
    """The spec with `{default_domain}`/`{relay_app}` filled in and identity names as resource ids."""
    out = copy.deepcopy(spec)

    def ident(v: str | None) -> str | None:
        if not v or v.startswith("/") or v.lower() == "system":
            return v
        return (f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/"
                f"userAssignedIdentities/{v}")

    def fill(v: Any) -> Any:
        if isinstance(v, str):
            return v.replace("{default_domain}", default_domain or "{default_domain}").replace("{relay_app}", relay_app)
        return v

    for s in out.storages.values():
        s.identity = ident(s.identity)
    for a in out.apps.values():
        a.identity = ident(a.identity)
        a.env = {k: fill(v) for k, v in a.env.items()}
        a.secrets = {k: {**v, "identity": ident(v.get("identity"))} for k, v in a.secrets.items()}
    return out
