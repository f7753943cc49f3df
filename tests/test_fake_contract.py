"""The test Azure answers as ARM's contract says (tests/fakeazure/CONTRACT.md), and loomctl copes with it.

- Every field of every ARM answer exists in the REST spec for its api-version: the answers are checked against
  the models of the installed SDKs (azure-mgmt-appcontainers 2026-07-01, azure-mgmt-storage 2026-09-01), which
  are generated from that spec.
- No GET answer holds a secret value (write-only `x-ms-secret` properties); values come from POST listSecrets
  and listKeys only, which loomctl never calls.
- Pageable lists page with `nextLink` (one item a page here) and loomctl lists every item.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests import faults
from tests.fakeazure import contract
from tests.fakeazure import topology as t

# Read-only commands that together send every GET loomctl makes (ARM and Log Analytics).
READ_COMMANDS = [("status", "--replicas", "-o", "json"), ("doctor", "-o", "json"),
                 ("diagnose", "storage", "-o", "json"), ("deploy", "history", "-o", "json"),
                 ("deploy", "infra", "--export", "-o", "json")]


def _models() -> tuple[Any, Any]:
    from azure.mgmt.appcontainers import models as app_models
    from azure.mgmt.storage import models as storage_models

    return app_models, storage_models


# ARM path (below the resource group) -> (SDK package index, model of the resource, pageable)
_APP = r"/providers/Microsoft\.App"
ROUTES = [
    (_APP + r"/managedEnvironments/[^/]+", 0, "ManagedEnvironment", None),
    (_APP + r"/managedEnvironments/[^/]+/storages", 0, "ManagedEnvironmentStorage", False),
    (_APP + r"/managedEnvironments/[^/]+/storages/[^/]+", 0, "ManagedEnvironmentStorage", None),
    (_APP + r"/containerApps", 0, "ContainerApp", True),
    (_APP + r"/containerApps/[^/]+", 0, "ContainerApp", None),
    (_APP + r"/containerApps/[^/]+/revisions", 0, "Revision", True),
    (_APP + r"/containerApps/[^/]+/revisions/[^/]+", 0, "Revision", None),
    (_APP + r"/containerApps/[^/]+/revisions/[^/]+/replicas", 0, "Replica", False),
    (_APP + r"/containerApps/[^/]+/revisions/[^/]+/replicas/[^/]+", 0, "Replica", None),
    (r"/providers/Microsoft\.Storage/storageAccounts", 1, "StorageAccount", True),
    (r"/providers/Microsoft\.Storage/storageAccounts/[^/]+", 1, "StorageAccount", None),
    (r"/providers/Microsoft\.Storage/storageAccounts/[^/]+/fileServices/default/shares/[^/]+", 1, "FileShare", None),
]
# raw ARM GETs (no SDK model): the properties of Subscription (2022-12-01) and ResourceGroup (2021-04-01)
RAW = {r"/subscriptions/[^/]+": {"id", "subscriptionId", "displayName", "tenantId", "state", "subscriptionPolicies",
                                 "authorizationSource", "managedByTenants", "tags"},
       r"/subscriptions/[^/]+/resource[gG]roups/[^/]+": {"id", "name", "type", "properties", "location", "managedBy",
                                                         "tags"}}


def _model_of(annotation: Any, module: Any) -> tuple[Any, str | None]:
    """The SDK model class an annotation names, and whether it is a list or a dict of it."""
    text = str(annotation)
    for name in re.findall(r"_models\.(\w+)", text):
        cls = getattr(module, name, None)
        if isinstance(cls, type) and getattr(cls, "_is_model", False):
            inner = text.replace("typing.", "").replace("Optional[", "")
            return cls, "list" if inner.startswith("list[") else "dict" if inner.startswith("dict[") else None
    return None, None


def unknown_fields(cls: Any, body: dict[str, Any], module: Any, path: str = "") -> list[str]:
    """Fields of `body` that the model (the REST definition) does not have, recursively."""
    cls()  # the SDK computes the field table on first use
    annotations: dict[str, Any] = {}
    for c in reversed(cls.__mro__):
        annotations.update(getattr(c, "__annotations__", {}))
    fields = {rf._rest_name: attr for attr, rf in cls._attr_to_rest_field.items()}
    out: list[str] = []
    for key, value in body.items():
        if key not in fields:
            out.append(f"{path}.{key}")
            continue
        sub, kind = _model_of(annotations.get(fields[key]), module)
        if sub is None:
            continue
        items = (list(enumerate(value)) if kind == "list" and isinstance(value, list) else
                 list(value.items()) if kind == "dict" and isinstance(value, dict) else
                 [(None, value)] if kind is None else [])
        for i, item in items:
            if isinstance(item, dict):
                out += unknown_fields(sub, item, module, f"{path}.{key}" + ("" if i is None else f"[{i}]"))
    return out


def check_answer(path: str, body: Any) -> list[str]:
    """What in one ARM GET answer is not in the spec (empty: all of it is)."""
    scope = re.match(r"/subscriptions/[^/]+(/resource[gG]roups/[^/]+)?", path)
    assert scope is not None
    for pattern, allowed in RAW.items():
        if re.fullmatch(pattern, path):
            return [f"{path}: .{k}" for k in set(body) - allowed]
    rest = path[scope.end():]
    for pattern, pkg, model, pageable in ROUTES:
        if re.fullmatch(pattern, rest):
            module = _models()[pkg]
            cls = getattr(module, model)
            if pageable is None:
                return [f"{path}: {f}" for f in unknown_fields(cls, body, module)]
            extra = set(body) - ({"value", "nextLink"} if pageable else {"value"})
            out = [f"{path}: .{k} (collection)" for k in extra]
            for i, item in enumerate(body["value"]):
                out += [f"{path}: [{i}]{f}" for f in unknown_fields(cls, item, module)]
            return out
    raise AssertionError(f"no spec model for {path}")


def arm_gets(azure: Any) -> list[Any]:
    return [r for r in azure.arm_requests("GET") if r.status == 200 and "containerappOperationResults" not in r.path]


def _contract_state(azure: Any) -> None:
    """Every kind of secret value in the state: a plain app secret (as a PUT wrote it) added to what the healthy
    state already holds (the environment storage's account key, the environment's Log Analytics key, the
    storage account's keys)."""
    faults.plain_value_secret(azure.state)


def test_the_checker_finds_a_field_the_spec_does_not_have():
    app = t.node_app()
    app["properties"]["configuration"]["secrets"][0]["valueHash"] = "x"
    app["properties"]["template"]["containers"][0]["env"][0]["note"] = "x"
    assert check_answer(app["id"], app) == [
        f"{app['id']}: .properties.configuration.secrets[0].valueHash",
        f"{app['id']}: .properties.template.containers[0].env[0].note"]
    assert check_answer(app["id"], t.node_app()) == []


def test_every_arm_answer_loomctl_reads_is_in_the_spec(azure, loomctl):
    _contract_state(azure)
    for args in READ_COMMANDS:
        loomctl(*args)
    crawl(azure)
    gets = arm_gets(azure)
    assert len(gets) >= 30
    problems = [p for r in gets for p in check_answer(r.path, json.loads(r.answer))]
    assert problems == []


def test_no_get_answer_holds_a_secret_value(azure, loomctl):
    _contract_state(azure)
    known = contract.known_secret_values(azure.state)
    assert {t.PLAIN_SECRET_VALUE, t.STORAGE_KEY, t.LOG_SHARED_KEY} <= set(known)
    for args in READ_COMMANDS:
        loomctl(*args)
    # loomctl is read-only: it never asks for values (listSecrets / listKeys are POSTs that reveal them)
    assert [r.path for r in azure.requests if r.method == "POST" and r.path.startswith("/subscriptions")] == []
    crawl(azure)
    gets = [r for r in azure.requests if r.method == "GET"]
    assert len(arm_gets(azure)) >= 30
    leaks = [(r.path, s) for r in gets for s in known if s.encode() in r.answer]
    assert leaks == []


def test_secret_shapes_on_get_are_name_or_key_vault_reference(azure, loomctl):
    _contract_state(azure)
    loomctl("status", "-o", "json")
    node = next(r for r in arm_gets(azure) if r.path.endswith(f"/containerApps/{t.NODE}"))
    assert json.loads(node.answer)["properties"]["configuration"]["secrets"] == [{"name": "openai-api-key"}]
    azure.reset(t.healthy())
    loomctl("status", "-o", "json")
    loomctl("diagnose", "storage", "-o", "json")
    node = next(r for r in arm_gets(azure) if r.path.endswith(f"/containerApps/{t.NODE}"))
    assert json.loads(node.answer)["properties"]["configuration"]["secrets"] == [{
        "name": "openai-api-key", "keyVaultUrl": "https://loom-kv.vault.azure.net/secrets/openai-api-key",
        "identity": t.IDENTITY}]
    st = next(r for r in arm_gets(azure) if r.path.endswith("/storages"))
    assert json.loads(st.answer)["value"][0]["properties"]["azureFile"] == {
        "accessMode": "ReadWrite", "accountName": t.STORAGE_ACCOUNT, "shareName": t.SHARE}  # no accountKey


def _send(azure: Any, method: str, url: str) -> Any:
    import ssl
    import urllib.request

    ctx = ssl.create_default_context(cafile=azure.ca_path)
    req = urllib.request.Request(url, data=b"" if method == "POST" else None, method=method)
    with urllib.request.urlopen(req, context=ctx) as resp:  # the local test server
        return json.loads(resp.read())


def _post(azure: Any, path: str) -> Any:
    """A raw POST to the fake (what `az containerapp secret list --show-values` would send)."""
    return _send(azure, "POST", f"{azure.url}{path}?api-version=2026-07-01")


def crawl(azure: Any) -> None:
    """GET every ARM route of the fake for the current state, following nextLink (the answers are recorded)."""
    sub = f"/subscriptions/{t.SUB}"
    rg = f"{sub}/resourceGroups/{t.RG}"
    app, st = f"{rg}/providers/Microsoft.App", f"{rg}/providers/Microsoft.Storage/storageAccounts"
    paths = [(sub, "2022-12-01"), (rg, "2021-04-01"), (f"{sub}/providers/Microsoft.Storage/storageAccounts", None),
             (f"{app}/managedEnvironments/{t.ENV}", None), (f"{app}/managedEnvironments/{t.ENV}/storages", None),
             (f"{app}/containerApps", None)]
    paths += [(f"{app}/managedEnvironments/{t.ENV}/storages/{n}", None) for n in azure.state["storages"]]
    paths += [(f"{st}/{n}", None) for n in azure.state["storage_accounts"]]
    paths += [(f"{st}/{k.replace('/', '/fileServices/default/shares/')}?$expand=stats", None)
              for k in azure.state["shares"]]
    for name in azure.state["apps"]:
        paths += [(f"{app}/containerApps/{name}", None), (f"{app}/containerApps/{name}/revisions", None)]
        for rev in azure.state["revisions"].get(name, []):
            base = f"{app}/containerApps/{name}/revisions/{rev['name']}"
            paths += [(base, None), (f"{base}/replicas", None)]
            paths += [(f"{base}/replicas/{r['name']}", None) for r in azure.state["replicas"].get(rev["name"], [])]
    for path, api in paths:
        version = api or ("2026-09-01" if "Microsoft.Storage" in path else "2026-07-01")
        url: str | None = f"{azure.url}{path}{'&' if '?' in path else '?'}api-version={version}"
        while url:
            url = _send(azure, "GET", url).get("nextLink")


def test_values_come_only_from_list_secrets_and_list_keys(azure):
    _contract_state(azure)
    base = f"/subscriptions/{t.SUB}/resourceGroups/{t.RG}/providers"
    assert _post(azure, f"{base}/Microsoft.App/containerApps/{t.NODE}/listSecrets") == {
        "value": [{"name": "openai-api-key", "value": t.PLAIN_SECRET_VALUE}]}
    keys = _post(azure, f"{base}/Microsoft.Storage/storageAccounts/{t.STORAGE_ACCOUNT}/listKeys")
    assert [k["value"] for k in keys["keys"]] == [t.STORAGE_KEY, t.STORAGE_KEY_2]
    app_models, storage_models = _models()
    secrets = _post(azure, f"{base}/Microsoft.App/containerApps/{t.NODE}/listSecrets")
    assert unknown_fields(app_models.SecretsCollection, secrets, app_models) == []
    assert unknown_fields(storage_models.StorageAccountListKeysResult, keys, storage_models) == []


# -- Log Analytics query API v1 ----------------------------------------------------------------------------
ERROR_INFO = {"code", "message", "details", "innererror", "additionalProperties"}


def log_analytics_problems(doc: dict[str, Any], status: int) -> list[str]:
    """What in a query answer is not in the v1 spec (queryResults / errorResponse; `error` on a 200 is the
    documented PartialError)."""
    out: list[str] = []
    if status != 200:
        out += [f".{k}" for k in set(doc) - {"error"}]
        info = doc.get("error") or {}
        out += [f".error.{k}" for k in set(info) - ERROR_INFO] + [f".error.{k} missing" for k in ("code", "message")
                                                                   if k not in info]
        return out
    out += [f".{k}" for k in set(doc) - {"tables", "error"}]
    if "error" in doc:
        out += [] if doc["error"].get("code") == "PartialError" else [".error (not a PartialError)"]
    for i, tab in enumerate(doc["tables"]):
        out += [f".tables[{i}].{k}" for k in set(tab) ^ {"name", "columns", "rows"}]
        out += [f".tables[{i}].columns" for c in tab["columns"] if set(c) - {"name", "type"}]
        out += [f".tables[{i}].rows cell {cell!r}" for row in tab["rows"] for cell in row
                if cell is not None and not isinstance(cell, str)]
    return out


def test_log_analytics_answers_follow_the_v1_spec(azure, loomctl):
    import datetime as dt

    from tests.loganalytics import CONSOLE, FakeLogAnalytics, body, query_error, table

    when = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone.utc)
    row = [when, t.NODE, "loom-node--n1", "r0", t.NODE, "stdout", "hello"]
    loomctl("logs", "--since", "1h", "-o", "json")  # the default route: a quiet workspace
    la = FakeLogAnalytics(azure)
    answers = [lambda kql: body(table(CONSOLE, [row])), lambda kql: body(table(CONSOLE, [row]), partial="cut short"),
               lambda kql: query_error(400, "BadArgumentError", "The request had some invalid properties")]
    for answer in answers:
        la.answer = answer
        loomctl("logs", "--since", "1h", "-o", "json")
    got = [r for r in azure.requests if r.path.startswith("/v1/workspaces/")]
    assert [r.status for r in got] == [200, 200, 200, 400]
    assert [p for r in got for p in log_analytics_problems(json.loads(r.answer), r.status)] == []
    assert json.loads(got[1].answer)["tables"][0]["rows"][0][0] == "2026-11-20T10:00:00Z"


