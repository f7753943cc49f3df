"""Price lists: the one shipped in the package (loomctl/data/prices-<region>.json) and those fetched by
`loomctl cost prices update` into the cache ($LOOMCTL_CACHE_DIR, else $XDG_CACHE_HOME/loomctl, else
~/.cache/loomctl). A cached list for the region and currency wins over the shipped one."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from loomctl.core import environment
from loomctl.core.errors import ConfigError, UsageError
from loomctl.core.files import write_text_atomic
from loomctl.cost.model import STORAGE_TIERS, Rates

SCHEMA = 1

# Currencies the Azure Retail Prices API answers in (`currencyCode`), per its documentation.
CURRENCIES = ("USD", "AUD", "BRL", "CAD", "CHF", "CNY", "DKK", "EUR", "GBP", "INR", "JPY", "KRW", "NOK", "NZD",
              "RUB", "SEK", "TWD")
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}

# Azure public-cloud regions (armRegionName) where Container Apps can run, as `az account list-locations` names them.
REGIONS = (
    "australiacentral", "australiaeast", "australiasoutheast", "brazilsouth", "canadacentral", "canadaeast",
    "centralindia", "centralus", "eastasia", "eastus", "eastus2", "francecentral", "germanywestcentral",
    "israelcentral", "italynorth", "japaneast", "japanwest", "koreacentral", "koreasouth", "mexicocentral",
    "newzealandnorth", "northcentralus", "northeurope", "norwayeast", "polandcentral", "qatarcentral",
    "southafricanorth", "southcentralus", "southeastasia", "southindia", "spaincentral", "swedencentral",
    "switzerlandnorth", "uaenorth", "uksouth", "ukwest", "westcentralus", "westeurope", "westus", "westus2",
    "westus3",
)

# meter keys every price list must have
REQUIRED_METERS = (
    "aca.vcpu_active", "aca.vcpu_idle", "aca.memory_active", "aca.memory_idle", "aca.requests",
    "files.transaction_optimized.stored", "files.transaction_optimized.write", "files.transaction_optimized.read",
    "files.hot.stored", "files.hot.write", "files.hot.read",
    "files.cool.stored", "files.cool.write", "files.cool.read",
    "files.premium.provisioned",
)


@dataclass
class PriceList:
    region: str
    currency: str
    effective_date: str  # YYYY-MM-DD
    origin: str  # "shipped" | "cache"
    source: str
    meters: dict[str, dict[str, Any]]
    fetched: str | None = None  # ISO timestamp of the fetch (cache only)
    path: str | None = field(default=None, compare=False)

    def price(self, key: str) -> Decimal:
        return Decimal(str(self.meters[key]["price"]))

    def rates(self) -> Rates:
        files: dict[str, dict[str, Decimal]] = {}
        for tier in STORAGE_TIERS:
            prefix = f"files.{tier}."
            files[tier] = {k[len(prefix):]: self.price(k) for k in self.meters if k.startswith(prefix)}
        return Rates(self.price("aca.vcpu_active"), self.price("aca.vcpu_idle"), self.price("aca.memory_active"),
                     self.price("aca.memory_idle"), self.price("aca.requests"), files)

    @property
    def as_of(self) -> dt.date:
        """The date the prices are known to be current: when fetched, else their effective date."""
        stamp = (self.fetched or self.effective_date)[:10]
        return dt.date.fromisoformat(stamp)

    def age_days(self, today: dt.date | None = None) -> int:
        return ((today or dt.date.today()) - self.as_of).days

    @property
    def symbol(self) -> str:
        return SYMBOLS.get(self.currency, self.currency + " ")

    def to_doc(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "region": self.region, "currency": self.currency,
                "effective_date": self.effective_date, "fetched": self.fetched, "origin": self.origin,
                "source": self.source, "meters": self.meters}

    @classmethod
    def from_doc(cls, doc: dict[str, Any], origin: str, path: str) -> PriceList:
        try:
            meters = doc["meters"]
            missing = [k for k in REQUIRED_METERS if k not in meters]
            if missing:
                raise KeyError(", ".join(missing))
            for k in REQUIRED_METERS:
                Decimal(str(meters[k]["price"]))
            pl = cls(region=str(doc["region"]), currency=str(doc["currency"]),
                     effective_date=str(doc["effective_date"]), origin=origin, source=str(doc.get("source", "")),
                     meters=meters, fetched=doc.get("fetched"), path=path)
            pl.as_of  # noqa: B018 - validates the dates
            return pl
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise ConfigError(f"price list {path} is not usable: missing or bad {exc}",
                              "delete it and run `loomctl cost prices update`") from None


def cache_path(region: str, currency: str) -> Path:
    return environment.cache_dir() / f"prices-{region}-{currency}.json"


def _data_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "data"


def shipped_regions() -> list[str]:
    return sorted(p.stem[len("prices-"):] for p in _data_dir().glob("prices-*.json"))


def cached_lists() -> list[tuple[str, str]]:
    out = []
    for p in sorted(environment.cache_dir().glob("prices-*-*.json")):
        region, _, currency = p.stem[len("prices-"):].rpartition("-")
        out.append((region, currency))
    return out


def _read(path: Path, origin: str) -> PriceList:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read price list {path}: {exc}",
                          "delete it and run `loomctl cost prices update`") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"price list {path} is not a JSON object", "delete it and run `loomctl cost prices update`")
    return PriceList.from_doc(doc, origin, str(path))


def check_region(region: str) -> str:
    r = region.strip().lower().replace(" ", "")
    if r not in REGIONS:
        raise UsageError(f"unknown Azure region '{region}'", "valid regions: " + ", ".join(REGIONS))
    return r


def check_currency(currency: str) -> str:
    c = currency.strip().upper()
    if c not in CURRENCIES:
        raise UsageError(f"unknown currency '{currency}'", "valid currencies: " + ", ".join(CURRENCIES))
    return c


def load(region: str, currency: str = "USD") -> PriceList:
    """The price list for a region and currency: the cached one if fetched, else the shipped one."""
    region, currency = check_region(region), check_currency(currency)
    cached = cache_path(region, currency)
    if cached.is_file():
        return _read(cached, "cache")
    shipped = _data_dir() / f"prices-{region}.json"
    if shipped.is_file():
        pl = _read(shipped, "shipped")
        if pl.currency == currency:
            return pl
    have = [f"{r} (shipped, USD)" for r in shipped_regions()] + [f"{r} ({c}, cached)" for r, c in cached_lists()]
    raise UsageError(f"no price list for region '{region}' in {currency}; available: {', '.join(have) or 'none'}",
                     f"fetch it with `loomctl cost prices update --region {region} --currency {currency}`")


def save(pl: PriceList) -> Path:
    """Write a fetched price list to the cache atomically (a reader never sees half a file)."""
    path = cache_path(pl.region, pl.currency)
    write_text_atomic(path, json.dumps(pl.to_doc(), indent=2) + "\n", parents=True)
    pl.path = str(path)
    return path
