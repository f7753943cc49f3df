"""LOOM213 on definitions (what doctor, `lint` and `fleet doctor` judge alike): relay replicas behind one
load-balanced ingress that do not peer can split the mesh; each way out passes, each shape of the defect warns."""

from __future__ import annotations

from loomctl.checks.base import Status
from loomctl.checks.definitions import definition_specs, run_definitions
from tests import faults
from tests.fakeazure import topology as t
from tests.test_check_definitions import _by_key, _defs

HINT_WAYS = ("run one relay replica with a stable address", "--min-replicas 1 --max-replicas 1",
             "a second relay app", "dial more than one path", "`loomctl diagnose mesh --write-probe`")


def _loom213(state):
    spec = [s for s in definition_specs() if s.code in ("LOOM105", "LOOM213")]
    return _by_key(run_definitions(_defs(state), spec))[("LOOM213", None)]


def test_reference_relay_warns_with_the_ways_out():
    state = t.healthy()
    faults.unpeered_relay_replicas(state)
    r = _loom213(state)
    assert r.status is Status.WARN
    assert r.message == ("relay 'gun-relay' runs 2-5 replicas behind one load-balanced ingress and no relay replica "
                         "peers the others (no GUN_PEERS on the relay): nodes attached to different relay replicas do "
                         "not sync, so the mesh can split")
    assert all(w in r.hint for w in HINT_WAYS), r.hint


def test_relay_peering_its_own_ingress_is_no_way_out():
    state = t.healthy()
    faults.set_env(state, t.RELAY, "GUN_PEERS", f"http://{t.RELAY}.internal.{t.DOMAIN}/gun")
    r = _loom213(state)
    assert r.status is Status.WARN
    assert "its peer list names only its own load-balanced ingress" in r.message


def test_each_way_out_passes():
    hub = t.healthy()
    assert _loom213(hub).message == (f"relay replicas peer through {t.RELAY_HUB}.internal.{t.DOMAIN} "
                                     "(GUN_PEERS on the relay)")
    one = t.healthy()
    faults.unpeered_relay_replicas(one)
    one["apps"][t.RELAY]["properties"]["template"]["scale"].update(minReplicas=1, maxReplicas=1)
    assert _loom213(one).status is Status.PASS
    assert _loom213(one).message == "relay 'gun-relay' runs one replica: every node dials the same relay process"
    paths = t.healthy()
    faults.unpeered_relay_replicas(paths)
    faults.gun_peers(paths, f"http://{t.RELAY}.internal.{t.DOMAIN}/gun,http://{t.RELAY_HUB}.internal.{t.DOMAIN}/gun")
    r = _loom213(paths)
    assert r.status is Status.PASS and r.message.startswith("nodes dial 2 paths")


def test_one_replica_now_but_may_scale_out_still_warns():
    state = t.healthy()
    faults.unpeered_relay_replicas(state)
    faults.one_relay_replica(state)  # minReplicas 1, maxReplicas still 5
    r = _loom213(state)
    assert r.status is Status.WARN and "runs 1-5 replicas" in r.message


def test_doctor_flags_the_reference_relay_on_the_local_azure(azure, loomctl):
    faults.unpeered_relay_replicas(azure.state)
    run = loomctl("doctor", "--category", "configuration", "-o", "table")
    assert run.exit_code == 0  # a warning: the definition says the mesh can split, `diagnose mesh` measures it
    lines = run.stdout.splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.startswith("‼ LOOM213 relay replicas cannot split the mesh: "))
    assert lines[i].endswith("so the mesh can split")
    assert lines[i + 1].startswith("    hint: ways out: run one relay replica with a stable address (`az containerapp "
                                   f"update -n gun-relay -g {t.RG} --min-replicas 1 --max-replicas 1`")
    assert lines[i + 1].endswith("Measure it: `loomctl diagnose mesh --write-probe`")
