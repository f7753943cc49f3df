"""`loomctl diagnose dns` and the DNS stage of `diagnose peers` against a real DNS server on loopback (dnslib)."""

from __future__ import annotations

DOMAIN = "happyriver-4f1a2b3c.eastus.azurecontainerapps.io"


def _zone(dns_server):
    dns_server.zone.update({
        "relay.loom.test": ("A", "127.0.0.1", 300),
        "alias.loom.test": ("CNAME", "edge.loom.test", 60),
        "edge.loom.test": ("CNAME", "relay.loom.test", 120),
        "broken.loom.test": "SERVFAIL",
        "empty.loom.test": "EMPTY",
        "slow.loom.test": "DROP",
        f"gun-relay.internal.{DOMAIN}": "NXDOMAIN",
    })


def test_each_outcome_is_told_apart(dns_server, loomctl):
    _zone(dns_server)
    hosts = ["relay.loom.test", "alias.loom.test", "missing.loom.test", "broken.loom.test", "empty.loom.test",
             "slow.loom.test"]
    args = ["diagnose", "dns", "--dns-server", dns_server.address, "--timeout", "1", "-o", "json"]
    for h in hosts:
        args += ["--peer", f"ws://{h}:8765/gun"]
    run = loomctl(*args)
    assert run.exit_code == 1, run.stderr
    res = {r["host"]: r for r in run.json()["hosts"]}
    assert [r["host"] for r in run.json()["hosts"]] == hosts
    ok = res["relay.loom.test"]
    assert ok["ok"] and ok["status"] == "ok" and ok["addresses"] == ["127.0.0.1"] and ok["ttl"] == 300
    assert ok["server"] == dns_server.address and ok["where"] == "local"
    alias = res["alias.loom.test"]
    assert alias["addresses"] == ["127.0.0.1"]
    assert alias["cname_chain"] == ["alias.loom.test", "edge.loom.test", "relay.loom.test"]
    assert alias["ttl"] == 60  # the smallest TTL along the chain
    assert res["missing.loom.test"]["status"] == "nxdomain"
    assert "NXDOMAIN" in res["missing.loom.test"]["error"]
    assert res["broken.loom.test"]["status"] == "servfail"
    assert "SERVFAIL" in res["broken.loom.test"]["hint"]
    assert res["empty.loom.test"]["status"] == "no-answer"
    slow = res["slow.loom.test"]
    assert slow["status"] == "timeout" and "does not answer" in slow["hint"]
    # resolved concurrently: the timeout costs about one --timeout, not one per host
    assert all(r["duration_ms"] < 2500 for r in res.values())
    assert "relay.loom.test A" in dns_server.queries


def test_internal_name_outside_the_environment_is_expected(dns_server, loomctl, monkeypatch):
    _zone(dns_server)
    monkeypatch.setenv("LOOMCTL_DNS_SERVERS", dns_server.address)
    host = f"gun-relay.internal.{DOMAIN}"
    run = loomctl("diagnose", "dns", "--relay-host", host, "-o", "json")
    assert run.exit_code == 1
    r = run.json()["hosts"][0]
    assert r["status"] == "nxdomain" and r["expected"] is True
    assert "expected from outside" in r["hint"] and f"nslookup {host}" in r["hint"]


def test_table_output(dns_server, loomctl):
    _zone(dns_server)
    run = loomctl("diagnose", "dns", "--dns-server", dns_server.address, "--peer", "ws://alias.loom.test/gun",
                  "--peer", "ws://broken.loom.test/gun", "-o", "table")
    assert run.exit_code == 1
    assert "alias.loom.test → edge.loom.test → relay.loom.test" in run.stdout
    assert "servfail" in run.stdout and "hint:" in run.stdout


def test_peer_probe_resolves_through_the_dns_server(dns_server, relays, loomctl):
    relay = relays.start()
    _zone(dns_server)
    run = loomctl("diagnose", "peers", "--dns-server", dns_server.address, "--peer",
                  f"http://alias.loom.test:{relay.port}/gun", "--peer", f"http://missing.loom.test:{relay.port}/gun",
                  "-o", "json")
    assert run.exit_code == 1
    good, bad = run.json()["peers"]
    assert good["ok"] and good["stages"][0]["details"]["addresses"] == ["127.0.0.1"]
    assert bad["failed_stage"] == "dns" and "NXDOMAIN" in bad["error"]


def test_bad_dns_server_is_a_usage_error(loomctl):
    run = loomctl("diagnose", "dns", "--dns-server", "not-an-ip", "--peer", "ws://x.test/gun")
    assert run.exit_code == 2
    assert "error: DNS server 'not-an-ip' is not an IP address" in run.stderr
    assert "hint:" in run.stderr
    run = loomctl("diagnose", "dns", "--dns-server", "127.0.0.1:99999", "--peer", "ws://x.test/gun")
    assert run.exit_code == 2 and "bad port" in run.stderr
