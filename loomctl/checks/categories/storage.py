"""Category "Storage": the Azure Files share behind the apps' volumes, its quota, mounts and data folders."""

from __future__ import annotations

from typing import Any

from loomctl.azure.model import data_location
from loomctl.checks.base import AppRef, NotJudged, Outcome, failed, passed, skipped, spec_maker, warned
from loomctl.checks.categories.live import live_providers

CATEGORY = "Storage"

USAGE_WARN = 0.80
USAGE_FAIL = 0.95


def _azure_file_volumes(app_obj: Any) -> list[Any]:
    return [v for v in app_obj.volumes if (v.storage_type or "").lower() in ("azurefile", "nfsazurefile")]


def _used_storages(apps: dict[str, Any]) -> list[str]:
    return sorted({v.storage_name for a in apps.values() for v in _azure_file_volumes(a) if v.storage_name})


def _gib(n: float) -> str:
    return f"{n / 1024**3:.1f} GiB"


def _unreadable(err: Exception) -> dict[str, bool]:
    """A read that failed for access (not a 404) judged nothing: doctor ends with exit 3 (checks/plan.py)."""
    from loomctl.azure.errors import could_not_read

    return {"unreadable": True} if could_not_read(err) else {}


def _require(storage: Any, *parts: str) -> None:
    """Not judged unless the inventory holds `parts` ("accounts", "shares"): a template or a Resource Graph row
    may hold only the environment storages, and a missing account there is unknown, not missing."""
    lacking = [p for p in parts if p not in storage.known]
    if lacking:
        raise NotJudged(f"the definition holds no storage {' or '.join(lacking)}")


def check_volumes_reference_storage(app: AppRef, app_obj: Any, storage: Any) -> Outcome:
    vols = _azure_file_volumes(app_obj)
    if not vols:  # whether GUN's data is then lost is LOOM506's finding
        return skipped(f"app '{app.name}' mounts no Azure Files volume")
    missing = [v for v in vols if v.storage_name not in storage.storages]
    if missing:
        known = ", ".join(sorted(storage.storages)) or "none"
        names = ", ".join(f"'{v.name}' → '{v.storage_name}'" for v in missing)
        return failed(f"volume {names} names an environment storage that does not exist (environment has: {known})",
                      f"create it: `az containerapp env storage set -n <env> -g <group> --storage-name "
                      f"{missing[0].storage_name} --azure-file-account-name <account> --azure-file-share-name <share> "
                      f"--azure-file-account-key <key> --access-mode ReadWrite`, or fix the volume's storageName",
                      missing=[v.storage_name for v in missing])
    return passed(", ".join(f"volume '{v.name}' → environment storage '{v.storage_name}'" for v in vols))


def check_account_exists(apps: dict[str, Any], storage: Any) -> Outcome:
    _require(storage, "accounts")
    used = [storage.storages[n] for n in _used_storages(apps) if n in storage.storages]
    if not used:
        return skipped("no environment storage used by the apps")
    for st in used:
        if not st.account:
            return failed(f"environment storage '{st.name}' names no storage account",
                          "set it again with `az containerapp env storage set ... --azure-file-account-name`")
        if st.account in storage.errors:
            err = storage.errors[st.account]
            return failed(f"storage account '{st.account}' could not be read: {err.message}", err.hint,
                          **_unreadable(err))
        acct = storage.accounts.get(st.account)
        if acct is None:
            return failed(f"storage account '{st.account}' (named by environment storage '{st.name}') does not exist "
                          "in this subscription", "create it, or point the environment storage at an existing "
                          "account: `az storage account list --query \"[].name\"`", account=st.account)
        if (acct.provisioning_state or "Succeeded") != "Succeeded":
            return failed(f"storage account '{acct.name}' is {acct.provisioning_state}",
                          "wait for the account's operation to finish; see its activity log")
    names = sorted({st.account for st in used})
    return passed(f"storage account {', '.join(repr(n) for n in names)} exists",
                  accounts={n: storage.accounts[n].resource_group for n in names if storage.accounts.get(n)})


def check_share_exists(apps: dict[str, Any], storage: Any) -> Outcome:
    _require(storage, "accounts", "shares")
    used = [storage.storages[n] for n in _used_storages(apps) if n in storage.storages]
    for st in used:
        key = (st.account, st.share)
        if f"{st.account}/{st.share}" in storage.errors:
            err = storage.errors[f"{st.account}/{st.share}"]
            return failed(f"file share '{st.share}' could not be read: {err.message}", err.hint, **_unreadable(err))
        if storage.accounts.get(st.account) is not None and storage.shares.get(key) is None:
            return failed(f"file share '{st.share}' does not exist in storage account '{st.account}'",
                          f"create it: `az storage share-rm create --storage-account {st.account} --name {st.share} "
                          "--quota 100`, or fix the environment storage's shareName", share=st.share)
    found = [f"{a}/{s}" for (a, s), sh in storage.shares.items() if sh is not None]
    if not found:
        return skipped("no share to look at")
    return passed(f"file share {', '.join(found)} exists")


