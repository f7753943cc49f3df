"""What `loomctl sandbox` shows: its processes (and whether each answers), and what `down` stopped."""

from __future__ import annotations

from typing import Any


def sandbox_table(doc: dict[str, Any]) -> Any:
    from rich import box
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold",
              title=f"LoomMesh sandbox ({doc['folder']})", title_justify="left")
    cols = ["Name", "Role", "Dials", "URL", "PID", "Alive"] + (["Answers", "GUN pid"] if "peers" in doc and doc["peers"]
                                                       and "answers" in doc["peers"][0] else [])
    for c in cols:
        t.add_column(c)
    for p in doc["peers"]:
        row = [p["name"], p["role"], p.get("dials") or "-", p["url"], str(p["pid"]), "yes" if p["alive"] else "no"]
        if "answers" in p:
            row += ["yes" if p["answers"] else f"no ({p['problem']})", p["relay_pid"] or "-"]
        t.add_row(*row)
    if not doc.get("faults") and not doc.get("links"):
        return t
    from rich.console import Group
    from rich.text import Text

    lines = []
    for lk in doc.get("links") or []:
        held = ("link proxy not running" if not lk["proxy_alive"] else
                f"{lk['connections']} connection{'s' if lk['connections'] != 1 else ''} of its own")
        to = "the relay" if lk.get("relay", "relay") == "relay" else lk["relay"]
        lines.append(Text(f"{lk['node']} dials {to} through {lk['url']} ({held})"))
    lines += [Text(f"fault in force: {f['shown']}") for f in doc.get("faults") or []]
    if doc.get("faults"):
        lines.append(Text("heal: loomctl sandbox heal"))
    return Group(t, *lines)


def stopped_table(doc: dict[str, Any]) -> Any:
    from rich.table import Table

    t = Table(box=None, pad_edge=False, header_style="bold")
    for c in ("Name", "PID", "Result"):
        t.add_column(c)
    for r in doc["stopped"]:
        t.add_row(r["name"], str(r["pid"]), r["result"])
    return t
