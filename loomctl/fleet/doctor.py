"""`fleet doctor`: the definition checks on each deployment's Resource Graph rows (the same check code as
`doctor`, through checks/definitions.py), the Fleet checks (LOOM901-905) and, with --live, doctor's own run per
deployment. Everything is a finding tied to its deployment; nothing here prints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from loomctl.checks.base import CheckResult, CheckSpec, Outcome, Status
from loomctl.fleet.model import Deployment, Fleet

NO_STORAGES = "Resource Graph rows hold no environment storages"
ORDER = {Status.FAIL: 0, Status.WARN: 1, Status.PASS: 2, Status.SKIP: 3}


@dataclass
class Finding:
    deployment: Deployment | None  # None: about the fleet (a subscription, a region, the inventory)
    result: CheckResult


@dataclass
class FleetReport:
    fleet: Fleet
    findings: list[Finding] = field(default_factory=list)
    live: bool = False

    def results(self) -> list[CheckResult]:
        return [f.result for f in self.findings]


def _fleet_spec(code: str) -> CheckSpec:
    from loomctl.checks.categories import fleet as cat

    return next(s for s in cat.CHECKS if s.code == code)


def fleet_result(code: str, outcome: Outcome, resource: str | None = None) -> CheckResult:
    spec = _fleet_spec(code)
    return CheckResult(code=spec.code, category=spec.category, title=spec.title, status=outcome.status,
                       message=outcome.message, hint=outcome.hint, details=dict(outcome.details), resource=resource)


def settings_for(settings: Any, dep: Deployment) -> Any:
    """The settings of one deployment: the fleet's, pointing at it."""
    values = {**settings.values, "subscription": dep.subscription, "resource_group": dep.resource_group,
              "environment": dep.environment, "relay_app": dep.apps["relay"][0], "node_app": dep.apps["node"][0]}
    return replace(settings, values=values)


def definitions_of(dep: Deployment, settings: Any) -> Any:
    """A deployment's Definitions from its rows: what Resource Graph does not hold is not judged."""
    from loomctl.azure.model import App, Environment
    from loomctl.checks.definitions import Definitions

    missing = {"storage": NO_STORAGES}
    for role in dep.missing:
        missing[role] = f"Resource Graph holds no {role} app '{dep.apps[role][0]}' in this environment (LOOM902)"
    if dep.missing:
        missing["apps"] = missing[dep.missing[0]]
    return Definitions(settings=settings_for(settings, dep),
                       apps={role: (name, App.parse(row) if row is not None else None)
                             for role, (name, row) in dep.apps.items()},
                       environment=Environment.parse(dep.env_row), storage=None, missing=missing)


def region_images(deployments: list[Deployment]) -> dict[str, dict[str, dict[str, list[str]]]]:
    """role -> region -> image -> deployments running it."""
    from loomctl.azure.model import App

    out: dict[str, dict[str, dict[str, list[str]]]] = {}
    for dep in deployments:
        for role, (_, row) in dep.apps.items():
            if row is None:
                continue
            image = App.parse(row).image or "(no image)"
            out.setdefault(role, {}).setdefault(dep.region, {}).setdefault(image, []).append(dep.key)
    return out


def fleet_findings(fleet: Fleet) -> list[Finding]:
    """The Fleet checks that judge the whole fleet: subscriptions, the inventory, images across regions."""
    from loomctl.checks.categories import fleet as cat

    out = [Finding(None, fleet_result("LOOM901", cat.check_subscription_readable(sub, fleet.denied), sub))
           for sub in sorted(set(fleet.subscriptions) | set(fleet.denied))]
    out.append(Finding(None, fleet_result("LOOM904", cat.check_inventory_complete(fleet.truncated, fleet.rows))))
    for role, by_region in sorted(region_images(fleet.deployments).items()):
        if len(by_region) > 1:  # drift needs two regions to differ
            out.append(Finding(None, fleet_result("LOOM903", cat.check_region_images(role, by_region), role)))
    return out


def judge_definitions(fleet: Fleet, settings: Any,
                      on_deployment: Callable[[Deployment], None] | None = None) -> list[Finding]:
    """LOOM902 and the definition checks for every deployment, from the rows alone (no network)."""
    from loomctl.checks.categories import fleet as cat
    from loomctl.checks.definitions import definition_specs, run_definitions

    specs = definition_specs()
    out: list[Finding] = []
    for dep in fleet.deployments:
        out.append(Finding(dep, fleet_result("LOOM902", cat.check_deployment_complete(dep))))
        out += [Finding(dep, r) for r in run_definitions(definitions_of(dep, settings), specs)]
        if on_deployment:
            on_deployment(dep)
    return out


