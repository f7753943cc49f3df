"""Client for the Azure Retail Prices API (no authentication): fetch the meters the cost model needs.

`GET {endpoint}?api-version=2023-01-01-preview&currencyCode=USD&$filter=...` answers
`{BillingCurrency, Items[], NextPageLink, Count}`; follow `NextPageLink` until it is null. The endpoint can be
overridden with LOOMCTL_PRICES_ENDPOINT (tests point it at a local server); TLS trusts REQUESTS_CA_BUNDLE when
set, as the Azure SDK transport does.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import ssl
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal, InvalidOperation
from typing import Any

from loomctl.core import environment
from loomctl.core.errors import AzureError, NetworkError
from loomctl.core.retry import exponential, retry
from loomctl.cost.prices import PriceList

DEFAULT_ENDPOINT = "https://prices.azure.com/api/retail/prices"
API_VERSION = "2023-01-01-preview"  # filter values are case-sensitive with it
MAX_PAGES = 100
RETRIES = 2  # on 429 / 5xx

ACA_METERS = {  # our key -> (meterName, our unit in API units)
    "aca.vcpu_active": "Standard vCPU Active Usage",
    "aca.vcpu_idle": "Standard vCPU Idle Usage",
    "aca.memory_active": "Standard Memory Active Usage",
    "aca.memory_idle": "Standard Memory Idle Usage",
    "aca.requests": "Standard Requests",
}
OUR_UNITS = {"aca.requests": Decimal(1_000_000)}  # per million requests; others per 1 second / 1 GiB-month / 10K

# our key -> (productName, skuName, meterName candidates in order of preference)
FILES_METERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "files.transaction_optimized.stored": ("Files v2", "Standard LRS", ("LRS Data Stored",)),
    "files.transaction_optimized.write": ("Files v2", "Standard LRS", ("Write Operations", "LRS Write Operations")),
    "files.transaction_optimized.read": ("Files v2", "Standard LRS", ("Read Operations", "LRS Read Operations")),
    "files.hot.stored": ("Files v2", "Hot LRS", ("Hot LRS Data Stored",)),
    "files.hot.write": ("Files v2", "Hot LRS", ("Hot Write Operations", "Hot LRS Write Operations")),
    "files.hot.read": ("Files v2", "Hot LRS", ("Hot Read Operations", "Hot LRS Read Operations")),
    "files.cool.stored": ("Files v2", "Cool LRS", ("Cool LRS Data Stored",)),
    "files.cool.write": ("Files v2", "Cool LRS", ("Cool Write Operations", "Cool LRS Write Operations")),
    "files.cool.read": ("Files v2", "Cool LRS", ("Cool Read Operations", "Cool LRS Read Operations")),
    "files.premium.provisioned": ("Premium Files", "Premium LRS", ("Premium LRS Provisioned",)),
}
UNIT_NAMES = {"aca.vcpu_active": "vCPU-second", "aca.vcpu_idle": "vCPU-second", "aca.memory_active": "GiB-second",
              "aca.memory_idle": "GiB-second", "aca.requests": "1M requests"}


def endpoint() -> str:
    return environment.get("LOOMCTL_PRICES_ENDPOINT") or DEFAULT_ENDPOINT


def _ssl_context() -> ssl.SSLContext:
    bundle = environment.get("REQUESTS_CA_BUNDLE")
    return ssl.create_default_context(cafile=bundle) if bundle else ssl.create_default_context()


def _timeout() -> float:
    return environment.get("LOOMCTL_HTTP_TIMEOUT")


def _backoff() -> float:
    return environment.get("LOOMCTL_RETRY_BACKOFF")


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, urllib.error.HTTPError) and (exc.code == 429 or exc.code >= 500)


def _get_json(url: str) -> dict[str, Any]:
    """One GET of the Retail Prices API: 429 and 5xx retried with exponential backoff, then a LoomError."""
    ctx = _ssl_context() if url.startswith("https:") else None

    def fetch() -> bytes:
        req = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "loomctl"})
        with urllib.request.urlopen(req, timeout=_timeout(), context=ctx) as resp:
            return resp.read()

    try:
        body = retry(fetch, retry_on=_transient, tries=RETRIES + 1, backoff=exponential(_backoff(), math.inf))
    except urllib.error.HTTPError as exc:
        raise AzureError(f"the Azure Retail Prices API answered {exc.code} ({exc.reason})",
                         "try again later; `loomctl cost estimate` keeps using the price list it has"
                         if exc.code >= 500 or exc.code == 429 else
                         "check LOOMCTL_PRICES_ENDPOINT and the region", status=exc.code) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NetworkError(f"cannot reach the Azure Retail Prices API at {_host(url)}: {reason}",
                           "check the network (or LOOMCTL_PRICES_ENDPOINT); `loomctl cost estimate` works "
                           "offline with the price list it has") from None
    try:
        doc = json.loads(body)
    except ValueError:
        raise AzureError(f"the Azure Retail Prices API at {_host(url)} answered something that is not JSON",
                         "check LOOMCTL_PRICES_ENDPOINT; try again later") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Items", []), list):
        raise AzureError(f"the Azure Retail Prices API at {_host(url)} answered an unexpected shape",
                         "check LOOMCTL_PRICES_ENDPOINT; try again later")
    return doc


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc


def query(filter_: str, currency: str) -> list[dict[str, Any]]:
    """Every item matching the OData filter, following NextPageLink (only to the same host)."""
    base = endpoint()
    url = base + "?" + urllib.parse.urlencode({"api-version": API_VERSION, "currencyCode": currency,
                                               "$filter": filter_})
    items: list[dict[str, Any]] = []
    host = urllib.parse.urlsplit(base).hostname
    for _ in range(MAX_PAGES):
        doc = _get_json(url)
        items += [i for i in doc.get("Items") or [] if isinstance(i, dict)]
        nxt = doc.get("NextPageLink")
        if not nxt:
            return items
        if urllib.parse.urlsplit(nxt).hostname != host:
            raise AzureError(f"the Azure Retail Prices API sent a NextPageLink to another host "
                             f"({urllib.parse.urlsplit(nxt).hostname})", "not followed; try again later")
        url = nxt
    raise AzureError(f"the Azure Retail Prices API sent more than {MAX_PAGES} pages", "narrow the query")


def _units(unit_of_measure: str) -> Decimal:
    """'1 Second' -> 1, '10K' -> 10000, '1M' -> 1000000, '1 GB/Month' -> 1."""
    head = (unit_of_measure or "1").strip().split(" ")[0].upper()
    mult = Decimal(1)
    if head.endswith("K"):
        head, mult = head[:-1], Decimal(1000)
    elif head.endswith("M"):
        head, mult = head[:-1], Decimal(1_000_000)
    try:
        return Decimal(head or "1") * mult
    except InvalidOperation:
        return Decimal(1)


def _pick(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Of a meter's rows, the pay-as-you-go price past any free tier: the lowest tier with a price above 0."""
    rows = [i for i in items if (i.get("type") or "Consumption") == "Consumption"]
    paid = [i for i in rows if Decimal(str(i.get("retailPrice") or 0)) > 0]
    pool = paid or rows
    return min(pool, key=lambda i: Decimal(str(i.get("tierMinimumUnits") or 0))) if pool else None


