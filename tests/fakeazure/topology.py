"""The LoomDB deployment as the local Azure serves it: REST bodies shaped like Microsoft's official examples.

`healthy()` is the reference architecture with its known defects corrected (see the project README):
relay on internal HTTP ingress (target 8765, allowInsecure true), node on external HTTPS ingress (3000) with
`GUN_PEERS` pointing at `http://gun-relay.internal.<domain>/gun`, one Azure Files environment storage, every
secret a Key Vault reference, per-replica data folders, and the relay's replicas joined: its `GUN_PEERS` names a
single-replica hub relay (`gun-relay-hub`, an app this state does not model), so nodes on different relay replicas
still sync (LOOM213; `tests/faults.py` `unpeered_relay_replicas` is the reference's shape). Helpers below change
one thing at a time.

The state is what was written (the environment storage's account key, the environment's Log Analytics shared
key); `contract.view` removes the write-only properties from every answer, as ARM does.
"""

from __future__ import annotations

import copy
from typing import Any

SUB = "8efdecc5-919e-44eb-b179-915dca89ebf9"
RG = "rg-loom"
ENV = "loom-env"
DOMAIN = "happyriver-4f1a2b3c.eastus.azurecontainerapps.io"
RELAY = "gun-relay"
NODE = "loom-node"
RELAY_HUB = "gun-relay-hub"  # the relay replicas' common peer (one replica); named only in the relay's GUN_PEERS
IDENTITY = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/loom-id"
)
STORAGE_ACCOUNT = "loomstorage01"
SHARE = "gun-storage"
WORKSPACE_ID = "d6b2a6f3-5c1e-4e55-9f59-0a1b2c3d4e5f"

# Secret values the deployment holds. ARM never returns them on GET (write-only, `x-ms-secret`); they come only
# from POST listKeys / listSecrets. `contract.known_secret_values(state)` adds those a test writes into the state.
STORAGE_KEY = "c3RvcmFnZS1rZXktb25lLW5vdC1yZWFsLWxvb20tdGVzdA=="  # key1 of the storage account
STORAGE_KEY_2 = "c3RvcmFnZS1rZXktdHdvLW5vdC1yZWFsLWxvb20tdGVzdA=="
PLAIN_SECRET_VALUE = "sk-test-PLAINTEXT-never-printed"  # what a plain-value app secret holds (tests/faults.py)
LOG_SHARED_KEY = "bG9nLWFuYWx5dGljcy1zaGFyZWQta2V5LW5vdC1yZWFs"  # the workspace key the environment was given
KNOWN_SECRETS = [STORAGE_KEY, STORAGE_KEY_2, PLAIN_SECRET_VALUE, LOG_SHARED_KEY]


