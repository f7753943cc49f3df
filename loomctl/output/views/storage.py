"""What `loomctl diagnose storage` shows besides the checks: environment storages, shares and each app's mounts."""

from __future__ import annotations

from typing import Any

from loomctl.azure.model import data_location


def storage_view(apps: dict[str, Any], inventory: Any) -> dict[str, Any]:
    """Plain rows from the live apps (by role) and a StorageInventory."""
    storages = [{"name": st.name, "kind": st.kind, "account": st.account, "share": st.share,
                 "access_mode": st.access_mode, "account_key_from_key_vault": st.key_vault}
                for st in inventory.storages.values()]
    shares = []
    for (account, share), sh in sorted(inventory.shares.items()):
        row: dict[str, Any] = {"account": account, "share": share, "exists": sh is not None}
        if sh is not None:
            ratio = sh.usage_ratio
            row.update(quota_gib=sh.quota_gib, usage_bytes=sh.usage_bytes,
                       percent=None if ratio is None else round(ratio * 100, 1), protocols=sh.protocols)
        shares.append(row)
    accounts = [{"name": n, "exists": a is not None, **({} if a is None else {
        "resource_group": a.resource_group, "sku": a.sku, "https_only": a.https_only, "minimum_tls": a.minimum_tls,
        "public_network_access": a.public_network_access, "firewall_default": a.default_action})}
        for n, a in sorted(inventory.accounts.items())]
    mounts = []
    for role, app in apps.items():
        loc = data_location(app)
        for c in app.containers[:1]:
            for m in c.mounts:
                vol = next((v for v in app.volumes if v.name == m.volume), None)
                mounts.append({"app": app.name, "role": role, "volume": m.volume,
                               "storage": vol.storage_name if vol else None, "mount_path": m.mount_path,
                               "data_path": loc.data_path if loc.volume == m.volume else None,
                               "share_folder": ("/" + (loc.folder or "")) if loc.volume == m.volume else None,
                               "per_replica": loc.per_replica if loc.volume == m.volume else None,
                               "replicas": f"{app.min_replicas}-{app.max_replicas}"})
        if not any(r["app"] == app.name for r in mounts):
            mounts.append({"app": app.name, "role": role, "volume": None, "storage": None, "mount_path": None,
                           "data_path": loc.data_path, "share_folder": None, "per_replica": loc.per_replica,
                           "replicas": f"{app.min_replicas}-{app.max_replicas}"})
    return {"storages": storages, "accounts": accounts, "shares": shares, "mounts": mounts}


def tables(view: dict[str, Any]) -> list[Any]:
    from rich.table import Table

    out: list[Any] = []
    t = Table(title="Mounts", title_justify="left", header_style="bold", box=None, pad_edge=False)
    for col in ("App", "Replicas", "Volume", "Storage", "Mount path", "GUN_DATA_PATH", "Folder on share"):
        t.add_column(col)
    for m in view["mounts"]:
        folder = m["share_folder"] or "-"
        if m["per_replica"]:
            folder += " (per replica)"
        t.add_row(m["app"], m["replicas"], m["volume"] or "-", m["storage"] or "-", m["mount_path"] or "-",
                  m["data_path"] or "(not set)", folder)
    out += [t, ""]
    t = Table(title="Shares", title_justify="left", header_style="bold", box=None, pad_edge=False)
    for col in ("Storage", "Account", "Share", "Access", "Quota", "Used"):
        t.add_column(col)
    shares = {(s["account"], s["share"]): s for s in view["shares"]}
    for st in view["storages"]:
        sh = shares.get((st["account"], st["share"]))
        quota = f"{sh['quota_gib']} GiB" if sh and sh.get("quota_gib") else "-"
        used = "missing" if sh and not sh["exists"] else (
            f"{sh['usage_bytes'] / 1024**3:.1f} GiB ({sh['percent']:.0f} %)" if sh and sh.get("percent") is not None
            else "-")
        t.add_row(st["name"], st["account"] or "-", st["share"] or "-", st["access_mode"] or "-", quota, used)
    out.append(t)
    return out
