"""doctor's DNS and LoomMesh categories, and peer discovery from the live deployment (local HTTPS Azure)."""

from __future__ import annotations

from tests.fakeazure import topology

RELAY_FQDN = f"gun-relay.internal.{topology.DOMAIN}"


def _set_gun_peers(azure, value):
    env = azure.state["apps"]["loom-node"]["properties"]["template"]["containers"][0]["env"]
    for e in env:
        if e["name"] == "GUN_PEERS":
            e["value"] = value


def _checks(doc):
    return {(c["code"], c["resource"]): c for cat in doc["categories"] for c in cat["checks"]}


def test_doctor_healthy_deployment_outside_the_environment(azure, dns_server, loomctl, monkeypatch):
    dns_server.zone[RELAY_FQDN] = "NXDOMAIN"  # as seen from a laptop
    monkeypatch.setenv("LOOMCTL_DNS_SERVERS", dns_server.address)
    run = loomctl("doctor", "--category", "dns", "--category", "loommesh", "--category", "azure", "-o", "json")
    checks = _checks(run.json())
    assert checks[("LOOM401", None)]["status"] == "pass", checks[("LOOM401", None)]
    assert f"http://{RELAY_FQDN}/gun" in checks[("LOOM401", None)]["message"]
    dns = checks[("LOOM301", None)]
    assert dns["status"] == "warn" and "expected from outside" in dns["hint"]
    peers = checks[("LOOM402", None)]
    assert peers["status"] == "warn" and "failed at dns" in peers["message"]
    assert run.exit_code == 0, run.stdout  # warnings only


def test_doctor_names_the_reference_gun_peers_value_and_the_fix(azure, dns_server, loomctl, monkeypatch):
    monkeypatch.setenv("LOOMCTL_DNS_SERVERS", dns_server.address)
    _set_gun_peers(azure, f"http://{RELAY_FQDN}:8765")
    run = loomctl("doctor", "--category", "loommesh", "--category", "azure", "-o", "json")
    assert run.exit_code == 1
    c = _checks(run.json())[("LOOM401", None)]
    assert c["status"] == "fail"
    assert "8765 is the container's targetPort" in c["message"]
    assert "path '/' is not '/gun'" in c["message"]
    assert c["details"]["suggestion"] == f"http://{RELAY_FQDN}/gun"
    assert f"set GUN_PEERS=http://{RELAY_FQDN}/gun" in c["hint"]


def test_diagnose_peers_discovers_the_relay_from_its_ingress(azure, dns_server, loomctl, monkeypatch):
    dns_server.zone[RELAY_FQDN] = "NXDOMAIN"
    monkeypatch.setenv("LOOMCTL_DNS_SERVERS", dns_server.address)
    _set_gun_peers(azure, f"http://{RELAY_FQDN}:8765")
    run = loomctl("diagnose", "peers", "--timeout", "2", "-o", "json")
    assert run.exit_code == 1
    doc = run.json()
    assert [(p["url"], p["role"]) for p in doc["peers"]] == [(f"http://{RELAY_FQDN}/gun", "relay")]
    assert doc["peers"][0]["failed_stage"] == "dns"
    assert doc["gun_peers"]["ok"] is False and doc["gun_peers"]["suggestion"] == f"http://{RELAY_FQDN}/gun"
    assert any("does not expose its LoomMesh port 8765" in n for n in doc["notes"])


def test_relay_host_override_skips_discovery(azure, relays, loomctl, monkeypatch):
    relay = relays.start()
    monkeypatch.setenv("GUN_RELAY_HOST", f"127.0.0.1:{relay.port}")
    run = loomctl("diagnose", "peers", "-o", "json")
    assert run.exit_code == 0, run.stdout
    assert run.json()["peers"][0]["url"] == f"http://127.0.0.1:{relay.port}/gun"
    assert not any("/subscriptions/" in r.path and "containerApps" in r.path for r in azure.requests)


def test_tcp_ingress_relay_is_expected_on_its_exposed_port(azure, dns_server, loomctl, monkeypatch):
    monkeypatch.setenv("LOOMCTL_DNS_SERVERS", dns_server.address)
    ing = azure.state["apps"]["gun-relay"]["properties"]["configuration"]["ingress"]
    ing.update({"transport": "tcp", "exposedPort": 8765})
    _set_gun_peers(azure, f"http://{RELAY_FQDN}/gun")
    run = loomctl("doctor", "--category", "loommesh", "--category", "azure", "-o", "json")
    c = _checks(run.json())[("LOOM401", None)]
    assert c["status"] == "fail"
    assert c["details"]["suggestion"] == f"http://{RELAY_FQDN}:8765/gun"


def test_node_exposed_by_an_additional_port_mapping_is_probed(azure, dns_server, loomctl, monkeypatch):
    monkeypatch.setenv("LOOMCTL_DNS_SERVERS", dns_server.address)
    ing = azure.state["apps"]["loom-node"]["properties"]["configuration"]["ingress"]
    ing["additionalPortMappings"] = [{"targetPort": 8765, "exposedPort": 9876, "external": True}]
    run = loomctl("diagnose", "dns", "--timeout", "1", "-o", "json")
    hosts = [h["host"] for h in run.json()["hosts"]]
    assert hosts == [RELAY_FQDN, f"loom-node.{topology.DOMAIN}"]
    run = loomctl("diagnose", "peers", "--timeout", "1", "-o", "json")
    assert [(p["url"], p["role"]) for p in run.json()["peers"]] == [
        (f"http://{RELAY_FQDN}/gun", "relay"), (f"http://loom-node.{topology.DOMAIN}:9876/gun", "node")]
    assert run.json()["notes"] == []
