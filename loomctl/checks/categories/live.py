"""Helpers shared by the categories that read the live deployment (Configuration, Storage, Runtime)."""

from __future__ import annotations

import dataclasses
import functools
import posixpath
import re
from dataclasses import dataclass
from typing import Any, Callable

from loomctl.checks.base import Outcome, skipped
from loomctl.azure.model import App

PER_REPLICA = re.compile(r"\$(\(|\{)?(CONTAINER_APP_REPLICA_NAME|HOSTNAME)\b")


def azure_only(run: Callable[..., Outcome], needs: tuple[str, ...]) -> Callable[..., Outcome]:
    """Skip (with the reason) on a profile without an Azure deployment, before any input is fetched.

    The check's spec needs only "settings" and "inputs"; its own `needs` are fetched here, per app when the
    input is registered per app, exactly as the runner would.
    """

    @functools.wraps(run)
    def wrapper(settings: Any, inputs: Any, app: Any = None) -> Outcome:
        if not settings.azure_enabled:
            return skipped(f"profile '{settings.profile}' has no Azure deployment (azure = false)")
        kw: dict[str, Any] = {} if app is None else {"app": app}
        for name in needs:
            scoped = f"{name}:{app.name}" if app is not None else None
            kw[name] = inputs.get(scoped) if scoped and inputs.has(scoped) else inputs.get(name)
        outcome = run(**kw)
        if outcome.hint:  # commands in hints name this deployment, ready to paste
            hint = outcome.hint
            for placeholder, value in (("<group>", settings.get("resource_group")),
                                       ("<env>", settings.get("environment"))):
                if value:
                    hint = hint.replace(placeholder, str(value))
            outcome = dataclasses.replace(outcome, hint=hint)
        return outcome

    return wrapper


LIVE_NEEDS = ("settings", "inputs")


def live_providers(apps: list[Any]) -> dict[str, Any]:
    """Inputs every live category registers: the Inputs object itself, and each app's model as "app_obj"."""
    out: dict[str, Any] = {"inputs": lambda i: i}
    out.update({f"app_obj:{ref.name}": (lambda i, n=ref.name: i.get(f"app:{n}")) for ref in apps})
    return out


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
