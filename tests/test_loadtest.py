"""`loomctl loadtest` against real GUN relays (npm gun, pinned), a black-holed peer and the real sandbox: the summary
counts what was written, loss is named, thresholds decide the exit code, writes stay under their prefix and cap,
and peers that are not the sandbox's need --yes off a terminal. No timing assertions."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.acafakes.fixtures import aca_exec, fake_exec_server  # noqa: F401 - fixtures
from tests.gunrelay import sandbox_dirs, wait_peered

ROOT = Path(__file__).resolve().parents[1]
PREFIX = re.compile(r"^loomctl/probe/loadtest/\d{8}T\d{6}-[A-Za-z0-9]{6}$")


def _stored(relay) -> bytes:
    folder = relay.data / "radata"
    files = [folder] if folder.is_file() else [f for f in folder.glob("*") if f.is_file()]
    return b"".join(f.read_bytes() for f in files).replace(b"%2F", b"/")


@pytest.mark.also_subprocess
def test_healthy_relay_pair_counts_every_write_and_loses_none(relays, loomctl):
    a = relays.start()
    b = relays.start(peers=[a])
    wait_peered(b)
    run = loomctl("loadtest", "--peer", a.url, "--peer", b.url, "--count", "20", "--rate", "50", "--warmup", "0",
                  "--size", "32", "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert PREFIX.match(doc["soul_prefix"]) and doc["soul_prefix"].endswith(doc["run_id"])
    assert (doc["writers"], doc["readers"], doc["size"], doc["rate_asked"]) == (2, 2, 32, 50)
    assert (doc["writes"], doc["measured"], doc["acked"], doc["unacked"]) == (20, 20, 20, 0)
    assert doc["bytes_written"] == 20 * (32 + 120)
    # writer i on peer i, reader j on peer j+1: each write has one reader on the other peer
    assert doc["propagation_scope"] == "cross-peer"
    assert doc["propagation"]["count"] == 20 and doc["ack"]["count"] == 20
    assert doc["loss"] == {"expected": 40, "seen": 40, "lost": 0, "lost_writes": 0, "rate": 0.0}
    assert (doc["errors"], doc["error_count"], doc["reconnects"], doc["stopped_at_cap"]) == ([], 0, 0, False)
    assert [(p["peer"], p["role"], p["writers"], p["readers"], p["writes"], p["lost"]) for p in doc["per_peer"]] == \
        [(a.url, "peer", 1, 1, 10, 0), (b.url, "peer", 1, 1, 10, 0)]
    d = doc["propagation"]
    assert d["min_ms"] <= d["p50_ms"] <= d["p95_ms"] <= d["p99_ms"] <= d["max_ms"]
    assert sum(bk["count"] for bk in doc["histogram"]["buckets"]) == 20
    assert doc["thresholds"] == [] and doc["ok"] is True
    assert "GUN cannot delete" in doc["note"]
    assert f'"{doc["soul_prefix"]}/w'.encode() in _stored(a)  # radisk's radix tree: souls share a prefix


def test_a_black_holed_reader_peer_is_loss_and_named(relays, bad_peers, loomctl):
    good = relays.start()
    hole = bad_peers.url(bad_peers.silent_port)  # accepts TCP, never answers the upgrade
    run = loomctl("loadtest", "--peer", good.url, "--peer", hole, "--writers", "1", "--readers", "2", "--count", "5",
                  "--rate", "50", "--warmup", "0", "--timeout", "1", "--window", "1s", "--yes", "-o", "json")
    assert run.exit_code == 1, run.stderr
    doc = run.json()
    assert (doc["measured"], doc["acked"]) == (5, 5)
    # reader 0 sits on the black hole and sees nothing; reader 1 (on the writer's peer) sees every write
    assert doc["loss"] == {"expected": 10, "seen": 5, "lost": 5, "lost_writes": 5, "rate": 0.5}
    assert doc["errors"] == [f"reader 0 on {hole}: cannot connect: TimeoutError: timed out during opening handshake"]
    assert doc["ok"] is False
    assert "error: 5 of 10 arrivals lost (writes not seen within the window); 1 error(s): reader 0 on " in run.stderr
    assert "hint: a peer cannot be reached: `loomctl diagnose peers` names the stage that fails" in run.stderr


def test_thresholds_pass_and_breach_with_exit_codes(relays, loomctl):
    relay = relays.start()
    base = ("loadtest", "--peer", relay.url, "--count", "5", "--rate", "50", "--warmup", "0", "--yes", "-o", "json")
    ok = loomctl(*base, "--threshold", "loss.count==0", "--threshold", "ack.max<60s", "--threshold",
                 "errors.count==0", "--threshold", "loss.rate<1%")
    assert ok.exit_code == 0, ok.stderr
    assert [(t["threshold"], t["ok"]) for t in ok.json()["thresholds"]] == [
        ("loss.count==0", True), ("ack.max<60s", True), ("errors.count==0", True), ("loss.rate<1%", True)]
    bad = loomctl(*base, "--threshold", "loss.count==0", "--threshold", "errors.count>0")
    assert bad.exit_code == 1
    th = bad.json()["thresholds"]
    assert [(t["threshold"], t["ok"], t["value"], t["limit"]) for t in th] == [
        ("loss.count==0", True, 0, 0), ("errors.count>0", False, 0, 0)]
    assert bad.stderr.splitlines()[-1] == "error: 1 threshold(s) breached: errors.count>0"


def test_a_threshold_on_a_metric_without_samples_fails(relays, loomctl):
    relay = relays.start()
    run = loomctl("loadtest", "--peer", relay.url, "--count", "3", "--rate", "50", "--warmup", "0", "--yes",
                  "--threshold", "rate.ratio>=0.5", "--rate", "max", "-o", "json")
    assert run.exit_code == 1
    assert run.json()["thresholds"][0] == {"threshold": "rate.ratio>=0.5", "ok": False, "value": None, "limit": 0.5,
                                           "unit": "", "note": "no samples for rate.ratio"}


@pytest.mark.parametrize(("expr", "error", "hint"), [
    ("propagation.p95 <", "--threshold 'propagation.p95 <' is not a threshold",
     "write METRIC.STAT OP VALUE, e.g. 'propagation.p95<250ms'"),
    ("latency.p95<250ms", "--threshold 'latency.p95<250ms': unknown metric 'latency'",
     "metrics: propagation, ack, loss, rate, errors, reconnects"),
    ("ack.p42<1s", "--threshold 'ack.p42<1s': ack has no 'p42'", "ack has p50, p95, p99, max, min, avg"),
    ("loss.rate<5ms", "--threshold 'loss.rate<5ms': loss.rate is not a time", "e.g. 'propagation.p95<250ms'"),
    ("propagation.p95<5%", "--threshold 'propagation.p95<5%': a latency is in ms or s, not %", "e.g."),
])
def test_threshold_syntax_errors_are_usage_errors(loomctl, expr, error, hint):
    run = loomctl("loadtest", "--peer", "http://127.0.0.1:1/gun", "--threshold", expr, "--yes")
    assert run.exit_code == 2
    lines = run.stderr.splitlines()
    assert lines[0] == f"error: {error}"
    assert lines[1].startswith("hint: ") and hint in lines[1]
    assert run.stdout == ""


def test_a_run_planned_above_the_byte_cap_is_refused(loomctl):
    run = loomctl("loadtest", "--peer", "http://127.0.0.1:1/gun", "--count", "1000", "--size", "64KiB",
                  "--max-bytes", "1MiB", "--warmup", "0", "--yes")
    assert run.exit_code == 2
    error, hint = run.stderr.splitlines()
    assert re.fullmatch(r"error: refusing to write about 62\.6 MiB under loomctl/probe/loadtest/\S+/: above the cap "
                        r"of 1\.0 MiB \(GUN cannot delete: what a load test writes stays in the peers' stores\)", error)
    assert hint == "hint: lower --rate, --duration, --count or --size, or raise --max-bytes"


def test_writing_stops_at_the_byte_cap(relays, loomctl):
    relay = relays.start()
    run = loomctl("loadtest", "--peer", relay.url, "--rate", "max", "--duration", "30s", "--warmup", "0",
                  "--size", "904", "--max-bytes", "10KiB", "--yes", "-o", "json")
    doc = run.json()
    assert doc["stopped_at_cap"] is True
    assert (doc["writes"], doc["bytes_written"]) == (10, 10 * 1024)  # 1024 bytes a write (904 + overhead)
    assert doc["loss"]["lost"] == 0 and run.exit_code == 0, run.stderr


def test_peers_that_are_not_the_sandbox_need_yes_off_a_terminal(relays, loomctl):
    relay = relays.start()
    run = loomctl("loadtest", "--peer", relay.url, "--count", "5")
    assert run.exit_code == 2
    assert run.stderr.splitlines() == [
        "error: refusing to load peers that are not the sandbox's without --yes (stdin is not a terminal)",
        "hint: add --yes to go ahead (GUN cannot delete: what a load test writes stays in the peers' stores), or "
        "run it on the sandbox: --profile sandbox"]
    assert run.stdout == ""
    assert b"loomctl/probe/loadtest" not in _stored(relay) if (relay.data / "radata").exists() else True


@pytest.fixture
def sandbox(tmp_path, monkeypatch, loomctl):
    sandbox_dirs(tmp_path, monkeypatch)
    run = loomctl("sandbox", "up", "-o", "json")
    assert run.exit_code == 0, run.stderr
    yield run.json()
    loomctl("sandbox", "down", "-o", "json")


def test_the_sandbox_needs_no_yes_and_gets_the_sandbox_rate(sandbox, loomctl):
    run = loomctl("loadtest", "--profile", "sandbox", "--count", "6", "--warmup", "0", "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    urls = [p["url"] for p in sandbox["peers"]]
    assert doc["peers"] == urls and doc["rate_asked"] == 100
    assert [p["role"] for p in doc["per_peer"]] == ["relay", "node", "node"]  # the sandbox's roles
    assert (doc["writers"], doc["readers"], doc["measured"]) == (3, 3, 6)
    assert doc["loss"]["lost"] == 0 and doc["loss"]["expected"] == 18


def test_piped_progress_is_plain_lines_and_the_table_draws_a_histogram(relays, loomctl_proc):
    relay = relays.start()
    run = loomctl_proc("loadtest", "--peer", relay.url, "--count", "8", "--rate", "40", "--warmup", "0", "--yes",
                       "-o", "table")
    assert run.exit_code == 0, run.stderr
    err = run.stderr.splitlines()
    assert re.fullmatch(r"loadtest \S+: 1 writer\(s\), 1 reader\(s\) over 1 peer\(s\), 40/s, 8 writes, 64 B values; "
                        r"writing under loomctl/probe/loadtest/\S+/ \(GUN cannot delete: these writes stay\)", err[0])
    progress = [ln for ln in err[1:] if re.match(r"^\s+\d+\.\ds (warmup|load|drain|done)\s+writes\s+\d+  rate ", ln)]
    assert progress == err[1:] and progress
    assert re.match(r"^\s+\d+\.\ds done\s+writes\s+8  rate ", progress[-1])
    assert "\x1b" not in run.stderr
    out = run.stdout
    assert "Load test " in out and ": 8 measured writes (8 in all) of 64 B" in out
    assert re.search(r"^ overall\s+8\s+ack\s+8\s", out, re.M)
    assert re.search(r"^\s+propagation\s+8\s", out, re.M) and "Latency (same peer)" in out
    assert "Propagation latency (same peer, 8 samples):" in out and "█" in out
    assert "Loss: 0 of 8 arrivals (0.00%)" in out


def test_closed_stdout_ends_quietly(relays):
    relay = relays.start()
    r, w = os.pipe()
    os.close(r)
    try:
        proc = subprocess.run([sys.executable, "-m", "loomctl", "loadtest", "--peer", relay.url, "--count", "3",
                               "--rate", "50", "--warmup", "0", "--yes", "-o", "json"], stdout=w,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=ROOT, env=dict(os.environ),
                              text=True, timeout=120)
    finally:
        os.close(w)
    assert proc.returncode == 141, proc.stderr
    assert "error:" not in proc.stderr and "Traceback" not in proc.stderr


def test_on_a_terminal_it_asks_then_shows_a_live_panel(relays):
    from tests.subproc import Pty

    relay = relays.start()
    term = Pty("loadtest", "--peer", relay.url, "--count", "4", "--rate", "20", "--warmup", "0")
    try:
        term.read_until(b"? GUN cannot delete: what a load test writes stays in the peers' stores. [y/N]: ")
        assert b"Write about 736 B under loomctl/probe/loadtest/" in term.out  # 4 x (64 + 120)
        term.send(b"y\n")
        term.read_until(b"bytes written under loomctl/probe/loadtest/")
        screen = term.out.decode("utf-8", "replace")
        assert "Propagation p95" in screen and "Reconnects" in screen and "Connected" in screen  # the Live panel
        assert "\x1b[" in screen  # drawn with terminal control sequences, unlike the piped lines
        assert "Load test " in screen and "Propagation latency (same peer, 4 samples):" in screen
        assert term.wait() == 0
    finally:
        term.close()


def test_from_inside_runs_the_generator_in_a_replica_with_node(relays, loomctl, aca_exec):
    """The exec double runs the generated `node` command on this machine, against two real relays."""
    from tests.fakeazure import topology

    a = relays.start()
    b = relays.start(peers=[a])
    wait_peered(b)
    run = loomctl("loadtest", "--from-inside", "--peer", a.url, "--peer", b.url, "--count", "10", "--rate", "50",
                  "--warmup", "0", "--window", "2s", "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["where"] == f"{topology.NODE}--n1-5d9774cff-00000"
    assert aca_exec.sessions[-1].command.startswith("node -e ")
    assert (doc["writes"], doc["measured"], doc["acked"], doc["bytes_written"]) == (10, 10, 10, 10 * 184)
    assert doc["loss"] == {"expected": 20, "seen": 20, "lost": 0, "lost_writes": 0, "rate": 0.0}
    assert doc["propagation_scope"] == "cross-peer" and doc["propagation"]["count"] == 10
    assert [p["writes"] for p in doc["per_peer"]] == [5, 5]
    assert re.search(r"^\s+\d+\.\ds done\s+writes\s+10  rate ", run.stderr, re.M)  # its progress, streamed


def test_from_inside_a_run_longer_than_one_exec_session_is_refused(loomctl, aca_exec):
    run = loomctl("loadtest", "--from-inside", "--peer", "http://127.0.0.1:1/gun", "--duration", "30s", "--yes")
    assert run.exit_code == 2
    assert run.stderr.splitlines() == [
        "error: --from-inside runs in one exec session (the service cuts it after about 30 s): --warmup + writing + "
        "--window is 36s, above 20s",
        "hint: shorten --duration (or --count), --warmup or --window, or run it from this machine"]


class CuttingProxy:
    """A TCP proxy on 127.0.0.1 in front of a relay that, once, cuts every connection it carries when the relay has
    sent its `cut_at`-th frame holding a put (a push to a subscriber: an event in the traffic, not a timer); later
    connections pass."""

    def __init__(self, port: int, cut_at: int):
        import asyncio
        import threading

        self.target, self.cut_at, self.puts, self.cut = port, cut_at, 0, False
        self.writers: list = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(asyncio.start_server(self._handle, "127.0.0.1", 0),
                                                       self.loop).result(5)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/gun"

    async def _handle(self, reader, writer):
        import asyncio

        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        pair = [writer, up_writer]
        self.writers.extend(pair)

        async def pump(src, dst, count):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    if count and not self.cut:
                        self.puts += data.count(b'"put"')  # the relay's frames are not masked
                        if self.puts >= self.cut_at:
                            self.cut = True
                            for w in self.writers:
                                w.transport.abort()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pump(reader, up_writer, False), pump(up_reader, writer, True))

    def stop(self):
        self.loop.call_soon_threadsafe(self.server.close)
        for w in self.writers:
            self.loop.call_soon_threadsafe(w.transport.abort)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def test_a_cut_link_is_an_error_and_a_reconnect(relays, loomctl):
    relay = relays.start()
    proxy = CuttingProxy(relay.port, cut_at=5)
    try:
        run = loomctl("loadtest", "--peer", proxy.url, "--duration", "3s", "--rate", "20", "--warmup", "0",
                      "--window", "2s", "--yes", "-o", "json")
    finally:
        proxy.stop()
    assert run.exit_code == 1
    doc = run.json()
    assert proxy.cut
    assert doc["reconnects"] == 2  # the writer and the reader each dialled again (and the reader subscribed again)
    lost = sorted(e for e in doc["errors"] if "connection lost" in e)
    assert [e.split(": connection lost")[0] for e in lost] == [f"reader 0 on {proxy.url}", f"writer 0 on {proxy.url}"]
    assert doc["loss"]["seen"] > 5  # writes after the reconnect reach the subscriber again
    assert "error(s): " in run.stderr


def test_from_inside_an_image_without_node_is_named(loomctl, aca_exec, tmp_path):
    aca_exec.path_env = str(tmp_path)  # a replica whose PATH holds no node
    run = loomctl("loadtest", "--from-inside", "--peer", "http://127.0.0.1:1/gun", "--count", "5", "--rate", "50",
                  "--yes")
    assert run.exit_code == 1
    assert run.stderr.splitlines()[-2:] == [
        "error: cannot run node inside replica loom-node--n1-5d9774cff-00000: the image has no node",
        "hint: run it from this machine (drop --from-inside), or use an image with node"]


@pytest.mark.parametrize(("args", "error", "hint"), [
    (("--duration", "5s", "--count", "3"), "--duration cannot be combined with --count", "give one of them"),
    (("--rate", "fast"), "--rate 'fast' is not a rate", "give writes per second (e.g. 50, 0.5) or max"),
    (("--size", "big"), "--size 'big' is not a size", "use bytes or a unit: 256, 4KiB, 16MiB, 10MB"),
    (("--duration", "soon"), "--duration 'soon' is not a duration", "use a number and a unit: 30s, 15m, 1h, 2d, 1w"),
])
def test_bad_options_are_usage_errors(loomctl, args, error, hint):
    run = loomctl("loadtest", "--peer", "http://127.0.0.1:1/gun", "--yes", *args)
    assert run.exit_code == 2
    assert run.stderr.splitlines() == [f"error: {error}", f"hint: {hint}"]
