"""Signed in with the Azure CLI (a stand-in `az` on PATH, tests/standin_az.py): one token per scope per process,
kept between runs in a 0600 file (azure/tokens.py); `config logout` deletes it."""

from __future__ import annotations

import json
import stat
import threading
from typing import Any

import pytest

from tests import standin_az


@pytest.fixture
def az(azure: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> standin_az.StandinAz:
    return standin_az.install(tmp_path, monkeypatch)


def _cache_file() -> Any:
    from loomctl.azure.tokens import cache_path

    return cache_path()


def test_status_starts_az_once_cold_and_never_warm(az, loomctl_proc):
    cold = loomctl_proc("status")
    assert cold.exit_code == 0, cold.stderr
    assert az.calls() == 1
    warm = loomctl_proc("status", "--debug")
    assert warm.exit_code == 0, warm.stderr
    assert az.calls() == 1  # the token kept by the first run
    assert warm.json() == cold.json()
    assert "Request URL" in warm.stderr  # the SDK's HTTP log, which names no token (and the guard checks it)
    for entry in standin_az.cached_tokens().values():
        assert entry["token"] not in cold.stdout + cold.stderr + warm.stdout + warm.stderr


def test_status_replicas_starts_az_once_for_all_request_threads(az, loomctl_proc):
    run = loomctl_proc("status", "--replicas")
    assert run.exit_code == 0, run.stderr
    assert az.calls() == 1


def test_cache_file_is_owner_only_and_holds_no_token_in_output(az, loomctl):
    run = loomctl("status", "--debug")
    assert run.exit_code == 0, run.stderr
    path = _cache_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    tokens = [entry["token"] for entry in standin_az.cached_tokens().values()]
    assert tokens and all(t.startswith("fake-access-token-az-") for t in tokens)
    for token in tokens:
        assert token not in run.stdout + run.stderr


def test_twenty_concurrent_token_requests_make_one_acquisition(az, monkeypatch, tmp_path):
    from loomctl.azure.session import AzureSession
    from loomctl.core.settings import resolve

    gate = tmp_path / "gate"
    monkeypatch.setenv("STANDIN_AZ_GATE", str(gate))  # the one az waits until every thread has asked
    session = AzureSession(resolve({}))
    barrier = threading.Barrier(21)
    tokens: list[str] = []

    def ask() -> None:
        barrier.wait()
        tokens.append(session.token().token)

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for t in threads:
        t.start()
    barrier.wait()
    while az.calls() == 0:  # the first acquisition has started az; the others are waiting for it
        threading.Event().wait(0.01)
    gate.touch()
    for t in threads:
        t.join()
    assert az.calls() == 1
    assert len(tokens) == 20 and len(set(tokens)) == 1


def test_failed_sign_in_is_reported_and_nothing_is_kept(azure, loomctl, tmp_path, monkeypatch):
    az = standin_az.install(tmp_path, monkeypatch)
    (az.bin / "az").write_text("#!/bin/sh\necho x >> " + str(az.count_file) +
                               "\necho 'ERROR: Please run az login to setup account.' >&2\nexit 1\n")
    run = loomctl("status")
    assert run.exit_code != 0
    assert "not signed in" in run.stderr or "az login" in run.stderr
    assert not _cache_file().exists() or standin_az.cached_tokens() == {}


@pytest.mark.parametrize("tamper", ["not json", "wrong shape", "readable by others", "a symlink", "another owner"])
def test_tampered_cache_file_is_replaced(az, loomctl, tamper, tmp_path):
    import os

    if tamper == "another owner" and os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    assert loomctl("status").exit_code == 0
    path = _cache_file()
    if tamper == "another owner":
        os.chown(path, 4242, 4242)
    elif tamper == "not json":
        path.write_text("{not json", encoding="utf-8")
    elif tamper == "wrong shape":
        path.write_text(json.dumps({"version": 1, "tokens": ["fake-access-token-x"]}), encoding="utf-8")
    elif tamper == "readable by others":
        path.chmod(0o644)
    else:
        other = tmp_path / "elsewhere.json"
        other.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        other.chmod(0o600)
        path.unlink()
        path.symlink_to(other)
    run = loomctl("status")
    assert run.exit_code == 0, run.stderr
    assert run.stderr == ""
    assert az.calls() == 2  # the tampered file was not used
    assert not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_uid == os.getuid()
    assert len(standin_az.cached_tokens()) == 1
    assert loomctl("status").exit_code == 0
    assert az.calls() == 2  # and the new file is


def test_token_cache_off_writes_no_file(az, loomctl, monkeypatch):
    monkeypatch.setenv("LOOMCTL_TOKEN_CACHE", "0")
    assert loomctl("status").exit_code == 0
    assert loomctl("status").exit_code == 0
    assert az.calls() == 2
    assert not _cache_file().exists()


def test_token_cache_false_in_profile_writes_no_file(az, loomctl):
    assert loomctl("config", "set", "token_cache", "false").exit_code == 0
    assert loomctl("status").exit_code == 0
    assert loomctl("status").exit_code == 0
    assert az.calls() == 2  # still one sign-in per process
    assert not _cache_file().exists()


def test_config_logout_deletes_the_cache(az, loomctl):
    assert loomctl("status").exit_code == 0
    path = _cache_file()
    assert path.exists()
    run = loomctl("config", "logout")
    assert run.exit_code == 0
    assert run.stderr.strip() == f"deleted the token cache {path}"
    assert not path.exists()
    assert loomctl("status").exit_code == 0
    assert az.calls() == 2  # signed in again
    loomctl("config", "logout")
    again = loomctl("config", "logout")
    assert again.exit_code == 0
    assert again.stderr.strip() == f"no token cache at {path}: nothing to delete"


def test_token_of_another_cli_account_is_not_used(az, loomctl):
    assert loomctl("status").exit_code == 0
    az.sign_in("bob@example.com")
    assert loomctl("status").exit_code == 0
    assert az.calls() == 2
    assert len(standin_az.cached_tokens()) == 2
    az.sign_in("alice@example.com")
    assert loomctl("status").exit_code == 0
    assert az.calls() == 2  # alice's token is still hers


def test_token_of_another_tenant_or_client_is_not_used(az, loomctl, monkeypatch):
    assert loomctl("status").exit_code == 0
    monkeypatch.setenv("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47")
    assert loomctl("status").exit_code == 0
    assert az.calls() == 2
    monkeypatch.setenv("AZURE_CLIENT_ID", "04b07795-8ddb-461a-bbee-02f9e1bf7b46")
    assert loomctl("status").exit_code == 0
    assert az.calls() == 3


def test_environment_credentials_cached_too(azure, loomctl):
    assert loomctl("status").exit_code == 0
    issued = azure.tokens_issued
    assert issued == 1
    assert loomctl("status").exit_code == 0
    assert azure.tokens_issued == issued


def test_token_near_expiry_is_not_used(az, loomctl):
    assert loomctl("status").exit_code == 0
    path = _cache_file()
    data = json.loads(path.read_text(encoding="utf-8"))
    import time

    for entry in data["tokens"].values():
        entry["expires_on"] = int(time.time()) + 200  # inside the last 5 minutes
    path.write_text(json.dumps(data), encoding="utf-8")
    assert loomctl("status").exit_code == 0
    assert az.calls() == 2


def test_unwritable_cache_folder_is_not_fatal(az, loomctl, monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("LOOMCTL_CACHE_DIR", str(blocker))  # tokens.json cannot be created under a file
    run = loomctl("status")
    assert run.exit_code == 0, run.stderr
    assert run.stderr == ""
    assert az.calls() == 1


def test_claims_challenge_gets_a_new_token_that_replaces_the_kept_one(azure):
    from loomctl.azure.session import AzureSession
    from loomctl.core.settings import resolve

    first = AzureSession(resolve({}))
    scope = first.settings.arm_scope
    assert first.token().token == "fake-access-token-1"
    fresh = first.credential.get_token_info(scope, options={"claims": '{"access_token":{"nbf":{"essential":true}}}'})
    assert fresh.token == "fake-access-token-2" and azure.tokens_issued == 2
    assert first.token().token == "fake-access-token-2"
    assert AzureSession(resolve({})).token().token == "fake-access-token-2"  # the next run reads the new one
    assert azure.tokens_issued == 2


def test_doctor_starts_az_at_most_once_cold_and_never_warm(az, loomctl_proc):
    def statuses(run: Any) -> dict[tuple[str, Any], str]:
        return {(c["code"], c["resource"]): c["status"] for cat in run.json()["categories"] for c in cat["checks"]}

    cold = loomctl_proc("doctor", "-o", "json")
    assert cold.exit_code in (0, 1), cold.stderr  # 1: the relay's public URL is not reachable from here
    assert az.calls() == 1
    assert statuses(cold)[("LOOM101", None)] == "pass"  # signed in, through az
    warm = loomctl_proc("doctor", "-o", "json")
    assert warm.exit_code == cold.exit_code, warm.stderr
    assert az.calls() == 1  # every scope's token kept by the first run
    assert statuses(warm) == statuses(cold)
