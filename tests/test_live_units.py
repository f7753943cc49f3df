"""Pure parts of the live checks, from REST-shaped dicts (no I/O): CPU/memory pairs, data folders, storage shapes."""

from __future__ import annotations

import pytest

from loomctl.azure.model import App, Environment, data_location
from loomctl.azure.storage import EnvStorage, FileShare, StorageAccount
from loomctl.checks.base import AppRef, Status
from loomctl.checks.categories import configuration as conf
from tests.fakeazure import topology as t

ENV_WP = Environment.parse(t.environment())  # with workload profiles: up to 4 vCPU
ENV_PLAIN = Environment.parse({**t.environment(), "properties": {**t.environment()["properties"],
                                                                  "workloadProfiles": None}})
# Microsoft's list of accepted consumption pairs (the error text ACA returns for an invalid pair)
ACCEPTED = [(0.25, "0.5Gi"), (0.5, "1.0Gi"), (0.75, "1.5Gi"), (1.0, "2.0Gi"), (1.25, "2.5Gi"), (1.5, "3.0Gi"),
            (1.75, "3.5Gi"), (2.0, "4.0Gi")]


def node_with(**container) -> App:
    d = t.node_app()
    d["properties"]["template"]["containers"][0].update(container)
    return App.parse(d)


@pytest.mark.parametrize("cpu,memory", ACCEPTED)
def test_accepted_pairs_pass(cpu, memory):
    app = node_with(resources={"cpu": cpu, "memory": memory})
    assert conf.check_resources(AppRef("node", app.name), app, ENV_PLAIN).status is Status.PASS


@pytest.mark.parametrize("cpu,memory,env", [(0.5, "0.5Gi", ENV_PLAIN), (1.0, "3Gi", ENV_PLAIN),
                                            (0.3, "0.6Gi", ENV_PLAIN), (3.0, "6Gi", ENV_PLAIN),
                                            (4.5, "9Gi", ENV_WP), (0.1, "0.2Gi", ENV_WP)])
def test_rejected_pairs_fail_with_a_valid_suggestion(cpu, memory, env):
    app = node_with(resources={"cpu": cpu, "memory": memory})
    out = conf.check_resources(AppRef("node", app.name), app, env)
    assert out.status is Status.FAIL
    suggested_cpu = float(out.hint.split("--cpu ")[1].split()[0])
    suggested_mem = out.hint.split("--memory ")[1].rstrip("`")
    fixed = node_with(resources={"cpu": suggested_cpu, "memory": suggested_mem})
    assert conf.check_resources(AppRef("node", app.name), fixed, env).status is Status.PASS


def test_workload_profiles_allow_four_vcpu_and_megabytes_parse():
    assert conf.check_resources(AppRef("node", "n"), node_with(resources={"cpu": 4, "memory": "8Gi"}),
                                ENV_WP).status is Status.PASS
    assert conf.check_resources(AppRef("node", "n"), node_with(resources={"cpu": 0.25, "memory": "512Mi"}),
                                ENV_PLAIN).status is Status.PASS


@pytest.mark.parametrize("path,per_replica,folder", [
    ("/mnt/gun-data/$(CONTAINER_APP_REPLICA_NAME)", True, "$(CONTAINER_APP_REPLICA_NAME)"),
    ("/mnt/gun-data/${HOSTNAME}/radata", True, "${HOSTNAME}/radata"),
    ("/mnt/gun-data/radata", False, "radata"),
    ("/mnt/gun-data/", False, ""),
    ("/mnt/gun-data-old", False, None),  # a prefix of the mount path is not under it
])
def test_data_location(path, per_replica, folder):
    app = node_with(env=[{"name": "GUN_DATA_PATH", "value": path}])
    loc = data_location(app)
    assert loc.per_replica is per_replica
    assert loc.folder == folder


def test_sub_path_is_part_of_the_share_folder():
    app = node_with(volumeMounts=[{"volumeName": "gun-data", "mountPath": "/mnt/gun-data", "subPath": "node"}],
                    env=[{"name": "GUN_DATA_PATH", "value": "/mnt/gun-data/radata"}])
    assert data_location(app).folder == "node/radata"


def test_nfs_environment_storage_parses_account_and_share():
    st = EnvStorage.parse({"name": "nfs", "properties": {"nfsAzureFile": {
        "server": "loomnfs.file.core.windows.net", "shareName": "/loomnfs/gun", "accessMode": "ReadWrite"}}})
    assert (st.kind, st.account, st.share, st.access_mode) == ("NfsAzureFile", "loomnfs", "gun", "ReadWrite")


def test_storage_account_reachability_and_share_ratio():
    acct = StorageAccount.parse(t.storage_account())
    assert acct.resource_group == t.RG and acct.publicly_reachable is False
    open_acct = StorageAccount.parse({**t.storage_account(), "properties": {"publicNetworkAccess": "Enabled"}})
    assert open_acct.publicly_reachable is True
    share = FileShare.parse("a", t.file_share(quota_gib=10, usage_bytes=8 * 1024**3))
    assert share.usage_ratio == pytest.approx(0.8)
    assert FileShare.parse("a", {"properties": {"shareQuota": 10}}).usage_ratio is None


def test_secret_looking_literal_env_var_fails_without_showing_it():
    app = node_with(env=[{"name": "OPENAI_API_KEY", "value": "sk-live-DO-NOT-PRINT"},
                         {"name": "GUN_PEERS", "value": "http://x/gun"}])
    out = conf.check_secrets(AppRef("node", app.name), app)
    assert out.status is Status.FAIL
    assert "OPENAI_API_KEY" in out.message and "DO-NOT-PRINT" not in repr(out)


def test_key_vault_secret_with_an_identity_the_app_lacks_fails():
    d = t.node_app()
    d["identity"] = {"type": "None"}
    app = App.parse(d)
    out = conf.check_secrets(AppRef("node", app.name), app)
    assert out.status is Status.FAIL and "which the app does not have" in out.message


@pytest.mark.parametrize("image,status", [("myacr.azurecr.io/loom:1.4.2", Status.PASS),
                                          ("myacr.azurecr.io:5000/loom", Status.WARN),
                                          ("gundb/gun:latest", Status.WARN),
                                          ("myacr.azurecr.io/loom@sha256:" + "a" * 64, Status.PASS)])
def test_image_pinning(image, status):
    app = node_with(image=image)
    assert conf.check_image_pinned(AppRef("node", app.name), app).status is status
