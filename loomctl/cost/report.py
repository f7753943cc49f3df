"""The estimate as a document (JSON/YAML/TSV) and as rich tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from loomctl.cost.compare import Comparison
from loomctl.cost.model import Estimate, Inputs, Line, cents, money, num
from loomctl.cost.prices import SYMBOLS, PriceList


def _n(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)


def _line(line: Line) -> dict[str, Any]:
    return {"component": line.component, "item": line.item, "quantity": _n(line.quantity), "unit": line.unit,
            "rate": format(line.rate.normalize(), "f"), "rate_unit": line.rate_unit,
            "monthly": float(cents(line.amount)), "exact": format(line.amount.normalize(), "f"),
            "formula": line.formula}


def price_doc(pl: PriceList, today: dt.date | None = None) -> dict[str, Any]:
    return {"region": pl.region, "currency": pl.currency, "origin": pl.origin, "effective_date": pl.effective_date,
            "fetched": pl.fetched, "age_days": pl.age_days(today), "source": pl.source, "path": pl.path,
            "meters": [{"key": k, "price": str(m.get("price")), "unit": m.get("unit"), "meter": m.get("meter"),
                        "product": m.get("product"), "source": m.get("source")} for k, m in pl.meters.items()]}


def assumptions(inputs: Inputs, source: str) -> list[str]:
    relay, node = inputs.apps
    st = inputs.storage
    out = ["a month is 730 hours (2,628,000 seconds; 8,760 hours a year / 12, as Azure's pricing calculator)",
           "Container Apps consumption plan, pay-as-you-go; vCPU and memory bill on what each replica is "
           "allocated, whether used or not"]
    if source == "live":
        out.append(f"replicas, vCPU and memory read from the deployed apps; the base count is each app's minimum "
                   f"replica count ({relay.name} {relay.replicas}, {node.name} {node.replicas})")
    if node.peak_replicas:
        out.append(f"{node.name} runs {node.peak_replicas} replicas for {num(node.peak_hours)} h a day and "
                   f"{node.replicas} otherwise; the relay does not scale")
    if relay.idle_fraction > 0:
        out.append(f"replicas at the minimum count are idle {num(relay.idle_fraction * 100)}% of that time and bill "
                   f"the idle rate then (idle: < 0.01 vCPU, no HTTP request, < 1,000 bytes/s received); "
                   f"replicas above the minimum always bill the active rate")
    else:
        out.append("every replica bills the active rate all the time (no idle time; see --idle-fraction)")
    out += [f"{inputs.requests_per_month:,} HTTP requests a month from outside the environment (health probes "
            f"and traffic inside the environment are free)",
            "the free grant (180,000 vCPU-s, 360,000 GiB-s, 2 million requests a month) is per subscription, "
            "applied once across all apps, to active usage first; other apps in the subscription share it"]
    if st.tier == "premium":
        out.append(f"Azure Files premium bills the provisioned size ({num(st.gib)} GiB), transactions included")
    else:
        out.append(f"Azure Files {st.tier.replace('_', ' ')} LRS, {num(st.gib)} GiB used, "
                   f"{st.transactions:,} transactions a month ({num(st.write_share * 100)}% writes, the rest "
                   f"billed at the read rate); snapshots, data transfer and list/protocol meters left out")
    out.append("Log Analytics, Application Insights, the container registry and outbound data are not included")
    return out


def build_doc(est: Estimate, inputs: Inputs, pl: PriceList, cmp: Comparison, source: str,
              today: dt.date | None = None) -> dict[str, Any]:
    comps = []
    for name, amount in est.subtotals.items():
        comps.append({"component": name, "monthly": float(cents(amount)), "exact": format(amount.normalize(), "f")})
    g = est.grant
    return {
        "currency": pl.currency,
        "total": float(cents(est.total)),
        "total_exact": format(est.total.normalize(), "f"),
        "components": comps,
        "lines": [_line(x) for x in est.lines],
        "free_grant": {"vcpu_seconds": _n(g.vcpu_seconds), "gib_seconds": _n(g.gib_seconds),
                       "requests": _n(g.requests), "monthly": float(cents(g.amount)),
                       "exact": format(g.amount.normalize(), "f"), "formula": g.line.formula},
        "usage": {"vcpu_seconds_active": _n(est.usage.vcpu_seconds_active),
                  "vcpu_seconds_idle": _n(est.usage.vcpu_seconds_idle),
                  "gib_seconds_active": _n(est.usage.gib_seconds_active),
                  "gib_seconds_idle": _n(est.usage.gib_seconds_idle), "requests": _n(est.usage.requests)},
        "inputs": {
            "source": source,
            "apps": [{"name": a.name, "role": a.role, "replicas": a.replicas, "cpu": _n(a.cpu),
                      "memory_gib": _n(a.memory), "max_replicas": a.max_replicas, "peak_replicas": a.peak_replicas,
                      "peak_hours": _n(a.peak_hours), "idle_fraction": _n(a.idle_fraction)} for a in inputs.apps],
            "storage": {"tier": inputs.storage.tier, "gib": _n(inputs.storage.gib),
                        "transactions": inputs.storage.transactions,
                        "write_share": _n(inputs.storage.write_share)},
            "requests_per_month": inputs.requests_per_month,
        },
        "assumptions": assumptions(inputs, source),
        "prices": {k: v for k, v in price_doc(pl, today).items() if k != "meters"},
        "reference": {"shape": cmp.shape, "reference_total": _n(cmp.reference_total),
                      "difference": float(cents(cmp.difference)), "notes": cmp.notes},
    }


def _sym(cur: str) -> str:
    return SYMBOLS.get(cur, cur + " ")


def _money(v: float, cur: str) -> str:
    sym = _sym(cur)
    return f"-{sym}{abs(v):,.2f}" if v < 0 else f"{sym}{v:,.2f}"


def render(doc: dict[str, Any], explain: bool = False) -> list[Any]:
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
        rate = f"{money(Decimal(ln['rate']), _sym(cur))}{ln['rate_unit'].replace('per ', '/')}" if ln["rate_unit"] else ""
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
