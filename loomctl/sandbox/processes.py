"""Start, inspect and stop the sandbox's GUN processes. Only PIDs recorded in the state file, and only when
/proc confirms they are still the processes we started (same start time, our relay script), are ever signalled.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from loomctl.core import environment
from loomctl.core.errors import ConfigError, LoomError, UsageError
from loomctl.core.files import write_text_atomic
from loomctl.core.retry import Deadline, poll
from loomctl.sandbox import linkproxy
from loomctl.sandbox.pids import free_port
from loomctl.sandbox.pids import reap as _reap
from loomctl.sandbox.pids import start_ticks as _start_ticks

RELAY_SCRIPT = Path(__file__).resolve().parent.parent / "data" / "gun_relay.js"
PROFILE = "sandbox"


def sandbox_dir() -> Path:
    given = environment.get("LOOMCTL_SANDBOX_DIR")
    if given is not None:
        return given
    return (environment.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "loomctl" / "sandbox"


@dataclass
class Proc:
    name: str
    role: str
    pid: int
    port: int
    url: str
    data: str
    log: str
    start_ticks: int | None = None
    alive: bool = False
    dials: str | None = None  # the relays this node dials (its GUN peers, comma-separated); None for a relay


@dataclass
class State:
    folder: str
    started_at: float
    procs: list[Proc] = field(default_factory=list)
    links: dict[str, Any] | None = None  # the nodes' link proxy (sandbox/linkproxy.py), None before it runs
    faults: dict[str, Any] = field(default_factory=dict)  # faults in force, by name (`loomctl sandbox break`)

    @property
    def path(self) -> Path:
        return Path(self.folder) / "state.json"


def is_ours(p: Proc) -> bool:
    """Alive, and still the process we started (not a PID the system has given to something else)."""
    try:
        os.kill(p.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    if Path("/proc").is_dir():
        try:
            cmd = Path(f"/proc/{p.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return False
        if str(RELAY_SCRIPT) not in cmd:
            return False
        if p.start_ticks is not None and _start_ticks(p.pid) != p.start_ticks:
            return False
        stat = Path(f"/proc/{p.pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":  # a zombie is not alive
            return False
    return True


def load_state(folder: Path | None = None) -> State | None:
    folder = folder or sandbox_dir()
    path = folder / "state.json"
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text())
        state = State(raw["folder"], raw["started_at"], [Proc(**p) for p in raw["procs"]], raw.get("links"),
                      dict(raw.get("faults") or {}))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"the sandbox state file {path} is unreadable: {exc}",
                          "stop any leftover `node .../gun_relay.js` processes yourself, then delete the file") from exc
    for p in state.procs:
        p.alive = is_ours(p)
    return state


def save(state: State) -> None:
    write_text_atomic(state.path, json.dumps({"folder": state.folder, "started_at": state.started_at,
                                              "procs": [asdict(p) for p in state.procs], "links": state.links,
                                              "faults": state.faults}, indent=2))


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def layout(relays: int = 1, attach: list[list[int]] | None = None,
           peer_relays: bool = False) -> list[tuple[str, str, str | None]]:
    """(name, role, relays it dials) of each process: `relays` relays that do not peer each other, and one node per
    entry of `attach` (1-based relay numbers, several for a node that dials more than one relay; default: two
    nodes, node i on relay ((i - 1) mod relays) + 1, the spread a load balancer gives). One relay is named `relay`
    (the classic sandbox); several are `relay-1`, `relay-2` ... A node's relays are comma-separated in `dials`."""
    if relays < 1:
        raise UsageError("--relays must be at least 1", "use --relays 1 (the default) or more")
    names = ["relay"] if relays == 1 else [f"relay-{i}" for i in range(1, relays + 1)]
    attach = [list(a) for a in attach] if attach is not None else [[(i % relays) + 1] for i in range(2)]
    bad = [n for a in attach for n in a if not 1 <= n <= relays]
    if bad:
        raise UsageError(f"--attach names relay {bad[0]}, but the sandbox has {relays} relay(s)",
                         f"use relay numbers 1-{relays}, one entry per node, e.g. --attach 1,1,{relays}")
    if peer_relays and relays < 2:
        raise UsageError("--peer-relays needs two relays or more", "use `loomctl sandbox up --relays 2 --peer-relays`")
    # --peer-relays: each relay dials the relays after it (through its links), so that the relays form one mesh
    out: list[tuple[str, str, str | None]] = [(n, "relay", ",".join(names[i + 1:]) if peer_relays and names[i + 1:]
                                               else None) for i, n in enumerate(names)]
    out += [(f"node-{i}", "node", ",".join(names[n - 1] for n in dict.fromkeys(a))) for i, a in enumerate(attach, 1)]
    return out


def same_layout(state: State, wanted: list[tuple[str, str, str | None]]) -> bool:
    """Whether the running sandbox has exactly this layout (names, roles and which relay each node dials)."""
    have = [(p.name, p.role, p.dials or ("relay" if p.role == "node" else None)) for p in state.procs]
    return have == wanted  # a node of an older state file (no `dials`) dialled the one relay