def check_access_mode(app: AppRef, app_obj: Any, storage: Any) -> Outcome:
    for v in _azure_file_volumes(app_obj):
        st = storage.storages.get(v.storage_name)
        if st is None:
            continue
        if (st.access_mode or "ReadWrite").lower() != "readwrite":
            return failed(f"environment storage '{st.name}' is {st.access_mode}: GUN cannot write its radisk data "
                          f"through volume '{v.name}'",
                          f"set it ReadWrite: `az containerapp env storage set -n <env> -g <group> --storage-name "
                          f"{st.name} ... --access-mode ReadWrite`", access_mode=st.access_mode)
    modes = {v.storage_name: storage.storages[v.storage_name].access_mode for v in _azure_file_volumes(app_obj)
             if v.storage_name in storage.storages}
    if not modes:
        return skipped("no Azure Files volume to look at")
    return passed(", ".join(f"'{n}' is {m}" for n, m in modes.items()), access_modes=modes)


def check_quota(storage: Any) -> Outcome:
    _require(storage, "shares")
    shares = [s for s in storage.shares.values() if s is not None]
    if not shares:
        return skipped("no share to look at")
    worst = max(shares, key=lambda s: s.usage_ratio or 0.0)
    if worst.usage_ratio is None:
        return skipped(f"share '{worst.name}' reported no usage statistics")
    pct = worst.usage_ratio * 100
    details = {"share": worst.name, "usage_bytes": worst.usage_bytes, "quota_gib": worst.quota_gib,
               "percent": round(pct, 1)}
    text = f"share '{worst.name}' uses {_gib(worst.usage_bytes or 0)} of its {worst.quota_gib} GiB quota ({pct:.0f} %)"
    fix = (f"raise the quota: `az storage share-rm update --storage-account {worst.account} --name {worst.name} "
           f"--quota {max(worst.quota_gib * 2, 100)}`, or prune old radisk data")
    if worst.usage_ratio >= USAGE_FAIL:
        return failed(text + "; writes fail when it is full", fix, **details)
    if worst.usage_ratio >= USAGE_WARN:
        return warned(text, fix, **details)
    return passed(text, **details)


def check_mount_path(app: AppRef, app_obj: Any) -> Outcome:
    loc = data_location(app_obj)
    mounts = ", ".join(m.mount_path for c in app_obj.containers[:1] for m in c.mounts) or "none"
    if not loc.data_path:
        return warned(
            f"GUN_DATA_PATH is not set on '{app.name}': GUN writes 'radata' in its working directory, "
            f"not on the share (mounts: {mounts})",
            "set GUN_DATA_PATH to a folder under the Azure Files mount, e.g. <mountPath>/$(CONTAINER_APP_REPLICA_NAME)",
        )
    if loc.mount_path is None:
        return failed(f"GUN_DATA_PATH {loc.data_path} is not under any volume mount of '{app.name}' (mounts: "
                      f"{mounts}): the data stays in the container and is lost on restart",
                      "make the volume's mountPath and GUN_DATA_PATH agree (GUN_DATA_PATH = mountPath or a folder "
                      "below it)", data_path=loc.data_path, mounts=mounts)
    if loc.storage is None:
        return failed(f"GUN_DATA_PATH {loc.data_path} is on volume '{loc.volume}', which is not Azure Files: the "
                      "data is lost when the replica goes away",
                      "make the volume storageType AzureFile with an environment storage, mounted at GUN_DATA_PATH")
    return passed(f"GUN_DATA_PATH {loc.data_path} is on the Azure Files mount {loc.mount_path}",
                  data_path=loc.data_path, mount_path=loc.mount_path)


def check_shared_folder(apps: dict[str, Any], storage: Any) -> Outcome:
    writers: dict[tuple[str, str], list[str]] = {}
    for app_obj in apps.values():
        loc = data_location(app_obj)
        if loc.storage is None or loc.per_replica:
            continue
        st = storage.storages.get(loc.storage)
        share = f"{st.account}/{st.share}" if st and st.account else loc.storage
        many = max(app_obj.min_replicas, app_obj.max_replicas or 1)
        writers.setdefault((share, loc.folder or ""), []).append(
            f"up to {many} replicas of '{app_obj.name}'" if many > 1 else f"'{app_obj.name}'")
        if many > 1 and len(writers[(share, loc.folder or "")]) == 1:
            writers[(share, loc.folder or "")].append("")  # several replicas of one app are already many writers
    shared = {k: [w for w in v if w] for k, v in writers.items() if len(v) > 1}
    if shared:
        (share, folder), who = next(iter(shared.items()))
        return warned(f"{' and '.join(who)} write GUN radisk into the same folder '/{folder}' of share {share}: "
                      "several GUN processes on one folder corrupt data",
                      "give each replica its own folder: GUN_DATA_PATH=<mountPath>/$(CONTAINER_APP_REPLICA_NAME)",
                      shared={f"{s}:/{f}": w for (s, f), w in shared.items()})
    return passed("every replica writes its own data folder")


