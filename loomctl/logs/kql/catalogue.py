"""The canned queries: `.kql` files in `loomctl/logs/kql/queries/`, each with a header of `// key: value` lines.

    // name: sync-latency
    // description: LoomMesh sync latency percentiles per time bin
    // param: bin_size timespan auto  Width of a time bin (auto: about 30 bins over the range)
    // chart: p50 p95 p99
    Metrics
    | where Name == "gun.sync.latency_ms"
    ...

`render()` puts a prelude of typed `let` statements in front of the body: the time range, the app/replica/
revision filters, every declared parameter (user values only as escaped literals) and the views the body uses.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

from loomctl.core.errors import UsageError, by_name
from loomctl.core.once import once
from loomctl.logs.kql import literals as lit
from loomctl.logs.kql import views
from loomctl.logs.matching import ERROR_TERMS

PARAM_TYPES = ("string", "int", "real", "bool", "timespan")
_HEADER = re.compile(r"^//\s*([a-z_]+):\s?(.*)$")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: str  # as written in the file; "auto" for timespans means "from the range"
    description: str


@dataclass(frozen=True)
class CannedQuery:
    name: str
    description: str
    body: str
    params: tuple[Param, ...] = ()
    chart: tuple[str, ...] = ()  # numeric columns to draw as sparklines, one series per row group
    source: str = ""

    @property
    def views(self) -> list[str]:
        return [v for v in views.VIEW_NAMES if re.search(rf"\b{v}\b", self.body)]


def parse(text: str, source: str = "") -> CannedQuery:
    meta: dict[str, Any] = {"param": []}
    lines = text.splitlines()
    i = 0
    while i < len(lines) and (m := _HEADER.match(lines[i].strip())):
        key, value = m.group(1), m.group(2).strip()
        if key == "param":
            meta["param"].append(value)
        else:
            meta[key] = value
        i += 1
    body = "\n".join(lines[i:]).strip()
    if not meta.get("name") or not meta.get("description") or not body:
        raise ValueError(f"{source}: a canned query needs '// name:', '// description:' and a body")
    params = []
    for spec in meta["param"]:
        parts = spec.split(None, 3)
        if len(parts) < 3 or parts[1] not in PARAM_TYPES:
            raise ValueError(f"{source}: bad param line '{spec}' (NAME TYPE DEFAULT DESCRIPTION)")
        lit.identifier(parts[0])
        params.append(Param(parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else ""))
    chart = tuple((meta.get("chart") or "").split())
    return CannedQuery(meta["name"], meta["description"], body, tuple(params), chart, source)


@once
def _shipped() -> Mapping[str, CannedQuery]:
    """Every shipped query, read once (the doctor's log checks ask from several threads at the same time)."""
    folder = resources.files("loomctl.logs.kql") / "queries"
    found: dict[str, CannedQuery] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".kql"):
            q = parse(entry.read_text(encoding="utf-8"), entry.name)
            found[q.name] = q
    return MappingProxyType(found)


def load_all() -> dict[str, CannedQuery]:
    return dict(_shipped())


def get(name: str) -> CannedQuery:
    return by_name(load_all(), name, "canned query", "`loomctl query list` shows them all")


# -- parameters ------------------------------------------------------------------------------------------------
def parse_assignments(values: tuple[str, ...] | list[str], query: CannedQuery) -> dict[str, str]:
    """`--param k=v` values, checked against the query's declared parameters."""
    known = {p.name: p for p in query.params}
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--param '{item}' is not NAME=VALUE", f"e.g. --param {next(iter(known), 'name')}=VALUE")
        if key not in known:
            names = ", ".join(known) or "none"
            raise UsageError(f"query '{query.name}' has no parameter '{key}'",
                             f"its parameters: {names} (`loomctl query show {query.name}`)")
        out[key] = value
    return out


