"""Every fault the local Azure can inject gives one line, a hint and the documented exit code."""

from __future__ import annotations

import time

import pytest

from tests.fakeazure.server import Fault

APP = r"/containerApps/gun-relay$"


def assert_one_error(run, code: int, *fragments: str) -> None:
    assert run.exit_code == code, (run.exit_code, run.stderr)
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert lines[0].startswith("error: "), run.stderr
    assert lines[1].startswith("hint: "), run.stderr
    assert len(lines) == 2, run.stderr
    for f in fragments:
        assert f in run.stderr, (f, run.stderr)


def test_not_signed_in(azure, loomctl, monkeypatch):
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    run = loomctl("status")
    assert_one_error(run, 3, "not signed in to Azure", "az login", "AZURE_CLIENT_SECRET")


def test_wrong_secret_is_sign_in_failure(azure, loomctl, monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "wrong")
    run = loomctl("status")
    assert_one_error(run, 3, "Azure sign-in failed: the client secret is not valid (AADSTS7000215)",
                     "AZURE_CLIENT_SECRET")


def test_401_from_arm(azure, loomctl):
    azure.faults.append(Fault(APP, status=401, body={"error": {"code": "InvalidAuthenticationToken",
                                                               "message": "The access token is invalid."}}))
    run = loomctl("status")
    assert_one_error(run, 3, "rejected the sign-in", "(401)", "az login")


def test_403_names_role_and_scope(azure, loomctl):
    azure.faults.append(Fault(APP, status=403, body={"error": {
        "code": "AuthorizationFailed", "message": "The client does not have authorization to perform action."}}))
    run = loomctl("status")
    assert_one_error(run, 3, "access denied to container app 'gun-relay' (403, AuthorizationFailed)",
                     "Reader role", "/subscriptions/8efdecc5-919e-44eb-b179-915dca89ebf9/resourceGroups/rg-loom")


def test_404_resource_group(azure, loomctl):
    run = loomctl("status", "-g", "no-such-group")
    assert_one_error(run, 3, "resource group 'no-such-group' not found in subscription", "-g/--resource-group")


def test_404_subscription(azure, loomctl):
    run = loomctl("status", "--subscription", "00000000-0000-0000-0000-000000000000")
    assert_one_error(run, 3, "subscription '00000000-0000-0000-0000-000000000000' not found", "az account list")


def test_404_environment(azure, loomctl):
    run = loomctl("status", "--environment", "nope")
    assert_one_error(run, 3, "Container Apps environment 'nope' not found in resource group 'rg-loom'",
                     "--environment")


def test_429_retry_after_is_honoured_then_succeeds(azure, loomctl):
    azure.faults.append(Fault(APP, status=429, headers={"Retry-After": "1"}, times=1,
                              body={"error": {"code": "TooManyRequests", "message": "slow down"}}))
    started = time.monotonic()
    run = loomctl("status", "-o", "json")
    elapsed = time.monotonic() - started
    assert run.exit_code == 0, run.stderr
    assert elapsed >= 1.0  # waited as the server asked
    assert len([r for r in azure.requests if r.path.endswith("/containerApps/gun-relay")]) == 2


def test_429_that_persists(azure, loomctl, monkeypatch):
    monkeypatch.setenv("LOOMCTL_RETRIES", "1")
    azure.faults.append(Fault(APP, status=429, headers={"Retry-After": "1"},
                              body={"error": {"code": "TooManyRequests", "message": "slow down"}}))
    run = loomctl("status")
    assert_one_error(run, 3, "throttled", "(429)", "wait")


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_retried_then_reported(azure, loomctl, status):
    azure.faults.append(Fault(APP, status=status))
    run = loomctl("status")
    assert_one_error(run, 3, f"Azure answered {status}", "container app 'gun-relay'", "try again")
    assert len([r for r in azure.requests if r.path.endswith("/containerApps/gun-relay")]) == 4