def _arm(*parts: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/" + "/".join(parts)


def environment() -> dict[str, Any]:
    return {
        "name": ENV,
        "type": "Microsoft.App/managedEnvironments",
        "id": _arm("Microsoft.App/managedEnvironments", ENV),
        "location": "East US",
        "properties": {
            "provisioningState": "Succeeded",
            "defaultDomain": DOMAIN,
            "staticIp": "20.42.33.145",
            "eventStreamEndpoint": f"https://eastus.azurecontainerapps.dev/subscriptions/{SUB}/resourceGroups/{RG}"
                                   f"/managedEnvironments/{ENV}/eventstream",
            "appLogsConfiguration": {
                "destination": "log-analytics",
                "logAnalyticsConfiguration": {"customerId": WORKSPACE_ID, "sharedKey": LOG_SHARED_KEY},
            },
            "zoneRedundant": False,
            "workloadProfiles": [{"name": "Consumption", "workloadProfileType": "Consumption"}],
        },
        "tags": {},
    }


def storage() -> dict[str, Any]:
    return {
        "name": SHARE,
        "type": "Microsoft.App/managedEnvironments/storages",
        "id": _arm("Microsoft.App/managedEnvironments", ENV, "storages", SHARE),
        "properties": {"azureFile": {"accessMode": "ReadWrite", "accountName": STORAGE_ACCOUNT, "shareName": SHARE,
                                     "accountKey": STORAGE_KEY}},  # as written; GET never shows accountKey
    }


def storage_account() -> dict[str, Any]:
    """The storage account behind the environment storage (shape: StorageAccountGetProperties, 2026-09-01)."""
    return {
        "name": STORAGE_ACCOUNT,
        "type": "Microsoft.Storage/storageAccounts",
        "id": _arm("Microsoft.Storage/storageAccounts", STORAGE_ACCOUNT),
        "kind": "StorageV2",
        "location": "eastus",
        "sku": {"name": "Standard_ZRS", "tier": "Standard"},
        "properties": {
            "provisioningState": "Succeeded",
            "creationTime": "2026-11-01T09:00:00.0000000Z",
            "supportsHttpsTrafficOnly": True,
            "minimumTlsVersion": "TLS1_2",
            "publicNetworkAccess": "Disabled",
            "allowBlobPublicAccess": False,
            "networkAcls": {"bypass": "AzureServices", "defaultAction": "Deny", "ipRules": [],
                            "virtualNetworkRules": []},
            "primaryEndpoints": {"file": f"https://{STORAGE_ACCOUNT}.file.core.windows.net/"},
            "statusOfPrimary": "available",
        },
        "tags": {},
    }


def file_share(quota_gib: int = 100, usage_bytes: int = 12 * 1024**3) -> dict[str, Any]:
    """The Azure Files share (shape: FileSharesGet_Stats); `shareUsageBytes` is served only with $expand=stats."""
    return {
        "name": SHARE,
        "type": "Microsoft.Storage/storageAccounts/fileServices/shares",
        "etag": "\"0x8D592D74CC20EBA\"",
        "id": _arm("Microsoft.Storage/storageAccounts", STORAGE_ACCOUNT, "fileServices/default/shares", SHARE),
        "properties": {"lastModifiedTime": "2026-11-20T10:00:00Z", "shareQuota": quota_gib,
                       "enabledProtocols": "SMB", "accessTier": "TransactionOptimized",
                       "shareUsageBytes": usage_bytes},
    }


def _app(name: str, ingress: dict[str, Any], container: dict[str, Any], scale: dict[str, Any],
         secrets: list[dict[str, Any]], revision: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "Microsoft.App/containerApps",
        "id": _arm("Microsoft.App/containerApps", name),
        "location": "East US",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {
            IDENTITY: {"clientId": "14adfa4f-eedf-1dc0-ba29-a6d1a69ab3df",
                       "principalId": "74adfa4f-dedf-8dc0-ca29-b6d1a69ab312"}}},
        "properties": {
            "provisioningState": "Succeeded",
            "runningStatus": "Running",
            "managedEnvironmentId": _arm("Microsoft.App/managedEnvironments", ENV),
            "environmentId": _arm("Microsoft.App/managedEnvironments", ENV),
            "latestRevisionName": revision,
            "latestReadyRevisionName": revision,
            "latestRevisionFqdn": f"{revision}.{'internal.' if not ingress['external'] else ''}{DOMAIN}",
            "configuration": {
                "activeRevisionsMode": "Single",
                "ingress": ingress,
                "secrets": secrets,
                "maxInactiveRevisions": 10,
            },
            "template": {
                "revisionSuffix": revision.split("--")[-1],
                "containers": [container],
                "scale": scale,
                "volumes": [{"name": "gun-data", "storageType": "AzureFile", "storageName": SHARE}],
            },
        },
    }


