"""The estimate and the price list as documents (JSON/YAML/TSV); `loomctl.output.views.cost` draws them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from loomctl.cost.compare import Comparison
from loomctl.cost.model import Estimate, Inputs, Line, cents, num
from loomctl.cost.prices import PriceList


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