# -- paging ------------------------------------------------------------------------------------------------
def _more_revisions(azure: Any) -> list[str]:
    """Two older, inactive node revisions before the serving one: the serving one is on the third page."""
    node = azure.state["apps"][t.NODE]
    old = [t.revision(node, f"{t.NODE}--n0{i}", active=False, weight=0, replicas=0,
                      created=f"2026-11-1{i}T10:00:00+00:00") for i in (1, 2)]
    azure.state["revisions"][t.NODE][:0] = old
    return [r["name"] for r in azure.state["revisions"][t.NODE]]


def _next_links(azure: Any, suffix: str) -> list[str]:
    return [(r.query.get("$skiptoken") or [""])[0] for r in azure.arm_requests("GET") if r.path.endswith(suffix)]


def test_history_follows_next_link_and_lists_every_revision(azure, loomctl):
    names = _more_revisions(azure)
    run = loomctl("deploy", "history", "--app", t.NODE, "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert sorted(r["name"] for r in run.json()["revisions"]) == sorted(names)
    assert _next_links(azure, f"/containerApps/{t.NODE}/revisions") == ["", "1", "2"]


def test_status_finds_the_active_revision_on_a_later_page(azure, loomctl):
    _more_revisions(azure)
    run = loomctl("status", "-o", "json")
    assert run.exit_code == 0, run.stderr
    node = next(a for a in run.json()["apps"] if a["name"] == t.NODE)
    assert [r["name"] for r in node["active_revisions"]] == [f"{t.NODE}--n1"]
    assert "2" in _next_links(azure, f"/containerApps/{t.NODE}/revisions")


def test_storage_account_on_the_second_page_of_the_subscription_list_is_found(azure, loomctl):
    accounts = azure.state["storage_accounts"]
    mine = accounts.pop(t.STORAGE_ACCOUNT)
    mine["id"] = mine["id"].replace(f"/resourceGroups/{t.RG}/", "/resourceGroups/rg-shared-storage/")
    other = t.storage_account()
    other.update(name="otherstorage02", id=other["id"].replace(t.STORAGE_ACCOUNT, "otherstorage02"))
    accounts.update({"otherstorage02": other, t.STORAGE_ACCOUNT: mine})
    run = loomctl("doctor", "--category", "storage", "-o", "json")
    c = {(x["code"], x["resource"]): x for cat in run.json()["categories"] for x in cat["checks"]}
    assert c[("LOOM502", None)]["status"] == "pass", c[("LOOM502", None)]
    assert c[("LOOM502", None)]["details"]["accounts"] == {t.STORAGE_ACCOUNT: "rg-shared-storage"}
    assert "1" in _next_links(azure, "/providers/Microsoft.Storage/storageAccounts")


# -- LOOM209 decides from what GET shows -------------------------------------------------------------------
def _loom209(run: Any) -> dict[str, Any]:
    return next(x for cat in run.json()["categories"] for x in cat["checks"]
                if x["code"] == "LOOM209" and x["resource"] == t.NODE)


def test_loom209_fails_on_a_contract_shaped_plain_secret(azure, loomctl):
    faults.plain_value_secret(azure.state)
    run = loomctl("doctor", "--category", "configuration", "-o", "json")
    assert run.exit_code == 1
    c = _loom209(run)
    assert c["status"] == "fail"
    assert c["message"] == ("secret 'openai-api-key' of 'loom-node' is stored as a plain value in the app, not as a "
                            "Key Vault reference (used by OPENAI_API_KEY)")
    assert c["details"]["plain"] == ["openai-api-key"]
    assert t.PLAIN_SECRET_VALUE not in run.stdout + run.stderr


def test_loom209_passes_on_key_vault_secrets(azure, loomctl):
    run = loomctl("doctor", "--category", "configuration", "-o", "json")
    c = _loom209(run)
    assert c["status"] == "pass", c
    assert c["details"]["secrets"] == ["openai-api-key"]


@pytest.mark.parametrize("shape", [{"name": "db-password"}, {"name": "db-password", "identity": "system"}])
def test_loom209_any_secret_without_key_vault_url_is_plain(azure, loomctl, shape):
    conf = azure.state["apps"][t.NODE]["properties"]["configuration"]
    conf["secrets"].append(dict(shape))
    c = _loom209(loomctl("doctor", "--category", "configuration", "-o", "json"))
    assert c["status"] == "fail"
    assert c["details"] == {**c["details"], "plain": ["db-password"], "used_by": []}


def test_write_only_paths_cover_what_the_sdk_marks_write_only():
    """The SDK marks a write-only property by leaving "read" out of its visibility; each one the fake's
    resources can hold is in contract.WRITE_ONLY."""
    app_models, _ = _models()
    marked = set()
    for cls_name in ("Secret", "LogAnalyticsConfiguration", "CertificateProperties"):
        cls = getattr(app_models, cls_name)
        cls()
        marked |= {rf._rest_name for rf in cls._attr_to_rest_field.values()
                   if rf._visibility and "read" not in rf._visibility}
    listed = {key for paths in contract.WRITE_ONLY.values() for _, key in paths}
    assert marked <= listed


def test_write_answers_hold_no_secret_value_and_only_spec_fields(azure, loomctl, monkeypatch, tmp_path):
    from tests.fakeazure.writes import install

    monkeypatch.setenv("LOOMCTL_POLL_INTERVAL", "0.02")
    monkeypatch.chdir(tmp_path)  # no ./loom.toml: deploy infra uses the built-in reference spec
    install(azure)
    _contract_state(azure)
    known = contract.known_secret_values(azure.state)
    run = loomctl("deploy", "app", "--image", "myacr.azurecr.io/loom:1234", "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    # a PATCH of the template keeps the stored secret value (it is still there for listSecrets)
    assert azure.state["apps"][t.NODE]["properties"]["configuration"]["secrets"][0]["value"] == t.PLAIN_SECRET_VALUE
    run = loomctl("deploy", "infra", "--yes", "-o", "json")  # PUTs the node with its secret as a Key Vault reference
    assert run.exit_code == 0, run.stderr
    answers = [r for r in azure.arm_requests() if r.answer and r.status < 300]
    assert {r.method for r in answers} == {"GET", "PUT"}
    assert [(r.method, r.path, s) for r in answers for s in known if s.encode() in r.answer] == []
    status = [json.loads(r.answer) for r in answers if "containerappOperationResults" in r.path]
    assert status and all(set(s) <= {"id", "name", "status", "startTime", "endTime", "percentComplete", "error"}
                          for s in status)
    puts = [r for r in answers if r.method == "PUT"]
    assert [p for r in puts for p in check_answer(r.path, json.loads(r.answer))] == []
