"""Helpers shared by the categories that read the live deployment (Configuration, Storage, Runtime)."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any

from loomctl.azure.model import App

PER_REPLICA = re.compile(r"\$(\(|\{)?(CONTAINER_APP_REPLICA_NAME|HOSTNAME)\b")


def live_providers(apps: list[Any]) -> dict[str, Any]:
    """Inputs every live category registers: each app's model as "app_obj"."""
    return {f"app_obj:{ref.name}": (lambda i, n=ref.name: i.get(f"app:{n}")) for ref in apps}


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
