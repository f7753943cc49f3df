"""The sandbox speaks of the sandbox (issue 12): a sandbox peer that is down gets a hint about `loomctl sandbox`,
not about Azure ingress ports; relay and nodes are named by their role; and hints point to loomctl's own
commands (`--from-inside`) before `az`. Real GUN processes from `loomctl sandbox up`."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.gunrelay import sandbox_dirs


@pytest.fixture
def sandbox(tmp_path, monkeypatch, loomctl):
    sandbox_dirs(tmp_path, monkeypatch)
    run = loomctl("sandbox", "up", "-o", "json")
    assert run.exit_code == 0, run.stderr
    yield {p["name"]: p for p in run.json()["peers"]}
    loomctl("sandbox", "down", "-o", "json")


def _stop(pid: int) -> None:
    """Kill one sandbox process (one `sandbox up` started for this test) and wait until it is gone."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)  # our child when `up` ran in this process
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)


def _hint(node: dict) -> str:
    return (f"the sandbox's node 'node-1' (pid {node['pid']}) is not running: `loomctl sandbox status` shows each "
            f"process; `loomctl sandbox up` restarts a sandbox that is partly or wholly down; its log is "
            f"{node['log']}")


def test_a_sandbox_node_that_is_down_gets_a_sandbox_hint_and_its_role(sandbox, loomctl):
    node = sandbox["node-1"]
    _stop(node["pid"])
    run = loomctl("diagnose", "peers", "--profile", "sandbox", "-o", "json")
    assert run.exit_code == 1
    peers = run.json()["peers"]
    assert [(p["url"], p["role"]) for p in peers] == [(sandbox[n]["url"], sandbox[n]["role"])
                                                      for n in ("relay", "node-1", "node-2")]
    assert [p["role"] for p in peers] == ["relay", "node", "node"]
    down = peers[1]
    assert down["failed_stage"] == "tcp"
    assert down["hint"] == _hint(node)
    assert "ingress" not in down["hint"] and "relay" not in down["hint"]

    run = loomctl("doctor", "--profile", "sandbox", "--category", "loommesh", "-o", "json")
    assert run.exit_code == 1
    check = {c["code"]: c for cat in run.json()["categories"] for c in cat["checks"]}["LOOM402"]
    assert check["hint"] == _hint(node)

    table = loomctl("diagnose", "peers", "--profile", "sandbox", "-o", "table")
    assert "Relay pid" not in table.stdout and "GUN pid" in table.stdout
    assert "ingress" not in table.stdout


def test_no_sandbox_running_says_sandbox_up(sandbox, loomctl):
    assert loomctl("sandbox", "down", "-o", "json").exit_code == 0
    run = loomctl("diagnose", "peers", "--profile", "sandbox", "-o", "json")
    assert run.exit_code == 1
    hints = {p["hint"] for p in run.json()["peers"]}
    assert len(hints) == 1
    assert hints.pop().endswith("start it with `loomctl sandbox up`")


def test_hints_name_the_role_of_a_peer_that_is_not_the_relay(bad_peers, loomctl):
    closed = f"127.0.0.1:{bad_peers.closed_port}"
    run = loomctl("diagnose", "peers", "--node-host", closed, "-o", "json")
    node = run.json()["peers"][0]
    assert node["role"] == "node"
    assert node["hint"].startswith(f"nothing listens on {closed}: the node is not running, or this is not the port")
    run = loomctl("diagnose", "peers", "--relay-host", closed, "-o", "json")
    assert run.json()["peers"][0]["hint"].startswith(f"nothing listens on {closed}: the relay is not running")
    run = loomctl("diagnose", "peers", "--peer", f"ws://{closed}/gun", "-o", "json")
    assert run.json()["peers"][0]["hint"].startswith(f"nothing listens on {closed}: the peer is not running")


def test_the_internal_name_hint_points_to_from_inside_before_az(dns_server, loomctl, monkeypatch):
    host = "gun-relay.internal.example.io"
    dns_server.zone[host] = "NXDOMAIN"
    run = loomctl("diagnose", "dns", "--dns-server", dns_server.address, "--relay-host", host, "-o", "json")
    hint = run.json()["hosts"][0]["hint"]
    assert hint == (f"'{host}' is an environment-internal name: it resolves only inside the Container Apps "
                    "environment's network, so this is expected from outside. Probe from inside instead: "
                    "`loomctl diagnose dns --from-inside` (or `loomctl doctor --from-inside`) runs the lookup in a "
                    "replica through exec; or run loomctl on a VM in the environment's VNet; by hand: "
                    f"`az containerapp exec -n <node-app> -g <group> --command sh`, then `nslookup {host}`.")
    assert hint.index("--from-inside") < hint.index("az containerapp exec")


def test_a_local_peer_outside_the_sandbox_gets_no_azure_ingress_hint(bad_peers, loomctl, tmp_path):
    """An `azure = false` profile names local peers: a closed port is not an ingress problem there."""
    closed = f"127.0.0.1:{bad_peers.closed_port}"
    (tmp_path / "config.toml").write_text(f'[profiles."local"]\nazure = false\npeers = ["ws://{closed}/gun"]\n')
    run = loomctl("diagnose", "peers", "--profile", "local", "-o", "json")
    assert run.exit_code == 1
    hint = run.json()["peers"][0]["hint"]
    assert hint == f"nothing listens on {closed}: the peer is not running, or this is not its port"
    run = loomctl("doctor", "--profile", "local", "--category", "loommesh", "-o", "json")
    checks = {c["code"]: c for cat in run.json()["categories"] for c in cat["checks"]}
    assert "ingress" not in checks["LOOM402"]["hint"]
    assert checks["LOOM405"]["status"] == "skip"
