"""`loomctl deploy infra`: spec against live state, diff, apply, idempotence, export and re-import."""

from __future__ import annotations

import pytest

from tests import faults
from tests.fakeazure import topology
from tests.fakeazure.writes import install
from tests.fakeazure.writes import write_requests as writes

ENV_PATH = "managedEnvironments/loom-env"


@pytest.fixture
def fake(azure, monkeypatch, tmp_path):
    monkeypatch.setenv("LOOMCTL_POLL_INTERVAL", "0.02")
    monkeypatch.chdir(tmp_path)  # no ./loom.toml: the built-in reference spec
    # the built-in spec deploys one relay app whose replicas do not peer (the reference's shape, which LOOM213
    # flags: tests/test_mesh_config.py); the healthy topology's relay also peers a hub relay the spec does not deploy
    faults.unpeered_relay_replicas(azure.state)
    return install(azure)


def test_reference_spec_matches_the_corrected_reference_deployment(fake, azure, loomctl):
    run = loomctl("deploy", "infra", "--dry-run", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["changes"] == []
    assert run.json()["result"] == "no changes"
    assert writes(azure) == []


def test_defects_of_the_reference_show_in_the_diff(fake, azure, loomctl):
    node = azure.state["apps"]["loom-node"]["properties"]
    env = node["template"]["containers"][0]["env"]
    env[2]["value"] = f"http://gun-relay.internal.{topology.DOMAIN}:8765"  # the reference's broken GUN_PEERS
    env[3]["value"] = "/mnt/gun-data"  # one folder for every replica
    node["configuration"]["secrets"] = [{"name": "openai-api-key", "value": "sk-live-DO-NOT-PRINT"}]
    run = loomctl("deploy", "infra", "--dry-run", "-o", "json")
    assert run.exit_code == 0, run.stderr
    changes = {(c["resource"], c["field"]): c for c in run.json()["changes"]}
    assert set(changes) == {("app loom-node", "env.GUN_PEERS"), ("app loom-node", "env.GUN_DATA_PATH"),
                            ("app loom-node", "secret.openai-api-key")}
    assert changes[("app loom-node", "env.GUN_PEERS")]["after"] == f"http://gun-relay.internal.{topology.DOMAIN}/gun"
    assert changes[("app loom-node", "secret.openai-api-key")]["before"] == "***"
    assert "sk-live" not in run.stdout + run.stderr
    assert writes(azure) == []


def test_apply_then_second_run_reports_no_changes(fake, azure, loomctl):
    node = azure.state["apps"]["loom-node"]["properties"]
    node["template"]["containers"][0]["env"][2]["value"] = f"http://gun-relay.internal.{topology.DOMAIN}:8765"
    node["template"]["scale"]["minReplicas"] = 1
    relay = azure.state["apps"]["gun-relay"]["properties"]
    relay["configuration"]["ingress"]["allowInsecure"] = False
    run = loomctl("deploy", "infra", "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["result"] == "applied"
    assert any(a.startswith("app loom-node: update env.GUN_PEERS, min_replicas (new revision loom-node--")
               for a in run.json()["applied"])
    assert writes(azure) == [("PUT", "containerApps/gun-relay"), ("PUT", "containerApps/loom-node")]
    put = {r.path.rsplit("/", 1)[-1]: r.json() for r in azure.arm_requests("PUT")}
    n = put["loom-node"]["properties"]
    assert n["template"]["scale"]["minReplicas"] == 3
    assert {"name": "GUN_PEERS", "value": f"http://gun-relay.internal.{topology.DOMAIN}/gun"} in \
        n["template"]["containers"][0]["env"]
    assert n["configuration"]["secrets"] == [{"name": "openai-api-key",
                                              "keyVaultUrl": "https://loom-kv.vault.azure.net/secrets/openai-api-key",
                                              "identity": topology.IDENTITY}]
    assert "revisionSuffix" not in n["template"] and "provisioningState" not in n
    assert put["gun-relay"]["properties"]["configuration"]["ingress"]["allowInsecure"] is True
    assert "write: PUT container app 'loom-node' (update env.GUN_PEERS, min_replicas)" in run.stderr
    again = loomctl("deploy", "infra", "--yes", "-o", "json")
    assert again.exit_code == 0, again.stderr
    assert again.json()["changes"] == [] and again.json()["result"] == "no changes"
    assert len(writes(azure)) == 2


def test_missing_storage_and_app_are_created(fake, azure, loomctl, tmp_path):
    del azure.state["storages"]["gun-storage"]
    del azure.state["apps"]["gun-relay"]
    spec = tmp_path / "loom.toml"
    spec.write_text(SPEC_WITH_KEY)
    run = loomctl("deploy", "infra", "--spec", str(spec), "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert writes(azure) == [("PUT", f"{ENV_PATH}/storages/gun-storage"), ("PUT", "containerApps/gun-relay")]
    st = azure.arm_requests("PUT")[0].json()["properties"]["azureFile"]
    assert st["accountKeyVaultProperties"]["keyVaultUrl"] == "https://loom-kv.vault.azure.net/secrets/storage-key"
    relay = azure.arm_requests("PUT")[1].json()
    assert relay["properties"]["environmentId"].endswith("/managedEnvironments/loom-env")
    assert relay["identity"]["userAssignedIdentities"] == {topology.IDENTITY: {}}
    again = loomctl("deploy", "infra", "--spec", str(spec), "--dry-run", "-o", "json")
    assert again.json()["changes"] == []


SPEC_WITH_KEY = """
[storages.gun-storage]
account_name = "loomstorage01"
share_name = "gun-storage"
access_mode = "ReadWrite"
account_key_vault_url = "https://loom-kv.vault.azure.net/secrets/storage-key"
identity = "loom-id"

[apps.gun-relay]
role = "relay"
image = "myacr.azurecr.io/gun-relay:0.2020.1241"
identity = "loom-id"
cpu = 0.5
memory = "1Gi"
min_replicas = 2
max_replicas = 5
scale_rules = [{name = "http-scaling", http = {metadata = {concurrentRequests = "100"}}}]

[apps.gun-relay.ingress]
external = false
target_port = 8765
transport = "http"
allow_insecure = true

[apps.gun-relay.env]
GUN_PORT = "8765"
GUN_DATA_PATH = "/opt/data/$(CONTAINER_APP_REPLICA_NAME)"

[apps.gun-relay.volumes]
gun-data = {storage = "gun-storage", mount_path = "/opt/data"}
"""


def test_create_without_image_or_key_refused_before_any_write(fake, azure, loomctl):
    del azure.state["storages"]["gun-storage"]
    run = loomctl("deploy", "infra", "--yes")
    assert run.exit_code == 2
    assert "storage 'gun-storage' does not exist and the spec gives no account key" in run.stderr
    assert writes(azure) == []


def test_export_then_reimport_gives_no_diff(fake, azure, loomctl, tmp_path):
    azure.state["apps"]["loom-node"]["properties"]["template"]["scale"]["maxReplicas"] = 12
    out = tmp_path / "exported.toml"
    run = loomctl("deploy", "infra", "--export", "--spec", str(out))
    assert run.exit_code == 0, run.stderr
    text = out.read_text()
    assert run.stdout == "" and f"wrote the live deployment as a spec to {out}" in run.stderr
    assert text == loomctl("deploy", "infra", "--export").stdout  # stdout without --spec
    assert 'max_replicas = 12' in text
    assert 'image = "myacr.azurecr.io/loom:1.4.2"' in text
    assert 'OPENAI_API_KEY = {secret = "openai-api-key"}' in text
    again = loomctl("deploy", "infra", "--spec", str(out), "--dry-run", "-o", "json")
    assert again.exit_code == 0, again.stderr
    assert again.json()["changes"] == []
    # the built-in defaults see the one difference
    ref = loomctl("deploy", "infra", "--dry-run", "-o", "json")
    assert [(c["field"], c["before"], c["after"]) for c in ref.json()["changes"]] == [("max_replicas", 12, 20)]
    assert writes(azure) == []


def test_export_refuses_plain_secret_values(fake, azure, loomctl):
    azure.state["apps"]["loom-node"]["properties"]["configuration"]["secrets"] = [
        {"name": "openai-api-key", "value": "sk-live-DO-NOT-PRINT"}]
    run = loomctl("deploy", "infra", "--export")
    assert run.exit_code == 2
    assert "holds a value, not a Key Vault reference" in run.stderr
    assert "sk-live" not in run.stdout + run.stderr


@pytest.mark.parametrize("text,why", [
    ("[apps.x]\ncpu = 'lots'\n", "must be a number"),
    ("[apps.x]\nreplicas = 3\n", "unknown key 'replicas'"),
    ("[apps.x.secrets]\nk = {value = 'sk'}\n", "must be a Key Vault reference"),
    ("[apps.x\n", "not valid TOML"),
    ("[networks.y]\n", "unknown table [networks]"),
    ("[apps.x]\nmax_replicas = 100000\n", "key 'max_replicas' in [apps.x] of BAD is 100000, outside 1 to 1000"),
    ("[apps.x]\nmin_replicas = -1\n", "key 'min_replicas' in [apps.x] of BAD is -1, outside 0 to 1000"),
    ("[apps.x]\ncpu = 64\n", "key 'cpu' in [apps.x] of BAD is 64, outside 0.25 to 4"),
    ("[apps.x.ingress]\ntarget_port = 70000\n", "key 'target_port' in [apps.x.ingress] of BAD is 70000, outside 1 to"),
    ("[apps.x]\nmin_replicas = 5\nmax_replicas = 2\n", "[apps.x] in BAD has min_replicas 5 above max_replicas 2"),
])
def test_bad_spec_is_exit_2(fake, azure, loomctl, tmp_path, text, why):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    run = loomctl("deploy", "infra", "--spec", str(p), "--dry-run")
    assert run.exit_code == 2, run.stderr
    assert why.replace("BAD", str(p)) in run.stderr and "hint:" in run.stderr
    assert writes(azure) == []


def test_infra_without_yes_off_terminal_refuses(fake, azure, loomctl):
    azure.state["apps"]["loom-node"]["properties"]["template"]["scale"]["minReplicas"] = 1
    run = loomctl("deploy", "infra")
    assert run.exit_code == 2
    assert "~ app loom-node: min_replicas: 1 -> 3" in run.stderr
    assert "refusing to change Azure without --yes" in run.stderr
    assert writes(azure) == []


def test_infra_waits_out_a_409(fake, azure, loomctl):
    from tests.fakeazure.server import Fault, arm_error

    azure.state["apps"]["loom-node"]["properties"]["template"]["scale"]["minReplicas"] = 1
    azure.faults.append(Fault(r"/containerApps/loom-node$", status=409, method="PUT", times=1,
                              body=arm_error("ContainerAppOperationInProgress", "operation in progress")))
    run = loomctl("deploy", "infra", "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert writes(azure) == [("PUT", "containerApps/loom-node"), ("PUT", "containerApps/loom-node")]
    assert "wait: PUT container app 'loom-node': another operation is in progress (409)" in run.stderr
    assert loomctl("deploy", "infra", "--dry-run", "-o", "json").json()["changes"] == []


def test_put_answered_at_once_needs_no_polling(fake, azure, loomctl):
    fake.async_put = False  # 200 with the app, no Azure-AsyncOperation
    azure.state["apps"]["gun-relay"]["properties"]["template"]["scale"]["maxReplicas"] = 9
    run = loomctl("deploy", "infra", "--yes", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert writes(azure) == [("PUT", "containerApps/gun-relay")]
    assert not any("containerappOperationResults" in r.path for r in azure.requests)
    assert loomctl("deploy", "infra", "--dry-run", "-o", "json").json()["changes"] == []


def test_apply_whose_operation_ends_failed_names_azures_error(fake, azure, loomctl):
    """A PUT accepted with 201 whose Azure-AsyncOperation ends `Failed`: the error names the operation's own code
    and message (what Azure said), not a response that "is not valid JSON"."""
    node = azure.state["apps"]["loom-node"]["properties"]
    node["template"]["scale"]["minReplicas"] = 1
    fake.scenario = "fail"
    run = loomctl("deploy", "infra", "--yes", "-o", "json")
    assert run.exit_code == 3, run.stderr
    first = run.stderr.splitlines()[-2]
    assert first.startswith("error: Azure could not finish PUT container app 'loom-node': "
                            "ContainerAppProvisioningFailed: Revision 'loom-node--"), run.stderr
    assert "failed to provision: image pull failed (manifest unknown)" in first
    assert "not valid JSON" not in run.stderr


def test_spec_that_is_a_folder_or_fifo_is_named_as_such_not_missing(fake, azure, loomctl, tmp_path):
    import os

    folder, fifo = tmp_path / "specs", tmp_path / "spec.fifo"
    folder.mkdir()
    os.mkfifo(fifo)  # reading it would wait for a writer forever
    run = loomctl("deploy", "infra", "--spec", str(folder), "--dry-run")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (f"error: cannot read {folder}: it is a folder\n"
                          "hint: give the path of a spec file (TOML)\n")
    run = loomctl("deploy", "infra", "--spec", str(fifo), "--dry-run")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (f"error: cannot read {fifo}: it is a FIFO, not a regular file\n"
                          "hint: give the path of a spec file (TOML)\n")
    assert writes(azure) == []
