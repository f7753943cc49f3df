"""The write side of the local Azure: PUT/PATCH of container apps and environment storages, revisions.

Installed per test by `install(server)` (see tests/deploy_helpers.py), which adds routes with
`server.route(...)`. Behaviour follows Microsoft's examples (ContainerApps_Patch.json: 202 with an
`Azure-AsyncOperation` header, here pointing at this server; ContainerApps_CreateOrUpdate.json: 200/201):

- PATCH merges the body into the app (JSON merge patch: objects merge, lists replace). PUT replaces it.
- A change of `properties.template` creates a revision `<app>--<revisionSuffix>` (a generated suffix when none
  is given); a suffix already used answers 400 like Azure.
- The operation answers `InProgress` for `polls` polls, then `Succeeded` (or `Failed`).
- `scenario` decides what the new revision does: "ok" (provisioned, min replicas running, healthy),
  "fail" (provisioning fails, the operation fails), "unhealthy" (provisioned, replicas crash-loop),
  "hang" (the operation never finishes and the revision stays Provisioning).
- Traffic: in Single mode the one ready active revision gets 100 %; in Multiple mode the ingress
  `traffic` list decides (`latestRevision` means the latest revision).
"""

from __future__ import annotations

import copy
import itertools
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.fakeazure import contract, topology
from tests.fakeazure.server import FakeAzure, Request, Response, arm_error

SUB = r"/subscriptions/([^/]+)/resource[gG]roups/([^/]+)/providers/Microsoft\.App"
_counter = itertools.count(1)

READ_ONLY_APP = ("provisioningState", "runningStatus", "latestRevisionName", "latestReadyRevisionName",
                 "latestRevisionFqdn", "eventStreamEndpoint", "outboundIpAddresses", "customDomainVerificationId")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


@dataclass
class Operation:
    id: str
    polls_left: int
    outcome: str  # "Succeeded" | "Failed"
    on_done: Any = None  # callable run once when the operation finishes
    error: dict[str, Any] | None = None
    done: bool = False


