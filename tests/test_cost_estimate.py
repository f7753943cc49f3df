"""`loomctl cost estimate`: the arithmetic against figures computed by hand here, and refused input.

Rates of the shipped eastus price list (loomctl/data/prices-eastus.json), used in the hand computations:
vCPU $0.000024/s active, $0.000003/s idle; memory $0.000003/GiB-s active and idle; requests $0.40 per million;
Azure Files transaction optimized $0.06/GiB-month, writes $0.015 and reads $0.0015 per 10K; hot $0.0287/GiB;
premium $0.16/GiB provisioned. A month is 730 h = 2,628,000 s; one hour a day for a month is 109,500 s.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from loomctl.cost import model


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOMCTL_CACHE_DIR", str(tmp_path / "cache"))


def est(loomctl, *args):
    run = loomctl("cost", "estimate", "-o", "json", *args)
    assert run.exit_code == 0, run.stderr
    return run.json()


def lines(doc):
    return {(x["component"], x["item"]): Decimal(x["exact"]) for x in doc["lines"]}


def test_reference_shape_by_hand(loomctl):
    doc = est(loomctl)
    got = lines(doc)
    # relay: 2 x 0.5 vCPU x 2,628,000 s = 2,628,000 vCPU-s x 0.000024 = 63.072; 2 x 1 GiB -> 5,256,000 x 0.000003
    assert got[("gun-relay", "vCPU (active)")] == Decimal("63.072")
    assert got[("gun-relay", "memory (active)")] == Decimal("15.768")
    # node: 3 x 1 vCPU -> 7,884,000 vCPU-s = 189.216; 3 x 2 GiB -> 15,768,000 GiB-s = 47.304
    assert got[("loom-node", "vCPU (active)")] == Decimal("189.216")
    assert got[("loom-node", "memory (active)")] == Decimal("47.304")
    # 10,000,000 requests / 1M x 0.40 = 4
    assert got[("requests", "HTTP requests")] == Decimal("4")
    # 100 GiB x 0.06 = 6; 3,000,000 writes / 10K x 0.015 = 4.5; 7,000,000 reads / 10K x 0.0015 = 1.05
    assert got[("azure files", "transaction optimized data stored")] == Decimal("6")
    assert got[("azure files", "transaction optimized write transactions")] == Decimal("4.5")
    assert got[("azure files", "transaction optimized read/other transactions")] == Decimal("1.05")
    # grant once: 180,000 x 0.000024 + 360,000 x 0.000003 + 2M/1M x 0.40 = 4.32 + 1.08 + 0.80
    assert Decimal(doc["free_grant"]["exact"]) == Decimal("-6.2")
    assert doc["free_grant"]["vcpu_seconds"] == 180000 and doc["free_grant"]["gib_seconds"] == 360000
    assert doc["total_exact"] == "324.71" and doc["total"] == 324.71
    comps = {c["component"]: c["monthly"] for c in doc["components"]}
    assert comps == {"gun-relay": 78.84, "loom-node": 236.52, "requests": 4.0, "azure files": 11.55}
    assert doc["currency"] == "USD"
    assert doc["prices"]["origin"] == "shipped" and doc["prices"]["region"] == "eastus"
    assert any("730 hours" in a for a in doc["assumptions"])
    assert doc["reference"]["shape"] == "reference" and doc["reference"]["reference_total"] == 260
    assert doc["reference"]["difference"] == 64.71
    assert any("$39.42 per relay" in n and "$78.84 per node" in n for n in doc["reference"]["notes"])


def test_peak_hours_scenario_by_hand(loomctl):
    doc = est(loomctl, "--peak-hours", "8", "--peak-replicas", "10", "--requests-per-month", "0",
              "--storage-transactions", "0")
    got = lines(doc)
    # node: 3 x 16 h x 109,500 s = 5,256,000 + 10 x 8 h x 109,500 s = 8,760,000 -> 14,016,000 replica-s
    assert got[("loom-node", "vCPU (active)")] == Decimal("336.384")  # 14,016,000 x 0.000024
    assert got[("loom-node", "memory (active)")] == Decimal("84.096")  # 28,032,000 x 0.000003
    assert got[("gun-relay", "vCPU (active)")] == Decimal("63.072")  # the relay does not scale
    assert Decimal(doc["free_grant"]["exact"]) == Decimal("-5.4")  # no requests: 4.32 + 1.08
    # 78.84 + 336.384 + 84.096 + 6 - 5.40
    assert doc["total_exact"] == "499.92"
    # all month at 10 nodes: 78.84 + 630.72 + 157.68 + 6 - 5.40 = 867.84; saving 367.92 = 42 %
    notes = " ".join(doc["reference"]["notes"])
    assert "running 10 nodes all month would cost $867.84" in notes
    assert "saves $367.92 (42%)" in notes and "claim of 50%" in notes


def test_idle_fraction_and_hot_tier_by_hand(loomctl):
    doc = est(loomctl, "--idle-fraction", "0.5", "--requests-per-month", "0", "--storage-transactions", "0",
              "--storage-tier", "hot", "--storage-gib", "50")
    got = lines(doc)
    # relay: half of 2 x 2,628,000 replica-s active, half idle
    assert got[("gun-relay", "vCPU (active)")] == Decimal("31.536")  # 1,314,000 vCPU-s x 0.000024
    assert got[("gun-relay", "vCPU (idle)")] == Decimal("3.942")  # 1,314,000 x 0.000003
    assert got[("gun-relay", "memory (active)")] == Decimal("7.884")
    assert got[("gun-relay", "memory (idle)")] == Decimal("7.884")
    assert got[("loom-node", "vCPU (active)")] == Decimal("94.608")  # 3,942,000 x 0.000024
    assert got[("loom-node", "vCPU (idle)")] == Decimal("11.826")
    assert got[("azure files", "hot data stored")] == Decimal("1.435")  # 50 x 0.0287
    # grant from active usage first (5,256,000 active vCPU-s > 180,000)
    assert Decimal(doc["free_grant"]["exact"]) == Decimal("-5.4")
    # 51.246 + 153.738 + 1.435 + 0 + 0 - 5.40
    assert doc["total_exact"] == "201.019" and doc["total"] == 201.02
    assert doc["usage"]["vcpu_seconds_idle"] == 1_314_000 + 3_942_000


def test_grant_larger_than_usage_is_capped(loomctl):
    doc = est(loomctl, "--relay-replicas", "0", "--node-replicas", "0", "--node-cpu", "0.25",
              "--node-memory", "0.5Gi", "--peak-hours", "1", "--peak-replicas", "1",
              "--requests-per-month", "1000000", "--storage-gib", "0", "--storage-transactions", "0")
    got = lines(doc)
    # one 0.25 vCPU / 0.5 GiB node for 1 h a day: 109,500 s -> 27,375 vCPU-s and 54,750 GiB-s
    assert got[("loom-node", "vCPU (active)")] == Decimal("0.657")
    assert got[("loom-node", "memory (active)")] == Decimal("0.16425")
    assert got[("requests", "HTTP requests")] == Decimal("0.4")
    assert got[("gun-relay", "vCPU and memory")] == 0
    # the grant covers only what was used: 0.657 + 0.16425 + 0.40
    assert Decimal(doc["free_grant"]["exact"]) == Decimal("-1.22125")
    assert doc["free_grant"]["vcpu_seconds"] == 27375 and doc["free_grant"]["requests"] == 1000000
    assert Decimal(doc["total_exact"]) == 0 and doc["total"] == 0.0


def test_dev_and_premium_by_hand(loomctl):
    doc = est(loomctl, "--dev", "--storage-tier", "premium")
    got = lines(doc)
    assert got[("gun-relay", "vCPU (active)")] == Decimal("31.536")  # 1 x 0.5 x 2,628,000 x 0.000024
    assert got[("loom-node", "vCPU (active)")] == Decimal("63.072")
    assert got[("azure files", "premium provisioned capacity")] == Decimal("16")  # 100 GiB x 0.16
    assert not any("transactions" in item for _, item in got)
    # 39.42 + 78.84 + 4 + 16 - 6.20
    assert doc["total_exact"] == "132.06"
    assert doc["reference"]["shape"] == "dev" and doc["reference"]["reference_total"] == 100


def test_multi_app_total_applies_the_grant_once():
    """Three apps in one subscription: the model takes the grant off once, not per app."""
    rates = model.Rates(Decimal("0.000024"), Decimal("0.000003"), Decimal("0.000003"), Decimal("0.000003"),
                        Decimal("0.40"), {"premium": {"provisioned": Decimal("0.16")}})
    apps = tuple(model.AppShape(f"app{i}", "x", 1, Decimal("0.25"), Decimal("0.5")) for i in range(3))
    e = model.estimate(model.Inputs(apps, model.StorageShape("premium", Decimal(100), 0, Decimal("0.3")), 0), rates)
    # each app: 0.25 x 2,628,000 = 657,000 vCPU-s (15.768) and 1,314,000 GiB-s (3.942)
    assert [ln.amount for ln in e.lines[:2]] == [Decimal("15.768"), Decimal("3.942")]
    assert e.usage.vcpu_seconds_active == 1_971_000 and e.usage.gib_seconds_active == 3_942_000
    assert e.grant.amount == Decimal("-5.4")
    # 3 x (15.768 + 3.942) + 16 - 5.40
    assert e.total == Decimal("69.73")


def test_table_shows_lines_grant_total_and_explain(loomctl):
    run = loomctl("cost", "estimate", "-o", "table", "--explain")
    assert run.exit_code == 0, run.stderr
    out = run.stdout
    assert "Monthly cost estimate" in out and "$324.71" in out
    assert "free grant" in out and "-$6.20" in out
    assert "[1] gun-relay, vCPU (active): 2 × 0.5 vCPU × 2,628,000 s (730 h) = 2,628,000 vCPU-s × $0.000024 = " \
           "$63.072" in out
    assert "Assumptions" in out and "730 hours" in out
    assert "shipped price list for eastus in USD, effective 2026-07-24" in out
    assert "about $260" in out
    plain = loomctl("cost", "estimate", "-o", "table")
    assert "Arithmetic" not in plain.stdout and "$324.71" in plain.stdout


def test_query_and_tsv_work(loomctl):
    run = loomctl("cost", "estimate", "--query", "total", "-o", "json")
    assert run.exit_code == 0 and run.stdout.strip() == "324.71"


@pytest.mark.parametrize("args, message, hint", [
    (["--node-replicas", "-1"], "--node-replicas must be 0 or more, not -1", "replica count"),
    (["--relay-replicas", "-3"], "--relay-replicas must be 0 or more, not -3", "replica count"),
    (["--node-cpu", "1.0", "--node-memory", "3"], "1 vCPU with 3 GiB is not a combination",
     "0.25/0.5Gi, 0.5/1Gi, 0.75/1.5Gi, 1/2Gi, 1.25/2.5Gi, 1.5/3Gi, 1.75/3.5Gi, 2/4Gi"),
    (["--node-cpu", "4", "--node-memory", "8"], "4 vCPU with 8 GiB is not a combination", "2/4Gi"),
    (["--node-cpu", "lots"], "--node-cpu 'lots' is not a number", "0.25/0.5Gi"),
    (["--node-memory", "2 bananas"], "--node-memory '2 bananas' is not a memory size", "2Gi"),
    (["--region", "narnia"], "unknown Azure region 'narnia'", "eastus, eastus2"),
    (["--region", "westeurope"], "no price list for region 'westeurope' in USD; available: eastus (shipped, USD)",
     "loomctl cost prices update --region westeurope --currency USD"),
    (["--currency", "XYZ"], "unknown currency 'XYZ'", "USD, AUD"),
    (["--currency", "EUR"], "no price list for region 'eastus' in EUR", "prices update --region eastus --currency EUR"),
    (["--idle-fraction", "1.5"], "--idle-fraction must be between 0 and 1", "0 (always busy) to 1"),
    (["--idle-fraction", "-0.1"], "--idle-fraction must be between 0 and 1", "0 (always busy) to 1"),
    (["--storage-tier", "archive"], "unknown storage tier 'archive'", "transaction_optimized, hot, cool, premium"),
    (["--storage-tier", "premium", "--storage-gib", "50"], "premium share provisions at least 100 GiB", "100"),
    (["--peak-hours", "8"], "--peak-hours and --peak-replicas go together", "--peak-replicas 10"),
    (["--peak-hours", "25", "--peak-replicas", "5"], "--peak-hours must be more than 0 and at most 24", "hours"),
    (["--peak-hours", "8", "--peak-replicas", "30"], "--peak-replicas 30 is outside the node's range of 3 to 20",
     "maximum (20)"),
    (["--node-replicas", "21"], "loom-node: 21 replicas is more than its maximum of 20", "between 0 and 20"),
    (["--dev", "--node-replicas", "2"], "--dev sets one relay and one node", "drop one"),
    (["--requests-per-month", "-5"], "--requests-per-month must be 0 or more", "requests per month"),
])
def test_bad_input_is_refused_with_valid_values(loomctl, args, message, hint):
    run = loomctl("cost", "estimate", "-o", "json", *args)
    assert run.exit_code == 2, (run.stdout, run.stderr)
    assert run.stdout == ""
    err = run.stderr.splitlines()
    assert err[0].startswith("error: ") and message in err[0], run.stderr
    assert err[1].startswith("hint: ") and hint in err[1], run.stderr
    assert "Traceback" not in run.stderr


def test_estimate_imports_no_azure_sdk_or_rich_for_json(tmp_path):
    code = ("import sys, json\nfrom loomctl.cli import cli\n"
            "try:\n    cli(['cost', 'estimate', '-o', 'json'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "LOOMCTL_CACHE_DIR": str(tmp_path),
                              "LOOMCTL_CONFIG": str(tmp_path / "c.toml"), "HOME": str(tmp_path)})
    assert json.loads(out.stdout)["total"] == 324.71
    loaded = set(json.loads(out.stderr.strip().splitlines()[-1]))
    assert not loaded & {"azure", "msal", "rich", "requests", "yaml", "jmespath"}, loaded


@pytest.mark.parametrize("args,stderr", [
    (["--node-cpu", "1e30"], "error: loom-node: 1,000,000,000,000,000,000,000,000,000,000 vCPU with 2 GiB is not a "
     "combination Container Apps accepts on the consumption plan\n"),
    (["--storage-gib", "1e308"], "error: --storage-gib must be at most 102,400 (100 TiB, the largest Azure Files "
     "share), not 1e308\nhint: give the share size in GiB, e.g. 100\n"),
    (["--storage-transactions", "9" * 40], "error: --storage-transactions must be 0 or more, and at most "
     f"1,000,000,000,000,000, not {'9' * 40}\nhint: give transactions per month\n"),
    (["--requests-per-month", "9" * 40], "error: --requests-per-month must be 0 or more, and at most "
     f"1,000,000,000,000,000, not {'9' * 40}\nhint: give requests per month, e.g. 1000000\n"),
])
def test_huge_numbers_are_usage_errors_not_unexpected(loomctl, args, stderr):
    # before: "unexpected error: InvalidOperation" (a Decimal quantized beyond its 28 digits)
    run = loomctl("cost", "estimate", *args)
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr.startswith(stderr), run.stderr
