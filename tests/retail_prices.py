"""A local Azure Retail Prices API, served by the test Azure (HTTPS, test CA) at /api/retail/prices.

Items are shaped like the real API's (field names from its documentation). The ACA meters include the free
tier rows the real API lists (price 0 up to the grant), which loomctl must skip. Pages hold `page_size` items;
`NextPageLink` points back at this server with `$skip`, as the real one does.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from tests.fakeazure.server import FakeAzure, Request, Response

PATH = "/api/retail/prices"


def item(meter: str, price: str, unit: str, product: str, sku: str, service: str, region: str = "eastus",
         tier_min: int = 0, currency: str = "USD") -> dict[str, Any]:
    return {"currencyCode": currency, "tierMinimumUnits": tier_min, "retailPrice": float(price),
            "unitPrice": float(price), "armRegionName": region, "location": "US East",
            "effectiveStartDate": "2026-10-01T00:00:00Z", "meterId": f"id-{sku}-{meter}".replace(" ", "-"),
            "meterName": meter, "productId": "DZH3", "skuId": "DZH3/0001", "productName": product, "skuName": sku,
            "serviceName": service, "serviceId": "DZH3", "serviceFamily": "Compute" if service != "Storage"
            else "Storage", "unitOfMeasure": unit, "type": "Consumption", "isPrimaryMeterRegion": True,
            "armSkuName": ""}


def aca_items(region: str = "eastus", vcpu: str = "0.000034") -> list[dict[str, Any]]:
    p, s, svc = "Azure Container Apps", "Standard", "Azure Container Apps"
    return [
        item("Standard vCPU Active Usage", "0", "1 Second", p, s, svc, region),  # the free grant tier
        item("Standard vCPU Active Usage", vcpu, "1 Second", p, s, svc, region, tier_min=180000),
        item("Standard vCPU Idle Usage", "0.000004", "1 Second", p, s, svc, region),
        item("Standard Memory Active Usage", "0", "1 GiB Second", p, s, svc, region),
        item("Standard Memory Active Usage", "0.000004", "1 GiB Second", p, s, svc, region, tier_min=360000),
        item("Standard Memory Idle Usage", "0.000004", "1 GiB Second", p, s, svc, region),
        item("Standard Requests", "0", "1M", p, s, svc, region),
        item("Standard Requests", "0.5", "1M", p, s, svc, region, tier_min=2),
        item("Dedicated Plan Management", "0.1", "1 Hour", p, "Dedicated", svc, region),  # not ours
    ]


def files_items(region: str = "eastus") -> list[dict[str, Any]]:
    f, svc = "Files v2", "Storage"
    return [
        item("LRS Data Stored", "0.07", "1 GB/Month", f, "Standard LRS", svc, region),
        item("Write Operations", "0.02", "10K", f, "Standard LRS", svc, region),
        item("Read Operations", "0.002", "10K", f, "Standard LRS", svc, region),
        item("Hot LRS Data Stored", "0.03", "1 GB/Month", f, "Hot LRS", svc, region),
        item("Hot Write Operations", "0.07", "10K", f, "Hot LRS", svc, region),
        item("Hot Read Operations", "0.006", "10K", f, "Hot LRS", svc, region),
        item("Cool LRS Data Stored", "0.02", "1 GB/Month", f, "Cool LRS", svc, region),
        item("Cool Write Operations", "0.14", "10K", f, "Cool LRS", svc, region),
        item("Cool Read Operations", "0.014", "10K", f, "Cool LRS", svc, region),
        item("ZRS Data Stored", "0.075", "1 GB/Month", f, "Standard ZRS", svc, region),  # not ours
        item("Premium LRS Provisioned", "0.17", "1 GB/Month", "Premium Files", "Premium LRS", svc, region),
    ]


class PriceAPI:
    """Install the route on the test Azure; `aca` and `files` are the items each query answers with."""

    def __init__(self, server: FakeAzure, page_size: int = 3):
        self.server = server
        self.page_size = page_size
        self.aca = aca_items()
        self.files = files_items()
        server.route("GET", re.escape(PATH), self.handle)

    @property
    def url(self) -> str:
        return self.server.url + PATH

    def requests(self) -> list[Request]:
        return [r for r in self.server.requests if r.path == PATH]

    def handle(self, req: Request, m: Any) -> Any:
        flt = (req.query.get("$filter") or [""])[0]
        currency = (req.query.get("currencyCode") or ["USD"])[0]
        region = re.search(r"armRegionName eq '([^']*)'", flt)
        items = self.aca if "Azure Container Apps" in flt else self.files if "'Storage'" in flt else []
        items = [dict(i, currencyCode=currency) for i in items
                 if region and i["armRegionName"] == region.group(1)]
        skip = int((req.query.get("$skip") or ["0"])[0])
        page = items[skip:skip + self.page_size]
        nxt = None
        if skip + self.page_size < len(items):
            q = {k: v[0] for k, v in req.query.items()}
            q["$skip"] = str(skip + self.page_size)
            nxt = f"{self.url}?{urlencode(q)}"
        return Response(200, {"BillingCurrency": currency, "CustomerEntityId": "Default",
                              "CustomerEntityType": "Retail", "Items": page, "NextPageLink": nxt,
                              "Count": len(page)})