def relay_app() -> dict[str, Any]:
    return _app(
        RELAY,
        ingress={"external": False, "targetPort": 8765, "transport": "http", "allowInsecure": True,
                 "fqdn": f"{RELAY}.internal.{DOMAIN}",
                 "traffic": [{"weight": 100, "latestRevision": True}]},
        container={"name": RELAY, "image": "myacr.azurecr.io/gun-relay:0.2020.1241",
                   "resources": {"cpu": 0.5, "memory": "1Gi"},
                   "env": [{"name": "GUN_PORT", "value": "8765"},
                           {"name": "GUN_DATA_PATH", "value": "/opt/data/$(CONTAINER_APP_REPLICA_NAME)"},
                           {"name": "GUN_PEERS", "value": f"http://{RELAY_HUB}.internal.{DOMAIN}/gun"}],
                   "volumeMounts": [{"volumeName": "gun-data", "mountPath": "/opt/data"}]},
        scale={"minReplicas": 2, "maxReplicas": 5, "rules": [
            {"name": "http-scaling", "http": {"metadata": {"concurrentRequests": "100"}}}]},
        secrets=[],
        revision=f"{RELAY}--r1",
    )


def node_app() -> dict[str, Any]:
    return _app(
        NODE,
        ingress={"external": True, "targetPort": 3000, "transport": "auto", "allowInsecure": False,
                 "fqdn": f"{NODE}.{DOMAIN}",
                 "traffic": [{"weight": 100, "latestRevision": True}]},
        container={"name": NODE, "image": "myacr.azurecr.io/loom:1.4.2",
                   "resources": {"cpu": 1.0, "memory": "2Gi"},
                   "env": [{"name": "GUN_ENABLED", "value": "true"},
                           {"name": "GUN_SERVER_PORT", "value": "8765"},
                           {"name": "GUN_PEERS", "value": f"http://{RELAY}.internal.{DOMAIN}/gun"},
                           {"name": "GUN_DATA_PATH", "value": "/mnt/gun-data/$(CONTAINER_APP_REPLICA_NAME)"},
                           {"name": "GUN_ALLOW_OFFLINE", "value": "true"},
                           {"name": "OPENAI_API_KEY", "secretRef": "openai-api-key"}],
                   "volumeMounts": [{"volumeName": "gun-data", "mountPath": "/mnt/gun-data"}]},
        scale={"minReplicas": 3, "maxReplicas": 20, "rules": [
            {"name": "cpu-scaling", "custom": {"type": "cpu", "metadata": {"type": "Utilization", "value": "70"}}}]},
        secrets=[{"name": "openai-api-key", "keyVaultUrl": "https://loom-kv.vault.azure.net/secrets/openai-api-key",
                  "identity": IDENTITY}],
        revision=f"{NODE}--n1",
    )


def revision(app: dict[str, Any], name: str, *, active: bool = True, weight: int = 100, replicas: int = 1,
             health: str = "Healthy", provisioning: str = "Provisioned", running: str = "Running",
             created: str = "2026-11-20T10:00:00+00:00") -> dict[str, Any]:
    tmpl = app["properties"]["template"]
    return {
        "name": name,
        "type": "Microsoft.App/containerApps/revisions",
        "id": app["id"] + "/revisions/" + name,
        "properties": {
            "active": active,
            "createdTime": created,
            "lastActiveTime": created,
            "fqdn": f"{name}.{DOMAIN}",
            "replicas": replicas,
            "trafficWeight": weight,
            "healthState": health,
            "provisioningState": provisioning,
            "runningState": running,
            "template": {"containers": copy.deepcopy(tmpl["containers"]), "scale": copy.deepcopy(tmpl["scale"])},
        },
    }


