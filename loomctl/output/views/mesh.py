"""What `loomctl diagnose mesh` shows: each replica's GUN process and links, the write probe's matrix, the parts of
the mesh and the verdict, then one line per finding with its hint."""

from __future__ import annotations

from typing import Any


def _links(p: dict[str, Any]) -> str:
    if p["links"] is None:
        return f"unknown ({p['links_note']})" if p.get("links_note") else "-"
    if not p["links"]:
        return "none"
    named = sorted((ln["dir"] != "out", ln["peer"] or ln["remote"]) for ln in p["links"])
    return ", ".join(f"{'←' if inbound else '→'} {who}" for inbound, who in named)


def _cell(v: Any) -> Any:
    from rich.text import Text

    if v is None:
        return Text("-", style="dim")
    if v == "self":
        return Text("·", style="dim")
    if v == "never":
        return Text("never", style="red")
    return Text(f"{v:.0f} ms")


def render_mesh(doc: dict[str, Any]) -> list[Any]:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    for col in ("Replica", "App", "Role", "GUN pid", "Links", "Probe"):
        t.add_column(col, overflow="fold")
    for p in doc["replicas"]:
        if p["finding"]:
            probe = Text(p["finding"]["kind"], style="red")
        elif doc["write_probe"]:
            probe = Text("wrote, acked" if p["acked"] else ("wrote, no ack" if p["wrote"] else "-"))
        else:
            probe = Text("ok", style="green")
        t.add_row(p["name"], p["app"], p["role"], p["gun_pid"] or "-", _links(p), probe)
    out: list[Any] = [t]
    if doc["write_probe"] and doc["matrix"]:
        names = list(doc["matrix"])
        out.append(Text(f"\nWrite probe loomctl/probe/{doc['run']}: time until each replica saw each probe node",
                        style="bold"))
        m = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
        m.add_column("wrote \\ seen by")
        for i in range(1, len(names) + 1):
            m.add_column(str(i), justify="right", no_wrap=True)
        for i, w in enumerate(names, 1):
            m.add_row(f"{i} {w}", *[_cell(doc["matrix"][w][r]) for r in names])
        out.append(m)
    for i, part in enumerate(doc["parts"], 1):
        if len(doc["parts"]) > 1:
            out.append(Text(f"part {i}: {', '.join(part)}"))
    style = {"whole": "green", "split": "red"}.get(doc["verdict"], "yellow")
    mark = {"whole": "✓", "split": "✗"}.get(doc["verdict"], "?")
    out.append(Text.assemble((f"{mark} mesh {doc['verdict']}: ", f"bold {style}"), doc["reason"]))
    for w, r in doc["one_way"]:
        out.append(Text(f"  one way only: {r} saw {w}'s probe, {w} never saw {r}'s", style="yellow"))
    for f in doc["findings"]:
        out.append(Text.assemble(("✗ ", "red"), (f["replica"], "bold"), f" [{f['kind']}] {f['message']}"))
        out.append(Text.assemble(("  hint: ", "cyan"), f["hint"]))
    out.append(Text(f"run {doc['run']} in {doc['duration_ms'] / 1000:.1f} s", style="dim"))
    return out