def _meter(key: str, row: dict[str, Any], our_units: Decimal, unit_name: str) -> dict[str, Any]:
    price = Decimal(str(row.get("retailPrice"))) / _units(str(row.get("unitOfMeasure") or "1")) * our_units
    return {"price": format(price.normalize(), "f"), "unit": unit_name, "meter": row.get("meterName"),
            "product": row.get("productName"), "sku": row.get("skuName"), "meter_id": row.get("meterId"),
            "effective": str(row.get("effectiveStartDate") or "")[:10],
            "source": "Azure Retail Prices API"}


def fetch_price_list(region: str, currency: str, now: dt.datetime | None = None) -> PriceList:
    """Fetch the Container Apps and Azure Files meters for a region (two queries, concurrently)."""
    aca_filter = (f"serviceName eq 'Azure Container Apps' and armRegionName eq '{region}' "
                  f"and priceType eq 'Consumption'")
    files_filter = (f"serviceName eq 'Storage' and armRegionName eq '{region}' and priceType eq 'Consumption' "
                    f"and (productName eq 'Files v2' or productName eq 'Premium Files')")
    with ThreadPoolExecutor(max_workers=2) as pool:
        aca_f = pool.submit(query, aca_filter, currency)
        files_f = pool.submit(query, files_filter, currency)
        aca_items, files_items = aca_f.result(), files_f.result()
    if not aca_items and not files_items:
        raise AzureError(f"the Azure Retail Prices API has no Container Apps or Azure Files prices for region "
                         f"'{region}' in {currency}",
                         "Container Apps may not be offered there; try a nearby region, e.g. --region eastus")
    meters: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    for key, name in ACA_METERS.items():
        row = _pick([i for i in aca_items if i.get("meterName") == name])
        if row is None:
            missing.append(name)
        elif not Decimal(str(row.get("retailPrice") or 0)):
            missing.append(f"{name} (only a zero-priced free-grant tier is listed)")
        else:
            meters[key] = _meter(key, row, OUR_UNITS.get(key, Decimal(1)), UNIT_NAMES[key])
    for key, (product, sku, names) in FILES_METERS.items():
        row = None
        for name in names:
            row = _pick([i for i in files_items if i.get("productName") == product and i.get("skuName") == sku
                         and i.get("meterName") == name])
            if row is not None:
                break
        if row is None:
            missing.append(f"{product} {sku} '{names[0]}'")
        else:
            unit = "10K operations" if key.endswith((".write", ".read")) else "GiB-month"
            our = Decimal(10_000) if key.endswith((".write", ".read")) else Decimal(1)
            meters[key] = _meter(key, row, our, unit)
    if missing:
        raise AzureError(f"the Azure Retail Prices API has no price for {', '.join(missing)} in region '{region}'",
                         "nothing was saved; the price list in use is unchanged")
    now = now or dt.datetime.now(dt.timezone.utc)
    effective = max((m["effective"] for m in meters.values() if m["effective"]), default=now.date().isoformat())
    return PriceList(region=region, currency=currency, effective_date=effective, origin="cache",
                     source=f"Azure Retail Prices API ({endpoint()}), fetched {now.date().isoformat()}",
                     meters=meters, fetched=now.replace(microsecond=0).isoformat().replace("+00:00", "Z"))
