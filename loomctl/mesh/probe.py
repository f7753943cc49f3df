"""The mesh probe's parameters and its `LOOMMESH` lines, read into a `ReplicaProbe`.

The probe (`loomctl/data/mesh_probe.js`, plain node) runs beside one replica's GUN process: through exec inside an
Azure replica, or as a local process beside a sandbox process. Parameters travel as base64 JSON, never as text on
a command line.
"""

from __future__ import annotations

import json
from typing import Any

from loomctl.mesh.model import LOST, NO_GUN, Finding, Link, Replica, ReplicaProbe

SCRIPT = "mesh_probe.js"
PREFIX = "LOOMMESH "
SOUL_ROOT = "loomctl/probe"


def params(replica: Replica, run: str, mode: str, timeout: float, *, others: list[str] | None = None,
           window: float = 0.0, links: bool = True) -> dict[str, Any]:
    """mode: "links" (hello and links only), "write" (also write this replica's probe node
    `loomctl/probe/<run>/<me>`),
    "read" (get the probe nodes of `others` until each is seen or `window` ends). Souls are built by the probe
    from root, run and replica name: the command travels in the exec URL, whose length is limited."""
    return {"port": replica.port, "port_env": replica.port_env, "me": replica.name, "run": run, "mode": mode,
            "root": SOUL_ROOT, "others": list(others or []), "window": window, "timeout": timeout, "links": links}


def lines(stdout: str) -> list[dict[str, Any]]:
    out = []
    for line in stdout.splitlines():
        if not line.startswith(PREFIX):
            continue
        try:
            doc = json.loads(line[len(PREFIX):])
        except ValueError:
            continue
        if isinstance(doc, dict):
            out.append(doc)
    return out


def ran(stdout: str) -> bool:
    """The probe started (node ran it): its first line names the tool."""
    return any(d.get("kind") == "tools" for d in lines(stdout))


def merge(probe: ReplicaProbe, stdout: str, where: str, no_gun_hint: str) -> ReplicaProbe:
    """Fold one probe run's lines into `probe` (the write phase, then the read phase, fill the same record)."""
    docs = lines(stdout)
    done = any(d.get("kind") == "done" for d in docs)
    for d in docs:
        kind = d.get("kind")
        if kind == "hello":
            probe.port = d.get("port") or probe.port
            if d.get("ok"):
                if probe.gun_pid and d.get("pid") and d["pid"] != probe.gun_pid and probe.finding is None:
                    probe.finding = Finding(probe.name, LOST, f"the GUN process of {where} restarted during the "
                                            f"probe (pid {probe.gun_pid}, then {d['pid']})",
                                            "its in-memory subscriptions are gone; run the probe again")
                probe.gun_pid = d.get("pid")
                probe.ok = True
            elif probe.finding is None:
                probe.ok = False
                probe.finding = Finding(probe.name, NO_GUN if not probe.gun_pid else LOST,
                                        f"the GUN process of {where} does not answer on port {d.get('port')}: "
                                        f"{d.get('error')}", no_gun_hint)
        elif kind == "links":
            probe.listen = list(d.get("listen") or [])
            if d.get("source"):
                probe.links = [Link(x["dir"], x["local"], x["remote"]) for x in d.get("links") or []]
                probe.links_note = None
            else:
                probe.links = None
                probe.links_note = d.get("reason")
        elif kind == "wrote":
            probe.wrote = True
            probe.acked = bool(d.get("acked"))
        elif kind == "seen":
            probe.seen[str(d.get("name"))] = float(d.get("ms") or 0.0)
        elif kind == "read":
            probe.read_done = True
        elif kind == "lost" and probe.finding is None:
            probe.finding = Finding(probe.name, LOST, f"the GUN process of {where} went away mid-probe: "
                                    f"{d.get('error')}", "it may have restarted or crashed: look at its console "
                                    "logs (`loomctl logs --live`), then run the probe again")
    if not done and probe.finding is None and docs:
        probe.finding = Finding(probe.name, LOST, f"the probe in {where} stopped before it finished",
                                "the replica may have restarted mid-probe; run the probe again")
    return probe
