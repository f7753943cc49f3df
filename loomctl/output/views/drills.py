"""What `loomctl drill` shows: the join time against the reference, the partition's convergence per peer."""

from __future__ import annotations

from typing import Any


def _s(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f} s"


def join_view(d: dict[str, Any]) -> str:
    lines = [f"drill join: {d['nodes']} probe nodes written through {d['written_through']} (under {d['prefix']}/)",
             f"  a new GUN peer dialling {', '.join(d['dialled'])} answered its first hello after {_s(d['ready_s'])}"]
    if d["ok"]:
        verdict = "within" if d["held_s"] <= d["reference_s"] else "SLOWER than"
        lines.append(f"  held all {d['nodes']} probe nodes after {_s(d['held_s'])} ({verdict} the reference's "
                     f"~{d['reference_s']:g} s)")
    else:
        lines.append(f"  held {d['held']} of {d['nodes']} probe nodes after {d['timeout_s']:g} s; missing: "
                     + ", ".join(d["missing"][:5]) + (" ..." if len(d["missing"]) > 5 else ""))
        lines.append("  hint: `loomctl diagnose peers --write-probe` shows whether writes reach every peer")
    return "\n".join(lines)


def partition_view(d: dict[str, Any]) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    writes = d["writes"]
    head = Text(f"drill partition: {d['cut']} cut off the relay for {d['hold_s']:g} s at least; "
                f"{sum(w['side'] == d['cut'] for w in writes)} writes on {d['cut']}, "
                f"{sum(w['side'] == d['other'] for w in writes)} on {d['other']}\n  (soul {d['soul']})")
    t = Table(box=None, pad_edge=False, header_style="bold")
    for c in ("Peer", "Holds every write", "Missing", "Other value", "Linked"):
        t.add_column(c)
    for p in d["peers"]:
        linked = "-" if p["linked"] is None else ("yes" if p["linked"] else "no")
        t.add_row(p["name"], f"after {_s(p['caught_up_s'])}" if p["caught_up_s"] is not None else "no",
                  str(len(p["missing"])), str(len(p["wrong"])), linked)
    parts: list[Any] = [head, t]
    if d["converged_s"] is not None:
        parts.append(Text(f"converged {_s(d['converged_s'])} after the heal; every value is the one GUN's conflict "
                          "rule picks\n  (later: the greater state; tie: equal states, the greater JSON value)"))
    for f in d["findings"]:
        parts.append(Text(f"{f['problem']}\n  hint: {f['hint']}"))
    return Group(*parts)
