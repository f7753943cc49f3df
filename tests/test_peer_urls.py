"""Peer URLs end to end: IPv6 literals against a real GUN relay on ::1, ports refused at parse time, and
`doctor --peer` with the semantics of `diagnose peers --peer` (issue 12)."""

from __future__ import annotations

import pytest

from tests.gunrelay import has_ipv6_loopback, wait_peered

needs_ipv6 = pytest.mark.skipif(not has_ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")


def _checks(doc):
    return {c["code"]: c for cat in doc["categories"] for c in cat["checks"]}


@needs_ipv6
def test_an_ipv6_literal_peer_passes_every_stage(relays, loomctl):
    relay = relays.start(host="::1")
    url = f"ws://[::1]:{relay.port}/gun"
    run = loomctl("diagnose", "peers", "--peer", url, "-o", "json")
    assert run.exit_code == 0, run.stdout
    peer = run.json()["peers"][0]
    assert peer["ok"] is True and peer["host"] == "::1" and peer["port"] == relay.port
    assert [s["name"] for s in peer["stages"] if s["ok"]] == ["dns", "tcp", "websocket", "hello", "ping", "read"]
    assert peer["stages"][0]["details"]["addresses"] == ["::1"]


@needs_ipv6
def test_the_write_probe_and_dns_work_on_ipv6_peers(relays, loomctl):
    a = relays.start(host="::1")
    b = relays.start(peers=[a], host="::1")
    wait_peered(b)
    run = loomctl("diagnose", "peers", "--peer", a.url, "--peer", b.url, "--write-probe", "--samples", "2",
                  "-o", "json")
    assert run.exit_code == 0, run.stdout
    probe = run.json()["write_probe"]
    assert probe["errors"] == {} and all(p["received"] == 2 for p in probe["pairs"])
    run = loomctl("diagnose", "dns", "--peer", a.url, "-o", "json")
    assert run.exit_code == 0
    assert [(h["host"], h["status"], h["addresses"]) for h in run.json()["hosts"]] == [("::1", "literal", ["::1"])]


def test_the_inside_probe_gets_ipv6_urls_with_their_brackets():
    from loomctl.inside.script import http_url, params, shell_script

    assert http_url("ws://[::1]:8765/gun") == ("http://[::1]:8765/gun", "::1", 8765)
    with pytest.raises(ValueError, match="port 0 is not a port"):
        http_url("ws://[::1]:0/gun")
    script = shell_script(params([], [("wss://[fd00::5]/gun", "relay")], [], 3))
    assert "probe_peer 0 'https://[fd00::5]/gun' fd00::5 443" in script
    assert http_url("ws://[::1]/gun") == ("http://[::1]/gun", "::1", 80)
    assert http_url("gun-relay.internal.example.io/gun") == ("http://gun-relay.internal.example.io/gun",
                                                             "gun-relay.internal.example.io", 80)


@pytest.mark.parametrize("url,reason", [
    ("ws://127.0.0.1:0/gun", "port 0 is not a port a peer listens on (use 1 to 65535)"),
    ("ws://127.0.0.1:65536/gun", "port '65536' is not a number from 1 to 65535"),
    ("ws://127.0.0.1:http/gun", "port 'http' is not a number from 1 to 65535"),
    ("ws://[::1]:0/gun", "port 0 is not a port a peer listens on (use 1 to 65535)"),
    # brackets are for IPv6 literals only: named so, not Python's "Invalid IPv6 URL"
    ("ws://[abc", "its host has a '[' or ']' out of place (an IPv6 address is written [::1])"),
    ("http://relay[1]:80/gun", "its host has a '[' or ']' out of place (an IPv6 address is written [::1])"),
    ("http://a]b/gun", "its host has a '[' or ']' out of place (an IPv6 address is written [::1])"),
])
def test_a_bad_port_is_a_usage_error_before_anything_is_probed(url, reason, loomctl):
    run = loomctl("diagnose", "peers", "--peer", url, "-o", "json")
    assert run.exit_code == 2
    assert run.stderr.splitlines() == [
        f"error: peer '{url}' is not a peer URL: {reason}",
        "hint: write peers as http://HOST[:PORT]/gun (ws://, https:// and wss:// work too)",
    ]
    assert run.stdout == ""


def test_port_0_in_a_host_override_or_the_profile_is_refused_too(loomctl, monkeypatch, tmp_path):
    run = loomctl("diagnose", "peers", "--relay-host", "127.0.0.1:0", "-o", "json")
    assert run.exit_code == 2
    assert run.stderr.splitlines()[0] == ("error: '127.0.0.1:0' is not a host or URL: port 0 is not a port a peer "
                                          "listens on (use 1 to 65535)")
    cfg = tmp_path / "config.toml"
    cfg.write_text('current = "lab"\n[profiles.lab]\nazure = false\npeers = ["ws://127.0.0.1:0/gun"]\n')
    monkeypatch.setenv("LOOMCTL_CONFIG", str(cfg))
    for args in (["diagnose", "peers"], ["doctor", "--category", "loommesh"]):
        run = loomctl(*args, "-o", "json")
        assert run.exit_code == 2, (args, run.stdout)
        assert run.stderr.splitlines()[0] == ("error: peer 'ws://127.0.0.1:0/gun' (profile lab) is not a peer URL: "
                                              "port 0 is not a port a peer listens on (use 1 to 65535)")


def test_doctor_takes_peer_like_diagnose_peers(relays, bad_peers, loomctl, monkeypatch, tmp_path):
    relay = relays.start()
    cfg = tmp_path / "config.toml"  # the profile names a dead peer: --peer overrides it, as in `diagnose peers`
    dead = bad_peers.url(bad_peers.closed_port)
    cfg.write_text(f'current = "lab"\n[profiles.lab]\nazure = false\npeers = ["{dead}"]\n')
    monkeypatch.setenv("LOOMCTL_CONFIG", str(cfg))
    run = loomctl("doctor", "--category", "loommesh", "--category", "dns", "--peer", relay.url, "-o", "json")
    assert run.exit_code == 0, run.stdout
    checks = _checks(run.json())
    assert checks["LOOM402"]["status"] == "pass"
    assert checks["LOOM402"]["details"]["peers"] == {relay.url: "ok"}
    assert checks["LOOM301"]["details"]["hosts"] == {"127.0.0.1": ["127.0.0.1"]}
    diag = loomctl("diagnose", "peers", "--peer", relay.url, "-o", "json")
    assert [p["url"] for p in diag.json()["peers"]] == [relay.url]
    run = loomctl("doctor", "--category", "loommesh", "--peer", "ftp://x/gun", "-o", "json")
    assert run.exit_code == 2
    assert run.stderr.splitlines()[0] == ("error: peer 'ftp://x/gun' is not a peer URL: scheme 'ftp' is not http, "
                                          "https, ws or wss")
