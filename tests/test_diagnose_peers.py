"""`loomctl diagnose peers` against real GUN relays (npm gun, pinned) and peers that misbehave."""

from __future__ import annotations

import threading
import time

import pytest

from tests.gunrelay import wait_peered


def _by_url(doc):
    return {p["url"]: p for p in doc["peers"]}


@pytest.mark.also_subprocess
def test_healthy_relays_pass_every_stage(relays, loomctl):
    a = relays.start()
    b = relays.start(peers=[a])
    run = loomctl("diagnose", "peers", "--peer", a.url, "--peer", b.url.replace("http://", "ws://"), "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    for p in doc["peers"]:
        assert p["ok"] is True and p["failed_stage"] is None
        assert [s["name"] for s in p["stages"]] == ["dns", "tcp", "websocket", "hello", "ping", "read"]
        assert all(s["ok"] and s["duration_ms"] >= 0 for s in p["stages"])
        assert len(p["pid"]) == 9 and p["where"] == "local"
        assert p["rtt_ms"] > 0
    assert doc["peers"][0]["pid"] != doc["peers"][1]["pid"]
    assert doc["write_probe"] is None


def test_each_bad_peer_is_named_at_its_stage(relays, bad_peers, loomctl):
    good = relays.start()
    bp = bad_peers
    cases = {
        bp.url(bp.closed_port): ("tcp", "connection refused", "nothing listens on"),
        bp.url(bp.silent_port): ("websocket", "timed out", "never answered the WebSocket upgrade"),
        bp.url(bp.http500_port): ("websocket", "upgrade rejected with HTTP 500", "HTTP 500"),
        bp.url(bp.garbage_port): ("hello", "not GUN", "not a GUN relay"),
        bp.url(bp.huge_port): ("hello", "larger than", "not a GUN relay"),
        bp.url(bp.nohello_port): ("hello", "timed out", "no GUN hello"),
        good.url.replace("/gun", "/"): ("websocket", "HTTP 400", "only on the path /gun"),
        good.url.replace("http://", "https://"): ("websocket", "TLS failure", "TLS handshake failed"),
        "http://no-such-peer.invalid/gun": ("dns", "NXDOMAIN", "check the spelling"),
    }
    args = ["diagnose", "peers", "--timeout", "1.5", "-o", "json"]
    for url in [good.url, *cases]:
        args += ["--peer", url]
    t0 = time.monotonic()
    run = loomctl(*args)
    elapsed = time.monotonic() - t0
    assert run.exit_code == 1, run.stderr
    assert "Traceback" not in run.stderr
    peers = _by_url(run.json())
    assert peers[good.url]["ok"] is True
    for url, (stage, error, hint) in cases.items():
        p = peers[url]
        assert p["ok"] is False, url
        assert p["failed_stage"] == stage, (url, p)
        assert error in p["error"], (url, p["error"])
        assert hint in p["hint"], (url, p["hint"])
        assert p["stages"][-1]["name"] == stage and p["stages"][-1]["ok"] is False
    # one deadline per peer, probed concurrently: the run is as slow as the slowest peer, not the sum
    assert elapsed < 1.5 * 3, elapsed


def test_table_names_stage_and_hint(bad_peers, loomctl):
    url = bad_peers.url(bad_peers.http500_port)
    run = loomctl("diagnose", "peers", "--peer", url, "--timeout", "2", "-o", "table")
    assert run.exit_code == 1
    assert "failed: websocket" in run.stdout
    assert "upgrade rejected with HTTP 500" in run.stdout
    assert "hint:" in run.stdout
    assert "error: LoomMesh peers have problems" in run.stderr


def test_relay_killed_during_the_probe(relays, loomctl):
    relay = relays.start()
    relay.stop_signal()  # accepts TCP (kernel backlog) but answers nothing ...
    threading.Timer(0.7, relay.kill).start()  # ... and dies in the middle of the upgrade
    run = loomctl("diagnose", "peers", "--peer", relay.url, "--timeout", "5", "-o", "json")
    assert run.exit_code == 1
    p = run.json()["peers"][0]
    assert p["failed_stage"] == "websocket"
    assert "connection closed" in p["error"]
    assert "stopped, crashed or restarted" in p["hint"]
    assert p["duration_ms"] < 4000  # noticed when it died, not at the deadline


def test_write_probe_between_peered_relays(relays, loomctl):
    a = relays.start()
    b = relays.start(peers=[a])
    wait_peered(b)
    run = loomctl("diagnose", "peers", "--peer", a.url, "--peer", b.url, "--write-probe", "--samples", "4",
                  "--timeout", "3", "-o", "json")
    assert run.exit_code == 0, run.stdout
    probe = run.json()["write_probe"]
    assert probe["soul_prefix"].startswith("loomctl/probe/")
    assert {(p["writer"], p["reader"]) for p in probe["pairs"]} == {(a.url, b.url), (b.url, a.url)}
    for p in probe["pairs"]:
        assert p["ok"] and p["received"] == 4 and p["samples"] == 4
        assert 0 < p["min_ms"] <= p["median_ms"] <= p["p95_ms"] <= p["max_ms"] < 3000
    for ack in probe["acks"]:
        assert ack["puts"] == 4 and ack["acks"] >= 4 and ack["unacked_puts"] == 0
    # what was written sits under the probe prefix only
    written = (a.data / "radata").read_bytes() if (a.data / "radata").is_file() else b"".join(
        f.read_bytes() for f in (a.data / "radata").glob("*") if f.is_file())
    assert b"loomctl/probe/" in written.replace(b"%2F", b"/")


def test_write_probe_names_unpeered_relays(relays, loomctl):
    a = relays.start()
    b = relays.start()  # both up, not peered
    run = loomctl("diagnose", "peers", "--peer", a.url, "--peer", b.url, "--write-probe", "--samples", "2",
                  "--timeout", "1", "-o", "json")
    assert run.exit_code == 1
    doc = run.json()
    assert all(p["ok"] for p in doc["peers"])  # every stage passes: only the write shows it
    pairs = doc["write_probe"]["pairs"]
    assert len(pairs) == 2
    for p in pairs:
        assert p["ok"] is False and p["received"] == 0
        assert "never arrived" not in (p["error"] or "") and "no write from" in p["error"]
        assert "not peered" in p["hint"] and "not redialled" in p["hint"]


def test_write_probe_table_shows_matrix(relays, loomctl):
    a = relays.start()
    b = relays.start()
    run = loomctl("diagnose", "peers", "--peer", a.url, "--peer", b.url, "--write-probe", "--samples", "1",
                  "--timeout", "1", "-o", "table")
    assert run.exit_code == 1
    assert "writer \\ reader" in run.stdout
    rows = [line for line in run.stdout.splitlines() if line.strip().startswith(("127.0.0.1:",))]
    assert sum(line.count(" never") for line in rows) == 2
    assert "not peered" in run.stdout


def test_bad_peer_url_is_a_usage_error(loomctl):
    run = loomctl("diagnose", "peers", "--peer", "ftp://x/gun")
    assert run.exit_code == 2
    assert "error: peer 'ftp://x/gun' is not a peer URL" in run.stderr
    assert "hint: write peers as http://HOST[:PORT]/gun" in run.stderr


def test_no_peers_for_a_profile_without_azure(loomctl, tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[profiles.local]\nazure = false\n')
    run = loomctl("diagnose", "peers", "--profile", "local")
    assert run.exit_code == 2
    assert "has no Azure deployment and names no peers" in run.stderr


def test_diagnose_modules_import_no_heavy_library():
    from tests.test_imports import HEAVY, loaded_by

    for module in ("loomctl.commands.diagnose.dns", "loomctl.commands.diagnose.peers", "loomctl.commands.sandbox",
                   "loomctl.checks.categories.dns", "loomctl.checks.categories.loommesh"):
        heavy = loaded_by(module) & set(HEAVY)
        assert heavy == set(), f"importing {module} loads {heavy}"


def test_relay_killed_during_a_write_probe(relays, loomctl):
    a = relays.start()
    b = relays.start(peers=[a])
    wait_peered(b)
    threading.Timer(1.0, b.kill).start()
    run = loomctl("diagnose", "peers", "--peer", a.url, "--peer", b.url, "--write-probe", "--samples", "30",
                  "--timeout", "1", "-o", "json")
    assert run.exit_code == 1
    assert "Traceback" not in run.stderr
    pairs = run.json()["write_probe"]["pairs"]
    assert all(not p["ok"] for p in pairs)
    assert all(p["hint"] for p in pairs)
    assert any(0 < p["received"] < 30 for p in pairs)  # some arrived before the relay died


def test_doctor_for_a_profile_without_azure(relays, loomctl, tmp_path):
    relay = relays.start()
    (tmp_path / "config.toml").write_text(f'[profiles.local]\nazure = false\npeers = ["{relay.url}"]\n')
    run = loomctl("doctor", "--profile", "local", "-o", "table")
    assert run.exit_code == 0, run.stdout
    assert "LOOM101 signed in to Azure: profile 'local' has no Azure deployment (azure = false)" in run.stdout
    assert "LOOM102" not in run.stdout  # its prerequisite skips are noise for a profile without Azure
    assert "✓ LOOM301" in run.stdout and "✓ LOOM402" in run.stdout
    assert "all checks passed" in run.stdout
    relay.kill()
    run = loomctl("doctor", "--profile", "local", "-o", "table")
    assert run.exit_code == 1
    assert "× LOOM402" in run.stdout and "failed at tcp: connection refused" in run.stdout
    assert "hint: nothing listens on 127.0.0.1" in run.stdout
