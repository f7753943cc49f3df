"""The deployment as loomctl sees it: plain dataclasses parsed from REST-shaped (camelCase) dicts.

Parsing is pure (no I/O), so checks and renderers can be tested from fixture JSON alone.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any


def _g(d: Any, *path: str, default: Any = None) -> Any:
    for p in path:
        if not isinstance(d, dict) or p not in d or d[p] is None:
            return default
        d = d[p]
    return d


@dataclass
class Environment:
    name: str
    id: str
    location: str | None
    provisioning_state: str | None
    default_domain: str | None
    static_ip: str | None
    logs_destination: str | None
    workspace_customer_id: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, d: dict[str, Any]) -> Environment:
        p = d.get("properties") or {}
        logs = p.get("appLogsConfiguration") or {}
        return cls(
            name=d.get("name", ""),
            id=d.get("id", ""),
            location=d.get("location"),
            provisioning_state=p.get("provisioningState"),
            default_domain=p.get("defaultDomain"),
            static_ip=p.get("staticIp"),
            logs_destination=logs.get("destination"),
            workspace_customer_id=_g(logs, "logAnalyticsConfiguration", "customerId"),
            raw=d,
        )


@dataclass
class TrafficWeight:
    revision: str | None
    weight: int
    latest: bool = False
    label: str | None = None


@dataclass
class PortMapping:
    target_port: int | None
    exposed_port: int | None
    external: bool


@dataclass
class Ingress:
    external: bool
    target_port: int | None
    exposed_port: int | None
    transport: str | None
    allow_insecure: bool
    fqdn: str | None
    traffic: list[TrafficWeight] = field(default_factory=list)
    additional_ports: list[PortMapping] = field(default_factory=list)

    @classmethod
    def parse(cls, d: dict[str, Any] | None) -> Ingress | None:
        if not d:
            return None
        return cls(
            external=bool(d.get("external", False)),
            target_port=d.get("targetPort"),
            exposed_port=d.get("exposedPort") or None,
            transport=(d.get("transport") or "auto"),
            allow_insecure=bool(d.get("allowInsecure", False)),
            fqdn=d.get("fqdn"),
            traffic=[TrafficWeight(t.get("revisionName"), int(t.get("weight") or 0), bool(t.get("latestRevision")),
                                   t.get("label")) for t in d.get("traffic") or []],
            additional_ports=[PortMapping(m.get("targetPort"), m.get("exposedPort"), bool(m.get("external")))
                              for m in d.get("additionalPortMappings") or []],
        )


@dataclass
class EnvVar:
    name: str
    value: str | None
    secret_ref: str | None


@dataclass
class VolumeMount:
    volume: str
    mount_path: str
    sub_path: str | None = None


@dataclass
class Container:
    name: str
    image: str
    cpu: float | None
    memory: str | None
    env: list[EnvVar] = field(default_factory=list)
    mounts: list[VolumeMount] = field(default_factory=list)

    def env_value(self, name: str) -> str | None:
        for e in self.env:
            if e.name == name:
                return e.value
        return None


@dataclass
class Volume:
    name: str
    storage_type: str | None
    storage_name: str | None


@dataclass
class Secret:
    """An app secret as ARM's GET shows it: its name, and for a Key Vault reference the URL and identity.

    The value is write-only (`x-ms-secret`): GET never returns it, so a secret without `keyVaultUrl` is one
    whose value is stored in the app."""

    name: str
    key_vault_url: str | None
    identity: str | None

    @property
    def plain_value(self) -> bool:
        return not self.key_vault_url


@dataclass
class App:
    name: str
    id: str
    location: str | None
    provisioning_state: str | None
    running_status: str | None
    environment_id: str | None
    latest_revision: str | None
    latest_ready_revision: str | None
    revisions_mode: str | None
    ingress: Ingress | None
    containers: list[Container]
    volumes: list[Volume]
    secrets: list[Secret]
    min_replicas: int
    max_replicas: int | None
    scale_rules: list[str]
    identity_type: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def image(self) -> str | None:
        return self.containers[0].image if self.containers else None

    @classmethod
    def parse(cls, d: dict[str, Any]) -> App:
        p = d.get("properties") or {}
        conf = p.get("configuration") or {}
        tmpl = p.get("template") or {}
        scale = tmpl.get("scale") or {}
        containers = []
        for c in tmpl.get("containers") or []:
            res = c.get("resources") or {}
            containers.append(Container(
                name=c.get("name", ""), image=c.get("image", ""),
                cpu=float(res["cpu"]) if res.get("cpu") is not None else None, memory=res.get("memory"),
                env=[EnvVar(e.get("name", ""), e.get("value"), e.get("secretRef")) for e in c.get("env") or []],
                mounts=[VolumeMount(m.get("volumeName", ""), m.get("mountPath", ""), m.get("subPath"))
                        for m in c.get("volumeMounts") or []],
            ))
        return cls(
            name=d.get("name", ""),
            id=d.get("id", ""),
            location=d.get("location"),
            provisioning_state=p.get("provisioningState"),
            running_status=p.get("runningStatus"),
            environment_id=p.get("managedEnvironmentId") or p.get("environmentId"),
            latest_revision=p.get("latestRevisionName"),
            latest_ready_revision=p.get("latestReadyRevisionName"),
            revisions_mode=conf.get("activeRevisionsMode") or "Single",
            ingress=Ingress.parse(conf.get("ingress")),
            containers=containers,
            volumes=[Volume(v.get("name", ""), v.get("storageType"), v.get("storageName"))
                     for v in tmpl.get("volumes") or []],
            secrets=[Secret(s.get("name", ""), s.get("keyVaultUrl"), s.get("identity"))
                     for s in conf.get("secrets") or []],
            min_replicas=int(scale.get("minReplicas") or 0),
            max_replicas=scale.get("maxReplicas"),
            scale_rules=[r.get("name", "") for r in scale.get("rules") or []],
            identity_type=_g(d, "identity", "type"),
            raw=d,
        )


@dataclass
class Revision:
    name: str
    active: bool
    created: str | None
    provisioning_state: str | None
    health_state: str | None
    running_state: str | None
    replicas: int
    traffic_weight: int
    image: str | None
    fqdn: str | None

    @classmethod
    def parse(cls, d: dict[str, Any]) -> Revision:
        p = d.get("properties") or {}
        containers = _g(p, "template", "containers", default=[]) or []
        return cls(
            name=d.get("name", ""),
            active=bool(p.get("active", False)),
            created=p.get("createdTime"),
            provisioning_state=p.get("provisioningState"),
            health_state=p.get("healthState"),
            running_state=p.get("runningState"),
            replicas=int(p.get("replicas") or 0),
            traffic_weight=int(p.get("trafficWeight") or 0),
            image=containers[0].get("image") if containers else None,
            fqdn=p.get("fqdn"),
        )


@dataclass
class ContainerState:
    name: str
    ready: bool
    started: bool
    restart_count: int
    running_state: str | None
    running_state_details: str | None


@dataclass
class Replica:
    name: str
    revision: str
    created: str | None
    running_state: str | None
    running_state_details: str | None
    containers: list[ContainerState]

    @property
    def restarts(self) -> int:
        return sum(c.restart_count for c in self.containers)

    @classmethod
    def parse(cls, d: dict[str, Any], revision: str) -> Replica:
        p = d.get("properties") or {}
        return cls(
            name=d.get("name", ""),
            revision=revision,
            created=p.get("createdTime"),
            running_state=p.get("runningState"),
            running_state_details=p.get("runningStateDetails"),
            containers=[ContainerState(c.get("name", ""), bool(c.get("ready")), bool(c.get("started")),
                                       int(c.get("restartCount") or 0), c.get("runningState"),
                                       c.get("runningStateDetails")) for c in p.get("containers") or []],
        )


# Where GUN_DATA_PATH lands: the mount that holds it and the folder on the share (a fact of the definition).
PER_REPLICA = re.compile(r"\$(\(|\{)?(CONTAINER_APP_REPLICA_NAME|HOSTNAME)\b")


@dataclass
class DataLocation:
    """Where an app's GUN radisk data lands: the env var, the mount that holds it, the folder on the share."""

    app: str
    data_path: str | None
    volume: str | None = None  # volume name of the mount holding the path
    storage: str | None = None  # environment storage name of that volume
    mount_path: str | None = None
    folder: str | None = None  # folder on the share (subPath + path below the mount), "" for the share root
    per_replica: bool = False


def data_location(app: App) -> DataLocation:
    c = app.containers[0] if app.containers else None
    path = c.env_value("GUN_DATA_PATH") if c else None
    loc = DataLocation(app.name, path, per_replica=bool(path and PER_REPLICA.search(path)))
    if not c or not path:
        return loc
    norm = posixpath.normpath(path)
    best = None
    for m in c.mounts:
        mp = posixpath.normpath(m.mount_path or "/")
        if norm == mp or norm.startswith(mp.rstrip("/") + "/"):
            if best is None or len(mp) > len(posixpath.normpath(best.mount_path)):
                best = m
    if best is None:
        return loc
    vol = next((v for v in app.volumes if v.name == best.volume), None)
    rel = posixpath.relpath(norm, posixpath.normpath(best.mount_path))
    rel = "" if rel == "." else rel
    folder = posixpath.join(best.sub_path or "", rel).strip("/")
    loc.volume, loc.mount_path, loc.folder = best.volume, best.mount_path, folder
    loc.storage = vol.storage_name if vol else None
    return loc
