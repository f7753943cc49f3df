"""The cost model: Container Apps consumption billing and Azure Files, in exact Decimal arithmetic.

Pure functions (no I/O). `estimate(inputs, rates)` returns an `Estimate` whose lines each carry the arithmetic
that produced them, so `--explain` and the tests can check every figure by hand.

Billing facts (MicrosoftDocs/azure-docs `articles/container-apps/billing.md`):
- consumption plan: per replica, vCPU-seconds and GiB-seconds of the resources *allocated*, at the active rate;
  the idle rate applies only while a revision sits at its minimum replica count (min > 0) and a replica is idle
  (< 0.01 vCPU, no HTTP request served, < 1,000 bytes/s received);
- requests from outside the environment are billed per million; health probes are free;
- free grant per subscription and month: 180,000 vCPU-seconds, 360,000 GiB-seconds, 2 million requests.
A month is 730 hours (8,760 h / 12), the convention of Azure's pricing calculator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

HOURS_PER_MONTH = Decimal(730)
SECONDS_PER_HOUR = Decimal(3600)
SECONDS_PER_MONTH = HOURS_PER_MONTH * SECONDS_PER_HOUR  # 2,628,000
# one hour of every day of a 730-hour month: 3600 s x 730 / 24 days
SECONDS_PER_DAILY_HOUR = SECONDS_PER_MONTH / 24  # 109,500

FREE_VCPU_SECONDS = Decimal(180_000)
FREE_GIB_SECONDS = Decimal(360_000)
FREE_REQUESTS = Decimal(2_000_000)

# vCPU / memory (GiB) per replica that a Consumption(-only) environment accepts (all containers of the app
# together). Source: MicrosoftDocs/azure-docs `articles/container-apps/containers.md` (allocations) and the
# ARM error "Total CPU and memory for all containers defined in a Container App must add up to one of the
# following CPU - Memory combinations: [cpu: 0.25, memory: 0.5Gi]; [cpu: 0.5, memory: 1.0Gi]; ...".
ALLOWED_ALLOCATIONS: tuple[tuple[Decimal, Decimal], ...] = tuple(
    (Decimal(c) / 4, Decimal(c) / 2) for c in range(1, 9))  # 0.25/0.5 ... 2.0/4.0

STORAGE_TIERS = ("transaction_optimized", "hot", "cool", "premium")
PREMIUM_MIN_GIB = Decimal(100)  # premium (provisioned v1) shares provision at least 100 GiB
MAX_SHARE_GIB = Decimal(102_400)  # the largest Azure Files share: 100 TiB (large file shares, every tier)
MAX_PER_MONTH = 10**15  # transactions, requests: far beyond any deployment, and exact in the arithmetic


@dataclass(frozen=True)
class AppShape:
    name: str
    role: str
    replicas: int  # the base count (the minimum replica count with --from-live)
    cpu: Decimal  # vCPU per replica
    memory: Decimal  # GiB per replica
    max_replicas: int | None = None
    peak_replicas: int | None = None  # replicas during the peak hours (None: no peak)
    peak_hours: Decimal = Decimal(0)  # hours per day at peak_replicas
    idle_fraction: Decimal = Decimal(0)  # share of the base (min-count) time a replica is idle


@dataclass(frozen=True)
class StorageShape:
    tier: str
    gib: Decimal
    transactions: int  # per month (standard tiers)
    write_share: Decimal  # share of transactions that are writes


@dataclass(frozen=True)
class Inputs:
    apps: tuple[AppShape, ...]
    storage: StorageShape
    requests_per_month: int


@dataclass(frozen=True)
class Rates:
    vcpu_active: Decimal  # per vCPU-second
    vcpu_idle: Decimal
    memory_active: Decimal  # per GiB-second
    memory_idle: Decimal
    requests: Decimal  # per million requests
    files: dict[str, dict[str, Decimal]]  # tier -> {"stored"|"provisioned": per GiB-month, "write"/"read": per 10K}


@dataclass
class Line:
    component: str
    item: str
    quantity: Decimal
    unit: str
    rate: Decimal
    rate_unit: str
    amount: Decimal
    formula: str


@dataclass
class Usage:
    vcpu_seconds_active: Decimal = Decimal(0)
    vcpu_seconds_idle: Decimal = Decimal(0)
    gib_seconds_active: Decimal = Decimal(0)
    gib_seconds_idle: Decimal = Decimal(0)
    requests: Decimal = Decimal(0)


@dataclass
class Grant:
    vcpu_seconds: Decimal
    gib_seconds: Decimal
    requests: Decimal
    amount: Decimal  # negative: what the grant takes off the bill
    line: Line


@dataclass
class Estimate:
    lines: list[Line]
    grant: Grant
    usage: Usage
    subtotals: dict[str, Decimal] = field(default_factory=dict)  # component -> amount (grant excluded)
    total: Decimal = Decimal(0)


# -- formatting of the arithmetic ---------------------------------------------------------------------------
def num(d: Decimal | int) -> str:
    """A Decimal with thousands separators and no trailing zeros: 2628000 -> '2,628,000', 0.50 -> '0.5'."""
    d = Decimal(d)
    if d == d.to_integral_value():
        return f"{d:,.0f}"  # not quantize: that fails beyond 28 digits (a huge value in a message)
    return f"{d.normalize():,f}"


def money(d: Decimal, symbol: str = "$") -> str:
    """Exact, with at least two decimals: $4.00, $0.000024, -$6.20."""
    sign = "-" if d < 0 else ""
    d = abs(Decimal(d))
    text = num(d) if -d.normalize().as_tuple().exponent > 2 else f"{d.quantize(Decimal('0.01')):,f}"
    return f"{sign}{symbol}{text}"


def cents(d: Decimal) -> Decimal:
    from decimal import ROUND_HALF_UP

    return d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# -- the model ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Segment:
    replicas: int
    seconds: Decimal
    what: str  # "730 h", "20 h/day", ...
    factor: Decimal = Decimal(1)  # share of the time billed at this rate
    factor_text: str = ""

    @property
    def replica_seconds(self) -> Decimal:
        return self.replicas * self.seconds * self.factor

    def text(self, per_replica: Decimal, unit: str) -> str:
        extra = f" × {self.factor_text}" if self.factor_text else ""
        return f"{self.replicas} × {num(per_replica)} {unit} × {num(self.seconds)} s ({self.what}){extra}"


def _segments(app: AppShape) -> tuple[list[_Segment], list[_Segment]]:
    """(active segments, idle segments) of one app's month."""
    peak = app.peak_replicas is not None and app.peak_hours > 0
    base_seconds = (24 - app.peak_hours) * SECONDS_PER_DAILY_HOUR if peak else SECONDS_PER_MONTH
    base_what = f"{num(24 - app.peak_hours)} h/day" if peak else "730 h"
    f = app.idle_fraction if app.replicas > 0 else Decimal(0)  # idle billing needs min replicas > 0
    active: list[_Segment] = []
    idle: list[_Segment] = []
    if app.replicas > 0:
        if f > 0:
            active.append(_Segment(app.replicas, base_seconds, base_what, 1 - f, f"(1 − {num(f)} idle)"))
            idle.append(_Segment(app.replicas, base_seconds, base_what, f, f"{num(f)} idle"))
        else:
            active.append(_Segment(app.replicas, base_seconds, base_what))
    if peak and app.peak_replicas:
        active.append(_Segment(app.peak_replicas, app.peak_hours * SECONDS_PER_DAILY_HOUR,
                               f"{num(app.peak_hours)} h/day peak"))
    return active, idle


