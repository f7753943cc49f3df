"""What `loomctl diagnose dns` shows: each host's answer, with a hint for every host that did not resolve."""

from __future__ import annotations

from typing import Any


def render_dns(doc: dict[str, Any]) -> list[Any]:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    for col in ("Host", "Result", "Addresses", "CNAME chain", "TTL", "Time", "Server", "Where"):
        t.add_column(col, justify="right" if col in ("TTL", "Time") else "left")
    hints: list[Any] = []
    for r in doc["hosts"]:
        status = Text("ok" if r["ok"] else r["status"], style="green" if r["ok"] else
                      ("yellow" if r["expected"] else "red"))
        t.add_row(r["host"], status, ", ".join(r["addresses"]) or "-", " → ".join(r["cname_chain"]) or "-",
                  "-" if r["ttl"] is None else f"{r['ttl']} s", f"{r['duration_ms']:.1f} ms", r["server"],
                  r["where"])
        if not r["ok"]:
            hints.append(Text.assemble((f"{r['host']}: ", "bold"), r["error"] or r["status"]))
            hints.append(Text.assemble(("  hint: ", "cyan"), r["hint"] or ""))
    return [t, *hints, *[Text(f"note: {n}") for n in doc["notes"]]]
