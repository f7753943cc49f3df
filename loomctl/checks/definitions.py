"""The checks that judge a deployment's definition alone, run on definitions given in.

doctor reads the definitions from ARM; lint from a template or an export; fleet doctor
from Resource Graph rows. All three run the same check functions: this module picks the checks whose
inputs are definitions only (`definition_specs`) and runs them on a `Definitions` (`run_definitions`).

An input the definition does not hold (a template without the storage account, a Resource Graph row without
the environment's storages) is `None`: every check that needs it is skipped as "not judged: ...", never guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from loomctl.checks.base import AppRef, CheckResult, CheckSpec, NotJudged, Outcome, passed

# the inputs a definition can hold; a check needing anything else needs live state (replicas, logs, peers)
DEFINITION_NEEDS = frozenset({"settings", "apps", "app_obj", "environment", "storage"})
# the categories whose checks judge definitions; Azure access (LOOM101-104) is about reaching ARM, except
# LOOM105 "app exists", the prerequisite of the per-app definition checks
DEFINITION_CATEGORIES = ("Configuration", "Storage")
APP_EXISTS = "LOOM105"


@dataclass(frozen=True)
class Definitions:
    """One deployment's definitions, parsed into azure/model.py's dataclasses.

    apps: role ("relay", "node") -> (name, App or None when the definition has no such app).
    environment: the managed environment, or None when not defined here.
    storage: the environment storages (and the accounts and shares behind them where known), or None.
    missing: input name -> why it is not judged (shown instead of the default reason)."""

    settings: Any
    apps: dict[str, tuple[str, Any]]
    environment: Any = None
    storage: Any = None
    missing: dict[str, str] = field(default_factory=dict)

    def refs(self) -> list[AppRef]:
        return [AppRef(role, name) for role, (name, _) in self.apps.items()]


def definition_specs(catalogue: list[CheckSpec] | None = None) -> list[CheckSpec]:
    """The definition checks of the catalogue (all of loomctl's by default), LOOM105 first."""
    if catalogue is None:
        from loomctl.checks.registry import all_checks

        catalogue = all_checks()
    out = []
    for spec in catalogue:
        if spec.code != APP_EXISTS and spec.category not in DEFINITION_CATEGORIES:
            continue
        if set(spec.needs) <= DEFINITION_NEEDS:
            out.append(spec)
    return out


def _absent(reason: str) -> Callable[[Any], Any]:
    def provider(_inputs: Any) -> Any:
        raise NotJudged(reason)

    return provider


def inputs_for(defs: Definitions) -> Any:
    """The `Inputs` of one deployment's definitions; absent inputs raise NotJudged for the checks needing them."""
    from loomctl.checks.inputs import Inputs

    given: dict[str, Any] = {"settings": defs.settings}
    providers: dict[str, Any] = {}
    by_role = {role: app for role, (_, app) in defs.apps.items()}
    if all(app is not None for app in by_role.values()):
        given["apps"] = by_role
    else:
        lacking = ", ".join(f"the {role} app" for role, app in by_role.items() if app is None)
        providers["apps"] = _absent(defs.missing.get("apps", f"the definition has no {lacking}"))
    for role, (name, app) in defs.apps.items():
        if app is not None:
            given[f"app_obj:{name}"] = app
        else:
            providers[f"app_obj:{name}"] = _absent(defs.missing.get(role, f"the definition has no {role} app '{name}'"))
    for name, value, default in (("environment", defs.environment, "the definition has no managed environment"),
                                 ("storage", defs.storage, "the definition has no environment storages")):
        if value is not None:
            given[name] = value
        else:
            providers[name] = _absent(defs.missing.get(name, default))
    return Inputs(providers, **given)


def _for_definitions(spec: CheckSpec, defs: Definitions) -> CheckSpec:
    spec = replace(spec, needs_azure=False)
    if spec.code != APP_EXISTS:
        return spec
    # "app exists": an app export holds no environment; the app is then judged on its own definition
    environment = defs.environment

    def app_defined(app: AppRef, app_obj: Any) -> Outcome:
        if environment is not None:
            return spec.run(app=app, app_obj=app_obj, environment=environment)
        return passed(f"app '{app.name}' is defined ({app_obj.image})")

    return replace(spec, run=app_defined, needs=("app_obj",))


def run_definitions(defs: Definitions, specs: list[CheckSpec] | None = None,
                    on_result: Callable[[CheckResult], None] | None = None) -> list[CheckResult]:
    """Run the definition checks (or `specs`) on one deployment's definitions; results in catalogue order.
    Nothing here reads the network (a check whose input is absent is skipped as not judged), so the checks run in
    this thread, one after the other: a thread each would cost more than the check."""
    from loomctl.checks.runner import expand, run_checks

    # a definition is judged whatever the profile says of Azure (lint runs with no Azure account)
    chosen = [_for_definitions(s, defs) for s in (definition_specs() if specs is None else specs)]
    instances = expand(chosen, defs.refs())
    return run_checks(instances, inputs_for(defs), on_result or (lambda _r: None), inline=True)
