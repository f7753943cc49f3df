"""Which replicas take part: the relay and node apps' replicas on Azure, the sandbox's processes otherwise."""

from __future__ import annotations

from typing import Any

from loomctl.core.errors import UsageError
from loomctl.mesh.model import Replica


def reach_for(loom: Any, apps: tuple[str, ...] = ()) -> Any:
    from loomctl.mesh.reach import ExecReach, LocalReach

    settings = loom.settings
    if not settings.azure_enabled:
        from loomctl.sandbox.gun import node_binary
        from loomctl.sandbox.processes import load_state

        if apps:
            raise UsageError("--app chooses Azure apps; this profile has azure = false",
                             "narrow sandbox processes with --replica NAME")
        state = load_state()
        if state is None:
            raise UsageError(f"profile '{settings.profile}' has no Azure deployment, and no sandbox is running",
                             "start one with `loomctl sandbox up --relays 2`, or use a profile that points at Azure")
        return LocalReach(state, node_binary())
    roles = {settings.relay_app: "relay", settings.node_app: "node"}
    chosen = list(apps) or [settings.relay_app, settings.node_app]
    return ExecReach(loom.azure, [(roles.get(a, "node"), a) for a in dict.fromkeys(chosen)])


def choose(replicas: list[Replica], only: tuple[str, ...]) -> list[Replica]:
    if not only:
        return replicas
    names = {r.name for r in replicas}
    unknown = [n for n in only if n not in names]
    if unknown:
        raise UsageError(f"no replica '{unknown[0]}' here", "replicas: " + ", ".join(r.name for r in replicas))
    return [r for r in replicas if r.name in only]