def param_literal(param: Param, value: str | None, default_bin: dt.timedelta) -> str:
    """The KQL literal for a parameter value given as text (None: the declared default)."""
    from loomctl.core.timeutil import parse_duration

    text = param.default if value is None else value
    where = f"--param {param.name}"
    if param.type == "string":
        return lit.string("" if value is None and text == '""' else text)
    if param.type == "timespan":
        if text == "auto":
            return lit.timespan(default_bin)
        return lit.timespan(parse_duration(text, where))
    if param.type == "int":
        try:
            return lit.integer(int(text.strip()))
        except ValueError:
            raise UsageError(f"{where} '{text}' is not a whole number", "e.g. --param " + param.name + "=10") from None
    if param.type == "real":
        try:
            return lit.real(float(text.strip()))
        except ValueError:
            raise UsageError(f"{where} '{text}' is not a number", "e.g. --param " + param.name + "=2.5") from None
    if param.type == "bool":
        t = text.strip().lower()
        if t not in ("true", "false", "1", "0", "yes", "no"):
            raise UsageError(f"{where} '{text}' is not true or false", "use true or false")
        return lit.boolean(t in ("true", "1", "yes"))
    raise AssertionError(param.type)  # pragma: no cover


# -- rendering ---------------------------------------------------------------------------------------------------
@dataclass
class Scope:
    """Everything outside the body that decides the final KQL."""

    destination: str = views.LOG_ANALYTICS
    metrics_source: str = views.APP_METRICS
    start: dt.datetime | None = None  # None with `since`: ago(since) .. now() (the portal form)
    end: dt.datetime | None = None
    since: dt.timedelta | None = dt.timedelta(hours=1)
    apps: list[str] = field(default_factory=list)  # empty: every app
    replica: str = ""
    revision: str = ""
    params: dict[str, str] = field(default_factory=dict)

    @property
    def span(self) -> dt.timedelta:
        if self.start and self.end:
            return self.end - self.start
        return self.since or dt.timedelta(hours=1)


def is_error_function() -> str:
    terms = ", ".join(lit.string(t) for t in ERROR_TERMS)
    return f"let _is_error = (line: string) {{ line has_any ({terms}) }};"


def prelude(scope: Scope, params: list[tuple[str, str]] = (), used_views: list[str] = (), body: str = "") -> str:
    if scope.destination not in views.DESTINATIONS:
        raise UsageError(f"unknown logs destination '{scope.destination}'",
                         f"use one of {', '.join(views.DESTINATIONS)}")
    if scope.metrics_source not in views.METRIC_SOURCES:
        raise UsageError(f"unknown metrics source '{scope.metrics_source}'",
                         f"use one of {', '.join(views.METRIC_SOURCES)}")
    if scope.start is not None:
        start, end = lit.datetime(scope.start), lit.datetime(scope.end or dt.datetime.now(dt.timezone.utc))
    else:
        start, end = f"ago({lit.timespan(scope.since or dt.timedelta(hours=1))})", "now()"
    lines = [f"let _start = {start};", f"let _end = {end};",
             f"let _apps = {lit.string_array(scope.apps)};",
             f"let _replica = {lit.string(scope.replica)};",
             f"let _revision = {lit.string(scope.revision)};"]
    lines += [f"let {lit.identifier(name)} = {value};" for name, value in params]
    if "_is_error(" in body:
        lines.append(is_error_function())
    for v in used_views:
        lines.append(views.view(v, scope.destination, scope.metrics_source))
    return "\n".join(lines)


def render(query: CannedQuery, scope: Scope) -> str:
    """The complete KQL for a canned query: description comment, prelude, body. Ready to paste in the portal."""
    from loomctl.core.timeutil import auto_bin

    bin_default = auto_bin(scope.span)
    unknown = set(scope.params) - {p.name for p in query.params}
    if unknown:
        raise UsageError(f"query '{query.name}' has no parameter '{sorted(unknown)[0]}'",
                         f"`loomctl query show {query.name}` lists its parameters")
    params = [(p.name, param_literal(p, scope.params.get(p.name), bin_default)) for p in query.params]
    head = f"// loomctl query: {query.name} ({scope.destination}) - {query.description}"
    return f"{head}\n{prelude(scope, params, query.views, query.body)}\n{query.body}\n"
