"""What `loomctl fleet list`, `fleet doctor` and `fleet status` show as tables (data already made safe)."""

from __future__ import annotations

from typing import Any

SYMBOL = {"fail": "×", "warn": "‼", "pass": "✓", "skip": "-"}


def _app_cell(app: dict[str, Any]) -> str:
    if app.get("missing"):
        return f"{app['name']}: MISSING"
    ing = app.get("ingress") or {}
    where = "no ingress" if not ing else ("external" if ing.get("external") else "internal") + \
        f":{ing.get('target_port')}"
    return (f"{app['name']} {app.get('latest_revision') or '-'} {app.get('image') or '-'} "
            f"replicas {app.get('min_replicas')}-{app.get('max_replicas') or '?'} {where}")


def list_table(doc: dict[str, Any]) -> list[Any]:
    from rich.table import Table

    t = Table(header_style="bold", box=None, pad_edge=False)
    for col in ("Subscription", "Resource group", "Environment", "Region"):
        t.add_column(col, no_wrap=True)
    for col in ("Relay", "Node"):
        t.add_column(col, overflow="fold")
    for d in doc["deployments"]:
        apps = {a["role"]: a for a in d["apps"]}
        t.add_row(d["subscription"], d["resource_group"], d["environment"], d["region"],
                  _app_cell(apps["relay"]), _app_cell(apps["node"]))
    return [t, footer(doc)]


def footer(doc: dict[str, Any]) -> str:
    rg = doc["resource_graph"]
    subs = doc["subscriptions"]
    denied = subs["denied"]
    refused = f"; refused: {', '.join(sorted(denied))}" if denied else ""
    return (f"{len(doc['deployments'])} deployments in {subs['asked']} subscriptions{refused} "
            f"(Resource Graph: {rg['requests']} requests, {rg['pages']} pages, {rg['rows']} rows)")


def _cell(c: dict[str, int] | None) -> str:
    if not c:
        return ""
    return " ".join(f"{c[k]}{SYMBOL[k]}" for k in ("fail", "warn", "pass", "skip") if c.get(k))


def doctor_table(doc: dict[str, Any]) -> list[Any]:
    from rich.table import Table

    t = Table(header_style="bold", box=None, pad_edge=False)
    t.add_column("Deployment", overflow="fold")
    t.add_column("Region")
    for cat in doc["categories"]:
        t.add_column(cat)
    for row in doc["matrix"]:
        t.add_row(row["deployment"], row["region"], *[_cell(row["categories"].get(c)) for c in doc["categories"]])
    out: list[Any] = [t]
    problems = [f for f in doc["findings"] if f["status"] in ("fail", "warn")]
    if problems:
        out.append("")
    for f in sorted(problems, key=lambda f: (f["status"] != "fail", f["deployment"] or "", f["code"])):
        where = f["deployment"] or "(fleet)"
        out.append(f"{SYMBOL[f['status']]} {where} {f['code']} {f['title']}: {f['message']}")
        if f.get("hint"):
            out.append(f"    hint: {f['hint']}")
    s, rg = doc["summary"], doc["resource_graph"]
    verdict = "no problems" if doc["success"] else "problems found"
    out.append(f"Fleet: {verdict} — {doc['deployments']} deployments, {s['fail']} failed, {s['warn']} warnings, "
               f"{s['pass']} passed, {s['skip']} not judged or skipped (Resource Graph: {rg['requests']} requests, "
               f"{rg['pages']} pages)")
    return out


def status_table(doc: dict[str, Any]) -> list[Any]:
    from rich.table import Table

    regions = doc["regions"]
    t = Table(header_style="bold", box=None, pad_edge=False)
    t.add_column("")
    for r in regions:
        t.add_column(f"{r['region']} ({len(r['deployments'])})", overflow="fold")

    def cell(region: dict[str, Any], role: str, bucket: str) -> str:
        app = region["apps"].get(role) or {}
        values = app.get(bucket) or {}
        text = ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in sorted(values.items()))
        if bucket == "images" and app.get("missing"):
            text += f" (missing in {app['missing']})"
        return text
    for role in ("relay", "node"):
        for bucket in ("images", "revisions", "replica_bounds"):
            t.add_row(f"{role} {bucket.replace('_', ' ')}", *[cell(r, role, bucket) for r in regions])
    out: list[Any] = [t]
    for d in doc["drift"]:
        out.append(f"{SYMBOL[d['status']]} {d['code']} {d['message']}")
    if not doc["drift"]:
        out.append("no image drift between regions")
    return out
