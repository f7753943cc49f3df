"""The sandbox speaks of the sandbox: peers of an `azure = false` profile that are sandbox processes get their role
(relay or node, from the state file) and, when they fail, a hint about the sandbox (`loomctl sandbox status`,
`loomctl sandbox up`) instead of one about Azure ingress ports."""

from __future__ import annotations

from typing import Any

from loomctl.sandbox.processes import PROFILE, Proc, State, load_state, sandbox_dir

STATUS = "`loomctl sandbox status` shows each process"
RESTART = "`loomctl sandbox up` restarts a sandbox that is partly or wholly down"


def _key(url: str) -> str:
    from loomctl.loommesh.peer_url import parse

    try:
        return parse(url).url()
    except ValueError:
        return url


def processes(state: State | None = None) -> dict[str, Proc]:
    """The sandbox's processes by peer URL (normalised: ws:// and http:// alike), or {} when none was started."""
    state = state if state is not None else load_state()
    return {_key(p.url): p for p in state.procs} if state else {}


def label(plist: Any, state: State | None = None) -> Any:
    """Give each peer of a `loommesh.discovery.PeerList` that is a sandbox process its role (relay or node)."""
    procs = processes(state)
    for peer in plist.peers:
        proc = procs.get(_key(peer.url))
        if proc is not None:
            peer.role = proc.role
    return plist


def explain(results: list[Any], profile: str | None = None, state: State | None = None) -> list[Any]:
    """Set the role of each `PeerResult` that is a sandbox process and, for a failed one, a sandbox hint; on the
    sandbox's profile with no sandbox started, say so."""
    state = state if state is not None else load_state()
    procs = processes(state)
    for r in results:
        proc = procs.get(_key(r.url))
        if proc is None:
            if not procs and profile == PROFILE and not r.ok:
                _set_hint(r, f"no sandbox is running (no state in {sandbox_dir()}): start it with "
                             "`loomctl sandbox up`")
            elif not r.ok and r.failed_stage == "tcp" and "ingress" in (r.hint or ""):
                _set_hint(r, _local_tcp_hint(r))  # no Azure here: no ingress to blame
            continue
        r.role = proc.role
        if r.ok:
            continue
        who = f"the sandbox's {proc.role} '{proc.name}'"
        from loomctl.sandbox.faults import HEAL, fault_on

        fault = fault_on(state, proc.name, "process")
        if not proc.alive and fault is not None:
            hint = (f"{who} (pid {proc.pid}) was stopped by the sandbox fault `{fault['fault']}` (`loomctl sandbox "
                    f"status` shows it): {HEAL} and starts it again")
        elif not proc.alive:
            hint = f"{who} (pid {proc.pid}) is not running: {STATUS}; {RESTART}; its log is {proc.log}"
        else:
            hint = (f"{who} runs (pid {proc.pid}) but failed at the {r.failed_stage} stage: look at its log "
                    f"{proc.log}; {STATUS}; {RESTART}")
        _set_hint(r, hint)
    return results


def _local_tcp_hint(r: Any) -> str:
    from loomctl.loommesh.peer_probe import who

    if "connection refused by " in (r.error or ""):
        where = r.error.split("connection refused by ", 1)[1]
        return f"nothing listens on {where}: {who(r.role)} is not running, or this is not its port"
    return ("no answer to the TCP connect: a firewall drops the packets, or the host is down; check the host and "
            "the port")


def _set_hint(result: Any, hint: str) -> None:
    result.hint = hint
    for stage in result.stages:
        if not stage.ok:
            stage.hint = hint
