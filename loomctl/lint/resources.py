"""The resources a linted file defines, resolved: ARM-GET-shaped bodies with what stays unknown set aside.

A template's expressions are evaluated offline (lint/expressions.py); a value that is not known offline is
taken out of the body and kept in `Resource.unresolved` (path -> the expression), so that no check judges it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loomctl.lint.expressions import Evaluator, Unresolved, is_expression
from loomctl.lint.positions import Path
from loomctl.lint.sources import Source

APP = "microsoft.app/containerapps"
ENV = "microsoft.app/managedenvironments"
ENV_STORAGE = "microsoft.app/managedenvironments/storages"
ACCOUNT = "microsoft.storage/storageaccounts"
SHARE = "microsoft.storage/storageaccounts/fileservices/shares"
DEPLOYMENT = "microsoft.resources/deployments"
IGNORE_KEY = "loomctl:ignore"


@dataclass
class Resource:
    type: str  # lower case, full (parent/child)
    name: str  # full ("env/storage" for a child)
    body: dict[str, Any]
    source: Source
    doc_path: Path  # where the resource is in the document
    unresolved: dict[Path, Unresolved] = field(default_factory=dict)  # relative to body
    ignores: set[str] = field(default_factory=set)
    api_version: str | None = None
    locate: Callable[[Path], Path] | None = None  # body path -> document path, where they differ (the spec)

    def doc_path_of(self, path: Path) -> Path:
        return (*self.doc_path, *(self.locate(path) if self.locate else path))

    @property
    def short_name(self) -> str:
        return self.name.rsplit("/", 1)[-1]


@dataclass
class Note:
    """Something lint could not judge in the file itself (LOOM80x), at a document path."""

    code: str
    message: str
    source: Source
    doc_path: Path


def _strip(value: Any, path: Path, out: dict[Path, Unresolved]) -> Any:
    """The value without its unresolved parts (recorded in `out`)."""
    if isinstance(value, dict):
        kept = {}
        for k, v in value.items():
            if isinstance(v, Unresolved):
                out[(*path, k)] = v
            else:
                kept[k] = _strip(v, (*path, k), out)
        return kept
    if isinstance(value, list):
        kept_l = []
        for i, v in enumerate(value):
            if isinstance(v, Unresolved):
                out[(*path, i)] = v
            else:
                kept_l.append(_strip(v, (*path, i), out))
        return kept_l
    return value


def _ignores(body: dict[str, Any]) -> set[str]:
    codes = (body.get("metadata") or {}).get(IGNORE_KEY) if isinstance(body.get("metadata"), dict) else None
    if isinstance(codes, str):
        codes = [codes]
    return {str(c).strip().upper() for c in codes or [] if isinstance(c, str)}


def _parameters(template: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    declared = template.get("parameters") if isinstance(template.get("parameters"), dict) else {}
    values: dict[str, Any] = {}
    ev = Evaluator(values, {})
    for name, p in declared.items():
        hit = next((v for k, v in given.items() if k.lower() == name.lower()), None)
        if hit is not None:
            values[name] = hit
        elif isinstance(p, dict) and "defaultValue" in p:
            values[name] = ev.value(p["defaultValue"])  # a default may use earlier parameters
        else:
            values[name] = Unresolved(f"[parameters('{name}')]", "no default value and no --parameters value")
        if isinstance(values[name], Unresolved) and not values[name].expression.startswith("[parameters("):
            values[name] = Unresolved(f"[parameters('{name}')]", f"its default {values[name].expression} is known "
                                      "only when deploying")
    return values


def from_template(src: Source, given: dict[str, Any], notes: list[Note],
                  template: dict[str, Any] | None = None, base: Path = ()) -> list[list[Resource]]:
    """The resources of a template, one list per deployment (the template, then each nested inline template)."""
    template = src.doc.value if template is None else template
    params = _parameters(template, given)
    raw_vars = template.get("variables") if isinstance(template.get("variables"), dict) else {}
    raw = template.get("resources")
    items: list[tuple[Path, dict[str, Any]]] = []
    if isinstance(raw, dict):  # languageVersion 2.0: symbolic names
        items = [((*base, "resources", k), v) for k, v in raw.items() if isinstance(v, dict)]
    elif isinstance(raw, list):
        items = [((*base, "resources", i), v) for i, v in enumerate(raw) if isinstance(v, dict)]
    envs: dict[str, str] = {}
    ev = Evaluator(params, raw_vars, lambda rid: _env_of(rid, envs))
    for _path, r in _flatten(items):  # the environments first: peers reference their default domain
        if str(r.get("type", "")).lower() == ENV and r.get("existing") is not True:
            name = ev.value(r.get("name"))
            if isinstance(name, str):
                envs[name.lower()] = name
    own: list[Resource] = []
    nested: list[list[Resource]] = []
    for path, r in _flatten(items):
        kind = str(r.get("type", "")).lower()
        if r.get("existing") is True:  # languageVersion 2.0 (Bicep `existing`): defined elsewhere, not here
            continue
        if "copy" in r:
            notes.append(Note("LOOM802", f"resource {r.get('name')} is a copy loop: its copies are not judged",
                              src, path))
            continue
        if "condition" in r:
            cond = ev.value(r["condition"])
            if cond is False:
                continue
            if isinstance(cond, Unresolved):
                notes.append(Note("LOOM803", f"the condition {cond.expression} of resource {r.get('name')} is "
                                  "known only when deploying: the resource is judged as if deployed", src,
                                  (*path, "condition")))
        if kind == DEPLOYMENT:
            inner = (r.get("properties") or {}).get("template")
            if isinstance(inner, dict):
                inner_params = {k: ev.value(v.get("value")) for k, v in
                                ((r.get("properties") or {}).get("parameters") or {}).items() if isinstance(v, dict)}
                nested += from_template(src, inner_params, notes, inner, (*path, "properties", "template"))
            continue
        if kind not in (APP, ENV, ENV_STORAGE, ACCOUNT, SHARE):
            continue
        body_raw = {k: v for k, v in r.items() if k not in ("dependsOn", "condition", "comments")}
        unresolved: dict[Path, Unresolved] = {}
        body = _strip(ev.value(body_raw), (), unresolved)
        name = body.get("name") if isinstance(body.get("name"), str) else \
            unresolved.get(("name",), Unresolved(str(r.get("name")))).expression
        body["name"] = name.rsplit("/", 1)[-1] if kind != SHARE else name.rsplit("/", 1)[-1]
        own.append(Resource(kind, name, body, src, path, unresolved, _ignores(r), r.get("apiVersion")))
    return [own, *nested] if own or not nested else nested


def _flatten(items: list[tuple[Path, dict[str, Any]]], parent: tuple[str, str] | None = None
             ) -> list[tuple[Path, dict[str, Any]]]:
    """Child resources declared inside their parent (`resources` of a resource) as top-level ones."""
    out = []
    for path, r in items:
        if parent is not None:
            r = {**r, "type": f"{parent[0]}/{r.get('type')}",
                 "name": r.get("name") if is_expression(r.get("name")) else f"{parent[1]}/{r.get('name')}"}
        out.append((path, r))
        children = r.get("resources")
        if isinstance(children, list) and isinstance(r.get("name"), str) and not is_expression(r.get("name")):
            out += _flatten([((*path, "resources", i), c) for i, c in enumerate(children) if isinstance(c, dict)],
                            (str(r.get("type")), str(r.get("name"))))
    return out


def _env_of(resource_id: str, envs: dict[str, str]) -> str | None:
    parts = resource_id.rstrip("/").split("/")
    for i in range(len(parts) - 2):
        if f"{parts[i]}/{parts[i + 1]}".lower() == ENV and i + 2 < len(parts):
            return envs.get(parts[i + 2].lower())
    return envs.get(resource_id.lower())  # reference('name')


def from_app(src: Source) -> list[Resource]:
    values = src.doc.value if src.kind == "apps" else [src.doc.value]
    base: list[Path] = [(i,) for i in range(len(values))] if src.kind == "apps" else [()]
    out = []
    for path, v in zip(base, values):
        out.append(Resource(APP, str(v.get("name") or "(unnamed)"), v, src, path, {}, _ignores(v),
                            None))
    return out


def from_spec(src: Source, relay: str, node: str) -> list[Resource]:
    """loomctl's own spec (`deploy infra --export`) as the bodies `deploy infra` would write."""
    from loomctl.deploy import infra
    from loomctl.deploy import spec as sp
    from loomctl.lint.expressions import domain_symbol

    spec = sp.resolved(sp.load(src.path, relay, node), domain_symbol("environment"), relay, "{subscription}",
                       "{resourceGroup}")
    env_body = {"name": "environment", "properties": {"defaultDomain": domain_symbol("environment")}}
    out = [Resource(ENV, "environment", env_body, src, ())]
    for st in spec.storages.values():
        out.append(Resource(ENV_STORAGE, f"environment/{st.name}", {"name": st.name, **infra.storage_body(st)},
                            src, ("storages", st.name)))
    for app in spec.apps.values():
        body = infra.app_body(app, None, {"id": "environment"})
        body["name"] = app.name
        unknown: dict[Path, Unresolved] = {}
        if not app.image:  # `loomctl deploy app` rolls images out: the spec keeps the live one
            unknown[("properties", "template", "containers", 0, "image")] = Unresolved(
                "the live image", "the spec leaves images to `loomctl deploy app`")
        out.append(Resource(APP, app.name, body, src, ("apps", app.name), unknown, locate=_spec_locator(body)))
    return out


