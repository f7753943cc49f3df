"""Compare an estimate with the reference architecture's own cost table and say where and why they differ.

The reference (docs "Cost Optimization"): relay 2 x 0.5 vCPU / 1 GB ~$50, node 3 x 1.0 vCPU / 2 GB ~$200,
Azure Files 100 GB ~$10, total (base) ~$260; each additional node replica ~$70; dev (1 relay + 1 node) ~$100;
"auto-scale only during peak hours: save 50%". It names no rates, no free grant and no request charges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from loomctl.cost.model import SECONDS_PER_MONTH, Estimate, Inputs, Rates, cents, money, num

REFERENCE = {"relay": Decimal(50), "node": Decimal(200), "files": Decimal(10), "total": Decimal(260),
             "node_replica": Decimal(70), "dev": Decimal(100), "peak_saving_pct": Decimal(50)}


@dataclass
class Comparison:
    reference_total: Decimal
    estimate_total: Decimal
    difference: Decimal
    shape: str  # "reference" | "dev" | "other"
    notes: list[str] = field(default_factory=list)


def _replica_month(cpu: Decimal, mem: Decimal, r: Rates) -> Decimal:
    return (cpu * r.vcpu_active + mem * r.memory_active) * SECONDS_PER_MONTH


def compare(est: Estimate, inputs: Inputs, rates: Rates, sym: str = "$", usd: bool = True,
            always_peak: Estimate | None = None) -> Comparison:
    relay, node = inputs.apps[0], inputs.apps[1]
    st = inputs.storage
    ref_shape = (relay.replicas == 2 and relay.cpu == Decimal("0.5") and relay.memory == 1
                 and node.replicas == 3 and node.cpu == 1 and node.memory == 2)
    dev_shape = (relay.replicas == 1 and node.replicas == 1 and relay.cpu == Decimal("0.5")
                 and relay.memory == 1 and node.cpu == 1 and node.memory == 2)
    shape = "reference" if ref_shape else "dev" if dev_shape else "other"
    ref_total = REFERENCE["dev"] if shape == "dev" else REFERENCE["total"]
    total = est.total
    diff = total - ref_total
    notes: list[str] = []
    if not usd:
        notes.append("the reference's table is in US dollars; this estimate is in another currency, so compare "
                     "the shape of the figures, not the amounts")
    label = "the dev environment (1 relay + 1 node)" if shape == "dev" else "the base deployment"
    pct = (diff / ref_total * 100) if ref_total else Decimal(0)
    notes.append(f"the reference architecture's cost table puts {label} at about ${num(ref_total)} a month; "
                 f"this estimate is {money(cents(total), sym)} ({'+' if diff >= 0 else '−'}"
                 f"{num(cents(abs(diff)))}, {'+' if pct >= 0 else '−'}{num(abs(pct).quantize(Decimal(1)))}%)")
    if shape == "other":
        notes.append("your shape differs from the reference's (relay 2 × 0.5 vCPU / 1 GiB, node 3 × 1.0 vCPU / "
                     "2 GiB), so part of the difference is the shape itself")
    per_relay = _replica_month(relay.cpu, relay.memory, rates)
    per_node = _replica_month(node.cpu, node.memory, rates)
    notes.append(f"an always-busy replica bills (vCPU × {money(rates.vcpu_active, sym)} + GiB × "
                 f"{money(rates.memory_active, sym)}) × 2,628,000 s: {money(cents(per_relay), sym)} per relay "
                 f"({num(relay.cpu)} vCPU / {num(relay.memory)} GiB) and {money(cents(per_node), sym)} per node "
                 f"({num(node.cpu)} vCPU / {num(node.memory)} GiB); the reference says about "
                 f"${num(REFERENCE['node_replica'])} per additional node and ${num(REFERENCE['relay'])} for two "
                 f"relays, figures that fit neither always-busy nor idle billing")
    if shape == "reference":
        for comp, ref in ((relay.name, REFERENCE["relay"]), (node.name, REFERENCE["node"])):
            got = est.subtotals.get(comp, Decimal(0))
            notes.append(f"{comp}: {money(cents(got), sym)} here against the reference's ~${num(ref)}")
    files = est.subtotals.get("azure files", Decimal(0))
    notes.append(f"Azure Files: {money(cents(files), sym)} here ({st.tier.replace('_', ' ')}, {num(st.gib)} GiB"
                 + (", transactions estimated" if st.tier != "premium" else "")
                 + f") against the reference's ~${num(REFERENCE['files'])} for 100 GB, which prices storage only")
    notes.append(f"the reference leaves out the monthly free grant ({money(cents(est.grant.amount), sym)} here) "
                 f"and request charges ({money(cents(est.subtotals.get('requests', Decimal(0))), sym)} here)")
    if relay.idle_fraction > 0:
        notes.append(f"idle billing at {num(relay.idle_fraction)} of the minimum-count time lowers the compute "
                     f"lines; the reference does not say whether it assumes any idle time")
    if always_peak is not None and node.peak_replicas:
        saved = always_peak.total - total
        spct = (saved / always_peak.total * 100) if always_peak.total else Decimal(0)
        notes.append(f"running {node.peak_replicas} nodes all month would cost {money(cents(always_peak.total), sym)}; "
                     f"scaling to {node.peak_replicas} only {num(node.peak_hours)} h a day saves "
                     f"{money(cents(saved), sym)} ({num(spct.quantize(Decimal(1)))}%), against the reference's "
                     f"claim of {num(REFERENCE['peak_saving_pct'])}%")
    return Comparison(ref_total, total, diff, shape, notes)
