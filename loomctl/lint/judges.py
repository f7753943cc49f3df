"""Which property each definition check judges, so that a finding points at its line.

A path is relative to a resource; a prefix names the resource for a check of the whole deployment: `relay:`,
`node:`, `environment:`, `storage:` (the environment storage the apps mount), `account:` and `share:` (behind
it). A per-app check's path is relative to its app. `[name=X]` selects the list item whose name is X, `[*]`
any item. An outcome may name a more precise path itself (`details["path"]`, e.g. the one secret at fault).

The first path is where a finding points; the others are what the check also reads. A value that is unknown
offline (an unresolved expression) under the pointed path makes a warning or failure "not judged"; under any
of the paths, a pass too (a pass needs everything it read to be known).
"""

from __future__ import annotations

import re
from typing import Any

C0 = "properties.template.containers[0]"
INGRESS = "properties.configuration.ingress"

JUDGES: dict[str, tuple[str, ...]] = {
    "LOOM105": ("name", "properties.environmentId"),
    "LOOM201": (f"relay:{INGRESS}.external", f"relay:{INGRESS}"),
    "LOOM202": (f"relay:{INGRESS}.targetPort", f"relay:{C0}.env[name=GUN_PORT]"),
    "LOOM203": (f"relay:{INGRESS}.transport",),
    "LOOM204": ("properties.template.scale.minReplicas",),
    "LOOM205": (f"node:{C0}.env[name=GUN_ENABLED].value",),
    "LOOM206": (f"node:{C0}.env[name=GUN_SERVER_PORT].value",),
    "LOOM207": (f"node:{C0}.env[name=GUN_PEERS].value", f"relay:{INGRESS}", "relay:name",
                "environment:properties"),
    "LOOM208": (f"{INGRESS}.allowInsecure", f"{INGRESS}.external"),
    "LOOM209": ("properties.configuration.secrets", "properties.template.containers[*].env", "identity"),
    "LOOM210": (f"{C0}.resources", "properties.template.containers[*].resources", "properties.workloadProfileName"),
    "LOOM211": (f"{C0}.image", "properties.template.containers[*].image"),
    "LOOM212": ("properties.template.scale.rules", "properties.template.scale"),
    "LOOM213": (f"relay:{C0}.env[name=GUN_PEERS].value", "relay:properties.template.scale", f"relay:{INGRESS}",
                f"relay:{C0}.env[name=PEERS].value", f"node:{C0}.env[name=GUN_PEERS].value"),
    "LOOM220": ("name",),
    "LOOM221": ("identity", "identity.type"),
    "LOOM222": ("apiVersion",),
    "LOOM223": (f"{INGRESS}.stickySessions.affinity",),
    "LOOM224": (f"{INGRESS}.ipSecurityRestrictions",),
    "LOOM501": ("properties.template.volumes", "properties.template.volumes[*].storageName"),
    "LOOM502": ("storage:properties.azureFile.accountName", "account:name"),
    "LOOM503": ("storage:properties.azureFile.shareName", "share:name"),
    "LOOM504": ("storage:properties.azureFile.accessMode", "properties.template.volumes"),
    "LOOM505": ("share:properties.shareQuota",),
    "LOOM506": (f"{C0}.env[name=GUN_DATA_PATH].value", f"{C0}.volumeMounts", "properties.template.volumes"),
    "LOOM507": (f"node:{C0}.env[name=GUN_DATA_PATH].value", f"relay:{C0}.env[name=GUN_DATA_PATH].value",
                f"node:{C0}.volumeMounts", f"relay:{C0}.volumeMounts", "node:properties.template.scale",
                "relay:properties.template.scale"),
    "LOOM508": ("account:properties.supportsHttpsTrafficOnly", "account:properties.minimumTlsVersion"),
    "LOOM509": ("account:properties.publicNetworkAccess", "account:properties.networkAcls"),
}
TARGETS = ("relay", "node", "environment", "storage", "account", "share")
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+|\*|name=[^\]]+)\]")


def split(path: str) -> tuple[str | None, str]:
    """("node", "properties...") for "node:properties...", (None, path) for a path of the result's own app."""
    head, sep, rest = path.partition(":")
    return (head, rest) if sep and head in TARGETS else (None, path)


def steps(path: str) -> list[str]:
    return [m.group(1) or f"[{m.group(2)}]" for m in _STEP.finditer(path)]


def concrete(body: Any, path: str) -> tuple[Any, ...]:
    """The path as keys and indexes of `body`. A `[name=X]` no item matches stays "name=X" (it then overlaps no
    other item), and `[*]` stays "*"; what follows a missing step is kept as written."""
    out: list[Any] = []
    node = body
    for step in steps(path):
        if step.startswith("[name="):
            want = step[6:-1]
            idx = next((i for i, x in enumerate(node) if isinstance(x, dict) and x.get("name") == want), None) \
                if isinstance(node, list) else None
            out.append(f"name={want}" if idx is None else idx)
            node = None if idx is None else node[idx]
        elif step == "[*]":
            out.append("*")
            node = None
        elif step.startswith("["):
            i = int(step[1:-1])
            out.append(i)
            node = node[i] if isinstance(node, list) and i < len(node) else None
        else:
            out.append(step)
            node = node.get(step) if isinstance(node, dict) else None
    return tuple(out)


def overlaps(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """One path is at or below the other ("*" matches any index)."""
    return all(x == y or x == "*" or y == "*" for x, y in zip(a, b))