@dataclass
class FakeWrites:
    server: FakeAzure
    scenario: str = "ok"  # what the next new revision does: ok | fail | unhealthy | hang
    polls: int = 1  # InProgress answers before the operation finishes
    async_put: bool = True  # PUT answers 201 + Azure-AsyncOperation (else 200 at once)
    operations: dict[str, Operation] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- helpers ----------------------------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any]:
        return self.server.state

    def revisions(self, app: str) -> list[dict[str, Any]]:
        return self.state.setdefault("revisions", {}).setdefault(app, [])

    def revision(self, app: str, name: str) -> dict[str, Any] | None:
        return next((r for r in self.revisions(app) if r["name"] == name), None)

    def _start(self, outcome: str, on_done: Any, error: dict[str, Any] | None = None, hang: bool = False) -> str:
        op = Operation(str(uuid.uuid4()), 10**9 if hang else self.polls, outcome, on_done, error)
        self.operations[op.id] = op
        return op.id

    def _async_url(self, op_id: str) -> str:
        return (f"{self.server.url}/subscriptions/{topology.SUB}/providers/Microsoft.App/locations/eastus/"
                f"containerappOperationResults/{op_id}?api-version=2026-07-01")

    # -- routes -----------------------------------------------------------------------------------------
    def install(self) -> FakeWrites:
        r = self.server.route
        r("PATCH", SUB + r"/containerApps/([^/]+)", self.patch_app)
        r("PUT", SUB + r"/containerApps/([^/]+)", self.put_app)
        r("PUT", SUB + r"/managedEnvironments/([^/]+)/storages/([^/]+)", self.put_storage)
        r("POST", SUB + r"/containerApps/([^/]+)/revisions/([^/]+)/(activate|deactivate|restart)", self.revision_action)
        r(
            "GET",
            r"/subscriptions/([^/]+)/providers/Microsoft\.App/locations/([^/]+)/containerappOperationResults/([^/]+)",
            self.operation_status,
        )
        return self

    def _scope(self, m: re.Match[str]) -> Response | None:
        if m.group(1) != self.state.get("subscription") or m.group(2).lower() != self.state["resource_group"].lower():
            return Response(404, arm_error("ResourceGroupNotFound",
                                           f"Resource group '{m.group(2)}' could not be found."))
        return None

    def patch_app(self, req: Request, m: re.Match[str]) -> Any:
        if (bad := self._scope(m)) is not None:
            return bad
        with self.lock:
            name = m.group(3)
            app = self.state.get("apps", {}).get(name)
            if app is None:
                return Response(404, arm_error("ResourceNotFound",
                                               f"The Resource 'Microsoft.App/containerApps/{name}' "
                                               f"under resource group '{m.group(2)}' was not found."))
            body = req.json() or {}
            for k in READ_ONLY_APP:
                (body.get("properties") or {}).pop(k, None)
            new = merge_patch(app, body)
            return self._write_app(name, app, new, status=202)

    def put_app(self, req: Request, m: re.Match[str]) -> Any:
        if (bad := self._scope(m)) is not None:
            return bad
        with self.lock:
            name = m.group(3)
            body = req.json() or {}
            old = self.state.get("apps", {}).get(name)
            props = body.setdefault("properties", {})
            for k in READ_ONLY_APP:
                props.pop(k, None)
            new = copy.deepcopy(body)
            new.update({"name": name, "type": "Microsoft.App/containerApps",
                        "id": f"/subscriptions/{topology.SUB}/resourceGroups/{topology.RG}/providers/"
                              f"Microsoft.App/containerApps/{name}"})
            ing = (new["properties"].get("configuration") or {}).get("ingress")
            if ing is not None:
                dom = topology.DOMAIN
                ing["fqdn"] = f"{name}.{'' if ing.get('external') else 'internal.'}{dom}"
                ing.setdefault("traffic", [{"weight": 100, "latestRevision": True}])
            return self._write_app(name, old, new, status=(201 if old is None else 200))

    def _write_app(self, name: str, old: dict[str, Any] | None, new: dict[str, Any], status: int) -> Response:
        props = new.setdefault("properties", {})
        old_tmpl = copy.deepcopy((old or {}).get("properties", {}).get("template"))
        tmpl = props.get("template") or {}
        creates_revision = old is None or _strip_suffix(old_tmpl) != _strip_suffix(tmpl) or \
            (tmpl.get("revisionSuffix") and tmpl.get("revisionSuffix") != (old_tmpl or {}).get("revisionSuffix"))
        rev_name = None
        if creates_revision:
            suffix = tmpl.get("revisionSuffix") or f"g{next(_counter):04d}"
            rev_name = f"{name}--{suffix}"
            if self.revision(name, rev_name) is not None:
                return Response(400, arm_error(
                    "InvalidParameterValueInContainerTemplate",
                    f"The revision suffix '{suffix}' is already used by revision '{rev_name}'; "
                    "a new revision needs a new suffix."))
            tmpl["revisionSuffix"] = suffix
        props["provisioningState"] = "InProgress"
        props.setdefault("runningStatus", "Running")
        self.state.setdefault("apps", {})[name] = new
        scenario = self.scenario if rev_name else "ok"
        if rev_name:
            rev = topology.revision(new, rev_name, active=True, weight=0, replicas=0, health="None",
                                    provisioning="Provisioning", running="Activating",
                                    created=_created())
            self.revisions(name).append(rev)
            props["latestRevisionName"] = rev_name
            props["latestRevisionFqdn"] = rev["properties"]["fqdn"]
        else:
            self._recompute_traffic(name)

        def finish() -> None:
            app = self.state["apps"][name]
            app["properties"]["provisioningState"] = "Succeeded" if scenario != "fail" else "Failed"
            if rev_name:
                self._settle_revision(name, rev_name, scenario)
            self._recompute_traffic(name)

        hang = scenario == "hang"
        outcome = "Failed" if scenario == "fail" else "Succeeded"
        err = None
        if scenario == "fail":
            err = arm_error("ContainerAppProvisioningFailed", f"Revision '{rev_name}' failed to provision: "
                            "image pull failed (manifest unknown)")["error"]
        is_async = status == 202 or self.async_put
        if not is_async:
            finish()
            return Response(status, contract.view("containerApp", self.state["apps"][name]))
        op_id = self._start(outcome, finish, err, hang=hang)
        headers = {"Azure-AsyncOperation": self._async_url(op_id), "Retry-After": "0"}
        if status == 202:
            return Response(202, None, headers)
        return Response(status, contract.view("containerApp", self.state["apps"][name]), headers)

    def _settle_revision(self, app_name: str, rev_name: str, scenario: str) -> None:
        app = self.state["apps"][app_name]
        rev = self.revision(app_name, rev_name)
        assert rev is not None
        p = rev["properties"]
        minimum = int((app["properties"]["template"].get("scale") or {}).get("minReplicas") or 1)
        reps = self.state.setdefault("replicas", {})
        if scenario == "ok":
            p.update(provisioningState="Provisioned", runningState="Running", healthState="Healthy",
                     replicas=minimum)
            reps[rev_name] = [topology.replica(app, rev_name, i) for i in range(minimum)]
            app["properties"]["latestReadyRevisionName"] = rev_name
        elif scenario == "unhealthy":
            p.update(provisioningState="Provisioned", runningState="Degraded", healthState="Unhealthy",
                     replicas=minimum)
            p["runningStateDetails"] = f"Deployment Progress Deadline Exceeded. 0/{minimum} replicas ready."
            reps[rev_name] = [topology.replica(app, rev_name, i, running="NotRunning", restarts=6, ready=False,
                                               details="back-off restarting failed container") for i in range(minimum)]
        elif scenario == "fail":
            p.update(provisioningState="Failed", runningState="Failed", healthState="Unhealthy", replicas=0,
                     active=False)
            p["provisioningError"] = "image pull failed: manifest unknown"
            reps[rev_name] = []

    def _mode(self, app: dict[str, Any]) -> str:
        return ((app["properties"].get("configuration") or {}).get("activeRevisionsMode") or "Single").lower()

    def _ready(self, rev: dict[str, Any]) -> bool:
        p = rev["properties"]
        return p.get("active") and p.get("provisioningState") == "Provisioned" and p.get("healthState") == "Healthy"

    def _recompute_traffic(self, app_name: str) -> None:
        app = self.state["apps"][app_name]
        revs = self.revisions(app_name)
        if self._mode(app) == "single":
            ready = [r for r in revs if self._ready(r)]
            if not ready:
                return
            newest = ready[-1]
            cut = revs.index(newest)
            for i, r in enumerate(revs):
                r["properties"]["trafficWeight"] = 100 if r is newest else 0
                if i < cut and r["properties"].get("active"):
                    self._deactivate(app_name, r)  # the previous revision stops once the new one is ready
            return
        ingress = (app["properties"].get("configuration") or {}).get("ingress") or {}
        latest = app["properties"].get("latestRevisionName")
        weights: dict[str, int] = {}
        for t in ingress.get("traffic") or []:
            target = latest if t.get("latestRevision") else t.get("revisionName")
            if target:
                weights[target] = weights.get(target, 0) + int(t.get("weight") or 0)
        for r in revs:
            r["properties"]["trafficWeight"] = weights.get(r["name"], 0)

    def _deactivate(self, app_name: str, rev: dict[str, Any]) -> None:
        rev["properties"].update(active=False, replicas=0, runningState="Stopped", trafficWeight=0)
        self.state.setdefault("replicas", {})[rev["name"]] = []

    def revision_action(self, req: Request, m: re.Match[str]) -> Any:
        if (bad := self._scope(m)) is not None:
            return bad
        with self.lock:
            app_name, rev_name, action = m.group(3), m.group(4), m.group(5)
            app = self.state.get("apps", {}).get(app_name)
            rev = self.revision(app_name, rev_name) if app else None
            if rev is None:
                return Response(404, arm_error("ContainerAppRevisionNotFound", f"revision '{rev_name}' not found"))
            if action == "deactivate":
                self._deactivate(app_name, rev)
            elif action == "activate":
                p = rev["properties"]
                if p.get("provisioningState") == "Failed":
                    return Response(400, arm_error("RevisionFailed", f"revision '{rev_name}' failed to provision"))
                minimum = int((p.get("template", {}).get("scale") or {}).get("minReplicas") or 1)
                p.update(active=True, runningState="Running", healthState="Healthy", replicas=minimum)
                self.state.setdefault("replicas", {})[rev_name] = [topology.replica(app, rev_name, i)
                                                                   for i in range(minimum)]
                if self._mode(app) == "single":  # the activated revision becomes the one that serves
                    for r in self.revisions(app_name):
                        if r is not rev and r["properties"].get("active"):
                            self._deactivate(app_name, r)
                    rev["properties"]["trafficWeight"] = 100
            self._recompute_traffic(app_name)
            return Response(200, None)

    def operation_status(self, req: Request, m: re.Match[str]) -> Any:
        with self.lock:
            op = self.operations.get(m.group(3))
            if op is None:
                return Response(404, arm_error("OperationNotFound", "no such operation"))
            body: dict[str, Any] = {"id": f"/subscriptions/{m.group(1)}/providers/Microsoft.App/locations/"
                                          f"{m.group(2)}/containerappOperationResults/{op.id}", "name": op.id}
            if op.polls_left > 0:
                op.polls_left -= 1
                body["status"] = "InProgress"
                return body
            if not op.done:
                op.done = True
                if op.on_done:
                    op.on_done()
            body["status"] = op.outcome
            if op.error:
                body["error"] = op.error
            return body

    def put_storage(self, req: Request, m: re.Match[str]) -> Any:
        if (bad := self._scope(m)) is not None:
            return bad
        with self.lock:
            env, name = m.group(3), m.group(4)
            if env != self.state["environment"]["name"]:
                return Response(404, arm_error("ResourceNotFound", f"environment '{env}' was not found."))
            body = req.json() or {}
            af = ((body.get("properties") or {}).get("azureFile") or {})
            existed = name in self.state.setdefault("storages", {})
            self.state["storages"][name] = {
                "name": name, "type": "Microsoft.App/managedEnvironments/storages",
                "id": f"/subscriptions/{topology.SUB}/resourceGroups/{topology.RG}/providers/Microsoft.App/"
                      f"managedEnvironments/{env}/storages/{name}",
                "properties": {"azureFile": dict(af)}}  # as written; the answer leaves out accountKey
            return Response(200 if existed else 201, contract.view("envStorage", self.state["storages"][name]))


def _created() -> str:
    """Creation times that rise with every revision made in this process (history sorts by them)."""
    import datetime as dt

    t = dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=next(_counter))
    return t.isoformat()


def _strip_suffix(tmpl: dict[str, Any] | None) -> dict[str, Any]:
    t = copy.deepcopy(tmpl or {})
    t.pop("revisionSuffix", None)
    return t


def install(server: FakeAzure, **kw: Any) -> FakeWrites:
    return FakeWrites(server, **kw).install()


def multiple_mode(server: FakeAzure, app: str = topology.NODE) -> None:
    """Switch an app to Multiple revision mode, its traffic pinned to the current revision by name."""
    a = server.state["apps"][app]
    a["properties"]["configuration"]["activeRevisionsMode"] = "Multiple"
    current = a["properties"]["latestRevisionName"]
    a["properties"]["configuration"]["ingress"]["traffic"] = [{"revisionName": current, "weight": 100}]


def write_requests(server: FakeAzure) -> list[tuple[str, str]]:
    """The writes loomctl sent, as (method, path below Microsoft.App), in order."""
    return [(r.method, r.path.split("/providers/Microsoft.App/")[-1]) for r in server.arm_requests()
            if r.method in ("PUT", "PATCH", "POST", "DELETE")]
