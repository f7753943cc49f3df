"""`diagnose dns|peers --from-inside` and `doctor --from-inside` end to end: the CLI reads the local Azure, opens
an exec session on the exec double, which runs the generated probe for real on this machine against a real GUN
relay and a real DNS server (dnslib) on loopback. Inside and outside results must agree stage by stage."""

from __future__ import annotations

import re

import pytest

from tests.acafakes.fixtures import aca_exec, fake_exec_server  # noqa: F401 - fixtures
from tests.dnsserver import DnsServer
from tests.fakeazure import topology
from tests.gunrelay import Relays
from tests.test_inside_probe import SHELL_BASE, _image

pytestmark = pytest.mark.timeout(90)

INTERNAL = f"gun-relay.internal.{topology.DOMAIN}"
TYPO = f"gun-rlay.internal.{topology.DOMAIN}"
REPLICA = f"{topology.NODE}--n1-5d9774cff-00000"


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    """One real GUN relay for the module (tests.gunrelay: npm gun pinned in tests/node)."""
    relays = Relays(tmp_path_factory.mktemp("relays"))
    yield relays.start().port
    relays.stop_all()


SLOW = f"slow.internal.{topology.DOMAIN}"
BROKEN = f"broken.internal.{topology.DOMAIN}"
ALIAS = f"alias.internal.{topology.DOMAIN}"


@pytest.fixture(scope="module")
def dns_addr():
    """The environment's DNS as a real server on loopback (tests.dnsserver, dnslib)."""
    server = DnsServer({INTERNAL: ("A", "127.0.0.1", 30), ALIAS: ("CNAME", INTERNAL, 30), BROKEN: "SERVFAIL",
                        SLOW: "DROP"}).start()
    yield server.address
    server.stop()


def _comparable(peer):
    return (peer["url"], peer["role"], peer["ok"], peer["failed_stage"], [s["name"] for s in peer["stages"]],
            [s["ok"] for s in peer["stages"]], peer["pid"])


def test_peers_from_inside_match_the_outside_probe(loomctl, aca_exec, relay, dns_addr):
    args = ["diagnose", "peers", "--peer", f"http://{INTERNAL}:{relay}/gun", "--peer", f"http://{INTERNAL}:1/gun",
            "--peer", f"http://127.0.0.1:{relay}/wrong", "--dns-server", dns_addr, "--timeout", "4", "-o", "json"]
    inside = loomctl(*args, "--from-inside")
    outside = loomctl(*args)
    assert inside.exit_code == outside.exit_code == 1, inside.stderr
    a, b = inside.json()["peers"], outside.json()["peers"]
    assert [_comparable(p) for p in a] == [_comparable(p) for p in b]
    assert a[0]["ok"] and a[0]["stages"][-1]["name"] == "read"
    assert a[1]["failed_stage"] == "tcp" and a[2]["failed_stage"] == "websocket"
    assert {p["where"] for p in a} == {REPLICA}
    assert {p["where"] for p in b} == {"local"}
    assert any(f"probed inside replica {REPLICA} with node" in n for n in inside.json()["notes"])
    assert aca_exec.sessions[-1].command.startswith("node -e ")


def test_peers_from_inside_table_says_where(loomctl, aca_exec, relay, dns_addr):
    r = loomctl("diagnose", "peers", "--from-inside", "--peer", f"ws://{INTERNAL}:{relay}/gun",
                "--dns-server", dns_addr, "-o", "table")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "Where" in r.stdout and REPLICA in r.stdout
    assert "ok" in r.stdout


def test_dns_from_inside_matches_outside(loomctl, aca_exec, relay, dns_addr):
    args = ["diagnose", "dns", "--dns-server", dns_addr, "--timeout", "2", "-o", "json"]
    for host in (INTERNAL, TYPO, ALIAS, BROKEN, SLOW):
        args += ["--peer", f"http://{host}:{relay}/gun"]
    inside, outside = loomctl(*args, "--from-inside"), loomctl(*args)
    assert inside.exit_code == outside.exit_code == 1
    pick = lambda d: [(h["host"], h["ok"], h["status"], h["addresses"]) for h in d["hosts"]]  # noqa: E731
    assert pick(inside.json()) == pick(outside.json()) == [
        (INTERNAL, True, "ok", ["127.0.0.1"]), (TYPO, False, "nxdomain", []), (ALIAS, True, "ok", ["127.0.0.1"]),
        (BROKEN, False, "servfail", []), (SLOW, False, "timeout", [])]
    typo_inside = inside.json()["hosts"][1]
    assert typo_inside["where"] == REPLICA and not typo_inside["expected"]
    assert "even inside the environment" in typo_inside["hint"]
    typo_outside = outside.json()["hosts"][1]
    assert typo_inside["error"] == typo_outside["error"]  # the same words, wherever it ran


def test_shell_only_image_says_which_tool(loomctl, aca_exec, relay, tmp_path):
    aca_exec.path_env = _image(tmp_path, SHELL_BASE + ["getent", "curl"])
    r = loomctl("diagnose", "peers", "--from-inside", "--peer", f"http://localhost:{relay}/gun", "--timeout", "2",
                "-o", "json")
    doc = r.json()
    assert any("with getent+curl" in n for n in doc["notes"])
    assert doc["peers"][0]["ok"] and [s["name"] for s in doc["peers"][0]["stages"]] == [
        "dns", "tcp", "websocket", "hello"]