def start(node_modules: Path, node: str, base_port: int | None = None, ready_timeout: float = 20.0,
          procs: list[tuple[str, str, str | None]] | None = None) -> State:
    folder = sandbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    plan = procs or layout()
    if base_port:
        ports = [base_port + i for i in range(len(plan))]
        busy = [p for p in ports if not _port_free(p)]
        if busy:
            raise UsageError(f"port {busy[0]} on 127.0.0.1 is in use",
                             "choose another --port, or leave it out to pick free ports")
    else:
        ports = [free_port() for _ in plan]
    state = State(str(folder), time.time())
    relay_ports = {name: port for (name, role, _), port in zip(plan, ports) if role == "relay"}
    pairs = [(name, r) for name, role, dials in plan if dials for r in dials.split(",")]
    try:
        for (name, role, dials), port in zip(plan, ports):
            data = folder / name / "radata"
            data.parent.mkdir(parents=True, exist_ok=True)
            proc = Proc(name, role, 0, port, f"http://127.0.0.1:{port}/gun", str(data), str(folder / f"{name}.log"),
                        dials=dials)
            if dials and state.links is None:  # each node (and a peered relay) dials each relay through a link
                linkproxy.start_links(state, pairs, relay_ports, save)
            spawn(proc, node_modules, node, state)
            state.procs.append(proc)
            save(state)  # recorded at once: `down` can always stop what was started
            if role == "relay":  # the nodes dial it 50 ms after they start: it must listen by then
                _wait_ready(state, ready_timeout)
        _wait_ready(state, ready_timeout)
        linkproxy.wait_linked(state, 5.0)  # let the nodes' links to their relays open
    except BaseException:
        stop(state)
        raise
    return state


def spawn(proc: Proc, node_modules: Path, node: str, state: State) -> None:
    """Start one GUN process as `proc` describes it (port, data, log); a node dials each of its relays through
    its link when the sandbox has links. Fills in pid and start time."""
    env = dict(os.environ, PORT=str(proc.port), HOST="127.0.0.1", DATA=proc.data, NODE_PATH=str(node_modules),
               MULTICAST="false")
    env.pop("PEERS", None)
    dials = proc.dials or ("relay" if proc.role == "node" else None)
    if dials:
        env["PEERS"] = ",".join(linkproxy.dial_urls(state, proc.name, dials.split(",")))
    with open(proc.log, "ab") as out:
        child = subprocess.Popen([node, str(RELAY_SCRIPT)], cwd=str(Path(proc.data).parent), env=env,
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    proc.pid, proc.start_ticks, proc.alive = child.pid, _start_ticks(child.pid), True


def _wait_ready(state: State, timeout: float) -> None:
    import asyncio

    from loomctl.loommesh.peer_probe import probe_peer

    deadline = Deadline(timeout)
    pending = [p for p in state.procs if not getattr(p, "_ready", False)]

    def ready() -> bool | None:
        for p in list(pending):
            if not is_ours(p):
                tail = Path(p.log).read_text(errors="replace").strip().splitlines()[-3:] if Path(p.log).exists() else []
                raise LoomError(
                    f"sandbox {p.name} (pid {p.pid}) exited while starting: {' | '.join(tail) or 'no output'}",
                    f"see {p.log}; check that Node.js can run gun (node --version >= 18)",
                )
            r = asyncio.run(probe_peer(p.url, timeout=1.0))
            if r.pid:
                pending.remove(p)
                p._ready = True
        return None if pending else True

    def timed_out() -> NoReturn:
        raise LoomError(f"sandbox {pending[0].name} did not answer a GUN hello within {timeout:g} s",
                        f"see {pending[0].log}")

    poll(ready, deadline=deadline, interval=0.1, on_timeout=timed_out)


def stop(state: State, grace: float = 3.0) -> list[dict[str, Any]]:
    """Stop exactly the recorded processes that are still ours; then forget the state."""
    report = []
    ours = [p for p in state.procs if is_ours(p)]
    for p in ours:
        try:
            os.kill(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = Deadline(grace)
    for p in ours:
        while is_ours(p) and not deadline.expired:
            _reap(p.pid)
            time.sleep(0.05)
        how = "stopped"
        if is_ours(p):
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            how = "killed"
        _reap(p.pid)
        report.append({"name": p.name, "pid": p.pid, "result": how})
    for p in state.procs:
        if p not in ours:
            report.append({"name": p.name, "pid": p.pid, "result": "was not running"})
    report += linkproxy.stop_links(state, grace)
    state.path.unlink(missing_ok=True)
    return report


def write_profile(state: State) -> Path:
    from loomctl.core import profiles as config

    with config.editing() as cfg:
        prof = dict(cfg.profiles.get(PROFILE, {}))
        prof.update({"azure": False, "peers": [p.url for p in state.procs]})
        for k in ("relay_host", "node_host"):
            prof.pop(k, None)
        cfg.profiles[PROFILE] = prof
    return cfg.path
