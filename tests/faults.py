"""Faults for the live-deployment checks: each changes ONE thing in the fake Azure's state (a topology dict)."""

from __future__ import annotations

from typing import Any

from tests.fakeazure import topology as t

RREV, NREV = f"{t.RELAY}--r1", f"{t.NODE}--n1"


def _app(state: dict[str, Any], name: str) -> dict[str, Any]:
    return state["apps"][name]


def _container(state: dict[str, Any], name: str) -> dict[str, Any]:
    return _app(state, name)["properties"]["template"]["containers"][0]


def set_env(state: dict[str, Any], app: str, name: str, value: str | None) -> None:
    env = _container(state, app)["env"]
    env[:] = [e for e in env if e["name"] != name]
    if value is not None:
        env.append({"name": name, "value": value})


def stopped_relay(state: dict[str, Any]) -> None:
    _app(state, t.RELAY)["properties"]["runningStatus"] = "Stopped"


def external_relay_ingress(state: dict[str, Any]) -> None:
    ing = _app(state, t.RELAY)["properties"]["configuration"]["ingress"]
    ing.update(external=True, allowInsecure=False, fqdn=f"{t.RELAY}.{t.DOMAIN}")
    # the node follows the relay's new FQDN, so that only the ingress type is wrong
    set_env(state, t.NODE, "GUN_PEERS", f"https://{t.RELAY}.{t.DOMAIN}/gun")


def one_relay_replica(state: dict[str, Any]) -> None:
    _app(state, t.RELAY)["properties"]["template"]["scale"]["minReplicas"] = 1
    state["replicas"][RREV] = state["replicas"][RREV][:1]


def unpeered_relay_replicas(state: dict[str, Any]) -> None:
    """The reference's relay: 2-5 replicas behind one ingress, no GUN_PEERS, so no replica peers the others."""
    set_env(state, t.RELAY, "GUN_PEERS", None)


def gun_peers(state: dict[str, Any], value: str) -> None:
    set_env(state, t.NODE, "GUN_PEERS", value)


def wrong_peers_port(state: dict[str, Any]) -> None:
    gun_peers(state, f"http://{t.RELAY}.internal.{t.DOMAIN}:9000/gun")


def wrong_peers_domain(state: dict[str, Any]) -> None:
    gun_peers(state, f"http://{t.RELAY}.internal.other-env-1234.westus.azurecontainerapps.io/gun")


def reference_peers_value(state: dict[str, Any]) -> None:
    """The reference's literal GUN_PEERS on the relay's HTTP ingress: port 8765 and no /gun path."""
    gun_peers(state, f"http://{t.RELAY}.internal.{t.DOMAIN}:8765")


def mount_path_mismatch(state: dict[str, Any]) -> None:
    _container(state, t.NODE)["volumeMounts"][0]["mountPath"] = "/mnt/data"


def missing_env_storage(state: dict[str, Any]) -> None:
    state["storages"] = {}


def read_only_storage(state: dict[str, Any]) -> None:
    state["storages"][t.SHARE]["properties"]["azureFile"]["accessMode"] = "ReadOnly"


def share_usage(state: dict[str, Any], percent: float) -> None:
    share = state["shares"][f"{t.STORAGE_ACCOUNT}/{t.SHARE}"]["properties"]
    share["shareUsageBytes"] = int(share["shareQuota"] * 1024**3 * percent / 100)


def shared_radisk_folder(state: dict[str, Any]) -> None:
    set_env(state, t.NODE, "GUN_DATA_PATH", "/mnt/gun-data")


def plain_value_secret(state: dict[str, Any]) -> None:
    _app(state, t.NODE)["properties"]["configuration"]["secrets"] = [
        {"name": "openai-api-key", "value": t.PLAIN_SECRET_VALUE}]  # GET shows {"name": "openai-api-key"} only


def insecure_external_ingress(state: dict[str, Any]) -> None:
    _app(state, t.NODE)["properties"]["configuration"]["ingress"]["allowInsecure"] = True


def crash_looping_replica(state: dict[str, Any]) -> None:
    node = _app(state, t.NODE)
    state["replicas"][NREV][2] = t.replica(node, NREV, 2, restarts=9)


def missing_storage_account(state: dict[str, Any]) -> None:
    state["storage_accounts"] = {}


def missing_share(state: dict[str, Any]) -> None:
    state["shares"] = {}


def public_storage_account(state: dict[str, Any]) -> None:
    p = state["storage_accounts"][t.STORAGE_ACCOUNT]["properties"]
    p["publicNetworkAccess"] = "Enabled"
    p["networkAcls"]["defaultAction"] = "Allow"


def insecure_transfer(state: dict[str, Any]) -> None:
    state["storage_accounts"][t.STORAGE_ACCOUNT]["properties"]["supportsHttpsTrafficOnly"] = False


def image_latest(state: dict[str, Any]) -> None:
    _container(state, t.RELAY)["image"] = "gundb/gun:latest"


def bad_cpu_memory(state: dict[str, Any]) -> None:
    _container(state, t.NODE)["resources"] = {"cpu": 1.0, "memory": "3Gi"}


def no_scale_rule(state: dict[str, Any]) -> None:
    _app(state, t.NODE)["properties"]["template"]["scale"]["rules"] = []


def sticky_sessions(state: dict[str, Any]) -> None:
    _app(state, t.NODE)["properties"]["configuration"]["ingress"]["stickySessions"] = {"affinity": "sticky"}


def deny_ip_restriction(state: dict[str, Any]) -> None:
    _app(state, t.NODE)["properties"]["configuration"]["ingress"]["ipSecurityRestrictions"] = [
        {"name": "block-scanner", "ipAddressRange": "198.51.100.7/32", "action": "Deny"}]


def http2_relay(state: dict[str, Any]) -> None:
    _app(state, t.RELAY)["properties"]["configuration"]["ingress"]["transport"] = "http2"


def relay_target_port(state: dict[str, Any]) -> None:
    _app(state, t.RELAY)["properties"]["configuration"]["ingress"]["targetPort"] = 8080


def gun_disabled(state: dict[str, Any]) -> None:
    set_env(state, t.NODE, "GUN_ENABLED", "false")


def gun_server_port(state: dict[str, Any]) -> None:
    set_env(state, t.NODE, "GUN_SERVER_PORT", "3000")


def unhealthy_revision(state: dict[str, Any]) -> None:
    rev = state["revisions"][t.RELAY][0]["properties"]
    rev["healthState"] = "Unhealthy"
    rev["runningState"] = "Degraded"


def stuck_revision(state: dict[str, Any]) -> None:
    """A new node revision created an hour before 'now', still provisioning; the old one serves."""
    from datetime import datetime, timedelta, timezone

    node = _app(state, t.NODE)
    created = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    state["revisions"][t.NODE].append(t.revision(node, f"{t.NODE}--n2", weight=0, replicas=0, health="None",
                                                 provisioning="Provisioning", running="Processing",
                                                 created=created))
    node["properties"]["latestRevisionName"] = f"{t.NODE}--n2"


def unready_container(state: dict[str, Any]) -> None:
    node = _app(state, t.NODE)
    state["replicas"][NREV][1] = t.replica(node, NREV, 1, ready=False, details="readiness probe failed: 503")
