"""`loomctl sandbox break FAULT` / `heal` (issue 15): each fault on the sandbox's real processes (GUN processes and
the nodes' link proxy) is named by doctor with its sandbox hint, shown by `sandbox status`, and `heal` returns the
sandbox to all-passing."""

from __future__ import annotations

import json
import os
import signal

import pytest

from tests.gunrelay import sandbox_dirs

HEAL = "`loomctl sandbox heal` removes it"


def kill_leftovers(folder) -> None:
    """The finalizer behind `sandbox down`: SIGKILL every process the state file records (GUN and link proxy)."""
    path = folder / "state.json"
    if not path.exists():
        return
    raw = json.loads(path.read_text())
    pids = [p["pid"] for p in raw.get("procs", [])] + ([raw["links"]["pid"]] if raw.get("links") else [])
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


@pytest.fixture
def sandbox(tmp_path, monkeypatch, loomctl):
    folder = sandbox_dirs(tmp_path, monkeypatch)
    try:
        run = loomctl("sandbox", "up", "-o", "json")
        assert run.exit_code == 0, run.stderr
        yield {p["name"]: p for p in run.json()["peers"]}
        loomctl("sandbox", "down", "-o", "json")
    finally:
        kill_leftovers(folder)


def checks(run) -> dict[str, dict]:
    return {c["code"]: c for cat in run.json()["categories"] for c in cat["checks"]}


