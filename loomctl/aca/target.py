"""Which replica and container to reach, where its data plane lives, and the Container Apps token for it.

The data-plane host (`{region}.azurecontainerapps.dev`) is taken as az takes it: the part of the container's
`logStreamEndpoint` before `/subscriptions/`. `LOOMCTL_ACA_DATAPLANE_ENDPOINT` (an https:// URL) overrides it,
for sovereign clouds, proxies and tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from loomctl.core import environment
from loomctl.core.errors import AzureError, ConfigError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.azure.session import AzureSession

DATAPLANE_ENV = "LOOMCTL_ACA_DATAPLANE_ENDPOINT"


@dataclass
class ReplicaInfo:
    name: str
    revision: str
    running_state: str | None
    containers: list[str]
    container_states: dict[str, str | None] = field(default_factory=dict)
    log_stream_endpoints: dict[str, str | None] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return (self.running_state or "").lower() == "running"


@dataclass
class Target:
    subscription: str
    resource_group: str
    app: str
    revision: str
    replica: str
    container: str
    dataplane: str  # https://host[:port], no trailing slash

    @property
    def path(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/containerApps/{self.app}"
                f"/revisions/{self.revision}/replicas/{self.replica}/containers/{self.container}")

    @property
    def where(self) -> str:
        return f"{self.app}/{self.replica}"


def region_host(location: str | None) -> str | None:
    if not location:
        return None
    return "https://" + re.sub(r"[\s()]", "", location).lower() + ".azurecontainerapps.dev"


def dataplane_from(endpoint: str | None, location: str | None) -> str:
    override = environment.get(DATAPLANE_ENV) or ""
    if override:
        if not override.startswith("https://"):
            raise ConfigError(f"{DATAPLANE_ENV} '{override}' is not an https:// URL",
                              "set it to the data-plane base, e.g. https://eastus.azurecontainerapps.dev")
        return override.rstrip("/")
    if endpoint and "/subscriptions/" in endpoint:
        base = endpoint.split("/subscriptions/")[0]
        base = re.sub(r"^wss://", "https://", base)
        if base.startswith("https://"):
            return base
    host = region_host(location)
    if host is None:
        raise AzureError("cannot tell the app's Container Apps data-plane host (no log stream endpoint, no location)",
                         f"set {DATAPLANE_ENV}, e.g. https://eastus.azurecontainerapps.dev")
    return host


def list_replicas(session: AzureSession, app: str, revision: str) -> list[ReplicaInfo]:
    """The revision's replicas as they are now (read afresh: exec and the log stream want the current ones)."""
    from loomctl.azure.deployment import APP_API, replicas_path

    out = []
    for d in session.arm_list(replicas_path(session, app, revision), APP_API):
        p = d.get("properties") or {}
        cs = p.get("containers") or []
        out.append(ReplicaInfo(
            name=d.get("name", ""), revision=revision, running_state=p.get("runningState"),
            containers=[c.get("name", "") for c in cs],
            container_states={c.get("name", ""): c.get("runningState") for c in cs},
            log_stream_endpoints={c.get("name", ""): c.get("logStreamEndpoint") for c in cs}))
    return out


@dataclass
class AppReplicas:
    app: str
    location: str | None
    revision: str
    template_container: str | None
    replicas: list[ReplicaInfo]


def app_replicas(session: AzureSession, app: str, revision: str | None = None) -> AppReplicas:
    """The app's (latest or named) revision and its replicas."""
    from loomctl.azure.deployment import get_app

    model = get_app(session, app)
    rev = revision or model.latest_revision
    if not rev:
        raise AzureError(f"container app '{app}' has no revision", "deploy a revision first (`loomctl deploy`)")
    try:
        replicas = list_replicas(session, app, rev)
    except AzureError as exc:
        if exc.status == 404:
            raise UsageError(f"revision '{rev}' of app '{app}' not found",
                             f"`loomctl status` lists the revisions of {app}") from exc
        raise
    container = model.containers[0].name if model.containers else None
    return AppReplicas(app, model.location, rev, container, replicas)


def resolve(session: AzureSession, app: str, replica: str | None = None, container: str | None = None,
            revision: str | None = None) -> Target:
    """The replica (the first running one by default) and container (the template's first) to reach."""
    session.settings.require("subscription", "resource_group")
    state = app_replicas(session, app, revision)
    if not state.replicas:
        raise AzureError(f"app '{app}' has no replicas in revision '{state.revision}' (scaled to zero?)",
                         f"send a request to the app to wake it, or set a minimum: "
                         f"`az containerapp update -n {app} --min-replicas 1`")
    if replica:
        chosen = next((r for r in state.replicas if r.name == replica), None)
        if chosen is None:
            names = ", ".join(r.name for r in state.replicas)
            raise UsageError(f"replica '{replica}' not found in revision '{state.revision}' of '{app}'",
                             f"replicas: {names}")
    else:
        chosen = next((r for r in state.replicas if r.running), None)
        if chosen is None:
            states = ", ".join(f"{r.name} ({r.running_state})" for r in state.replicas)
            raise AzureError(f"app '{app}' has no running replica: {states}",
                             "`loomctl logs --live --system` shows why replicas do not start")
    name = container or state.template_container or (chosen.containers[0] if chosen.containers else None)
    if not name:
        raise AzureError(f"replica '{chosen.name}' reports no containers", "try another replica with --replica")
    if chosen.containers and name not in chosen.containers:
        hint = "containers: " + ", ".join(chosen.containers)
        near = [c for c in chosen.containers if c.lower() == name.lower()]
        if near:
            hint = f"container names are case-sensitive here: use '{near[0]}'"
        raise UsageError(f"no such container: '{name}' in replica '{chosen.name}'", hint)
    dataplane = dataplane_from(chosen.log_stream_endpoints.get(name), state.location)
    s = session.settings
    return Target(str(s.subscription), str(s.resource_group), app, state.revision, chosen.name, name, dataplane)


def auth_token(session: AzureSession, app: str) -> str:
    """The Container Apps data-plane token (POST getAuthToken, no body). Never print it."""
    from loomctl.azure.deployment import APP_API, _name, _path

    try:
        doc = session.arm_post(_path(session, "providers/Microsoft.App/containerApps", _name(app), "getAuthToken"),
                               APP_API, None)
    except AzureError as exc:
        if exc.status in (401, 403):
            raise AzureError(f"not allowed to get a Container Apps token for '{app}'",
                             "exec and log streaming need the 'Container Apps Operator' role (or Contributor) on "
                             "the app", status=exc.status) from exc
        raise
    props = doc.get("properties")
    token = props.get("token") if isinstance(props, dict) else None
    if not token or not isinstance(token, str):
        raise AzureError(f"Azure returned no Container Apps token for '{app}'", "try again; if it persists, run "
                         "`az containerapp exec` to see whether the service works for this app")
    return str(token)


def resolve_with_token(session: AzureSession, app: str, replica: str | None = None, container: str | None = None,
                       revision: str | None = None) -> tuple[Target, str]:
    """`resolve` and `auth_token` concurrently (independent ARM calls)."""
    from loomctl.azure.deployment import parallel

    found, token = parallel([lambda: resolve(session, app, replica=replica, container=container, revision=revision),
                             lambda: auth_token(session, app)])
    return found, token
