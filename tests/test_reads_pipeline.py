"""Reads go over azure-core's pipeline (azure/rest.py), not the management or monitor SDKs (issue 13, part 3): a
read-only command never imports azure-mgmt-appcontainers, azure-mgmt-storage or azure-monitor-query, and with
the tokens in the cache it does not import azure-identity either. The pipeline retries a 429 after the
`Retry-After` the server asked for, `arm_post` sends its JSON body through the same pipeline, and a 401 that is
no claims challenge drops the kept token so that the next run signs in afresh."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests import standin_az, subproc
from tests.fakeazure import topology as t
from tests.fakeazure.server import Fault, Response

SDK_CLIENTS = ("azure.mgmt.appcontainers", "azure.mgmt.storage", "azure.monitor.query")
GROUP = f"/subscriptions/{t.SUB}/resourceGroups/{t.RG}"
APP = f"{GROUP}/providers/Microsoft.App/containerApps/{t.RELAY}"

# `loomctl ARGS` as the user runs it, writing the names of every module it imported to $MODULES_OUT at exit
WRAPPER = ("import atexit, os, runpy, sys; "
           "atexit.register(lambda: open(os.environ['MODULES_OUT'], 'w').write('\\n'.join(sorted(sys.modules)))); "
           "sys.argv[0] = 'loomctl'; runpy.run_module('loomctl', run_name='__main__', alter_sys=True)")


def run_counting_imports(tmp_path: Any, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    out = tmp_path / "modules.txt"
    out.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True, text=True,
                          env=subproc.child_env({"MODULES_OUT": str(out)}), cwd=str(subproc.ROOT),
                          timeout=subproc.TIMEOUT)
    return done, set(out.read_text(encoding="utf-8").splitlines())


def loaded(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


@pytest.mark.parametrize("args", [("status", "-o", "json"), ("status", "--replicas", "-o", "json"),
                                  ("doctor", "-o", "json"), ("diagnose", "storage", "-o", "json"),
                                  ("deploy", "history", "-o", "json"), ("deploy", "infra", "--export")])
def test_read_commands_import_no_sdk_client(azure, tmp_path, args):
    done, modules = run_counting_imports(tmp_path, *args)
    assert done.returncode in (0, 1), done.stderr  # doctor finds the unreachable relay a problem (exit 1)
    assert done.stdout.strip()  # JSON, or the exported TOML spec
    assert loaded(modules, "azure.core")  # the reads did go over azure-core
    assert [p for p in SDK_CLIENTS if loaded(modules, p)] == []
    assert azure.counts()  # and reached the test Azure


def test_status_with_a_warm_token_cache_never_imports_azure_identity(azure, tmp_path):
    cold, cold_modules = run_counting_imports(tmp_path, "status", "-o", "json")
    assert cold.returncode == 0, cold.stderr
    assert loaded(cold_modules, "azure.identity")  # signing in needs it
    warm, warm_modules = run_counting_imports(tmp_path, "status", "-o", "json")
    assert warm.returncode == 0, warm.stderr
    assert json.loads(warm.stdout) == json.loads(cold.stdout)
    assert not loaded(warm_modules, "azure.identity") and not loaded(warm_modules, "msal")
    assert azure.tokens_issued == 1


def test_throttled_read_is_sent_again_after_the_wait_the_server_asked_for(azure, loomctl):
    azure.faults.append(Fault(APP + "$", 429, headers={"Retry-After": "1"}, times=1))
    run = loomctl("status", "-o", "json")
    assert run.exit_code == 0, run.stderr
    tries = [r for r in azure.arm_requests("GET") if r.path == APP]
    assert [r.status for r in tries] == [429, 200]
    # the client's backoff is 0.05 s here (conftest): a second try a second later is the server's Retry-After
    assert tries[1].arrived - tries[0].arrived >= 1.0


def test_throttled_read_that_stays_throttled_says_so(azure, loomctl, monkeypatch):
    monkeypatch.setenv("LOOMCTL_RETRIES", "2")
    azure.faults.append(Fault(APP + "$", 429, headers={"Retry-After": "0"}))
    run = loomctl("status", "-o", "json")
    assert run.exit_code == 3
    assert (f"error: Azure throttled requests to container app '{t.RELAY}' (429) and retries did not help "
            "(the server asked to wait 0 s)") in run.stderr
    assert len([r for r in azure.arm_requests("GET") if r.path == APP]) == 3  # the first try and two retries


RESOURCE_GRAPH = "/providers/Microsoft.ResourceGraph/resources"


def _session() -> Any:
    from loomctl.azure.session import AzureSession
    from loomctl.core.settings import resolve

    return AzureSession(resolve({}))


def test_arm_post_sends_the_json_body_and_retries_a_throttled_answer(azure):
    def graph(req, m):  # in place of the test Azure's Resource Graph: a QueryResponse echoing what it was sent
        body = req.json()
        return {"totalRecords": 1, "count": 1, "resultTruncated": "false",
                "data": [{"name": t.RELAY, "query": body["query"], "subscriptions": body["subscriptions"]}]}

    azure.route("POST", RESOURCE_GRAPH, graph)
    azure.faults.append(Fault(RESOURCE_GRAPH, 429, headers={"Retry-After": "0"}, times=1))
    body = {"subscriptions": [t.SUB], "query": "resources | where type =~ 'microsoft.app/containerapps'"}
    seen: list[Any] = []
    doc = _session().arm_post(RESOURCE_GRAPH, "2022-10-01", body, on_headers=seen.append)
    assert [h.get("Content-Type") for h in seen] == ["application/json; charset=utf-8"]  # the final answer's
    assert doc["data"] == [{"name": t.RELAY, "query": body["query"], "subscriptions": [t.SUB]}]
    sent = [r for r in azure.requests if r.path == RESOURCE_GRAPH]
    assert [r.status for r in sent] == [429, 200]
    assert all(r.json() == body and r.api_version == "2022-10-01" for r in sent)
    assert sent[0].headers["content-type"] == "application/json" and sent[0].headers["authorization"] == "Bearer"


def test_arm_post_error_answer_is_an_azure_error_with_its_status(azure):
    from loomctl.core.errors import AzureError

    azure.route("POST", RESOURCE_GRAPH, lambda req, m: Response(
        400, {"error": {"code": "BadRequest", "message": "Please provide below info when asking for support"}}))
    with pytest.raises(AzureError) as got:
        _session().arm_post(RESOURCE_GRAPH, "2022-10-01", {"query": "resources |"})
    assert got.value.status == 400 and got.value.code == "BadRequest"


def test_a_401_without_a_claims_challenge_drops_the_kept_token(azure):
    from loomctl.core.errors import AzureError

    first = _session()
    assert first.token().token == "fake-access-token-1"
    azure.faults.append(Fault(GROUP + "$", 401, times=1, body={"error": {
        "code": "InvalidAuthenticationToken", "message": "The access token is invalid."}},
        headers={"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                                     'error="invalid_token", error_description="The access token is invalid."'}))
    with pytest.raises(AzureError) as got:
        first.arm_get(f"/subscriptions/{t.SUB}/resourceGroups/{t.RG}", "2021-04-01")
    assert got.value.status == 401
    assert "fake-access-token-1" not in json.dumps(standin_az.cached_tokens())
    assert _session().token().token == "fake-access-token-2"  # the next run signs in afresh
    assert azure.tokens_issued == 2


def test_a_claims_challenge_keeps_signing_in_with_the_claims(azure):
    """A CAE challenge (401 with `insufficient_claims`) is answered in the same request with a new token."""
    import base64

    claims = base64.urlsafe_b64encode(b'{"access_token":{"nbf":{"essential":true,"value":"1"}}}').decode()
    azure.faults.append(Fault(GROUP + "$", 401, times=1, headers={
        "WWW-Authenticate": f'Bearer realm="", error="insufficient_claims", claims="{claims}"'}))
    session = _session()
    doc = session.arm_get(f"/subscriptions/{t.SUB}/resourceGroups/{t.RG}", "2021-04-01")
    assert doc["name"] == t.RG
    assert azure.tokens_issued == 2  # the first token, then the one with the claims
    assert [e["token"] for e in standin_az.cached_tokens().values()] == ["fake-access-token-2"]


def test_refused_tokens_start_at_most_one_more_sign_in_and_the_next_run_signs_in_afresh(
        azure, loomctl, tmp_path, monkeypatch):
    from loomctl.core.errors import AzureError

    az = standin_az.install(tmp_path, monkeypatch)
    azure.faults.append(Fault("^/subscriptions/", 401, body={"error": {
        "code": "InvalidAuthenticationToken", "message": "The access token has been revoked."}},
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}))
    run = loomctl("status", "--replicas", "-o", "json")
    assert run.exit_code == 3
    assert "error: Azure rejected the sign-in for" in run.stderr
    assert not standin_az.cached_tokens()  # the refused token is not kept for the next run
    session = _session()
    for _ in range(4):  # one request after another, each refused
        with pytest.raises(AzureError):
            session.arm_get(f"/subscriptions/{t.SUB}", "2022-12-01")
    before = az.calls()
    with pytest.raises(AzureError):
        session.arm_get(f"/subscriptions/{t.SUB}", "2022-12-01")
    assert az.calls() == before  # after one fresh sign-in, refusals start no more `az` processes
    azure.faults.clear()
    calls = az.calls()
    run = loomctl("status", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert az.calls() == calls + 1  # the next run signed in afresh
