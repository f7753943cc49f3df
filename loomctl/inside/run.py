"""Run the DNS and LoomMesh probes inside a replica of an app, through the exec client.

Node images (the reference loom-node) run the full probe with `node`; otherwise a shell probe uses whatever
of getent, nslookup, curl, wget and nc the image has. A replica with none of them is a finding of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from loomctl.core.errors import ProblemsFound
from loomctl.inside import parse, script
from loomctl.inside.results import InsideRun

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.core.context import LoomContext

NOT_FOUND = 127
SESSION_LIMIT = 25.0  # the service cuts exec sessions after ~30 s; a probe must finish well inside that


def probe(loom: LoomContext, app: str, *, hosts: list[str] | None = None,
          peers: list[tuple[str, str]] | None = None, dns_servers: list[tuple[str, int]] | None = None,
          timeout: float = 5.0, replica: str | None = None) -> InsideRun:
    from loomctl.aca import target as tgt
    from loomctl.aca.exec_client import run as exec_run

    hosts, peers, dns_servers = list(hosts or []), list(peers or []), list(dns_servers or [])
    t, token = tgt.resolve_with_token(loom.azure, app, replica=replica)
    where = t.replica  # replica names start with the app's name
    p = script.params(hosts, peers, dns_servers, min(timeout, 15.0))
    limit = min(SESSION_LIMIT, timeout + 15.0)
    res = exec_run(t, token, script.node_command(p), timeout=limit)
    if res.exit_code == 0 and "LOOMPROBE" in res.stdout:
        return parse.parse_node(res.stdout, where, peers, hosts)
    node_missing = res.exit_code == NOT_FOUND
    res = exec_run(t, token, script.shell_command(p), timeout=limit)
    if res.exit_code == NOT_FOUND or "LOOMPROBE tools" not in res.stdout:
        run = InsideRun(where, None, missing_tools=True, stderr=res.stderr.strip()[:300])
        run.note = ("no node and no usable shell (sh with base64)" if node_missing
                    else "node failed and no usable shell (sh with base64)")
        return run
    run = parse.parse_shell(res.stdout, where, peers, hosts, p["dns"][0] if p["dns"] else None)
    if not node_missing:
        run.note = "node is present but its probe failed; used the shell tools"
    return run


NO_TOOLS_HINT = ("add one of them to the image (busybox gives getent, nslookup, wget, nc), or use the debug console "
                 "(`az containerapp debug`), which brings its own tools")


def no_tools_error(run: InsideRun) -> ProblemsFound:
    return ProblemsFound(
        f"cannot probe from inside replica {run.where}: it has none of node, getent, nslookup, curl, wget, nc"
        + (f" ({run.note})" if run.note else ""), NO_TOOLS_HINT)


def probe_mesh(loom: LoomContext, app: str, peers: list[tuple[str, str]], dns_servers: list[tuple[str, int]],
               timeout: float) -> InsideRun:
    """One in-replica run for every peer and every peer's host (one session), checked like `probe_checked`."""
    from loomctl.loommesh.peer_probe import peer_host

    hosts = list(dict.fromkeys(peer_host(u) for u, _ in peers))
    return probe_checked(loom, app, hosts=hosts, peers=peers, dns_servers=dns_servers, timeout=timeout)


def probe_checked(loom: LoomContext, app: str, **kw: object) -> InsideRun:
    """`probe`, with a replica that has no usable tool reported as its own finding (exit 1)."""
    run = probe(loom, app, **kw)  # type: ignore[arg-type]
    if run.missing_tools:
        raise no_tools_error(run)
    return run


def run_node(loom: LoomContext, app: str, name: str, params: dict, *, replica: str | None, timeout: float,
             on_output: Callable[[str, str], None] | None = None) -> tuple[str, Any]:
    """Run loomctl/data/`name` with `node` in one session in a replica of `app`: (replica, ExecResult). No node in
    the image is a finding of its own (exit 1)."""
    from loomctl.aca import target as tgt
    from loomctl.aca.exec_client import run as exec_run

    t, token = tgt.resolve_with_token(loom.azure, app, replica=replica)
    res = exec_run(t, token, script.node_command(params, name), timeout=timeout, on_output=on_output)
    if res.exit_code == NOT_FOUND:
        raise ProblemsFound(f"cannot run node inside replica {t.replica}: the image has no node",
                            "run it from this machine (drop --from-inside), or use an image with node")
    return t.replica, res
