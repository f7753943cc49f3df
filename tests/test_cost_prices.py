"""`loomctl cost prices update|show` against a local Retail Prices API (HTTPS on 127.0.0.1, test CA)."""

from __future__ import annotations

import datetime as dt
import socket
from decimal import Decimal
from pathlib import Path

import pytest

from tests.fakeazure.server import Fault, Response
from tests.retail_prices import PATH, PriceAPI


@pytest.fixture
def api(azure, monkeypatch, tmp_path):
    monkeypatch.setenv("LOOMCTL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LOOMCTL_RETRY_BACKOFF", "0.01")
    server = PriceAPI(azure)
    monkeypatch.setenv("LOOMCTL_PRICES_ENDPOINT", server.url)
    return server


def cache_file(tmp_path, region="eastus", currency="USD"):
    return tmp_path / "cache" / f"prices-{region}-{currency}.json"


def test_update_follows_pages_and_the_estimate_uses_the_cache(api, loomctl, tmp_path):
    run = loomctl("cost", "prices", "update", "--region", "eastus", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert f"saved 15 prices for eastus (USD) to {cache_file(tmp_path)}" in run.stderr
    meters = {m["key"]: m["price"] for m in run.json()["meters"]}
    assert meters["aca.vcpu_active"] == "0.000034"  # the paid tier, not the free-grant row at 0
    assert meters["aca.requests"] == "0.5"
    assert meters["files.transaction_optimized.write"] == "0.02"
    assert meters["files.premium.provisioned"] == "0.17"
    # 9 ACA items in pages of 3 and 11 eastus Files items in pages of 3: every NextPageLink followed
    reqs = api.requests()
    assert len(reqs) == 3 + 4
    assert all(r.query["api-version"] == ["2023-01-01-preview"] and r.query["currencyCode"] == ["USD"]
               for r in reqs)
    aca = [r for r in reqs if "Azure Container Apps" in r.query["$filter"][0]]
    assert sorted((r.query.get("$skip") or ["0"])[0] for r in aca) == ["0", "3", "6"]
    assert "armRegionName eq 'eastus'" in aca[0].query["$filter"][0]
    assert "authorization" not in reqs[0].headers  # the price API takes no credentials

    doc = loomctl("cost", "estimate", "-o", "json").json()
    assert doc["prices"]["origin"] == "cache" and doc["prices"]["age_days"] == 0
    assert doc["prices"]["fetched"][:10] == dt.datetime.now(dt.timezone.utc).date().isoformat()
    got = {(x["component"], x["item"]): Decimal(x["exact"]) for x in doc["lines"]}
    assert got[("gun-relay", "vCPU (active)")] == Decimal("89.352")  # 2,628,000 x 0.000034
    assert got[("loom-node", "memory (active)")] == Decimal("63.072")  # 15,768,000 x 0.000004
    # grant: 180,000 x 0.000034 + 360,000 x 0.000004 + 2 x 0.5 = 6.12 + 1.44 + 1
    assert Decimal(doc["free_grant"]["exact"]) == Decimal("-8.56")
    # 110.376 + 331.128 + 5 + (7 + 6 + 1.4) - 8.56
    assert doc["total_exact"] == "452.344"

    table = loomctl("cost", "estimate", "-o", "table")
    assert "cache price list for eastus in USD, fetched" in table.stdout and "(0 days old)" in table.stdout
    show = loomctl("cost", "prices", "show", "-o", "json").json()
    assert show["origin"] == "cache" and show["path"] == str(cache_file(tmp_path))


def test_empty_result_is_an_error_and_saves_nothing(api, loomctl, tmp_path):
    run = loomctl("cost", "prices", "update", "--region", "westus2")
    assert run.exit_code == 3
    assert "error: the Azure Retail Prices API has no Container Apps or Azure Files prices for region 'westus2'" \
        in run.stderr
    assert "hint: " in run.stderr and "Traceback" not in run.stderr
    assert not cache_file(tmp_path, "westus2").exists()
    assert len(api.requests()) == 2


def test_server_error_is_retried_then_reported_and_the_cache_is_kept(api, azure, loomctl, tmp_path):
    assert loomctl("cost", "prices", "update").exit_code == 0
    before = cache_file(tmp_path).read_bytes()
    azure.requests.clear()
    azure.faults.append(Fault(PATH, status=503))
    run = loomctl("cost", "prices", "update", "-o", "json")
    assert run.exit_code == 3
    assert run.stdout == ""
    assert "error: the Azure Retail Prices API answered 503" in run.stderr
    assert "keeps using the price list it has" in run.stderr
    assert len(api.requests()) == 2 * 3  # two queries, each tried 3 times
    assert cache_file(tmp_path).read_bytes() == before
    assert not list((tmp_path / "cache").glob("*.tmp*"))


def test_one_server_error_is_retried_and_succeeds(api, azure, loomctl):
    azure.faults.append(Fault(PATH, status=502, times=1))
    run = loomctl("cost", "prices", "update", "-o", "none")
    assert run.exit_code == 0, run.stderr
    assert len(api.requests()) == 3 + 4 + 1


def test_missing_meter_names_it_and_saves_nothing(api, loomctl, tmp_path):
    api.files = [i for i in api.files if i["meterName"] != "Hot Read Operations"]
    run = loomctl("cost", "prices", "update")
    assert run.exit_code == 3
    assert "no price for Files v2 Hot LRS 'Hot Read Operations' in region 'eastus'" in run.stderr
    assert "nothing was saved" in run.stderr
    assert not cache_file(tmp_path).exists()


def test_garbage_answer_is_reported(api, azure, loomctl):
    azure.route("GET", PATH, lambda req, m: Response(200, b"<html>maintenance</html>"))
    run = loomctl("cost", "prices", "update")
    assert run.exit_code == 3
    assert "answered something that is not JSON" in run.stderr and "Traceback" not in run.stderr


def test_next_page_link_to_another_host_is_not_followed(api, azure, loomctl):
    azure.route("GET", PATH, lambda req, m: {"Items": [], "NextPageLink": "https://evil.example/api/retail/prices"})
    run = loomctl("cost", "prices", "update")
    assert run.exit_code == 3
    assert "NextPageLink to another host (evil.example)" in run.stderr


def test_dead_endpoint_is_a_network_error(azure, loomctl, monkeypatch, tmp_path):
    monkeypatch.setenv("LOOMCTL_CACHE_DIR", str(tmp_path / "cache"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("LOOMCTL_PRICES_ENDPOINT", f"https://127.0.0.1:{port}/api/retail/prices")
    run = loomctl("cost", "prices", "update")
    assert run.exit_code == 3
    assert f"cannot reach the Azure Retail Prices API at 127.0.0.1:{port}" in run.stderr
    assert "works offline" in run.stderr


def test_other_currency_is_fetched_and_used(api, loomctl, tmp_path):
    run = loomctl("cost", "prices", "update", "--currency", "eur", "-o", "none")
    assert run.exit_code == 0, run.stderr
    assert all(r.query["currencyCode"] == ["EUR"] for r in api.requests())
    assert cache_file(tmp_path, currency="EUR").exists()
    doc = loomctl("cost", "estimate", "--currency", "EUR", "-o", "json").json()
    assert doc["currency"] == "EUR" and doc["prices"]["currency"] == "EUR"
    assert doc["total_exact"] == "452.344"
    assert any("in US dollars" in n for n in doc["reference"]["notes"])
    table = loomctl("cost", "estimate", "--currency", "EUR", "-o", "table")
    assert "€452.34" in table.stdout
    # the USD estimate still uses the shipped list
    assert loomctl("cost", "estimate", "-o", "json").json()["prices"]["origin"] == "shipped"


def test_bad_region_or_currency_is_refused_before_any_request(api, loomctl):
    run = loomctl("cost", "prices", "update", "--region", "moon-1")
    assert run.exit_code == 2
    assert "error: unknown Azure region 'moon-1'" in run.stderr and "hint: valid regions: " in run.stderr
    run = loomctl("cost", "prices", "update", "--currency", "DOGE")
    assert run.exit_code == 2 and "hint: valid currencies: USD, AUD" in run.stderr
    assert api.requests() == []


def test_unreadable_cache_is_a_config_error(loomctl, monkeypatch, tmp_path):
    monkeypatch.setenv("LOOMCTL_CACHE_DIR", str(tmp_path))
    (tmp_path / "prices-eastus-USD.json").write_text('{"region": "eastus", "meters": {}}')
    run = loomctl("cost", "estimate")
    assert run.exit_code == 2
    assert f"price list {tmp_path / 'prices-eastus-USD.json'} is not usable" in run.stderr
    assert "hint: delete it and run `loomctl cost prices update`" in run.stderr


def test_shipped_list_shows_its_source_and_date(loomctl, monkeypatch, tmp_path):
    monkeypatch.setenv("LOOMCTL_CACHE_DIR", str(tmp_path))
    doc = loomctl("cost", "prices", "show", "-o", "json").json()
    assert doc["origin"] == "shipped" and doc["effective_date"] == "2026-07-24"
    assert doc["region"] == "eastus" and "Retail Prices API" in doc["source"]
    assert {m["key"] for m in doc["meters"]} >= {"aca.vcpu_active", "files.premium.provisioned"}
    assert all(m["source"] for m in doc["meters"])


def test_old_price_list_warns_but_still_estimates(loomctl, monkeypatch, tmp_path):
    import json

    monkeypatch.setenv("LOOMCTL_CACHE_DIR", str(tmp_path))
    shipped = json.loads((Path(__file__).resolve().parent.parent / "loomctl/data/prices-eastus.json").read_text())
    shipped["effective_date"] = "2020-01-01"
    (tmp_path / "prices-eastus-USD.json").write_text(json.dumps(shipped))
    run = loomctl("cost", "estimate", "-o", "json")
    assert run.exit_code == 0
    assert run.json()["total_exact"] == "324.71" and run.json()["prices"]["origin"] == "cache"
    assert "warning: the cache price list for eastus is" in run.stderr and "days old" in run.stderr


def test_only_free_tier_rows_are_not_taken_for_a_price(api, loomctl, tmp_path):
    api.aca = [i for i in api.aca if not (i["meterName"] == "Standard vCPU Active Usage" and i["retailPrice"])]
    run = loomctl("cost", "prices", "update")
    assert run.exit_code == 3
    assert "Standard vCPU Active Usage (only a zero-priced free-grant tier is listed)" in run.stderr
    assert not cache_file(tmp_path).exists()
