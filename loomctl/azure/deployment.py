"""Read the live deployment (ARM's REST answers over azure-core's pipeline, `AzureSession.arm_get` / `arm_list`;
no SDK models) and return loomctl's own dataclasses.

Each resource is read at most once per process: the read functions here (and in azure/storage.py) go through
`memo`, keyed by the resource's ARM path, with errors memoised like values, so status, doctor, diagnose and
runbooks asking for the same resource (concurrently or not) share one request. Code that reads back after a write
(azure/writes.py, deploy) passes `fresh=True`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from loomctl.azure.errors import not_the_resource, sdk_errors
from loomctl.azure.model import App, Environment, Replica, Revision
from loomctl.core.errors import AzureError

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.azure.session import AzureSession

T = TypeVar("T")

SUBSCRIPTION_API = "2022-12-01"
RESOURCE_GROUP_API = "2021-04-01"
APP_API = "2026-07-01"  # Microsoft.App (the version azure-mgmt-appcontainers 5.1 speaks, for writes)


def _name(name: str) -> str:
    """A resource name as one URL path segment."""
    from urllib.parse import quote

    return quote(str(name), safe="")


def _rest(model: Any) -> dict[str, Any]:
    """The REST body (a dict as read, or an SDK model of the write side: camelCase keys, plain dicts)."""
    if hasattr(model, "as_dict"):
        return model.as_dict()
    return model.serialize(keep_readonly=True) if hasattr(model, "serialize") else dict(model)


def parsed(what: str, expected: str, parse: Callable[..., T], model: Any, *extra: Any) -> T:
    """A REST answer (or an SDK model) as loomctl's dataclass. An answer of another shape (a proxy's JSON, another
    API: a list, null, no name, `properties` that is not an object) is an AzureError naming the resource."""
    try:
        body = _rest(model)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"] \
                or not isinstance(body.get("properties", {}), dict):
            raise TypeError(f"not {expected}: {type(body).__name__}")
        return parse(body, *extra)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise not_the_resource(what, expected) from exc


def memo(session: AzureSession, path: str, fetch: Callable[[], T], fresh: bool = False) -> T:
    """`fetch()` once per session for the resource at ARM `path` (case-insensitive); every later or concurrent
    caller gets its value, or the same error raised again. `fresh`: fetch now, past the memo (and keep nothing)."""
    if fresh:
        return fetch()

    def capture() -> tuple[bool, Any]:
        try:
            return True, fetch()
        except Exception as exc:  # noqa: BLE001 - memoised and raised again for every caller
            return False, exc

    ok, value = session.client(f"read {path.lower()}", capture)  # the session's OncePerKey (core/once.py)
    if not ok:
        raise value
    return value


def _path(session: AzureSession, *parts: str) -> str:
    s = session.settings
    return "/".join([f"/subscriptions/{s.subscription}/resourceGroups/{s.resource_group}", *parts])


def _not_found(exc: Exception) -> bool:
    """Azure answered 404 (azure/ raises error answers as AzureError with `.status`)."""
    return isinstance(exc, AzureError) and exc.status == 404


def _scope_missing(exc: AzureError, session: AzureSession) -> AzureError | None:
    """A 404 that is about the subscription or resource group, not the resource asked for."""
    code = str(exc.code or "")
    s = session.settings
    if code == "SubscriptionNotFound":
        return AzureError(f"subscription '{s.subscription}' not found or not visible to this identity",
                          "check --subscription / AZURE_SUBSCRIPTION_ID; `az account list` shows what you can see",
                          status=404, code=code)
    if code == "ResourceGroupNotFound":
        return AzureError(f"resource group '{s.resource_group}' not found in subscription {s.subscription}",
                          "check -g/--resource-group (env LOOMCTL_RESOURCE_GROUP); `az group list` shows them",
                          status=404, code=code)
    return None


def get_subscription(session: AzureSession) -> dict[str, Any]:
    sub = session.settings.subscription
    return memo(session, f"/subscriptions/{sub}", lambda: _get_subscription(session))


def _get_subscription(session: AzureSession) -> dict[str, Any]:
    sub = session.settings.subscription
    try:
        return session.arm_get(f"/subscriptions/{sub}", SUBSCRIPTION_API)
    except AzureError as exc:
        if _not_found(exc):
            raise AzureError(f"subscription '{sub}' not found or not visible to this identity",
                             "check --subscription / AZURE_SUBSCRIPTION_ID; `az account list` shows what you can see",
                             status=404) from exc
        raise


def get_resource_group(session: AzureSession) -> dict[str, Any]:
    session.settings.require("subscription", "resource_group")
    return memo(session, _path(session), lambda: _get_resource_group(session))


def _get_resource_group(session: AzureSession) -> dict[str, Any]:
    rg = session.settings.resource_group
    try:
        return session.arm_get(f"/subscriptions/{session.settings.subscription}/resourcegroups/{rg}",
                               RESOURCE_GROUP_API)
    except AzureError as exc:
        if _not_found(exc):
            raise AzureError(f"resource group '{rg}' not found in subscription {session.settings.subscription}",
                             "check -g/--resource-group (env LOOMCTL_RESOURCE_GROUP); `az group list` shows them",
                             status=404) from exc
        raise


def _read_one(session: AzureSession, fetch: Callable[[], Any], missing: AzureError) -> Any:
    """One read. A 404 is `missing`, unless what is missing is the resource group or subscription around it."""
    try:
        with sdk_errors():
            return fetch()
    except AzureError as exc:
        if _not_found(exc):
            raise _scope_missing(exc, session) or missing from exc
        raise


def get_environment(session: AzureSession, fresh: bool = False) -> Environment:
    session.settings.require("subscription", "resource_group", "environment")
    path = _path(session, "providers/Microsoft.App/managedEnvironments", _name(session.settings.environment))
    return memo(session, path, lambda: _get_environment(session, path), fresh)


def _get_environment(session: AzureSession, path: str) -> Environment:
    rg, name = session.settings.resource_group, session.settings.environment
    model = _read_one(session, lambda: session.arm_get(path, APP_API), AzureError(
        f"Container Apps environment '{name}' not found in resource group '{rg}'",
        "check --environment (env LOOMCTL_ENVIRONMENT); `az containerapp env list -g <group>` shows them",
        status=404))
    return parsed(f"Container Apps environment '{name}'", "an environment", Environment.parse, model)


def get_app(session: AzureSession, name: str, fresh: bool = False) -> App:
    session.settings.require("subscription", "resource_group")
    path = _path(session, "providers/Microsoft.App/containerApps", _name(name))
    return memo(session, path, lambda: _get_app(session, name, path), fresh)


def _get_app(session: AzureSession, name: str, path: str) -> App:
    rg = session.settings.resource_group
    model = _read_one(session, lambda: session.arm_get(path, APP_API), AzureError(
        f"container app '{name}' not found in resource group '{rg}'",
        "check --relay-app / --node-app (or relay_app / node_app in the profile); "
        "`az containerapp list -g <group>` shows them", status=404))
    return parsed(f"container app '{name}'", "a container app", App.parse, model)


def list_revisions(session: AzureSession, app: str) -> list[Revision]:
    path = _path(session, "providers/Microsoft.App/containerApps", _name(app), "revisions")

    def fetch() -> list[Revision]:
        with sdk_errors():
            items = session.arm_list(path, APP_API)
        return [parsed(f"the revisions of '{app}'", "a revision", Revision.parse, m) for m in items]

    return list(memo(session, path, fetch))


def replicas_path(session: AzureSession, app: str, revision: str) -> str:
    return _path(session, "providers/Microsoft.App/containerApps", _name(app), "revisions", _name(revision),
                 "replicas")


def list_replica_bodies(session: AzureSession, app: str, revision: str) -> list[dict[str, Any]]:
    """The replicas of a revision as ARM answers them (REST dicts), read once per process."""
    path = replicas_path(session, app, revision)
    return list(memo(session, path, lambda: session.arm_list(path, APP_API)))


def list_replicas(session: AzureSession, app: str, revision: str) -> list[Replica]:
    return [parsed(f"the replicas of '{revision}'", "a replica", Replica.parse, m, revision)
            for m in list_replica_bodies(session, app, revision)]


def parallel(funcs: list[Callable[[], T]], workers: int = 8) -> list[T]:
    """Run independent calls concurrently; the first error is raised after all have finished."""
    if not funcs:
        return []
    with ThreadPoolExecutor(max_workers=min(workers, len(funcs))) as pool:
        futures = [pool.submit(f) for f in funcs]
        return [f.result() for f in futures]


@dataclass
class AppState:
    app: App
    revisions: list[Revision] = field(default_factory=list)
    replicas: list[Replica] = field(default_factory=list)

    @property
    def running_replicas(self) -> int:
        return sum(1 for r in self.replicas if (r.running_state or "").lower() == "running")


def app_state(session: AzureSession, name: str, with_replicas: bool = True) -> AppState:
    app, revisions = parallel([lambda: get_app(session, name), lambda: list_revisions(session, name)])
    replicas: list[Replica] = []
    if with_replicas:
        active = [r.name for r in revisions if r.active]
        for chunk in parallel([lambda n=n: list_replicas(session, name, n) for n in active]):
            replicas.extend(chunk)
    return AppState(app, revisions, replicas)


@dataclass
class DeploymentState:
    environment: Environment
    apps: dict[str, AppState]


def deployment_state(session: AzureSession, app_names: list[str]) -> DeploymentState:
    """The environment and each app with revisions and replicas, all fetched concurrently."""
    calls: list[Callable[[], Any]] = [lambda: get_environment(session)]
    calls += [lambda n=n: app_state(session, n) for n in app_names]
    env, *states = parallel(calls)
    return DeploymentState(env, {s.app.name: s for s in states})