def test_5xx_once_is_invisible(azure, loomctl):
    azure.faults.append(Fault(APP, status=500, times=1))
    run = loomctl("status", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.stderr == ""


def test_slow_server_times_out(azure, loomctl, monkeypatch):
    monkeypatch.setenv("LOOMCTL_HTTP_TIMEOUT", "0.5")
    monkeypatch.setenv("LOOMCTL_RETRIES", "1")
    azure.faults.append(Fault(APP, status=None, delay=1.5))
    run = loomctl("status")
    assert_one_error(run, 3, "no answer from 127.0.0.1 in time", "LOOMCTL_HTTP_TIMEOUT")


def test_malformed_json(azure, loomctl):
    azure.faults.append(Fault(APP, status=200, body=b"{\"name\": \"gun-relay\", "))
    run = loomctl("status")
    assert_one_error(run, 3, "not valid JSON")


def test_tls_failure_mentions_ca_bundle(azure, loomctl, monkeypatch, tmp_path):
    import trustme

    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    run = loomctl("status")
    assert_one_error(run, 3, "TLS", "REQUESTS_CA_BUNDLE")


def test_dead_endpoint(azure, loomctl, monkeypatch):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    monkeypatch.setenv("LOOMCTL_ARM_ENDPOINT", f"https://127.0.0.1:{port}")
    monkeypatch.setenv("LOOMCTL_RETRIES", "0")
    run = loomctl("status")
    assert_one_error(run, 3, "cannot connect to 127.0.0.1", "network")


def test_debug_shows_traceback(azure, loomctl):
    azure.faults.append(Fault(APP, status=403))
    run = loomctl("status", "--debug")
    assert run.exit_code == 3
    assert "Traceback" in run.stderr
    assert "error: access denied" in run.stderr


def test_missing_subscription_is_usage_error(azure, loomctl, monkeypatch):
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID")
    run = loomctl("status")
    assert_one_error(run, 2, "no Azure subscription id is set", "--subscription", "AZURE_SUBSCRIPTION_ID")
    assert azure.requests == []


def test_public_authority_keeps_instance_discovery_but_custom_disables_it(azure, loomctl):
    # against the local authority, MSAL must not ask login.microsoftonline.com: the run works offline
    run = loomctl("status", "-o", "json")
    assert run.exit_code == 0, run.stderr
    paths = [r.path for r in azure.requests]
    assert any(p.endswith("/v2.0/.well-known/openid-configuration") for p in paths)
    assert any(p.endswith("/oauth2/v2.0/token") for p in paths)


@pytest.mark.parametrize("answer", [b"[]", b"null", b'"x"', b'{"properties": "x"}',
                                    b'{"name": "loom-node", "properties": {"template": "x", "configuration": []}}'])
def test_arm_json_that_is_not_a_container_app_is_named_so(azure, loomctl, answer):
    # valid JSON of another shape on a 200 (a proxy, another API): one line naming the resource, not a crash
    azure.faults.append(Fault(r"/containerApps/loom-node$", 200, answer, method="GET"))
    for args in (("status",), ("deploy", "status"), ("cost", "estimate", "--from-live")):
        run = loomctl(*args)
        assert (run.exit_code, run.stdout) == (3, ""), run.stderr
        assert run.stderr == ("error: Azure answered for container app 'loom-node' with JSON that is not a container "
                              "app\nhint: a proxy or endpoint may be answering instead of Azure; check "
                              "LOOMCTL_ARM_ENDPOINT, or run with --debug\n")
    run = loomctl("doctor", "-o", "table", "--short")
    assert run.exit_code == 3  # as status says: Azure could not be read, not a finding
    assert run.stderr.startswith("error: LOOM105 (loom-node) could not read Azure, so ")
    assert ("× LOOM105 app exists [loom-node]: Azure answered for container app 'loom-node' with JSON that is not a "
            "container app\n") in run.stdout
    assert "unexpected" not in run.stdout


def test_arm_revisions_of_another_shape_are_named_so(azure, loomctl):
    azure.faults.append(Fault(r"/containerApps/loom-node/revisions$", 200, {"value": ["x"]}, method="GET"))
    run = loomctl("deploy", "history", "--app", "loom-node")
    assert (run.exit_code, run.stdout) == (3, ""), run.stderr
    assert run.stderr == ("error: Azure answered for the revisions of 'loom-node' with JSON that is not a revision\n"
                          "hint: a proxy or endpoint may be answering instead of Azure; check LOOMCTL_ARM_ENDPOINT, "
                          "or run with --debug\n")


@pytest.mark.parametrize("answer", [b"[]", b"null", b"3"])
def test_subscription_or_group_json_that_is_not_an_object_is_named_so(azure, loomctl, answer):
    from tests.fakeazure import topology

    hint = ("    hint: a proxy or endpoint may be answering instead of Azure; check LOOMCTL_ARM_ENDPOINT, or run with "
            "--debug\n")
    azure.faults.append(Fault(rf"/subscriptions/{topology.SUB}$", 200, answer, method="GET"))
    run = loomctl("doctor", "-o", "table", "--short")
    assert run.exit_code == 3
    assert (f"× LOOM102 subscription reachable: Azure answered for subscription '{topology.SUB}' with JSON that is "
            f"not a subscription\n{hint}") in run.stdout
    azure.faults[:] = [Fault(rf"/resourcegroups/{topology.RG}$", 200, answer, method="GET")]
    run = loomctl("doctor", "-o", "table", "--short")
    assert run.exit_code == 3
    assert (f"× LOOM103 resource group exists: Azure answered for resource group '{topology.RG}' with JSON that is "
            f"not a resource group\n{hint}") in run.stdout