def replica(app: dict[str, Any], rev: str, index: int, *, running: str = "Running", restarts: int = 0,
            ready: bool = True, details: str = "") -> dict[str, Any]:
    name = f"{rev}-5d9774cff-{index:05d}"
    cname = app["properties"]["template"]["containers"][0]["name"]
    return {
        "name": name,
        "type": "Microsoft.App/containerapps/revisions/replicas",
        "id": app["id"] + f"/revisions/{rev}/replicas/{name}",
        "properties": {
            "createdTime": "2026-11-20T10:01:00Z",
            "runningState": running,
            "runningStateDetails": details,
            "containers": [{
                "name": cname,
                "containerId": f"containerd://{index:064x}",
                "ready": ready,
                "started": running == "Running",
                "restartCount": restarts,
                "runningState": running,
                "runningStateDetails": details,
                "execEndpoint": f"wss://eastus.azurecontainerapps.dev/subscriptions/{SUB}/resourceGroups/{RG}/"
                                f"containerApps/{app['name']}/revisions/{rev}/replicas/{name}/exec",
                "logStreamEndpoint": f"https://eastus.azurecontainerapps.dev/subscriptions/{SUB}/resourceGroups/"
                                     f"{RG}/containerApps/{app['name']}/revisions/{rev}/replicas/{name}/logstream",
            }],
            "initContainers": [],
        },
    }


def healthy() -> dict[str, Any]:
    relay, node = relay_app(), node_app()
    rrev, nrev = relay["properties"]["latestRevisionName"], node["properties"]["latestRevisionName"]
    return {
        "subscription": SUB,
        "resource_group": RG,
        "environment": environment(),
        "storages": {SHARE: storage()},
        "storage_accounts": {STORAGE_ACCOUNT: storage_account()},
        "shares": {f"{STORAGE_ACCOUNT}/{SHARE}": file_share()},
        "storage_keys": {STORAGE_ACCOUNT: [{"keyName": "key1", "value": STORAGE_KEY, "permissions": "FULL"},
                                           {"keyName": "key2", "value": STORAGE_KEY_2, "permissions": "FULL"}]},
        "apps": {RELAY: relay, NODE: node},
        "revisions": {RELAY: [revision(relay, rrev, replicas=2)], NODE: [revision(node, nrev, replicas=3)]},
        "replicas": {rrev: [replica(relay, rrev, i) for i in range(2)],
                     nrev: [replica(node, nrev, i) for i in range(3)]},
    }


def deployment(sub: str, rg: str, env: str, location: str = "eastus", *, relay_image: str | None = None,
               node_image: str | None = None, tags: dict[str, str] | None = None,
               apps: tuple[str, ...] = (RELAY, NODE)) -> dict[str, Any]:
    """`healthy()` moved to another subscription, resource group, environment and region (ids, domain and
    locations follow), with other images or tags, and only the apps named in `apps`."""
    import json

    domain = f"{env}-{abs(hash((sub, rg, env))) % 10**8:08x}.{location}.azurecontainerapps.io"
    text = json.dumps(healthy())
    for old, new in ((SUB, sub), (f"/resourceGroups/{RG}/", f"/resourceGroups/{rg}/"), (DOMAIN, domain),
                     (f"/managedEnvironments/{ENV}", f"/managedEnvironments/{env}"), ('"East US"', f'"{location}"'),
                     ('"eastus"', f'"{location}"'), (f'"{ENV}"', f'"{env}"'), (f'"{RG}"', f'"{rg}"')):
        text = text.replace(old, new)
    dep = json.loads(text)
    dep["environment"]["tags"] = dict(tags or {})
    for name in list(dep["apps"]):
        if name not in apps:
            del dep["apps"][name]
    for name, image in ((RELAY, relay_image), (NODE, node_image)):
        if image and name in dep["apps"]:
            dep["apps"][name]["properties"]["template"]["containers"][0]["image"] = image
    return dep


def fleet_sub(index: int) -> str:
    """The id of the test fleet's subscription `index` (a GUID)."""
    return f"{index:08x}-0000-4000-8000-0000000f1ee7"


def fleet(environments: int, subscriptions: int, regions: tuple[str, ...] = ("eastus", "westeurope")) -> list[
        dict[str, Any]]:
    """`environments` deployments spread over `subscriptions` subscriptions and `regions` (generated)."""
    out = []
    for i in range(environments):
        sub = fleet_sub(i % subscriptions)
        out.append(deployment(sub, f"rg-loom-{i:03d}", f"loom-env-{i:03d}", regions[i % len(regions)],
                              tags={"loomdb": f"fleet-{i:03d}"}))
    return out
