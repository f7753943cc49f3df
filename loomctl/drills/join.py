"""`loomctl drill join`: a fresh GUN peer (a real local process from the sandbox's pinned gun) joins the mesh and
reads back probe nodes written beforehand; how long until it holds all of them, against the reference's ~10 s.

GUN replicates by pull: a joining peer holds a node once something has read it through that peer, so the drill
reads every probe node through the new peer until each comes back with the value written.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loomctl.core.errors import NetworkError
from loomctl.drills.probes import PREFIX, connect, put_acked, read, run_id
from loomctl.loommesh.wire import GunClient, fresh_id

REFERENCE_S = 10.0  # "Adding replicas: new nodes connect to relay, sync state (~10s)"


@dataclass
class JoinResult:
    run_id: str
    prefix: str
    written_through: str
    dialled: list[str]
    nodes: int
    timeout_s: float
    ready_s: float | None = None  # the new peer answers a GUN hello
    held_s: float | None = None  # the new peer holds every probe node
    held: int = 0
    missing: list[str] = field(default_factory=list)
    reference_s: float = REFERENCE_S
    ok: bool = False


def _spawn(node: str, modules: Path, folder: Path, port: int, dial: list[str]) -> subprocess.Popen:
    from loomctl.sandbox.processes import RELAY_SCRIPT

    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1", DATA=str(folder / "radata"), NODE_PATH=str(modules),
               MULTICAST="false", PEERS=",".join(dial))
    with open(folder / "joiner.log", "ab") as out:
        return subprocess.Popen([node, str(RELAY_SCRIPT)], cwd=str(folder), env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT)


async def _connect_when_up(url: str, proc: subprocess.Popen, deadline: float) -> GunClient:
    while True:
        if proc.poll() is not None:
            raise NetworkError(f"the joining GUN peer exited at once (exit {proc.returncode})",
                               "check that Node.js can run gun (node --version >= 18)")
        try:
            client = await GunClient.connect(url, timeout=1.0)
            await client.wait_hello(1.0)
            return client
        except (OSError, asyncio.TimeoutError):
            if time.perf_counter() > deadline:
                raise NetworkError("the joining GUN peer did not answer within the deadline",
                                   "run again with a longer --timeout") from None
            await asyncio.sleep(0.02)


async def _run(writer_url: str, dial: list[str], count: int, timeout: float, node: str, modules: Path) -> JoinResult:
    from loomctl.sandbox.processes import free_port

    rid = run_id()
    prefix = f"{PREFIX}/join/{rid}"
    result = JoinResult(rid, prefix, writer_url, dial, count, timeout)
    expected = {f"{prefix}/{i}": {"i": i, "v": fresh_id(8)} for i in range(count)}
    writer = await connect(writer_url)
    try:
        await put_acked(writer, [(soul, v, None) for soul, v in expected.items()], 10.0, writer_url)
    finally:
        await writer.close()
    folder = Path(tempfile.mkdtemp(prefix="loomctl-join-"))
    port = free_port()
    start = time.perf_counter()
    proc = _spawn(node, modules, folder, port, dial)
    client = None
    try:
        deadline = start + timeout
        client = await _connect_when_up(f"http://127.0.0.1:{port}/gun", proc, deadline)
        result.ready_s = round(time.perf_counter() - start, 3)
        pending = dict(expected)
        while pending and time.perf_counter() < deadline:
            got = await asyncio.gather(*(read(client, soul) for soul in pending))
            for (soul, want), node_data in zip(list(pending.items()), got):
                if all(node_data.get(k) == v for k, v in want.items()):
                    del pending[soul]
            if pending:
                await asyncio.sleep(0.02)
        result.held = count - len(pending)
        result.missing = sorted(pending)
        if not pending:
            result.held_s = round(time.perf_counter() - start, 3)
        result.ok = not pending
    finally:
        if client is not None:
            await client.close()
        proc.kill()
        proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
    return result


def join(peers: list[tuple[str, str]], count: int = 20, timeout: float = 30.0) -> JoinResult:
    """peers: (url, role) of the mesh. The new peer dials its relays (every peer when none is called a relay);
    the probe nodes are written beforehand through the first of them."""
    from loomctl.sandbox import gun

    relays = [u for u, role in peers if role == "relay"] or [u for u, _ in peers]
    return asyncio.run(_run(relays[0], relays, count, timeout, gun.node_binary(), gun.ensure_gun()))


def summary(r: JoinResult) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(r)


def join_inside(loom: Any, app: str, peers: list[tuple[str, str]], count: int, timeout: float,
                replica: str | None = None) -> JoinResult:
    """`--from-inside`: the same drill in a replica of `app`, through exec, with the image's own gun (node): the
    probe nodes written through the relays, then a fresh GUN peer (a second node process) reads them back."""
    import json

    from loomctl.aca import target as tgt
    from loomctl.aca.exec_client import run as exec_run
    from loomctl.core.errors import ProblemsFound
    from loomctl.inside.run import NOT_FOUND, SESSION_LIMIT
    from loomctl.inside.script import node_command

    relays = [u for u, role in peers if role == "relay"] or [u for u, _ in peers]
    rid = run_id()
    prefix = f"{PREFIX}/join/{rid}"
    timeout = min(timeout, SESSION_LIMIT - 5)  # the service cuts exec sessions after ~30 s
    values = [fresh_id(8) for _ in range(count)]
    t, token = tgt.resolve_with_token(loom.azure, app, replica=replica)
    params = {"peers": relays, "prefix": prefix, "values": values, "timeout": timeout}
    res = exec_run(t, token, node_command(params, "inside_join.js"), timeout=timeout + 5)
    line = next((ln for ln in res.stdout.splitlines() if ln.startswith("LOOMJOIN ")), None)
    if res.exit_code == NOT_FOUND or line is None:
        raise ProblemsFound(f"cannot run the join drill inside replica {t.replica}: "
                            + ("it has no node" if res.exit_code == NOT_FOUND else
                               f"node exited {res.exit_code}: {res.stderr.strip()[-200:] or 'no output'}"),
                            "the drill needs node and the gun package in the image (the reference loom-node has both)")
    got = json.loads(line[len("LOOMJOIN "):])
    if got.get("error") == "nogun":
        raise ProblemsFound(f"replica {t.replica} has node but no gun package",
                            "run the drill from a replica of the app that runs GUN (--app), or drop --from-inside")
    if got.get("error"):
        raise ProblemsFound(f"the join drill inside replica {t.replica} failed at {got.get('stage', got['error'])}: "
                            f"{got.get('detail', 'no answer in time')}",
                            "`loomctl diagnose peers --from-inside` shows whether the relays answer from there")
    result = JoinResult(rid, prefix, f"{relays[0]} (inside {t.replica})", relays, count, timeout)
    result.ready_s = got["ready_ms"] / 1000 if got.get("ready_ms") is not None else None
    result.held_s = got["held_ms"] / 1000 if got.get("held_ms") is not None else None
    result.held, result.missing, result.ok = got["held"], got["missing"], got.get("held_ms") is not None
    return result
