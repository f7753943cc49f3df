"""The definition checks run on definitions given in (what `lint` and `fleet doctor` build), with the same check
code as doctor, and an input the definition lacks is "not judged", never guessed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loomctl.azure.model import App, Environment
from loomctl.azure.storage import EnvStorage, StorageInventory
from loomctl.checks.base import Status
from loomctl.checks.definitions import Definitions, definition_specs, run_definitions
from loomctl.core.settings import Settings
from tests import faults
from tests.fakeazure import topology as t


def _settings() -> Settings:
    # a profile without Azure: definitions are judged all the same
    return Settings(profile="offline", config_path=Path("unused.toml"),
                    values={"relay_app": t.RELAY, "node_app": t.NODE, "azure": False})


def _defs(state: dict[str, Any], storage: bool = True, environment: bool = True) -> Definitions:
    inv = None
    if storage:
        inv = StorageInventory(storages={k: EnvStorage.parse(v) for k, v in state["storages"].items()},
                               known=frozenset({"storages"}))
    return Definitions(
        settings=_settings(),
        apps={role: (name, App.parse(state["apps"][name])) for role, name in (("relay", t.RELAY), ("node", t.NODE))},
        environment=Environment.parse(state["environment"]) if environment else None,
        storage=inv)


def _by_key(results: list[Any]) -> dict[tuple[str, str | None], Any]:
    return {(r.code, r.resource): r for r in results}


def test_definition_checks_are_configuration_and_storage_definitions_only() -> None:
    codes = [s.code for s in definition_specs()]
    assert codes[0] == "LOOM105"
    assert {"LOOM201", "LOOM207", "LOOM209", "LOOM211", "LOOM501", "LOOM506", "LOOM507"} <= set(codes)
    # access to ARM, replicas, logs and peers are live state
    assert not {"LOOM101", "LOOM104", "LOOM106", "LOOM107", "LOOM301", "LOOM402", "LOOM601", "LOOM701"} & set(codes)


def test_a_defect_in_the_definition_fails_its_check_without_any_network() -> None:
    state = t.healthy()
    faults.external_relay_ingress(state)
    results = _by_key(run_definitions(_defs(state)))
    assert results[("LOOM201", None)].status is Status.FAIL
    assert "external ingress" in results[("LOOM201", None)].message
    assert results[("LOOM202", None)].status is Status.PASS


def test_what_the_definition_lacks_is_not_judged() -> None:
    state = t.healthy()
    results = _by_key(run_definitions(_defs(state, environment=False)))
    # LOOM207 needs the environment (its domain): not judged, with the reason
    assert results[("LOOM207", None)].status is Status.SKIP
    assert results[("LOOM207", None)].message == "not judged: the definition has no managed environment"
    assert results[("LOOM207", None)].details == {"not_judged": "the definition has no managed environment"}
    # an app export holds no environment: the app is judged on its own definition
    assert results[("LOOM105", t.RELAY)].status is Status.PASS
    assert results[("LOOM105", t.RELAY)].message.startswith(f"app '{t.RELAY}' is defined")
    assert results[("LOOM201", None)].status is Status.PASS


def test_an_app_the_definition_lacks_is_not_judged_and_its_checks_say_why() -> None:
    state = t.healthy()
    defs = _defs(state)
    defs = Definitions(settings=defs.settings, apps={**defs.apps, "node": (t.NODE, None)},
                       environment=defs.environment, storage=defs.storage)
    results = _by_key(run_definitions(defs))
    assert results[("LOOM105", t.NODE)].message == f"not judged: the definition has no node app '{t.NODE}'"
    assert results[("LOOM211", t.NODE)].status is Status.SKIP
    assert results[("LOOM105", t.RELAY)].status is Status.PASS
    assert results[("LOOM211", t.RELAY)].status is Status.PASS
    # a check of both apps is not judged either
    assert results[("LOOM207", None)].status is Status.SKIP


def test_storage_checks_on_a_definition_without_accounts_do_not_invent_a_missing_account() -> None:
    state = t.healthy()
    results = _by_key(run_definitions(_defs(state)))
    assert results[("LOOM501", t.NODE)].status is Status.PASS
    for code in ("LOOM502", "LOOM503", "LOOM505", "LOOM508", "LOOM509"):
        assert results[(code, None)].status is Status.SKIP, (code, results[(code, None)].message)
        assert results[(code, None)].message.startswith("not judged: the definition holds no storage ")


def test_a_defect_found_live_is_found_in_the_definition_too() -> None:
    # the same check code as doctor: each definition fault fails the same check
    for fault, code, resource in ((faults.shared_radisk_folder, "LOOM507", None),
                                  (faults.plain_value_secret, "LOOM209", t.NODE),
                                  (faults.image_latest, "LOOM211", t.RELAY),
                                  (faults.reference_peers_value, "LOOM207", None),
                                  (faults.mount_path_mismatch, "LOOM506", t.NODE)):
        state = t.healthy()
        fault(state)
        results = _by_key(run_definitions(_defs(state)))
        result = results[(code, resource)]
        assert result.status in (Status.FAIL, Status.WARN), (fault.__name__, result)
