"""The check framework's own rules, on stub checks: a check that needs Azure is skipped (with the reason) before
any of its inputs is fetched, hints name the deployment, spec_maker defaults, a crash is that check's failure
with the same words the CLI prints, and `doctor --from-inside` probes once for the DNS and LoomMesh checks."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from loomctl.azure.errors import describe
from loomctl.checks.base import CheckSpec, Status, failed, passed, spec_maker
from loomctl.checks.inputs import Inputs
from loomctl.checks.registry import all_checks
from loomctl.checks.runner import expand, run_checks
from loomctl.core.errors import LoomError


@dataclass
class Settings:
    azure: bool = True
    profile: str = "sandbox"
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def azure_enabled(self) -> bool:
        return self.azure

    def get(self, key: str) -> Any:
        return self.values.get(key)


def _spec(run: Any, **kw: Any) -> CheckSpec:
    fields = {"code": "TEST001", "category": "Test", "title": "a test check", "explanation": "e", "fix": "the fix",
              **kw}
    return CheckSpec(run=run, **fields)


def _run_one(spec: CheckSpec, settings: Settings, **providers: Any) -> Any:
    inputs = Inputs({"settings": lambda i: settings, **providers})
    [result] = run_checks(expand([spec], []), inputs, lambda r: None)
    return result


def test_needs_azure_skips_with_the_reason_before_any_input_is_fetched():
    fetched = []
    spec = _spec(lambda thing: passed(f"got {thing}"), needs=("thing",), needs_azure=True)
    provider = {"thing": lambda i: fetched.append("thing") or "it"}

    off = _run_one(spec, Settings(azure=False), **provider)
    assert (off.status, off.message) == (Status.SKIP, "profile 'sandbox' has no Azure deployment (azure = false)")
    assert fetched == []

    on = _run_one(spec, Settings(azure=True), **provider)
    assert (on.status, on.message) == (Status.PASS, "got it")
    assert fetched == ["thing"]


def test_a_check_without_needs_azure_runs_on_a_profile_without_azure():
    result = _run_one(_spec(lambda: passed("local")), Settings(azure=False))
    assert (result.status, result.message) == (Status.PASS, "local")


def test_fill_hints_names_the_deployment_and_leaves_unknown_placeholders():
    def run() -> Any:
        return failed("broken", "`az containerapp update -n x -g <group>` in <env>")

    settings = Settings(values={"resource_group": "rg-loom"})
    filled = _run_one(_spec(run, fill_hints=True), settings)
    assert filled.hint == "`az containerapp update -n x -g rg-loom` in <env>"
    settings.values["environment"] = "loom-env"
    filled = _run_one(_spec(run, fill_hints=True), settings)
    assert filled.hint == "`az containerapp update -n x -g rg-loom` in loom-env"
    assert _run_one(_spec(run), settings).hint == "`az containerapp update -n x -g <group>` in <env>"


def test_fill_hints_does_not_touch_the_fix_shown_for_an_error():
    def run() -> Any:
        raise LoomError("could not read it")

    result = _run_one(_spec(run, fill_hints=True, fix="`az group show -g <group>`"),
                      Settings(values={"resource_group": "rg-loom"}))
    assert (result.status, result.message) == (Status.FAIL, "could not read it")
    assert result.hint == "`az group show -g <group>`"


def test_a_crash_is_that_checks_failure_in_the_words_the_cli_prints():
    def run() -> Any:
        raise ValueError("boom")

    result = _run_one(_spec(run), Settings())
    assert result.status is Status.FAIL
    assert (result.message, result.hint) == describe(ValueError("boom"))
    assert result.message == "unexpected error: ValueError: boom"
    assert result.details == {"exception": "ValueError"}


def test_spec_maker_defaults_and_overrides():
    make = spec_maker("Cat", after=("LOOM105",), needs_azure=True, needs=("app_state",), per_app=True)
    a = make("X1", "t", "e", "f", lambda: None)
    b = make("X2", "t", "e", "f", lambda: None, ("apps",), per_app=False, after=())
    assert (a.category, a.needs, a.after, a.per_app, a.needs_azure) == ("Cat", ("app_state",), ("LOOM105",), True, True)
    assert (b.needs, b.after, b.per_app, b.needs_azure) == (("apps",), (), False, True)
    assert not spec_maker("Cat")("X3", "t", "e", "f", lambda: None).needs_azure


def test_catalogue_says_which_checks_need_azure():
    """The runbooks runner leaves out `needs_azure` checks on a profile without Azure: a check that runs after
    one that needs Azure reads Azure too, and must say so itself."""
    specs = all_checks()
    by_code = {s.code: s for s in specs}
    assert {s.category for s in specs if s.needs_azure} == {
        "Azure access and apps", "Configuration", "Storage", "Runtime", "Logs and metrics", "Fleet", "LoomMesh"}
    assert {s.category for s in specs if not s.needs_azure} == {"DNS", "LoomMesh"}
    # in LoomMesh only the mesh checks, which probe inside every replica through exec
    assert {s.code for s in specs if s.needs_azure and s.category == "LoomMesh"} == {"LOOM403", "LOOM404"}
    for s in specs:
        assert s.needs_azure or not any(by_code[c].needs_azure for c in s.after if c in by_code), s.code
    # hints of the live categories name the deployment (as they did through the old azure_only wrapper)
    assert {s.category for s in specs if s.fill_hints} == {"Configuration", "Storage", "Runtime"}


@dataclass
class _Peer:
    url: str
    role: str


@dataclass
class _Peers:
    peers: list[_Peer]


@dataclass
class _Run:
    dns: list[str]
    peers: list[str]


def _mesh_inputs(monkeypatch: pytest.MonkeyPatch, probe: Any, inside_app: str | None) -> Inputs:
    from loomctl.checks.categories import dns, loommesh
    from loomctl.checks.providers import base_providers

    monkeypatch.setattr("loomctl.inside.run.probe_mesh", probe)
    loom: Any = None  # the probe is replaced: nothing reads the context
    providers = {**base_providers(loom, []), **dns.providers(loom, []), **loommesh.providers(loom, [])}
    given: dict[str, Any] = {"settings": Settings(), "loommesh_peers": _Peers([_Peer("http://relay:80/gun", "relay")])}
    if inside_app is not None:
        given["inside_app"] = inside_app
    return Inputs(providers, **given)


def test_inside_run_is_one_probe_for_the_dns_and_loommesh_inputs_together(monkeypatch):
    calls = []

    def probe(loom: Any, app: str, peers: Any, dns_servers: Any, timeout: float) -> _Run:
        calls.append((app, peers))
        time.sleep(0.2)  # both inputs are asked for while the probe runs
        return _Run(["dns result"], ["peer result"])

    inputs = _mesh_inputs(monkeypatch, probe, "loom-node")
    got: dict[str, Any] = {}
    threads = [threading.Thread(target=lambda n=n: got.__setitem__(n, inputs.get(n)))
               for n in ("dns_results", "peer_results")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert got == {"dns_results": ["dns result"], "peer_results": ["peer result"]}
    assert calls == [("loom-node", [("http://relay:80/gun", "relay")])]


def test_inside_run_error_is_one_probe_raised_for_both(monkeypatch):
    calls = []

    def probe(*args: Any) -> Any:
        calls.append(args[1])
        raise LoomError("could not open a session")

    inputs = _mesh_inputs(monkeypatch, probe, "loom-node")
    for name in ("dns_results", "peer_results"):
        with pytest.raises(LoomError, match="could not open a session"):
            inputs.get(name)
    assert calls == ["loom-node"]



def test_describe_gives_message_and_hint_of_any_exception():
    assert describe(LoomError("no such app", "check --node-app")) == ("no such app", "check --node-app")
    assert describe(LoomError("no hint")) == ("no hint", None)
    assert describe(KeyError("x")) == ("unexpected error: KeyError: 'x'",
                                       "run again with --debug for the traceback, and report it")