def _compute_line(app: AppShape, segs: list[_Segment], resource: str, rate: Decimal, state: str,
                  sym: str) -> tuple[Line, Decimal]:
    per = app.cpu if resource == "vcpu" else app.memory
    unit, qunit = ("vCPU", "vCPU-s") if resource == "vcpu" else ("GiB", "GiB-s")
    qty = sum((per * s.replica_seconds for s in segs), Decimal(0))
    amount = qty * rate
    parts = " + ".join(s.text(per, unit) for s in segs)
    formula = f"{parts} = {num(qty)} {qunit} × {money(rate, sym)} = {money(amount, sym)}"
    item = f"{'vCPU' if resource == 'vcpu' else 'memory'} ({state})"
    return Line(app.name, item, qty, qunit, rate, f"per {qunit}", amount, formula), qty


def _apply_grant(grant: Decimal, active: Decimal, idle: Decimal, rate_a: Decimal, rate_i: Decimal
                 ) -> tuple[Decimal, Decimal, Decimal]:
    """The grant covers active usage first (the dearer rate), then idle. Returns (on active, on idle, value)."""
    on_active = min(grant, active)
    on_idle = min(grant - on_active, idle)
    return on_active, on_idle, on_active * rate_a + on_idle * rate_i


def estimate(inputs: Inputs, rates: Rates, symbol: str = "$") -> Estimate:
    lines: list[Line] = []
    usage = Usage()
    for app in inputs.apps:
        active, idle = _segments(app)
        for resource, ra, ri in (("vcpu", rates.vcpu_active, rates.vcpu_idle),
                                 ("memory", rates.memory_active, rates.memory_idle)):
            if active:
                line, qty = _compute_line(app, active, resource, ra, "active", symbol)
                lines.append(line)
                if resource == "vcpu":
                    usage.vcpu_seconds_active += qty
                else:
                    usage.gib_seconds_active += qty
            if idle:
                line, qty = _compute_line(app, idle, resource, ri, "idle", symbol)
                lines.append(line)
                if resource == "vcpu":
                    usage.vcpu_seconds_idle += qty
                else:
                    usage.gib_seconds_idle += qty
        if not active and not idle:
            lines.append(Line(app.name, "vCPU and memory", Decimal(0), "vCPU-s", rates.vcpu_active, "per vCPU-s",
                              Decimal(0), "0 replicas all month = 0 vCPU-s and 0 GiB-s = " + money(Decimal(0), symbol)))

    req = Decimal(inputs.requests_per_month)
    usage.requests = req
    req_amount = req / 1_000_000 * rates.requests
    lines.append(Line("requests", "HTTP requests", req, "requests", rates.requests, "per 1M requests", req_amount,
                      f"{num(req)} requests ÷ 1,000,000 × {money(rates.requests, symbol)} = "
                      f"{money(req_amount, symbol)}"))

    lines += _storage_lines(inputs.storage, rates, symbol)

    grant = _grant(usage, rates, symbol)
    subtotals: dict[str, Decimal] = {}
    for line in lines:
        subtotals[line.component] = subtotals.get(line.component, Decimal(0)) + line.amount
    total = sum((line.amount for line in lines), Decimal(0)) + grant.amount
    return Estimate(lines=lines, grant=grant, usage=usage, subtotals=subtotals, total=total)


