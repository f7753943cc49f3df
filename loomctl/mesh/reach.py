"""How the mesh probe reaches each replica: through exec into an Azure replica, or beside a sandbox process.

Both give the same thing: the replicas taking part, and `run(replica, params, timeout)` -> the probe's stdout, or
`Unreached` (a `Finding`) when the probe could not run there. Neither ever waits past the timeout it is given.
"""

from __future__ import annotations

import base64
import json
import subprocess
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loomctl.mesh.model import EXEC_FAILED, EXEC_REFUSED, LOST, NO_TOOLS, TIMEOUT, Finding, Replica
from loomctl.mesh.probe import SCRIPT, ran

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.azure.session import AzureSession

NOT_FOUND = 127
GUN_PORT = 8765
PORT_ENV = {"relay": "GUN_PORT", "node": "GUN_SERVER_PORT"}


class Unreached(Exception):
    def __init__(self, finding: Finding):
        super().__init__(finding.message)
        self.finding = finding


def _script_path() -> str:
    from importlib import resources

    return str(resources.files("loomctl").joinpath("data", SCRIPT))


@dataclass
class LocalReach:
    """The sandbox: each process's GUN port on 127.0.0.1, the probe run with the local node beside it."""

    state: Any
    node: str = "node"

    def replicas(self) -> list[Replica]:
        return [Replica(p.name, "sandbox", p.role, p.port, None, p.alive, p.dials) for p in self.state.procs]

    def known_addresses(self) -> dict[str, str]:
        """Each process's GUN port; and what the nodes' link proxy stands in for: a link's port is its relay (while
        the link passes bytes), a connection the proxy opened to a relay is the node behind it."""
        from loomctl.sandbox.linkproxy import addresses

        return {**addresses(self.state), **{f"127.0.0.1:{p.port}": p.name for p in self.state.procs}}

    def where(self, r: Replica) -> str:
        return f"sandbox {r.role} '{r.name}'"

    def no_gun_hint(self, r: Replica) -> str:
        proc = next((p for p in self.state.procs if p.name == r.name), None)
        log = f"; its log is {proc.log}" if proc else ""
        return f"`loomctl sandbox status` shows each process; `loomctl sandbox up` restarts the sandbox{log}"

    def not_running_hint(self, r: Replica) -> str:
        return self.no_gun_hint(r)

    def run(self, r: Replica, params: dict[str, Any], timeout: float) -> str:
        arg = base64.b64encode(json.dumps(params).encode()).decode()
        try:
            proc = subprocess.run([self.node, _script_path(), arg], capture_output=True, text=True,
                                  timeout=max(0.5, timeout), stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            if ran(exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")):
                raise Unreached(Finding(r.name, LOST, f"the probe beside {self.where(r)} did not finish within "
                                        f"{timeout:.1f} s", self.no_gun_hint(r))) from None
            raise Unreached(Finding(r.name, TIMEOUT, f"the probe beside {self.where(r)} did not start within "
                                    f"{timeout:.1f} s", "raise --timeout")) from None
        except OSError as exc:
            raise Unreached(Finding(r.name, NO_TOOLS, f"cannot run node for the mesh probe: {exc.strerror or exc}",
                                    "install Node.js 18 or later")) from None
        return proc.stdout


@dataclass
class _AppTarget:
    app: Any  # azure.model.App
    revision: str
    location: str | None
    container: str | None
    token: str | None = None
    replicas: dict[str, Any] = field(default_factory=dict)  # replica name -> aca.target.ReplicaInfo


def _port(app: Any, role: str) -> int:
    env = {e.name: e.value for c in app.containers[:1] for e in c.env}
    value = env.get(PORT_ENV[role])
    if value and value.isdigit():
        return int(value)
    if role == "relay" and app.ingress is not None and app.ingress.target_port:
        return int(app.ingress.target_port)
    return GUN_PORT


class ExecReach:
    """Azure: every replica of the relay and node apps (latest revision), probed through the exec channel."""

    def __init__(self, session: AzureSession, apps: list[tuple[str, str]]):
        self.session = session
        self.apps = apps  # (role, app name)
        self._targets: dict[str, _AppTarget] = {}

    def replicas(self) -> list[Replica]:
        from loomctl.azure.deployment import parallel

        self.session.settings.require("subscription", "resource_group")
        found = parallel([lambda role=role, name=name: self._app(role, name) for role, name in self.apps])
        return [r for rs in found for r in rs]

    def _app(self, role: str, name: str) -> list[Replica]:
        """The app's definition, its latest revision's replicas and its token (ARM reads, concurrently)."""
        from loomctl.aca.target import app_replicas, auth_token
        from loomctl.azure.deployment import get_app, parallel

        model, state, token = parallel([lambda: get_app(self.session, name),
                                        lambda: app_replicas(self.session, name),
                                        lambda: auth_token(self.session, name)])
        t = _AppTarget(model, state.revision, state.location, state.template_container, token)
        self._targets[name] = t
        t.replicas = {info.name: info for info in state.replicas}
        return [Replica(info.name, name, role, _port(model, role), PORT_ENV[role], info.running)
                for info in state.replicas]

    def known_addresses(self) -> dict[str, str]:
        return {}

    def where(self, r: Replica) -> str:
        return f"replica {r.name}"

    def no_gun_hint(self, r: Replica) -> str:
        return (f"nothing answers a GUN hello on port {r.port} inside the replica: check that its LoomMesh peer "
                f"started ({PORT_ENV[r.role]}, GUN_ENABLED) in its console logs (`loomctl logs --live --app {r.app}`)")

    def not_running_hint(self, r: Replica) -> str:
        return "`loomctl status` shows its state; `loomctl logs --live --system` says why"

    def _target(self, r: Replica) -> tuple[Any, str]:
        from loomctl.aca.target import Target, dataplane_from

        t = self._targets[r.app]
        info = t.replicas[r.name]
        container = t.container or (info.containers[0] if info.containers else r.app)
        s = self.session.settings
        dataplane = dataplane_from(info.log_stream_endpoints.get(container), t.location)
        return (Target(str(s.subscription), str(s.resource_group), r.app, t.revision, r.name, container, dataplane),
                str(t.token))

    def run(self, r: Replica, params: dict[str, Any], timeout: float) -> str:
        from loomctl.aca.exec_client import ExecError
        from loomctl.aca.exec_client import run as exec_run
        from loomctl.inside.script import node_command

        target, token = self._target(r)
        try:
            res = exec_run(target, token, node_command(params, SCRIPT), timeout=max(0.5, timeout))
        except ExecError as exc:
            raise Unreached(exec_finding(r, exc)) from None
        if res.exit_code == NOT_FOUND or (res.exit_code != 0 and not ran(res.stdout) and
                                          "not found" in (res.stderr + " ".join(res.errors)).lower()):
            from loomctl.inside.run import NO_TOOLS_HINT

            raise Unreached(Finding(r.name, NO_TOOLS, f"cannot probe the mesh from inside replica {r.name}: the "
                                    "image has no node (the mesh probe needs node)", NO_TOOLS_HINT))
        if not ran(res.stdout):
            tail = (res.stderr.strip().splitlines() or res.errors or ["no output"])[-1][:200]
            raise Unreached(Finding(r.name, EXEC_FAILED, f"the mesh probe did not run in replica {r.name} "
                                    f"(exit {res.exit_code}): {tail}", "run `loomctl exec` into the replica and try "
                                    "`node --version`"))
        return res.stdout


def exec_finding(r: Replica, exc: Exception) -> Finding:
    """An exec failure as the finding of its own cause: refused (500s), cut mid-probe, timed out, or other."""
    msg, hint = str(exc), getattr(exc, "hint", None) or "try again"
    if msg.startswith("exec handshake failed") or "not running" in msg or (getattr(exc, "status", None) or 0) >= 500:
        return Finding(r.name, EXEC_REFUSED, msg, hint)
    if "was cut" in msg:
        return Finding(r.name, LOST, f"replica {r.name} went away mid-probe: {msg}",
                       "the replica may be restarting or replaced (`loomctl status`); run the probe again")
    if "timed out" in msg or "did not finish within" in msg:
        return Finding(r.name, TIMEOUT, msg, "raise --timeout; the service also cuts exec sessions after about 30 s")
    return Finding(r.name, EXEC_FAILED, msg, hint)
