"""Writes to Container Apps through azure-mgmt-appcontainers, and the reads a rollout polls (REST, read afresh).

Every write is logged to stderr (`write: <OPERATION> <resource> (<what>)`). A 409 (another operation is in
progress on the resource) is waited out and retried until the deadline. Long-running operations are polled
every LOOMCTL_POLL_INTERVAL seconds (default 5; the SDK's own default is 30).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from loomctl.azure.errors import OperationFailed, sdk_errors
from loomctl.core import environment
from loomctl.core.errors import AzureError
from loomctl.core.retry import Deadline, poll, retry

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.azure.session import AzureSession

T = TypeVar("T")


def poll_interval() -> float:
    return max(0.0, environment.get("LOOMCTL_POLL_INTERVAL"))


class OperationTimeout(Exception):
    """A wait ran out of time (the caller decides what that means)."""


def _status(exc: BaseException) -> int | None:
    return exc.status if isinstance(exc, AzureError) else None


def _as_dict(model: Any) -> dict[str, Any]:
    if model is None:
        return {}
    if hasattr(model, "as_dict"):
        return model.as_dict()
    return dict(model)


class Writer:
    """Container Apps reads and writes for one resource group, with logging, 409 waits and LRO polling."""

    def __init__(self, session: AzureSession, log: Callable[[str], None]):
        self.session = session
        self.rg = str(session.settings.resource_group)
        self.log = log

    @property
    def client(self) -> Any:
        return self.session.containerapps()

    # -- reads (REST dicts, read afresh over azure-core's pipeline: `AzureSession.arm_get` / `arm_list`) ------
    def _app_path(self, name: str, *rest: str) -> str:
        from loomctl.azure.deployment import _name, _path

        return _path(self.session, "providers/Microsoft.App/containerApps", _name(name), *map(_name, rest))

    def get_app(self, name: str) -> dict[str, Any]:
        from loomctl.azure.deployment import get_app

        return get_app(self.session, name, fresh=True).raw

    def find_app(self, name: str) -> dict[str, Any] | None:
        from loomctl.azure.deployment import APP_API

        try:
            return self.session.arm_get(self._app_path(name), APP_API)
        except AzureError as exc:
            if exc.status == 404 and exc.code not in ("ResourceGroupNotFound", "SubscriptionNotFound"):
                return None
            raise

    def revisions(self, app: str) -> list[dict[str, Any]]:
        from loomctl.azure.deployment import APP_API, parsed

        return [parsed(f"the revisions of '{app}'", "a revision", dict, r)
                for r in self.session.arm_list(self._app_path(app, "revisions"), APP_API)]

    def revision(self, app: str, name: str) -> dict[str, Any] | None:
        from loomctl.azure.deployment import APP_API

        try:
            return self.session.arm_get(self._app_path(app, "revisions", name), APP_API)
        except AzureError as exc:
            if exc.status == 404:
                return None
            raise

    def replicas(self, app: str, revision: str) -> list[dict[str, Any]]:
        from loomctl.azure.deployment import APP_API

        try:
            return self.session.arm_list(self._app_path(app, "revisions", revision, "replicas"), APP_API)
        except AzureError as exc:
            if exc.status == 404:
                return []
            raise

    def storages(self, env: str) -> list[dict[str, Any]]:
        from loomctl.azure.deployment import APP_API, _name, _path

        return self.session.arm_list(_path(self.session, "providers/Microsoft.App/managedEnvironments", _name(env),
                                           "storages"), APP_API)

    # -- writes ------------------------------------------------------------------------------------------
    def _retry_conflicts(self, call: Callable[[], T], what: str, deadline: Deadline) -> T:
        """Run `call`; on 409 (an operation in progress) wait and retry until the deadline."""
        tries = 0

        def attempt() -> T:
            nonlocal tries
            tries += 1
            with sdk_errors():
                return call()

        def waiting(_exc: BaseException, wait: float) -> None:
            self.log(f"wait: {what}: another operation is in progress (409); retrying in {wait:g} s")

        try:
            return retry(attempt, retry_on=lambda exc: _status(exc) == 409, deadline=deadline,
                         backoff=lambda _n: max(poll_interval(), 0.05), on_retry=waiting)
        except AzureError as exc:
            if exc.status != 409:
                raise
            raise AzureError(f"{what}: another operation on the resource was still in progress (409) "
                             f"after {deadline.seconds:g} s and {tries} tries",
                             "wait for it to finish (`loomctl deploy status`), or raise --timeout",
                             status=409) from None

    def _wait_lro(self, poller: Any, what: str, deadline: Deadline) -> dict[str, Any]:
        def timed_out() -> Any:
            raise OperationTimeout(f"{what} did not finish within {deadline.seconds:g} s")

        try:
            with sdk_errors():
                poll(lambda: True if poller.done() else None, deadline=deadline,
                     interval=min(0.2, max(poll_interval(), 0.02)), on_timeout=timed_out)
                return _as_dict(poller.result())
        except OperationFailed as exc:
            if not exc.reason:
                raise
            raise OperationFailed(f"Azure could not finish {what}: {exc.reason}", exc.hint, failure=exc.failure,
                                  reason=exc.reason) from None

    def patch_app(self, name: str, body: dict[str, Any], what: str, deadline: Deadline,
                  wait: bool = True) -> dict[str, Any] | None:
        self.log(f"write: PATCH container app '{name}' ({what})")
        poller = self._retry_conflicts(
            lambda: self.client.container_apps.begin_update(self.rg, name, body, polling_interval=poll_interval(),
                                                            polling=wait),
            f"PATCH container app '{name}'", deadline)
        return self._wait_lro(poller, f"PATCH container app '{name}'", deadline) if wait else None

    def put_app(self, name: str, body: dict[str, Any], what: str, deadline: Deadline) -> dict[str, Any]:
        self.log(f"write: PUT container app '{name}' ({what})")
        poller = self._retry_conflicts(
            lambda: self.client.container_apps.begin_create_or_update(self.rg, name, body,
                                                                      polling_interval=poll_interval()),
            f"PUT container app '{name}'", deadline)
        return self._wait_lro(poller, f"PUT container app '{name}'", deadline)

    def put_storage(self, env: str, name: str, body: dict[str, Any], what: str, deadline: Deadline) -> dict[str, Any]:
        self.log(f"write: PUT environment storage '{env}/{name}' ({what})")
        return _as_dict(self._retry_conflicts(
            lambda: self.client.managed_environments_storages.create_or_update(self.rg, env, name, body),
            f"PUT environment storage '{name}'", deadline))

    def activate(self, app: str, revision: str, deadline: Deadline) -> None:
        self.log(f"write: POST activate revision '{revision}' of '{app}'")
        self._retry_conflicts(lambda: self.client.container_apps_revisions.activate_revision(self.rg, app, revision),
                              f"activate revision '{revision}'", deadline)

    def deactivate(self, app: str, revision: str, deadline: Deadline) -> None:
        self.log(f"write: POST deactivate revision '{revision}' of '{app}'")
        self._retry_conflicts(
            lambda: self.client.container_apps_revisions.deactivate_revision(self.rg, app, revision),
            f"deactivate revision '{revision}'", deadline)


def lro_failure(exc: BaseException) -> str | None:
    """The message of a failed long-running operation, else None.

    azure-core raises HttpResponseError carrying the last poll's response (status 200) and the operation's
    error when the operation ends Failed or Canceled (OperationFailed here); an error answer to the request
    itself has status >= 400.
    """
    return exc.failure if isinstance(exc, OperationFailed) else None


__all__ = ["Writer", "Deadline", "OperationTimeout", "OperationFailed", "poll_interval", "lro_failure"]