def _grant(usage: Usage, rates: Rates, sym: str) -> Grant:
    va, vi, vval = _apply_grant(FREE_VCPU_SECONDS, usage.vcpu_seconds_active, usage.vcpu_seconds_idle,
                                rates.vcpu_active, rates.vcpu_idle)
    ga, gi, gval = _apply_grant(FREE_GIB_SECONDS, usage.gib_seconds_active, usage.gib_seconds_idle,
                                rates.memory_active, rates.memory_idle)
    free_req = min(FREE_REQUESTS, usage.requests)
    rval = free_req / 1_000_000 * rates.requests
    amount = -(vval + gval + rval)

    def part(on_a: Decimal, on_i: Decimal, unit: str, ra: Decimal, ri: Decimal) -> str:
        s = f"{num(on_a)} {unit} × {money(ra, sym)}"
        if on_i:
            s += f" + {num(on_i)} idle {unit} × {money(ri, sym)}"
        return s

    formula = (f"−({part(va, vi, 'vCPU-s', rates.vcpu_active, rates.vcpu_idle)}"
               f" + {part(ga, gi, 'GiB-s', rates.memory_active, rates.memory_idle)}"
               f" + {num(free_req)} requests ÷ 1,000,000 × {money(rates.requests, sym)})"
               f" = {money(amount, sym)}  [grant: 180,000 vCPU-s, 360,000 GiB-s, 2,000,000 requests a month"
               f" per subscription, applied once across all apps, never more than the usage]")
    line = Line("free grant", "monthly free grant (per subscription)", Decimal(0), "", Decimal(0), "", amount,
                formula)
    return Grant(va + vi, ga + gi, free_req, amount, line)


def _storage_lines(st: StorageShape, rates: Rates, sym: str) -> list[Line]:
    comp = "azure files"
    tier = rates.files[st.tier]
    label = st.tier.replace("_", " ")
    if st.tier == "premium":
        rate = tier["provisioned"]
        amount = st.gib * rate
        return [Line(comp, "premium provisioned capacity", st.gib, "GiB", rate, "per GiB-month", amount,
                     f"{num(st.gib)} GiB provisioned × {money(rate, sym)} = {money(amount, sym)}"
                     " (transactions are included in premium)")]
    rate = tier["stored"]
    stored = st.gib * rate
    writes = (Decimal(st.transactions) * st.write_share).to_integral_value()
    reads = Decimal(st.transactions) - writes
    w_amount = writes / 10_000 * tier["write"]
    r_amount = reads / 10_000 * tier["read"]
    return [
        Line(comp, f"{label} data stored", st.gib, "GiB", rate, "per GiB-month", stored,
             f"{num(st.gib)} GiB × {money(rate, sym)} = {money(stored, sym)}"),
        Line(comp, f"{label} write transactions", writes, "operations", tier["write"], "per 10K", w_amount,
             f"{num(writes)} writes ({num(st.write_share * 100)}% of {num(st.transactions)}) ÷ 10,000 × "
             f"{money(tier['write'], sym)} = {money(w_amount, sym)}"),
        Line(comp, f"{label} read/other transactions", reads, "operations", tier["read"], "per 10K", r_amount,
             f"{num(reads)} reads and other ÷ 10,000 × {money(tier['read'], sym)} = {money(r_amount, sym)}"),
    ]


def allowed_pairs_text() -> str:
    return ", ".join(f"{num(c)}/{num(m)}Gi" for c, m in ALLOWED_ALLOCATIONS)


def is_allowed(cpu: Decimal, memory: Decimal) -> bool:
    return (cpu, memory) in ALLOWED_ALLOCATIONS
