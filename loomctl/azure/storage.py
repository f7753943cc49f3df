"""Azure Files behind the deployment: environment storages (Microsoft.App), storage accounts and file shares
(Microsoft.Storage, with `$expand=stats` for the share's usage), read as REST answers (`AzureSession.arm_get`).
Returns loomctl's own dataclasses.

The environment storage names only the account, not its resource group: the account is looked up in the
deployment's resource group first, then anywhere in the subscription.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loomctl.azure.deployment import APP_API, _name, _not_found, _path, memo, parallel
from loomctl.azure.errors import as_loom_error
from loomctl.core.errors import AzureError, LoomError

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.azure.session import AzureSession

ACCOUNTS = "providers/Microsoft.Storage/storageAccounts"
STORAGE_API = "2026-09-01"  # Microsoft.Storage (the version the fake's contract is checked against)


@dataclass
class EnvStorage:
    name: str
    kind: str  # "AzureFile" or "NfsAzureFile"
    account: str | None
    share: str | None
    access_mode: str | None
    key_vault: bool  # the account key comes from Key Vault

    @classmethod
    def parse(cls, d: dict[str, Any]) -> EnvStorage:
        p = d.get("properties") or {}
        kind, f = (
            ("NfsAzureFile", p["nfsAzureFile"]) if p.get("nfsAzureFile") else ("AzureFile", p.get("azureFile") or {})
        )
        account = f.get("accountName")
        if not account and f.get("server"):  # NFS: "<account>.file.core.windows.net"
            account = str(f["server"]).split(".")[0]
        share = f.get("shareName")
        if share and share.startswith("/") and account:  # NFS: "/<account>/<share>"
            share = share.rstrip("/").rsplit("/", 1)[-1]
        return cls(name=d.get("name", ""), kind=kind, account=account, share=share,
                   access_mode=f.get("accessMode"), key_vault=bool(f.get("accountKeyVaultProperties")))


@dataclass
class StorageAccount:
    name: str
    id: str
    resource_group: str
    kind: str | None
    sku: str | None
    provisioning_state: str | None
    https_only: bool | None
    minimum_tls: str | None
    public_network_access: str | None
    default_action: str | None  # network ACL default action: Allow or Deny

    @classmethod
    def parse(cls, d: dict[str, Any]) -> StorageAccount:
        p = d.get("properties") or {}
        rid = d.get("id", "")
        parts = rid.split("/")
        rg = next((parts[i + 1] for i, x in enumerate(parts[:-1]) if x.lower() == "resourcegroups"), "")
        return cls(name=d.get("name", ""), id=rid, resource_group=rg, kind=d.get("kind"),
                   sku=(d.get("sku") or {}).get("name"), provisioning_state=p.get("provisioningState"),
                   https_only=p.get("supportsHttpsTrafficOnly"), minimum_tls=p.get("minimumTlsVersion"),
                   public_network_access=p.get("publicNetworkAccess"),
                   default_action=(p.get("networkAcls") or {}).get("defaultAction"))

    @property
    def publicly_reachable(self) -> bool:
        """Reachable from any network: public access not disabled and the firewall admits everyone."""
        if (self.public_network_access or "").lower() == "disabled":
            return False
        return (self.default_action or "Allow").lower() == "allow"


@dataclass
class FileShare:
    account: str
    name: str
    quota_gib: int | None
    usage_bytes: int | None
    protocols: str | None

    @property
    def usage_ratio(self) -> float | None:
        if not self.quota_gib or self.usage_bytes is None:
            return None
        return self.usage_bytes / (self.quota_gib * 1024**3)

    @classmethod
    def parse(cls, account: str, d: dict[str, Any]) -> FileShare:
        p = d.get("properties") or {}
        return cls(account=account, name=d.get("name", ""), quota_gib=p.get("shareQuota"),
                   usage_bytes=p.get("shareUsageBytes"), protocols=p.get("enabledProtocols"))


@dataclass
class StorageInventory:
    """Every environment storage, and for those the apps use, the account and share behind it."""

    storages: dict[str, EnvStorage]
    accounts: dict[str, StorageAccount | None] = field(default_factory=dict)  # None: not found
    shares: dict[tuple[str, str], FileShare | None] = field(default_factory=dict)
    errors: dict[str, LoomError] = field(default_factory=dict)  # account or account/share -> why not read
    # what this inventory holds: a live read holds all three; a template or a Resource Graph row may hold only
    # the environment storages, and a check that needs more is then not judged (checks/categories/storage.py)
    known: frozenset[str] = frozenset({"storages", "accounts", "shares"})


def list_env_storages(session: AzureSession) -> dict[str, EnvStorage]:
    s = session.settings
    s.require("subscription", "resource_group", "environment")
    path = _path(session, "providers/Microsoft.App/managedEnvironments", _name(s.environment), "storages")
    return dict(memo(session, path, lambda: _list_env_storages(session, path)))


def _list_env_storages(session: AzureSession, path: str) -> dict[str, EnvStorage]:
    s = session.settings
    try:
        items = session.arm_list(path, APP_API)
    except AzureError as exc:
        if _not_found(exc):
            raise AzureError(f"Container Apps environment '{s.environment}' not found in resource group "
                             f"'{s.resource_group}'", "check --environment (env LOOMCTL_ENVIRONMENT)",
                             status=404) from exc
        raise
    parsed = [EnvStorage.parse(m) for m in items]
    return {i.name: i for i in parsed}


def get_account(session: AzureSession, name: str) -> StorageAccount | None:
    """The storage account by name: in the deployment's resource group, else anywhere in the subscription."""
    return memo(session, _path(session, "providers/Microsoft.Storage/storageAccounts", name),
                lambda: _get_account(session, name))