def check_secure_transfer(storage: Any) -> Outcome:
    _require(storage, "accounts")
    accts = [a for a in storage.accounts.values() if a is not None]
    if not accts:
        return skipped("no storage account to look at")
    bad = [a for a in accts if a.https_only is False]
    if bad:
        return warned(f"storage account '{bad[0].name}' accepts unencrypted (HTTP/SMB 2.1) connections",
                      f"require secure transfer: `az storage account update -n {bad[0].name} --https-only true`")
    old = [a for a in accts if a.minimum_tls and a.minimum_tls.upper() in ("TLS1_0", "TLS1_1")]
    if old:
        return warned(f"storage account '{old[0].name}' accepts {old[0].minimum_tls}",
                      f"`az storage account update -n {old[0].name} --min-tls-version TLS1_2`")
    return passed("secure transfer required" + "".join(f"; {a.name} minimum {a.minimum_tls}" for a in accts
                                                      if a.minimum_tls))


def check_public_access(storage: Any) -> Outcome:
    _require(storage, "accounts")
    accts = [a for a in storage.accounts.values() if a is not None]
    if not accts:
        return skipped("no storage account to look at")
    bad = [a for a in accts if a.publicly_reachable]
    if bad:
        return warned(f"storage account '{bad[0].name}' is reachable from every network (public network access "
                      f"{bad[0].public_network_access or 'Enabled'}, "
                      f"firewall default {bad[0].default_action or 'Allow'})",
                      "the reference uses a private endpoint: `az storage account update -n "
                      f"{bad[0].name} --public-network-access Disabled` after adding one, or `--default-action Deny` "
                      "with the environment's subnet allowed")
    return passed(", ".join(f"'{a.name}': public access {a.public_network_access or 'Enabled'}, "
                            f"firewall default {a.default_action or 'Allow'}" for a in accts))


# global checks read both apps: after every instance of LOOM105
_spec = spec_maker(CATEGORY, after=("LOOM105",), needs_azure=True, fill_hints=True)


CHECKS = [
    _spec("LOOM501", "volumes name an existing environment storage",
          "An app's AzureFile volume names an environment storage that the environment does not have: the revision "
          "cannot mount it and its replicas do not start.",
          "Create the environment storage (`az containerapp env storage set`) or fix the volume's storageName.",
          check_volumes_reference_storage, ("app_obj", "storage"), per_app=True,
          after_all=("LOOM105",)),  # "storage" reads the storages both apps use
    _spec("LOOM502", "storage account exists",
          "The environment storage points at a storage account that does not exist or cannot be read, so every "
          "mount of it fails.",
          "Point the environment storage at an existing account (`az storage account list`).",
          check_account_exists, ("apps", "storage")),
    _spec("LOOM503", "file share exists",
          "The share named by the environment storage is missing from its account: mounts fail with 'mount error(2)'.",
          "Create the share (`az storage share-rm create`) or fix the environment storage's shareName.",
          check_share_exists, ("apps", "storage")),
    _spec("LOOM504", "storage access mode lets GUN write",
          "The environment storage is ReadOnly: GUN's radisk cannot write, so data is not persisted.",
          "Set the environment storage's access mode to ReadWrite.",
          check_access_mode, ("app_obj", "storage"), per_app=True,
          after_all=("LOOM105",)),  # "storage" reads the storages both apps use
    _spec("LOOM505", "share usage below quota",
          "The share is close to its quota (warning from 80 %, failure from 95 %); when full, GUN's writes fail.",
          "Raise the share quota (`az storage share-rm update --quota`) or prune old data.",
          check_quota, ("storage",)),
    _spec("LOOM506", "mountPath matches GUN_DATA_PATH",
          "GUN_DATA_PATH is not on the Azure Files mount, so GUN writes inside the container and loses its data on "
          "every restart.",
          "Make GUN_DATA_PATH the volume's mountPath or a folder below it.",
          check_mount_path, ("app_obj",), per_app=True),
    _spec("LOOM507", "each replica writes its own data folder",
          "Several replicas (or both apps) write GUN's radisk into the same folder of one share; GUN's maintainer "
          "warns that separate GUN processes on the same files corrupt data (amark/gun issue 723).",
          "Use a per-replica folder: GUN_DATA_PATH=<mountPath>/$(CONTAINER_APP_REPLICA_NAME).",
          check_shared_folder, ("apps", "storage")),
    _spec("LOOM508", "storage account requires secure transfer",
          "The account accepts unencrypted connections or old TLS versions (reference: encryption in transit).",
          "`az storage account update --https-only true --min-tls-version TLS1_2`.",
          check_secure_transfer, ("storage",)),
    _spec("LOOM509", "storage account not open to every network",
          "The account's file endpoint is reachable from the internet; the reference puts Azure Files behind a "
          "private endpoint.",
          "Add a private endpoint and disable public network access, or set the firewall's default action to Deny.",
          check_public_access, ("storage",)),
]


def providers(loom: Any, apps: list[AppRef]) -> dict[str, Any]:
    def storage(i: Any) -> Any:
        from loomctl.azure.storage import inventory

        return inventory(i.get("session"), lambda: set(_used_storages(i.get("apps"))))

    return {"storage": storage, **live_providers(apps)}
