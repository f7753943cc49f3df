"""`loomctl diagnose mesh`: replica by replica, against real GUN processes.

Azure: the local Azure lists 2 relay and 3 node replicas; the exec double runs the mesh probe for real on this
machine, each "replica" pointed at its own real GUN process through its container environment (GUN_PORT,
GUN_SERVER_PORT), wired split or whole. Sandbox: `sandbox up --relays 2 --attach ...` and the probe beside each
local process. No timing assertions: the write probe waits on its window (a deadline), never on a sleep."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.acafakes.fixtures import aca_exec, fake_exec_server  # noqa: F401 - fixtures
from tests.fakeazure import topology as t
from tests.gunrelay import sandbox_dirs
from tests.test_inside_probe import SHELL_BASE, _image

pytestmark = pytest.mark.timeout(120)

R0, R1 = f"{t.RELAY}--r1-5d9774cff-00000", f"{t.RELAY}--r1-5d9774cff-00001"
N0, N1, N2 = (f"{t.NODE}--n1-5d9774cff-{i:05d}" for i in range(3))
WINDOW = ("--window", "5")


def _wire(aca_exec, relays, n2_dials):
    """Two relay replicas that do not peer; node 0 and 1 on relay 0; node 2 on the relays named by n2_dials."""
    r = [relays.start(), relays.start()]
    n = [relays.start([r[0]]), relays.start([r[0]]), relays.start([r[i] for i in n2_dials])]
    for name, g in ((R0, r[0]), (R1, r[1])):
        aca_exec.replica_env[name] = {"GUN_PORT": str(g.port)}
    for name, g in zip((N0, N1, N2), n):
        aca_exec.replica_env[name] = {"GUN_SERVER_PORT": str(g.port)}
    _dialled(r[0].port, 2 + (0 in n2_dials))
    _dialled(r[1].port, int(1 in n2_dials))
    return r + n


def _dialled(port, links, seconds=15.0):
    """Wait (up to a deadline) until `links` connections to 127.0.0.1:port are established (/proc/net/tcp): the
    nodes dial their relays 50 ms after they start."""
    want = f"0100007F:{port:04X}"
    deadline = time.monotonic() + seconds
    while True:
        rows = [ln.split() for ln in Path("/proc/net/tcp").read_text().splitlines()[1:]]
        n = sum(1 for c in rows if c[2] == want and c[3] == "01")
        if n >= links:
            return
        assert time.monotonic() < deadline, f"{n} of {links} links to port {port} after {seconds} s"
        time.sleep(0.02)


def _doc_parts(doc):
    return doc["verdict"], doc["parts"]


@pytest.mark.also_subprocess
def test_split_mesh_names_each_part(azure, aca_exec, relays, loomctl):
    _wire(aca_exec, relays, [1])
    run = loomctl("diagnose", "mesh", "--write-probe", *WINDOW, "-o", "json")
    assert run.exit_code == 1, run.stdout + run.stderr
    doc = run.json()
    assert _doc_parts(doc) == ("split", [[R0, N0, N1], [R1, N2]])
    assert doc["reason"] == (f"the mesh is split into 2 parts (by the write probe): [{R0}, {N0}, {N1}] | [{R1}, {N2}]")
    m = doc["matrix"]
    assert m[N2][N0] == "never" and m[N0][N2] == "never" and m[R1][R0] == "never"
    assert isinstance(m[N0][N1], float) and isinstance(m[R1][N2], float) and m[N0][N0] == "self"
    assert doc["findings"] == []
    assert all(p["wrote"] and p["acked"] for p in doc["replicas"])
    # through the exec channel, every replica: one write session, one read session, each the node probe
    paths = sorted(s.path.split("/replicas/")[1].split("/")[0] for s in aca_exec.sessions)
    assert paths == sorted([R0, R1, N0, N1, N2] * 2)
    assert all(s.command.startswith("node -e ") for s in aca_exec.sessions)
    assert "error: the mesh is split into 2 parts" in run.stderr


def test_whole_mesh_when_a_node_joins_the_relays(azure, aca_exec, relays, loomctl):
    _wire(aca_exec, relays, [0, 1])
    run = loomctl("diagnose", "mesh", "--write-probe", *WINDOW, "-o", "json")
    assert run.exit_code == 0, run.stdout + run.stderr
    doc = run.json()
    assert _doc_parts(doc) == ("whole", [[R0, R1, N0, N1, N2]])
    assert doc["reason"] == "5 replicas form one mesh (by the write probe)"
    assert all(v != "never" for row in doc["matrix"].values() for v in row.values())


def test_table_shows_matrix_parts_and_verdict(azure, aca_exec, relays, loomctl):
    _wire(aca_exec, relays, [1])
    run = loomctl("diagnose", "mesh", "--write-probe", *WINDOW, "-o", "table")
    assert run.exit_code == 1
    lines = [ln.rstrip() for ln in run.stdout.splitlines()]
    assert f"part 1: {R0}, {N0}, {N1}" in lines and f"part 2: {R1}, {N2}" in lines
    assert any(ln.startswith(f" 5 {N2}") and ln.count("never") == 3 for ln in lines), lines
    assert any(ln.startswith("✗ mesh split: the mesh is split into 2 parts") for ln in lines)


def test_read_only_links_tell_the_parts_and_write_nothing(azure, aca_exec, relays, loomctl):
    _wire(aca_exec, relays, [1])
    run = loomctl("diagnose", "mesh", "-o", "json")
    assert run.exit_code == 1, run.stdout
    doc = run.json()
    assert _doc_parts(doc) == ("split", [[R0, N0, N1], [R1, N2]])
    assert "(by the GUN processes' links)" in doc["reason"]
    by = {p["name"]: p for p in doc["replicas"]}
    assert [(ln["dir"], ln["peer"]) for ln in by[N2]["links"]] == [("out", R1)]
    assert sorted(ln["peer"] for ln in by[R0]["links"]) == sorted([N0, N1])
    assert not any(p["wrote"] for p in doc["replicas"]) and doc["matrix"] == {}
    assert len(aca_exec.sessions) == 5  # one session per replica, no read phase


def test_replica_without_node_is_the_no_tools_finding(azure, aca_exec, relays, loomctl, tmp_path):
    _wire(aca_exec, relays, [0])
    aca_exec.replica_env[N1]["PATH"] = _image(tmp_path, SHELL_BASE)
    run = loomctl("diagnose", "mesh", "--write-probe", *WINDOW, "-o", "json")
    assert run.exit_code == 1
    doc = run.json()
    assert [(f["replica"], f["kind"]) for f in doc["findings"]] == [(N1, "no-tools")]
    assert doc["findings"][0]["message"] == (f"cannot probe the mesh from inside replica {N1}: the image has no node "
                                             "(the mesh probe needs node)")
    assert "az containerapp debug" in doc["findings"][0]["hint"]
    # R1 has no node attached: a relay replica alone is a part of its own
    assert _doc_parts(doc) == ("split", [[R0, N0, N2], [R1]]) and doc["not_probed"] == [N1]


def test_exec_refused_twice_is_its_own_finding(azure, aca_exec, relays, loomctl, monkeypatch):
    _wire(aca_exec, relays, [0])
    monkeypatch.setenv("LOOMCTL_EXEC_HANDSHAKE_TIMEOUT", "0.5")
    aca_exec.not_running.add(R1)
    run = loomctl("diagnose", "mesh", "--write-probe", *WINDOW, "-o", "json")
    assert run.exit_code == 1
    doc = run.json()
    assert [(f["replica"], f["kind"]) for f in doc["findings"]] == [(R1, "exec-refused")]
    assert doc["findings"][0]["message"].startswith(f"exec handshake failed: HTTP 500 from replica '{R1}'")
    tries = [s.status for s in aca_exec.sessions if f"/replicas/{R1}/" in s.path]
    assert len(tries) >= 2 and set(tries) == {500}  # retried, then given up: no read session for it
    assert _doc_parts(doc) == ("whole", [[R0, N0, N1, N2]])


def test_replica_dying_mid_probe_is_its_own_finding(azure, aca_exec, relays, loomctl):
    _wire(aca_exec, relays, [0])
    aca_exec.replica_cut[N2] = 100  # the session drops after the probe's first line
    run = loomctl("diagnose", "mesh", "--write-probe", *WINDOW, "-o", "json")
    assert run.exit_code == 1
    doc = run.json()
    assert [(f["replica"], f["kind"]) for f in doc["findings"]] == [(N2, "lost")]
    assert doc["findings"][0]["message"].startswith(f"replica {N2} went away mid-probe: the exec session in")
    assert _doc_parts(doc) == ("split", [[R0, N0, N1], [R1]])


def test_parallel_bounds_the_sessions_in_flight(azure, aca_exec, relays, loomctl):
    _wire(aca_exec, relays, [1])
    run = loomctl("diagnose", "mesh", "--write-probe", *WINDOW, "--parallel", "2", "-o", "json")
    assert _doc_parts(run.json()) == ("split", [[R0, N0, N1], [R1, N2]])
    assert len(aca_exec.sessions) == 10 and aca_exec.max_active == 2
    aca_exec.max_active = 0
    run = loomctl("diagnose", "mesh", "-o", "json")  # default --parallel 8: not one by one
    assert aca_exec.max_active > 2


def test_app_and_replica_narrow_the_run(azure, aca_exec, relays, loomctl):
    _wire(aca_exec, relays, [1])
    run = loomctl("diagnose", "mesh", "--app", t.NODE, "--replica", N0, "--replica", N2, "-o", "json")
    doc = run.json()
    assert [p["name"] for p in doc["replicas"]] == [N0, N2]
    run = loomctl("diagnose", "mesh", "--replica", "nope")
    assert run.exit_code == 2 and "no replica 'nope' here" in run.stderr


# -- the sandbox --------------------------------------------------------------------------------------------------
@pytest.fixture
def sandbox_env(tmp_path, monkeypatch, loomctl):
    sandbox_dirs(tmp_path, monkeypatch)
    yield tmp_path / "sandbox"
    loomctl("sandbox", "down", "-o", "json")


@pytest.mark.also_subprocess
def test_two_relay_sandbox_split_then_whole(sandbox_env, loomctl):
    run = loomctl("sandbox", "up", "--relays", "2", "--attach", "1,1,2", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert [(p["name"], p["dials"]) for p in run.json()["peers"]] == [
        ("relay-1", None), ("relay-2", None), ("node-1", "relay-1"), ("node-2", "relay-1"), ("node-3", "relay-2")]
    run = loomctl("diagnose", "mesh", "--profile", "sandbox", "--write-probe", *WINDOW, "-o", "json")
    assert run.exit_code == 1, run.stdout + run.stderr
    assert _doc_parts(run.json()) == ("split", [["relay-1", "node-1", "node-2"], ["relay-2", "node-3"]])

    run = loomctl("sandbox", "up", "--relays", "2", "--attach", "1,2,1+2", "-o", "json")
    assert run.exit_code == 0 and "another layout: restarting it" in run.stderr
    run = loomctl("diagnose", "mesh", "--profile", "sandbox", "--write-probe", *WINDOW, "-o", "json")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert _doc_parts(run.json()) == ("whole", [["relay-1", "relay-2", "node-1", "node-2", "node-3"]])
    run = loomctl("sandbox", "status", "-o", "table")
    assert any(ln.split()[:3] == ["node-3", "node", "relay-1,relay-2"] for ln in run.stdout.splitlines())


def test_sandbox_process_gone_or_frozen(sandbox_env, loomctl):
    """A process that exited is not probed (not running); one that runs but does not answer GUN is no-gun."""
    run = loomctl("sandbox", "up", "--relays", "2", "--attach", "1,2,2", "-o", "json")
    assert run.exit_code == 0, run.stderr
    pids = {p["name"]: p["pid"] for p in run.json()["peers"]}
    _links_up(loomctl, [["relay-2", "node-2", "node-3"], ["relay-1", "node-1"]])
    os.kill(pids["node-2"], signal.SIGKILL)
    os.kill(pids["node-3"], signal.SIGSTOP)  # the kernel still accepts its connections; nothing answers
    _wait_state(pids["node-2"], "Z")  # dead (a zombie of this process, or gone), not still dying
    _wait_state(pids["node-3"], "T")
    try:
        run = loomctl("diagnose", "mesh", "--profile", "sandbox", "--timeout", "8", "-o", "json")
    finally:
        os.kill(pids["node-3"], signal.SIGCONT)
    assert run.exit_code == 1
    doc = run.json()
    assert [(f["replica"], f["kind"]) for f in doc["findings"]] == [("node-2", "not-running"), ("node-3", "no-gun")]
    assert doc["findings"][0]["message"] == "sandbox node 'node-2' is not running: not probed"
    assert doc["findings"][1]["message"].startswith("the GUN process of sandbox node 'node-3' does not answer on port ")
    assert all("loomctl sandbox status" in f["hint"] for f in doc["findings"])
    # relay-2 still holds the frozen node-3's connection (through node-3's link): the link proxy names its far end
    by = {r["name"]: r for r in doc["replicas"]}
    assert [(ln["dir"], ln["peer"]) for ln in by["relay-2"]["links"]] == [("in", "node-3")]
    assert doc["verdict"] == "split" and doc["parts"] == [["relay-1", "node-1"], ["relay-2"]]
    assert doc["not_probed"] == ["node-2", "node-3"]


def _wait_state(pid, state, seconds=10.0):
    """Wait (up to a deadline) until /proc shows the process in `state` (Z: dead; T: stopped) or gone."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == state:
                return
        except (OSError, IndexError):
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} did not reach state {state}")