def assert_heals(loomctl, fault: str, target: str) -> None:
    run = loomctl("sandbox", "status", "-o", "json")
    assert run.exit_code == 1
    assert [(f["fault"], f["target"]) for f in run.json()["faults"]] == [(fault, target)]
    assert "hint: `loomctl sandbox heal` removes them" in run.stderr

    run = loomctl("sandbox", "heal", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert [(h["fault"], h["target"]) for h in run.json()["healed"]] == [(fault, target)]

    run = loomctl("doctor", "--profile", "sandbox", "-o", "json")
    assert run.exit_code == 0, run.stdout
    found = checks(run)
    assert found["LOOM402"]["status"] == "pass" and found["LOOM405"]["status"] == "pass"
    assert found["LOOM405"]["message"].startswith("2 nodes reach the relay through their links (node-1 ping ")
    run = loomctl("sandbox", "status", "-o", "json")
    assert run.exit_code == 0 and run.json()["faults"] == [] and run.json()["running"] is True


def test_blackhole_is_named_by_doctor_and_healed(sandbox, loomctl):
    run = loomctl("sandbox", "break", "blackhole", "-o", "table")
    assert run.exit_code == 0, run.stderr
    assert run.stdout == "broken: blackhole on node-1's link to the relay\n"
    assert "next: loomctl doctor --profile sandbox" in run.stderr

    run = loomctl("doctor", "--profile", "sandbox", "-o", "json")
    assert run.exit_code == 1
    found = checks(run)
    assert found["LOOM402"]["status"] == "pass"  # every process answers: only the node's own path shows it
    link = found["LOOM405"]
    assert link["status"] == "fail"
    assert link["message"].startswith("node-1's link to the relay (http://127.0.0.1:")
    assert "failed at websocket: timed out after 3 s (the deadline) in the websocket stage" in link["message"]
    assert link["hint"] == ("the sandbox fault `blackhole` is in force on node-1's link to the relay "
                            f"(`loomctl sandbox status` shows it): {HEAL}")
    assert "ingress" not in link["hint"]
    assert_heals(loomctl, "blackhole", "node-1")


@pytest.mark.also_subprocess
def test_partition_is_named_by_doctor_and_healed(sandbox, loomctl):
    """As a real process too: the link proxy outlives the `sandbox up` and `break` processes."""
    run = loomctl("sandbox", "break", "partition", "--node", "node-2", "-o", "json")
    assert run.exit_code == 0, run.stderr
    run = loomctl("doctor", "--profile", "sandbox", "--category", "loommesh", "-o", "json")
    assert run.exit_code == 1
    link = checks(run)["LOOM405"]
    assert link["message"].startswith("node-2's link to the relay (http://127.0.0.1:")
    assert " failed at tcp: " in link["message"] or " failed at websocket: connection closed" in link["message"]
    assert link["hint"] == ("the sandbox fault `partition` is in force on node-2's link to the relay "
                            f"(`loomctl sandbox status` shows it): {HEAL}")
    assert link["details"]["links"]["node-1"] == "ok"
    status = loomctl("sandbox", "status", "-o", "json").json()
    assert [(lk["node"], lk["connections"]) for lk in status["links"]] == [("node-1", 1), ("node-2", 0)]
    assert_heals(loomctl, "partition", "node-2")
    status = loomctl("sandbox", "status", "-o", "json").json()
    assert [(lk["node"], lk["connections"]) for lk in status["links"]] == [("node-1", 1), ("node-2", 1)]


def test_slow_link_is_a_warning_with_its_hint(sandbox, loomctl):
    run = loomctl("sandbox", "break", "slow", "--delay-ms", "250", "-o", "table")
    assert run.stdout == "broken: slow on node-1's link to the relay (250 ms each way)\n"
    run = loomctl("doctor", "--profile", "sandbox", "--fail-on-warn", "-o", "json")
    assert run.exit_code == 1
    link = checks(run)["LOOM405"]
    assert link["status"] == "warn"
    assert link["message"].startswith("node-1's link to the relay is slow: ping ")
    assert link["message"].endswith(" ms through it (over 200 ms; loopback takes a few ms)")
    assert int(link["message"].split("ping ")[1].split(" ms")[0]) >= 500  # 250 ms each way, per round trip
    assert link["hint"] == ("the sandbox fault `slow` is in force on node-1's link to the relay "
                            f"(`loomctl sandbox status` shows it): {HEAL}")
    assert_heals(loomctl, "slow", "node-1")


@pytest.mark.parametrize(("fault", "name", "args"), [("relay-down", "relay", []),
                                                     ("node-down", "node-2", ["--node", "node-2"])])
def test_a_stopped_process_is_named_once_and_started_again(sandbox, loomctl, fault, name, args):
    proc = sandbox[name]
    run = loomctl("sandbox", "break", fault, *args, "-o", "json")
    assert run.exit_code == 0, run.stderr
    run = loomctl("doctor", "--profile", "sandbox", "-o", "json")
    assert run.exit_code == 1
    found = checks(run)
    peers = found["LOOM402"]
    assert peers["status"] == "fail"
    assert peers["message"] == f"{proc['url']} failed at tcp: connection refused by {proc['url'][7:-4]}"
    assert peers["hint"] == (f"the sandbox's {proc['role']} '{name}' (pid {proc['pid']}) was stopped by the "
                             f"sandbox fault `{fault}` (`loomctl sandbox status` shows it): {HEAL} and starts it "
                             "again")
    assert found["LOOM405"]["status"] == "skip"  # one failure for one cause
    assert found["LOOM405"]["details"]["cause"] == ["LOOM402"]
    run = loomctl("sandbox", "status", "-o", "json")
    assert {p["name"]: p["alive"] for p in run.json()["peers"]}[name] is False
    assert_heals(loomctl, fault, name)
    run = loomctl("sandbox", "status", "-o", "json")
    again = {p["name"]: p for p in run.json()["peers"]}[name]
    assert again["url"] == proc["url"] and again["pid"] != proc["pid"]  # same port, a new process


def test_break_errors_are_one_line_with_a_hint(sandbox, loomctl):
    run = loomctl("sandbox", "break", "blackhole", "--node", "node-9")
    assert run.exit_code == 2
    assert "error: the sandbox has no node 'node-9'" in run.stderr
    assert "hint: choose one of: node-1, node-2" in run.stderr
    assert loomctl("sandbox", "break", "blackhole").exit_code == 0
    run = loomctl("sandbox", "break", "slow")
    assert run.exit_code == 2
    assert "error: a fault is already in force on node-1's link: blackhole on node-1's link to the relay" in run.stderr
    run = loomctl("sandbox", "break", "partition", "--delay-ms", "5")
    assert run.exit_code == 2 and "--delay-ms goes with the fault slow only" in run.stderr
    assert loomctl("sandbox", "down", "-o", "json").exit_code == 0
    run = loomctl("sandbox", "break", "relay-down")
    assert run.exit_code == 2
    assert "error: no sandbox is running" in run.stderr and "hint: start one with `loomctl sandbox up`" in run.stderr


def test_down_stops_the_link_proxy_too(sandbox, loomctl, tmp_path):
    raw = json.loads((tmp_path / "sandbox" / "state.json").read_text())
    proxy = raw["links"]["pid"]
    run = loomctl("sandbox", "down", "-o", "json")
    assert run.exit_code == 0
    assert run.json()["stopped"][-1] == {"name": "links", "pid": proxy, "result": "stopped"}
    try:
        os.waitpid(proxy, os.WNOHANG)
    except ChildProcessError:
        pass
    with pytest.raises(ProcessLookupError):
        os.kill(proxy, 0)


def _mesh(loomctl):
    run = loomctl("diagnose", "mesh", "--profile", "sandbox", "--write-probe", "--window", "2", "-o", "json")
    return run.exit_code, run.json()["verdict"], run.json()["parts"]


def test_relays_unpeered_needs_two_peered_relays(sandbox, loomctl):
    run = loomctl("sandbox", "break", "relays-unpeered")
    assert run.exit_code == 2
    assert run.stderr == ("error: relays-unpeered needs a sandbox of two relays or more; this one has 1\n"
                          "hint: start one: `loomctl sandbox up --relays 2 --peer-relays`\n")
    assert loomctl("sandbox", "up", "--relays", "2", "-o", "json").exit_code == 0  # relays that do not peer
    run = loomctl("sandbox", "break", "relays-unpeered")
    assert run.exit_code == 2 and run.stderr.startswith(
        "error: the sandbox's relays do not peer each other already (started without --peer-relays)\n")


def test_relays_unpeered_is_named_by_diagnose_mesh_and_doctor_and_healed(sandbox, loomctl):
    run = loomctl("sandbox", "up", "--relays", "2", "--peer-relays", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert [(p["name"], p["dials"]) for p in run.json()["peers"]] == [
        ("relay-1", "relay-2"), ("relay-2", None), ("node-1", "relay-1"), ("node-2", "relay-2")]
    assert _mesh(loomctl) == (0, "whole", [["relay-1", "relay-2", "node-1", "node-2"]])

    run = loomctl("sandbox", "break", "relays-unpeered", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["shown"] == "relays-unpeered on the relays' links to each other"
    assert _mesh(loomctl) == (1, "split", [["relay-1", "node-1"], ["relay-2", "node-2"]])
    run = loomctl("doctor", "--profile", "sandbox", "-o", "json")
    assert run.exit_code == 1
    found = checks(run)
    assert found["LOOM402"]["status"] == "pass" and found["LOOM405"]["status"] == "fail"
    assert found["LOOM405"]["message"].startswith("relay-1's link to relay-2 (http://127.0.0.1:")
    assert found["LOOM405"]["hint"] == (
        "the sandbox fault `relays-unpeered` is in force on relay-1's link to relay-2 (`loomctl sandbox status` "
        "shows it): `loomctl sandbox heal` removes it")
    assert [c for c, v in found.items() if v["status"] in ("fail", "warn")] == ["LOOM405"]  # one cause, once

    run = loomctl("sandbox", "heal", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert [(h["fault"], h["target"]) for h in run.json()["healed"]] == [("relays-unpeered", "relays")]
    assert _mesh(loomctl) == (0, "whole", [["relay-1", "relay-2", "node-1", "node-2"]])
    run = loomctl("doctor", "--profile", "sandbox", "-o", "json")
    assert run.exit_code == 0, run.stdout
    assert checks(run)["LOOM405"]["message"].startswith(
        "2 nodes and 1 relay reach their relays through 3 links (relay-1/relay-2 ping ")