def judge(fleet: Fleet, settings: Any, live: Callable[[Deployment], list[CheckResult]] | None = None,
          parallel: int = 8) -> FleetReport:
    """The whole report; `live(dep)` runs doctor's live checks on one deployment (at most `parallel` at once).
    A deployment whose live run raises is a LOOM905 finding; the others go on."""
    report = FleetReport(fleet, fleet_findings(fleet) + judge_definitions(fleet, settings), live=live is not None)
    if live is None:
        return report
    from concurrent.futures import ThreadPoolExecutor

    from loomctl.checks.categories import fleet as cat

    def one(dep: Deployment) -> list[Finding]:
        from loomctl.azure.errors import describe

        try:
            results = live(dep)
        except Exception as exc:  # noqa: BLE001 - one unreachable deployment is a finding, not an abort
            message, hint = describe(exc)
            return [Finding(dep, fleet_result("LOOM905", cat.check_deployment_reachable(dep.key, message, hint)))]
        return ([Finding(dep, fleet_result("LOOM905", cat.check_deployment_reachable(dep.key, None)))]
                + [Finding(dep, r) for r in results])

    complete = [d for d in fleet.deployments if not d.missing]
    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="fleet-live") as pool:
        for found in pool.map(one, complete):
            report.findings += found
    return report


def counts(results: list[CheckResult]) -> dict[str, int]:
    c = {s.value: 0 for s in Status}
    for r in results:
        c[r.status.value] += 1
    return c


def worst(results: list[CheckResult]) -> Status:
    return min((r.status for r in results), key=lambda s: ORDER[s], default=Status.PASS)


def matrix(report: FleetReport) -> tuple[list[str], list[dict[str, Any]]]:
    """(categories, rows): a row per deployment (and one for the fleet itself) with pass/warn/fail/skip counts per
    category; rows worst first (most failures, then most warnings), then by name."""
    cats: list[str] = []
    rows: dict[str, dict[str, Any]] = {}
    for f in report.findings:
        if f.result.category not in cats:
            cats.append(f.result.category)
        key = f.deployment.key if f.deployment else "(fleet)"
        row = rows.setdefault(key, {"deployment": key, "region": f.deployment.region if f.deployment else "",
                                    "subscription": f.deployment.subscription if f.deployment else "",
                                    "results": []})
        row["results"].append(f.result)
    out = []
    for row in rows.values():
        res = row.pop("results")
        row["summary"] = counts(res)
        row["categories"] = {c: counts([r for r in res if r.category == c]) for c in cats
                             if any(r.category == c for r in res)}
        out.append(row)
    out.sort(key=lambda r: (-r["summary"]["fail"], -r["summary"]["warn"], r["deployment"]))
    return cats, out


def is_success(report: FleetReport, fail_on_warn: bool = False) -> bool:
    bad = {Status.FAIL, Status.WARN} if fail_on_warn else {Status.FAIL}
    return not any(f.result.status in bad for f in report.findings)


def document(report: FleetReport, short: bool = False, fail_on_warn: bool = False) -> dict[str, Any]:
    """The JSON shape: success, summary, the matrix, and every finding with its deployment."""
    cats, rows = matrix(report)
    findings = []
    for f in report.findings:
        if short and f.result.status not in (Status.WARN, Status.FAIL):
            continue
        d = f.deployment
        findings.append({"deployment": d.key if d else None, "subscription": d.subscription if d else None,
                         "resource_group": d.resource_group if d else None,
                         "environment": d.environment if d else None, "region": d.region if d else None,
                         "category": f.result.category, **f.result.to_json()})
    if short:
        rows = [r for r in rows if r["summary"]["fail"] or r["summary"]["warn"]]
    fleet = report.fleet
    return {"success": is_success(report, fail_on_warn), "summary": counts(report.results()),
            "deployments": len(fleet.deployments), "categories": cats, "matrix": rows, "findings": findings,
            "live": report.live,
            "resource_graph": {"requests": fleet.requests, "pages": fleet.pages, "rows": fleet.rows,
                               "subscriptions": len(fleet.subscriptions), "denied": sorted(fleet.denied)}}
