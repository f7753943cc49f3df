"""Turn command-line values (or the live apps) into the model's `Inputs`, refusing what Azure would refuse."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from loomctl.core.errors import UsageError
from loomctl.cost.model import (
    ALLOWED_ALLOCATIONS,
    MAX_PER_MONTH,
    MAX_SHARE_GIB,
    PREMIUM_MIN_GIB,
    STORAGE_TIERS,
    AppShape,
    Inputs,
    StorageShape,
    allowed_pairs_text,
    is_allowed,
    num,
)

# the reference architecture (/docs: relay 2 x 0.5 vCPU / 1 GiB, node 3 x 1.0 vCPU / 2 GiB up to 20, 100 GiB share)
DEFAULTS: dict[str, Any] = {
    "relay_replicas": 2, "relay_cpu": "0.5", "relay_memory": "1", "relay_max_replicas": 5,
    "node_replicas": 3, "node_cpu": "1.0", "node_memory": "2", "node_max_replicas": 20,
    "storage_gib": "100", "storage_tier": "transaction_optimized", "storage_transactions": 10_000_000,
    "requests_per_month": 10_000_000, "idle_fraction": "0",
}
WRITE_SHARE = Decimal("0.3")  # share of Azure Files transactions that are writes (assumption, stated in output)
TIER_ALIASES = {"transaction_optimized": "transaction_optimized", "transaction-optimized": "transaction_optimized",
                "transactionoptimized": "transaction_optimized", "hot": "hot", "cool": "cool", "premium": "premium"}


@dataclass
class LiveApp:
    """What --from-live reads from one app: summed container resources and the scale range."""
    name: str
    cpu: Decimal
    memory: Decimal
    min_replicas: int
    max_replicas: int | None
    location: str | None


def decimal(value: Any, option: str, hint: str) -> Decimal:
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise UsageError(f"{option} '{value}' is not a number", hint) from None
    if not d.is_finite():
        raise UsageError(f"{option} '{value}' is not a number", hint)
    return d


def memory_gib(value: Any, option: str) -> Decimal:
    """'2', '2Gi', '2.0Gi', '1536Mi' -> GiB."""
    text = str(value).strip()
    m = re.fullmatch(r"(?i)([0-9]*\.?[0-9]+)\s*(gi|g|mi)?b?", text)
    if not m:
        raise UsageError(f"{option} '{value}' is not a memory size",
                         "give GiB, e.g. 2 or 2Gi (or 512Mi); valid vCPU/memory pairs: " + allowed_pairs_text())
    d = Decimal(m.group(1))
    if (m.group(2) or "").lower() == "mi":
        d = d / 1024
    return d


def non_negative_int(value: int, option: str) -> int:
    if value < 0:
        raise UsageError(f"{option} must be 0 or more, not {value}", f"give a replica count, e.g. {option} 2")
    return value


def check_pair(role: str, cpu: Decimal, memory: Decimal, opt: str) -> None:
    if not is_allowed(cpu, memory):
        cpus = ", ".join(num(c) for c, _ in ALLOWED_ALLOCATIONS)
        raise UsageError(f"{role}: {num(cpu)} vCPU with {num(memory)} GiB is not a combination Container Apps "
                         f"accepts on the consumption plan",
                         f"valid --{opt}-cpu/--{opt}-memory pairs: {allowed_pairs_text()} (vCPU one of {cpus})")


def tier(value: str) -> str:
    t = TIER_ALIASES.get(value.strip().lower())
    if t is None:
        raise UsageError(f"unknown storage tier '{value}'", "valid tiers: " + ", ".join(STORAGE_TIERS))
    return t


def build(opts: dict[str, Any], live: dict[str, LiveApp] | None = None,
          names: tuple[str, str] = ("gun-relay", "loom-node")) -> Inputs:
    """Inputs from option values (None = not given) and, with --from-live, the live apps by role."""
    o = {k: (DEFAULTS.get(k) if v is None else v) for k, v in opts.items()}
    if opts.get("dev"):
        given = [f"--{k.replace('_', '-')}" for k in ("relay_replicas", "node_replicas") if opts.get(k) is not None]
        if given or live:
            raise UsageError(f"--dev sets one relay and one node; it cannot be combined with "
                             f"{', '.join(given) or '--from-live'}", "drop one of them")
        o["relay_replicas"] = o["node_replicas"] = 1

    f = decimal(o["idle_fraction"], "--idle-fraction", "give a fraction between 0 and 1, e.g. 0.5")
    if not 0 <= f <= 1:
        raise UsageError(f"--idle-fraction must be between 0 and 1, not {o['idle_fraction']}",
                         "valid values: 0 (always busy) to 1 (idle whenever at the minimum replica count), e.g. 0.5")

    apps = []
    for role, name, opt in (("relay", names[0], "relay"), ("node", names[1], "node")):
        la = (live or {}).get(role)
        if la is not None:
            cpu, mem, replicas, max_r = la.cpu, la.memory, la.min_replicas, la.max_replicas
            # the app exists, so Azure accepted its shape (workload-profile consumption allows up to 4/8)
            for k in (f"{opt}_replicas", f"{opt}_cpu", f"{opt}_memory"):
                if opts.get(k) is not None:
                    raise UsageError(f"--{k.replace('_', '-')} cannot be combined with --from-live",
                                     "--from-live reads replicas, vCPU and memory from the deployed apps")
        else:
            cpu = decimal(o[f"{opt}_cpu"], f"--{opt}-cpu", "valid vCPU/memory pairs: " + allowed_pairs_text())
            mem = memory_gib(o[f"{opt}_memory"], f"--{opt}-memory")
            replicas = non_negative_int(int(o[f"{opt}_replicas"]), f"--{opt}-replicas")
            max_r = DEFAULTS[f"{opt}_max_replicas"]
            check_pair(name, cpu, mem, opt)
        if max_r is not None and replicas > max_r:
            raise UsageError(f"{name}: {replicas} replicas is more than its maximum of {max_r}",
                             f"give --{opt}-replicas between 0 and {max_r}")
        peak_r, peak_h = None, Decimal(0)
        if role == "node":
            peak_r, peak_h = _peak(opts, replicas, max_r)
        apps.append(AppShape(name=name, role=role, replicas=replicas, cpu=cpu, memory=mem, max_replicas=max_r,
                             peak_replicas=peak_r, peak_hours=peak_h, idle_fraction=f))

    t = tier(str(o["storage_tier"]))
    gib = decimal(o["storage_gib"], "--storage-gib", "give the share size in GiB, e.g. 100")
    if gib < 0:
        raise UsageError(f"--storage-gib must be 0 or more, not {o['storage_gib']}", "give the share size in GiB")
    if gib > MAX_SHARE_GIB:
        raise UsageError(f"--storage-gib must be at most {num(MAX_SHARE_GIB)} (100 TiB, the largest Azure Files "
                         f"share), not {o['storage_gib']}", "give the share size in GiB, e.g. 100")
    if t == "premium" and gib < PREMIUM_MIN_GIB:
        raise UsageError(f"a premium share provisions at least {num(PREMIUM_MIN_GIB)} GiB, not {num(gib)}",
                         f"give --storage-gib {num(PREMIUM_MIN_GIB)} or more, or a standard tier "
                         "(transaction_optimized, hot, cool)")
    tx = int(o["storage_transactions"])
    if not 0 <= tx <= MAX_PER_MONTH:
        raise UsageError(f"--storage-transactions must be 0 or more, and at most {num(MAX_PER_MONTH)}, not {tx}",
                         "give transactions per month")
    req = int(o["requests_per_month"])
    if not 0 <= req <= MAX_PER_MONTH:
        raise UsageError(f"--requests-per-month must be 0 or more, and at most {num(MAX_PER_MONTH)}, not {req}",
                         "give requests per month, e.g. 1000000")
    return Inputs(apps=tuple(apps), storage=StorageShape(t, gib, tx, WRITE_SHARE), requests_per_month=req)


def _peak(opts: dict[str, Any], base: int, max_r: int | None) -> tuple[int | None, Decimal]:
    hours, reps = opts.get("peak_hours"), opts.get("peak_replicas")
    if hours is None and reps is None:
        return None, Decimal(0)
    if hours is None or reps is None:
        raise UsageError("--peak-hours and --peak-replicas go together",
                         "e.g. --peak-hours 8 --peak-replicas 10 (10 nodes for 8 hours a day)")
    h = decimal(hours, "--peak-hours", "give hours per day between 0 and 24, e.g. 8")
    if not 0 < h <= 24:
        raise UsageError(f"--peak-hours must be more than 0 and at most 24, not {hours}",
                         "give hours per day at the peak replica count, e.g. 8")
    if reps < base or (max_r is not None and reps > max_r):
        raise UsageError(f"--peak-replicas {reps} is outside the node's range of {base} to {max_r}",
                         f"give --peak-replicas between the base count ({base}) and the maximum ({max_r})")
    return int(reps), h


def parse_live(app: Any) -> LiveApp:
    """A `loomctl.azure.model.App` as the cost model needs it (containers' resources summed)."""
    cpu = sum((Decimal(str(c.cpu)) for c in app.containers if c.cpu is not None), Decimal(0))
    mem = sum((memory_gib(c.memory, f"{app.name} memory") for c in app.containers if c.memory), Decimal(0))
    return LiveApp(app.name, cpu.normalize() if cpu else cpu, mem, int(app.min_replicas or 0),
                   int(app.max_replicas) if app.max_replicas is not None else None, app.location)


def region_of(location: str | None) -> str | None:
    """'East US' -> 'eastus' (the armRegionName the price list uses)."""
    return location.replace(" ", "").lower() if location else None
