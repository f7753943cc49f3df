"""`loomctl drill join` and `loomctl drill partition` (issue 15) on the sandbox's real GUN processes: a fresh GUN peer
joins and holds every probe node; a node cut off and healed converges by GUN's conflict rule, and a node that does
not redial (stock GUN after one failed redial) is named with the fix."""

from __future__ import annotations

import json

import pytest

from loomctl.drills.partition import Write, expected_values
from loomctl.drills.probes import ham_winner
from tests.acafakes.fixtures import aca_exec, fake_exec_server  # noqa: F401 - fixtures
from tests.gunrelay import NODE_DIR, require_gun, sandbox_dirs
from tests.test_sandbox_faults import kill_leftovers


@pytest.fixture
def sandbox_env(tmp_path, monkeypatch, loomctl):
    folder = sandbox_dirs(tmp_path, monkeypatch)
    try:
        yield folder
        loomctl("sandbox", "down", "-o", "json")
    finally:
        kill_leftovers(folder)


def up(loomctl) -> dict:
    run = loomctl("sandbox", "up", "-o", "json")
    assert run.exit_code == 0, run.stderr
    return {p["name"]: p for p in run.json()["peers"]}


def test_the_conflict_rule_is_gun_s():
    assert ham_winner(("a", 2), ("z", 1)) == ("a", 2)  # greater state wins
    assert ham_winner(("m", 5), ("q", 5)) == ("q", 5)  # equal: lexically greater JSON wins
    assert ham_winner((5, 7), ("q", 7)) == (5, 7)  # the protocol's example: 5 beats "q" ('5' > '"')
    writes = [Write("k", "node-1", "x", 3), Write("k", "node-2", "b", 3), Write("j", "node-1", "old", 1),
              Write("j", "node-2", "new", 2)]
    assert expected_values(writes) == {"k": "x", "j": "new"}


