"""Troubleshooting runbooks, stored as TOML files in this package (one per runbook).

A step is one of: `check = ["LOOM207", ...]` (checks run by the doctor runner), `category = "DNS"` (every
check of a category), `query = "peer-errors"` (a canned KQL query; `problem_if_rows = true` when rows explain
the problem) or `instruction = "..."` (text for a person). Text may name `{relay_app}`, `{node_app}`,
`{resource_group}`, `{environment}`; they are filled from the profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from loomctl.core.errors import by_name


@dataclass(frozen=True)
class Step:
    title: str
    check: tuple[str, ...] = ()
    category: str | None = None
    query: str | None = None
    instruction: str | None = None
    why: str | None = None
    problem_if_rows: bool = False
    expect: dict[str, Any] | None = None  # query rows: {"column", "min", "max", "hint"}; a value outside warns

    @property
    def kind(self) -> str:
        if self.check or self.category:
            return "check"
        return "query" if self.query else "instruction"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.title, "kind": self.kind}
        for k in ("check", "category", "query", "instruction", "why"):
            v = getattr(self, k)
            if v:
                out[k] = list(v) if isinstance(v, tuple) else v
        if self.query:
            out["problem_if_rows"] = self.problem_if_rows
        if self.expect:
            out["expect"] = dict(self.expect)
        return out


@dataclass(frozen=True)
class Runbook:
    name: str
    title: str
    summary: str
    source: str
    next: str
    steps: tuple[Step, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "summary": self.summary, "source": self.source,
                "next": self.next, "steps": [s.to_json() for s in self.steps]}


_KINDS = ("check", "category", "query", "instruction")


def parse(data: dict[str, Any], source: str) -> Runbook:
    for key in ("name", "title", "summary", "next"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ValueError(f"{source}: runbook needs '{key}'")
    steps = []
    for i, s in enumerate(data.get("steps") or [], 1):
        kinds = [k for k in _KINDS if s.get(k)]
        if not s.get("title") or len(kinds) != 1:
            raise ValueError(f"{source}: step {i} needs a title and exactly one of {', '.join(_KINDS)}")
        unknown = set(s) - {"title", "why", "problem_if_rows", "expect", *_KINDS}
        if unknown:
            raise ValueError(f"{source}: step {i} has unknown keys {sorted(unknown)}")
        steps.append(Step(title=s["title"], check=tuple(c.upper() for c in s.get("check") or ()),
                          category=s.get("category"), query=s.get("query"), instruction=s.get("instruction"),
                          why=s.get("why"), problem_if_rows=bool(s.get("problem_if_rows")),
                          expect=_expect(s.get("expect"), f"{source}: step {i}")))
    if not steps:
        raise ValueError(f"{source}: runbook has no steps")
    return Runbook(data["name"], data["title"], data["summary"], data.get("source", ""), data["next"], tuple(steps))


def _expect(value: Any, where: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not value.get("column") or not ("min" in value or "max" in value):
        raise ValueError(f"{where}: expect needs a column and min and/or max")
    return dict(value)


def load_all() -> dict[str, Runbook]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    out: dict[str, Runbook] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            rb = parse(tomllib.loads(entry.read_text(encoding="utf-8")), entry.name)
            out[rb.name] = rb
    return out


def get(name: str) -> Runbook:
    books = load_all()
    return by_name(books, name, "runbook", f"`loomctl runbook list` shows them: {', '.join(books)}")


def fill(text: str, values: dict[str, Any]) -> str:
    """Put profile values into `{name}` placeholders; unknown or unset ones stay as written."""

    class Keep(dict):  # type: ignore[type-arg]
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    try:
        return text.format_map(Keep({k: v for k, v in values.items() if v}))
    except (ValueError, IndexError):
        return text