def _get_account(session: AzureSession, name: str) -> StorageAccount | None:
    try:
        return StorageAccount.parse(session.arm_get(_path(session, ACCOUNTS, _name(name)), STORAGE_API))
    except AzureError as exc:
        if not _not_found(exc):
            raise
    for d in session.arm_list(f"/subscriptions/{session.settings.subscription}/{ACCOUNTS}", STORAGE_API):
        if str(d.get("name", "")).lower() == name.lower():
            return StorageAccount.parse(d)
    return None


def get_share(session: AzureSession, account: StorageAccount, share: str) -> FileShare | None:
    return memo(session, f"{account.id or account.name}/fileServices/default/shares/{share}",
                lambda: _get_share(session, account, share))


def _get_share(session: AzureSession, account: StorageAccount, share: str) -> FileShare | None:
    s = session.settings
    path = (f"/subscriptions/{s.subscription}/resourceGroups/{_name(account.resource_group)}/{ACCOUNTS}/"
            f"{_name(account.name)}/fileServices/default/shares/{_name(share)}")
    try:
        doc = session.arm_get(path, STORAGE_API, params={"$expand": "stats"})
    except AzureError as exc:
        if _not_found(exc):
            return None
        raise
    return FileShare.parse(account.name, doc)


def inventory(session: AzureSession, used: Callable[[], set[str]] | None = None) -> StorageInventory:
    """Environment storages, then (concurrently) the account and share behind each one that `used()` names
    (default: all). `used` runs while the environment storages are fetched."""
    storages, used_names = parallel([lambda: list_env_storages(session), used or (lambda: None)])
    inv = StorageInventory(storages)
    wanted = [st for n, st in storages.items() if (used_names is None or n in used_names) and st.account]
    accounts = sorted({st.account for st in wanted if st.account})

    def account_and_shares(name: str) -> None:
        try:
            acct = get_account(session, name)
        except Exception as exc:  # noqa: BLE001 - recorded per account; other accounts still read
            inv.errors[name] = as_loom_error(exc)
            return
        inv.accounts[name] = acct
        if acct is None:
            return
        for st in wanted:
            if st.account == name and st.share and (name, st.share) not in inv.shares:
                try:
                    inv.shares[(name, st.share)] = get_share(session, acct, st.share)
                except Exception as exc:  # noqa: BLE001
                    inv.errors[f"{name}/{st.share}"] = as_loom_error(exc)

    parallel([lambda n=n: account_and_shares(n) for n in accounts])
    return inv