def test_join_holds_every_probe_node(sandbox_env, loomctl, tmp_path):
    peers = up(loomctl)
    run = loomctl("drill", "join", "--profile", "sandbox", "--count", "12", "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["ok"] is True and doc["held"] == 12 and doc["missing"] == []
    assert doc["dialled"] == [peers["relay"]["url"]] and doc["written_through"] == peers["relay"]["url"]
    assert doc["prefix"].startswith("loomctl/probe/join/")
    assert doc["held_s"] >= doc["ready_s"] > 0 and doc["reference_s"] == 10.0

    run = loomctl("drill", "join", "--profile", "sandbox", "--count", "3", "-o", "table")
    held = [line for line in run.stdout.splitlines() if line.startswith("  held ")]
    assert len(held) == 1 and held[0].startswith("  held all 3 probe nodes after ")
    assert held[0].endswith(" s (within the reference's ~10 s)")


@pytest.fixture
def gun_dir(monkeypatch):
    require_gun()
    monkeypatch.setenv("LOOMCTL_GUN_DIR", str(NODE_DIR))  # the tests' gun: never an npm install


def test_join_outside_the_sandbox_asks_first(loomctl, relays, gun_dir):
    relay = relays.start()
    run = loomctl("drill", "join", "--peer", relay.url, "--count", "2")
    assert run.exit_code == 2
    assert "error: refusing to write probe nodes outside the sandbox without --yes" in run.stderr
    run = loomctl("drill", "join", "--peer", relay.url, "--count", "2", "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["held"] == 2


def test_join_without_a_writable_peer_is_one_line(loomctl, bad_peers, gun_dir):
    closed = f"127.0.0.1:{bad_peers.closed_port}"
    run = loomctl("drill", "join", "--peer", f"ws://{closed}/gun", "--yes")
    assert run.exit_code == 3
    assert run.stderr.startswith(f"error: cannot reach the LoomMesh peer ws://{closed}/gun: ")
    assert run.stderr.endswith(f"hint: `loomctl diagnose peers --peer ws://{closed}/gun` names the failing stage\n")
    assert run.stderr.count("\n") == 2


def test_partition_converges_by_the_conflict_rule(sandbox_env, loomctl):
    up(loomctl)
    run = loomctl("drill", "partition", "--hold", "0", "--keys", "3", "-o", "json")
    assert run.exit_code == 0, run.stdout
    doc = run.json()
    assert doc["isolated"] is True  # during the cut node-2 did not see node-1's writes
    assert doc["findings"] == [] and doc["ok"] is True
    assert {p["name"] for p in doc["peers"]} == {"relay", "node-1", "node-2"}
    assert all(p["caught_up_s"] is not None and not p["missing"] and not p["wrong"] for p in doc["peers"])
    assert doc["converged_s"] == max(p["caught_up_s"] for p in doc["peers"])
    later = {w["side"]: w for w in doc["writes"] if w["key"] == "later"}
    tie = {w["side"]: w for w in doc["writes"] if w["key"] == "tie"}
    assert later["node-2"]["state"] > later["node-1"]["state"]
    assert doc["expected"]["later"] == later["node-2"]["value"]
    assert tie["node-1"]["state"] == tie["node-2"]["state"]
    assert doc["expected"]["tie"] == max((w["value"] for w in tie.values()), key=json.dumps)
    assert len(doc["expected"]) == 3 + 3 + 2
    status = loomctl("sandbox", "status", "-o", "json")
    assert status.exit_code == 0 and status.json()["faults"] == []  # healed


def test_partition_names_a_node_that_does_not_redial(sandbox_env, loomctl, monkeypatch):
    """REDIAL=once: the nodes dial at start and then only as stock GUN does (one redial after ~2 s, then never):
    a cut longer than that leaves node-1 unlinked for good."""
    monkeypatch.setenv("REDIAL", "once")
    up(loomctl)
    run = loomctl("drill", "partition", "--hold", "5", "--timeout", "3", "--keys", "2", "-o", "json")
    assert run.exit_code == 1
    doc = run.json()
    node1 = {p["name"]: p for p in doc["peers"]}["node-1"]
    assert node1["linked"] is False and node1["caught_up_s"] is None
    assert node1["missing"] == ["node-2-0", "node-2-1"]
    assert len(doc["findings"]) == 1  # one cause: what the others miss follows from it
    finding = doc["findings"][0]
    assert finding["problem"] == ("node-1 never caught up: it did not redial its link to the relay after the "
                                  "partition healed (no connection on its link after 3 s); it misses 2 and holds "
                                  f"{len(node1['wrong'])} stale of 6 keys; so relay, node-2 miss the writes made on "
                                  "node-1")
    assert finding["hint"].startswith("stock GUN gives up on a lost link after one failed redial: restart the node "
                                      "(`loomctl sandbox break node-down --node node-1 && loomctl sandbox heal`)")

    run = loomctl("doctor", "--profile", "sandbox", "--category", "loommesh", "-o", "json")
    assert run.exit_code == 1
    link = {c["code"]: c for cat in run.json()["categories"] for c in cat["checks"]}["LOOM405"]
    assert link["message"].startswith("node-1 is not linked to the relay: no connection of its own on its link ")
    assert link["hint"] == ("node-1 holds no connection to the relay, though its link works: it did not redial "
                            "after losing it (stock GUN gives up): `loomctl sandbox break node-down --node node-1 && "
                            "loomctl sandbox heal` restarts it")
    assert loomctl("sandbox", "break", "node-down", "--node", "node-1").exit_code == 0
    assert loomctl("sandbox", "heal").exit_code == 0
    assert loomctl("doctor", "--profile", "sandbox", "--category", "loommesh").exit_code == 0


def test_partition_needs_the_sandbox(sandbox_env, loomctl):
    run = loomctl("drill", "partition")
    assert run.exit_code == 2
    assert run.stderr == ("error: drill partition runs on the sandbox only, and no sandbox is running\n"
                          "hint: start it with `loomctl sandbox up`, then run `loomctl drill partition`\n")
    up(loomctl)
    assert loomctl("sandbox", "break", "slow").exit_code == 0
    run = loomctl("drill", "partition")
    assert run.exit_code == 2
    assert "error: sandbox faults are in force: slow on node-1's link to the relay (300 ms each way)" in run.stderr
    assert "hint: remove them first: `loomctl sandbox heal`" in run.stderr


def test_join_from_inside_runs_in_the_replica_with_its_gun(loomctl, aca_exec, relays):
    """Through the exec double, which runs the drill's node command for real: the image's gun is tests/node's."""
    from tests.gunrelay import NODE_MODULES

    relay = relays.start()
    aca_exec.env["NODE_PATH"] = str(NODE_MODULES)
    run = loomctl("drill", "join", "--from-inside", "--peer", relay.url, "--count", "5", "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["ok"] is True and doc["held"] == 5 and doc["missing"] == []
    assert doc["written_through"] == f"{relay.url} (inside loom-node--n1-5d9774cff-00000)"
    assert doc["held_s"] is not None and doc["ready_s"] is not None
    assert [s.command.split(" ")[:2] for s in aca_exec.sessions] == [["node", "-e"]]  # one session, the script packed

    aca_exec.env.clear()  # an image with node but without the gun package
    aca_exec.env["NODE_PATH"] = ""
    run = loomctl("drill", "join", "--from-inside", "--peer", relay.url, "--count", "2", "--yes")
    assert run.exit_code == 1
    assert "error: replica loom-node--n1-5d9774cff-00000 has node but no gun package" in run.stderr
    assert "hint: run the drill from a replica of the app that runs GUN (--app), or drop --from-inside" in run.stderr


def test_divergence_is_data_loss_key_by_key():
    """The verdict on what the peers hold after the heal (the real runs above converge or strand a node): a linked
    peer holding another value, or missing a key, is data loss, one line per key."""
    from loomctl.drills.partition import PartitionResult, PeerCatchUp, _judge

    writes = [Write("node-1-0", "node-1", "a", 1), Write("node-2-0", "node-2", "b", 1),
              Write("tie", "node-1", "x", 5), Write("tie", "node-2", "y", 5)]
    result = PartitionResult("r", "loomctl/probe/partition/r", "node-1", "node-2", writes, expected_values(writes),
                             True, 3.0, 0.0)
    result.peers = [PeerCatchUp("relay", "u0", caught_up_s=0.4),
                    PeerCatchUp("node-1", "u1", caught_up_s=0.5, linked=True),
                    PeerCatchUp("node-2", "u2", missing=["node-1-0"], wrong={"tie": {"holds": "x", "expected": "y"}},
                                linked=True)]
    _judge(result)
    assert result.ok is False and result.converged_s is None
    assert [f["problem"] for f in result.findings] == [
        "data loss on node-2: key 'node-1-0' is missing (expected 'a')",
        "data loss on node-2: key 'tie' holds 'x', GUN's conflict rule says 'y'"]
    assert result.findings[1]["hint"].startswith("divergence: the peers disagree on a key after the heal")