def test_replica_without_tools_is_a_distinct_finding(loomctl, aca_exec, tmp_path):
    aca_exec.path_env = _image(tmp_path, SHELL_BASE)
    r = loomctl("diagnose", "dns", "--from-inside", "--peer", "http://localhost:1/gun")
    assert r.exit_code == 1
    assert "none of node, getent, nslookup, curl, wget, nc" in r.stderr
    assert "hint:" in r.stderr and "az containerapp debug" in r.stderr


def test_hostile_peer_value_stays_data(loomctl, aca_exec, tmp_path):
    marker = tmp_path / "pwned"
    hostile = f"http://x';touch {marker};'$(touch {marker}):80/gun"
    r = loomctl("diagnose", "peers", "--from-inside", "--peer", hostile, "--timeout", "2", "-o", "json")
    assert not marker.exists()
    assert "touch" not in aca_exec.sessions[-1].command
    assert "Traceback" not in r.stderr


def test_from_inside_exec_failure_is_named(loomctl, aca_exec, monkeypatch):
    monkeypatch.setenv("LOOMCTL_EXEC_HANDSHAKE_TIMEOUT", "0.3")
    aca_exec.refuse = 500  # the replica never accepts a session
    r = loomctl("diagnose", "peers", "--from-inside", "--peer", "http://localhost:1/gun")
    assert r.exit_code == 3 and "exec handshake failed: HTTP 500" in r.stderr


def test_app_without_from_inside_is_usage_error(loomctl, aca_exec):
    r = loomctl("diagnose", "dns", "--app", "gun-relay", "--peer", "http://localhost:1/gun")
    assert r.exit_code == 2 and "--from-inside" in r.stderr


def test_doctor_from_inside(loomctl, aca_exec, relay, dns_addr, dns_server, monkeypatch):
    args = ["doctor", "--category", "dns"]
    monkeypatch.setenv("LOOMCTL_DNS_SERVERS", dns_server.address)  # a laptop's DNS: no internal names in it
    outside = loomctl(*args, "-o", "json")
    monkeypatch.setenv("LOOMCTL_DNS_SERVERS", dns_addr)  # the environment's DNS, as the replica sees it
    inside = loomctl(*args, "--from-inside", "-o", "json")
    status = lambda d: {c["code"]: c["status"] for cat in d["categories"] for c in cat["checks"]}  # noqa: E731
    assert status(outside.json())["LOOM301"] == "warn"  # internal names do not resolve from here
    assert status(inside.json())["LOOM301"] == "pass", inside.stdout
    assert [s.command.split()[0] for s in aca_exec.sessions] == ["node"]


def test_doctor_from_inside_shares_one_session_for_dns_and_loommesh(loomctl, aca_exec, dns_addr, monkeypatch):
    monkeypatch.setenv("LOOMCTL_DNS_SERVERS", dns_addr)
    # LOOM403 (the mesh in every replica, tests/test_diagnose_mesh.py) opens sessions of its own: left out here
    r = loomctl("doctor", "--category", "dns", "--category", "loommesh", "--from-inside", "--ignore", "LOOM403",
                "-o", "json")
    checks = {c["code"]: c for cat in r.json()["categories"] for c in cat["checks"]}
    assert checks["LOOM301"]["status"] == "pass"
    # inside, the relay's internal name resolves; the live URL's port 80 has nothing behind it on this machine
    assert checks["LOOM402"]["status"] == "fail"
    assert "failed at tcp" in checks["LOOM402"]["message"]
    assert r.exit_code == 1
    assert len(aca_exec.sessions) == 1
    assert f"/containerApps/{topology.NODE}/" in aca_exec.sessions[0].path


def test_doctor_from_inside_other_app_is_one_session_in_that_app(loomctl, aca_exec, dns_addr, monkeypatch):
    monkeypatch.setenv("LOOMCTL_DNS_SERVERS", dns_addr)
    r = loomctl("doctor", "--category", "dns", "--category", "loommesh", "--from-inside", "--app", topology.RELAY,
                "--ignore", "LOOM403", "-o", "json")
    checks = {c["code"]: c for cat in r.json()["categories"] for c in cat["checks"]}
    assert checks["LOOM301"]["status"] == "pass", checks["LOOM301"]
    assert [s.path.split("/containerApps/")[1].split("/")[0] for s in aca_exec.sessions] == [topology.RELAY]


def test_doctor_from_inside_exec_failure_is_one_attempt_named_by_both_checks(loomctl, aca_exec, monkeypatch):
    monkeypatch.setenv("LOOMCTL_EXEC_HANDSHAKE_TIMEOUT", "0.3")
    aca_exec.refuse = 500
    r = loomctl("doctor", "--category", "dns", "--category", "loommesh", "--from-inside", "--ignore", "LOOM403",
                "-o", "json")
    assert r.exit_code == 1
    checks = {c["code"]: c for cat in r.json()["categories"] for c in cat["checks"]}
    assert checks["LOOM301"]["status"] == checks["LOOM402"]["status"] == "fail"
    assert "exec handshake failed: HTTP 500" in checks["LOOM301"]["message"]
    assert checks["LOOM301"]["message"] == checks["LOOM402"]["message"]
    tries = int(re.search(r"after (\d+) tries", checks["LOOM301"]["message"]).group(1))
    assert [s.status for s in aca_exec.sessions] == [500] * tries  # one session's tries; not one per check


def test_doctor_app_without_from_inside_is_usage_error(loomctl, aca_exec):
    r = loomctl("doctor", "--app", "gun-relay")
    assert r.exit_code == 2 and "--from-inside" in r.stderr