_SPEC_KEYS = {("scale", "minReplicas"): "min_replicas", ("scale", "maxReplicas"): "max_replicas",
              ("scale", "rules"): "scale_rules", ("ingress", "external"): "external",
              ("ingress", "targetPort"): "target_port", ("ingress", "transport"): "transport",
              ("ingress", "allowInsecure"): "allow_insecure"}


def _spec_locator(body: dict[str, Any]) -> Callable[[Path], Path]:
    """Where a property of the app body `deploy infra` writes is in the spec: [apps.NAME] and its tables."""
    def locate(path: Path) -> Path:
        p = list(path)
        if p[:3] == ["properties", "template", "containers"] and len(p) > 4 and p[4] == "env" and len(p) > 5:
            env = body["properties"]["template"]["containers"][0]["env"]
            i = p[5]
            return ("env", env[i]["name"]) if isinstance(i, int) and i < len(env) else ("env",)
        if p[:3] == ["properties", "template", "containers"] and len(p) > 4:
            return {"image": ("image",), "resources": ("cpu",), "volumeMounts": ("volumes",)}.get(p[4], ())
        if p[:2] == ["properties", "template"] and len(p) > 3 and p[2] == "scale":
            return (_SPEC_KEYS.get(("scale", p[3]), "min_replicas"),)
        if p[:2] == ["properties", "template"] and len(p) > 2 and p[2] == "volumes":
            return ("volumes",)
        if p[:3] == ["properties", "configuration", "ingress"]:
            return ("ingress", *((_SPEC_KEYS[("ingress", p[3])],) if len(p) > 3 and ("ingress", p[3]) in _SPEC_KEYS
                                 else ()))
        if p[:3] == ["properties", "configuration", "secrets"]:
            return ("secrets",)
        return ("identity",) if p[:1] == ["identity"] else ()

    return locate