def _links_up(loomctl, parts, seconds=20.0):
    """Wait (up to a deadline) until the nodes' links to their relays are open: they dial 50 ms after start."""
    deadline = time.monotonic() + seconds
    while True:
        doc = loomctl("diagnose", "mesh", "--profile", "sandbox", "-o", "json").json()
        if doc["parts"] == parts or time.monotonic() > deadline:
            assert doc["parts"] == parts, doc
            return


def test_attach_names_a_missing_relay(sandbox_env, loomctl):
    run = loomctl("sandbox", "up", "--relays", "2", "--attach", "1,3")
    assert run.exit_code == 2 and "--attach names relay 3, but the sandbox has 2 relay(s)" in run.stderr


# -- doctor ---------------------------------------------------------------------------------------------------------
def _checks(doc):
    return {c["code"]: c for cat in doc["categories"] for c in cat["checks"] if c["resource"] is None}


def test_doctor_from_inside_reads_the_mesh_links(azure, aca_exec, relays, loomctl):
    _wire(aca_exec, relays, [1])
    run = loomctl("doctor", "--from-inside", "--category", "loommesh", "--ignore", "LOOM402", "-o", "json")
    assert run.exit_code == 1, run.stdout
    checks = _checks(run.json())
    assert "LOOM404" not in checks  # the write probe runs only with --write-probe
    c = checks["LOOM403"]
    assert c["status"] == "fail"
    assert c["message"] == f"the GUN processes' links form 2 parts: [{R0}, {N0}, {N1}] | [{R1}, {N2}]"
    assert "loomctl runbook show mesh-split" in c["hint"]
    assert len(aca_exec.sessions) == 5  # read-only: one session per replica


