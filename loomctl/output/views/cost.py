"""What `loomctl cost` shows: the estimate and the price list as rich tables (from the documents of cost.report)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from loomctl.cost.model import money
from loomctl.cost.prices import SYMBOLS


def _sym(cur: str) -> str:
    return SYMBOLS.get(cur, cur + " ")


def _money(v: float, cur: str) -> str:
    sym = _sym(cur)
    return f"-{sym}{abs(v):,.2f}" if v < 0 else f"{sym}{v:,.2f}"


def render_estimate(doc: dict[str, Any], explain: bool = False) -> list[Any]:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    cur = doc["currency"]
    t = Table(title="Monthly cost estimate", title_justify="left", title_style="bold", header_style="bold",
              box=box.SIMPLE_HEAD, pad_edge=False, show_footer=False)
    for col, kw in (("Component", {"no_wrap": True}), ("Item", {"no_wrap": True}), ("Quantity", {"justify": "right"}),
                    ("Rate", {"no_wrap": True}),
                    ("Monthly", {"justify": "right"})):
        t.add_column(col, **kw)
    prev = None
    for i, ln in enumerate(doc["lines"], 1):
        comp = ln["component"] if ln["component"] != prev else ""
        prev = ln["component"]
        q = f"{ln['quantity']:,} {ln['unit']}".strip() if ln["unit"] else ""
        rate = (
            f"{money(Decimal(ln['rate']), _sym(cur))}{ln['rate_unit'].replace('per ', '/')}" if ln["rate_unit"] else ""
        )
        t.add_row(comp, f"{ln['item']}" + (f" [{i}]" if explain else ""), q, rate, _money(ln["monthly"], cur))
    g = doc["free_grant"]
    t.add_section()
    t.add_row("free grant", f"{g['vcpu_seconds']:,} vCPU-s, {g['gib_seconds']:,} GiB-s, {g['requests']:,} requests"
              + (f" [{len(doc['lines']) + 1}]" if explain else ""), "", "per subscription",
              Text(_money(g["monthly"], cur), style="green"))
    t.add_section()
    t.add_row(Text("Total", style="bold"), "", "", "", Text(_money(doc["total"], cur), style="bold"))
    out: list[Any] = [t]

    comps = Table(title="By component", title_justify="left", title_style="bold", header_style="bold",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    comps.add_column("Component")
    comps.add_column("Monthly", justify="right")
    for c in doc["components"]:
        comps.add_row(c["component"], _money(c["monthly"], cur))
    comps.add_row("free grant", _money(g["monthly"], cur))
    comps.add_row(Text("Total", style="bold"), Text(_money(doc["total"], cur), style="bold"))
    out.append(comps)

    if explain:
        lines = [f"[{i}] {ln['component']}, {ln['item']}: {ln['formula']}" for i, ln in enumerate(doc["lines"], 1)]
        lines.append(f"[{len(doc['lines']) + 1}] free grant: {g['formula']}")
        lines.append(f"Total = sum of the unrounded lines = {doc['total_exact']} → {_money(doc['total'], cur)}")
        out.append(Text("Arithmetic\n", style="bold") + Text("\n".join(lines)))
    out.append(Text("\nAssumptions\n", style="bold") + Text("\n".join(f"- {a}" for a in doc["assumptions"])))
    p = doc["prices"]
    when = f"fetched {p['fetched'][:10]}" if p["fetched"] else f"effective {p['effective_date']}"
    out.append(Text("\nPrices: ", style="bold") + Text(
        f"{p['origin']} price list for {p['region']} in {p['currency']}, {when} ({p['age_days']} days old); "
        f"refresh with `loomctl cost prices update --region {p['region']}`"))
    out.append(Text("\nCompared with the reference architecture\n", style="bold")
               + Text("\n".join(f"- {n}" for n in doc["reference"]["notes"])))
    return out


def render_prices(doc: dict[str, Any]) -> list[Any]:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    when = f"fetched {doc['fetched']}" if doc["fetched"] else f"effective {doc['effective_date']}"
    head = Text(f"{doc['origin']} price list: {doc['region']}, {doc['currency']}, {when}, {doc['age_days']} days old"
                f"\nsource: {doc['source']}\nfile: {doc['path']}")
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    for col in ("Key", "Price", "Unit", "Meter", "Product"):
        t.add_column(col)
    for m in doc["meters"]:
        t.add_row(m["key"], m["price"], m["unit"] or "", m["meter"] or "", m["product"] or "")
    return [head, t]