def test_doctor_write_probe_fails_a_split_mesh_listing_its_parts(azure, aca_exec, relays, loomctl):
    _wire(aca_exec, relays, [1])
    run = loomctl("doctor", "--from-inside", "--write-probe", "--category", "loommesh", "--ignore", "LOOM402",
                  "-o", "json")
    assert run.exit_code == 1
    c = _checks(run.json())["LOOM404"]
    assert c["status"] == "fail"
    assert c["message"] == f"the mesh is split into 2 parts: [{R0}, {N0}, {N1}] | [{R1}, {N2}]"
    assert c["details"]["parts"] == [[R0, N0, N1], [R1, N2]]


def test_doctor_write_probe_whole_mesh_passes(azure, aca_exec, relays, loomctl):
    _wire(aca_exec, relays, [0, 1])
    run = loomctl("doctor", "--from-inside", "--write-probe", "--category", "loommesh", "--ignore", "LOOM402",
                  "-o", "json")
    assert run.exit_code == 0, run.stdout
    checks = _checks(run.json())
    assert checks["LOOM403"]["status"] == "pass" and checks["LOOM404"]["status"] == "pass"
    assert checks["LOOM404"]["message"].startswith("5 replicas see each other's probe writes (slowest ")


def test_doctor_plans_no_mesh_check_without_from_inside(azure, loomctl):
    run = loomctl("doctor", "--category", "loommesh", "-o", "json")
    assert {"LOOM403", "LOOM404"}.isdisjoint(_checks(run.json()))
    run = loomctl("doctor", "--write-probe")
    assert run.exit_code == 2 and "error: --write-probe runs the mesh probe inside every replica" in run.stderr
