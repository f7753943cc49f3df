"""Lint files: read, resolve, group into deployments, run doctor's definition checks, and place each result
at the line and column of the property it judges (lint/judges.py). Plain functions returning dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loomctl.checks.base import CheckResult, Status
from loomctl.lint import judges
from loomctl.lint.deployments import Deployment, group
from loomctl.lint.resources import Note, Resource, from_app, from_spec, from_template
from loomctl.lint.sources import Source, read

LINT_RULES = {  # lint-only findings: what the file itself keeps from being judged
    "LOOM801": ("app not judged", "An app that is neither the relay nor the node (by the profile's relay_app and "
                "node_app, or by its GUN settings) is not a LoomDB app loomctl knows how to judge.",
                "Name the apps as the profile says (`loomctl config set relay_app NAME`), or ignore the finding."),
    "LOOM802": ("copy loop not judged", "A resource with `copy` is deployed several times under names known only "
                "when deploying; its copies are not judged.", "Lint the template Azure expands, or one copy."),
    "LOOM803": ("condition known only when deploying", "The resource's condition depends on values known only "
                "when deploying: it is judged as if deployed.", "Give the parameters with --parameters FILE."),
    "LOOM804": ("value known only when deploying", "An expression that loomctl cannot evaluate offline (reference, "
                "resourceGroup, a parameter without default...): the checks that read it are not judged.",
                "Give the parameters with --parameters FILE, or accept that these values are judged live by doctor."),
}


JUDGED_KEYS = ("name", "properties", "identity", "apiVersion", "kind", "sku")


@dataclass
class Finding:
    code: str
    title: str
    status: Status  # fail, warn, skip (not judged or suppressed), pass
    message: str
    file: str
    line: int
    column: int
    hint: str | None = None
    resource: str | None = None
    path: str | None = None
    not_judged: str | None = None  # the expression (or reason) a result was not judged for
    suppressed: str | None = None  # by what
    ignores: frozenset[str] = frozenset()  # the codes the judged resource's metadata ignores
    told_by: str | None = None  # a check not judged for a value: the LOOM804 finding that names the value

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "status": self.status.value, "message": self.message,
                "hint": self.hint, "file": self.file, "line": self.line, "column": self.column,
                "resource": self.resource, "path": self.path, "not_judged": self.not_judged,
                "suppressed": self.suppressed, "told_by": self.told_by}


@dataclass
class Report:
    files: list[str]
    findings: list[Finding] = field(default_factory=list)
    deployments: int = 0

    def problems(self, fail_on_warn: bool = False) -> list[Finding]:
        bad = {Status.FAIL, Status.WARN} if fail_on_warn else {Status.FAIL}
        return [f for f in self.findings if f.status in bad]


def _resources(src: Source, params: dict[str, Any], settings: Any, notes: list[Note]) -> list[list[Resource]]:
    if src.kind == "template":
        return from_template(src, params, notes)
    if src.kind == "spec":
        return [from_spec(src, settings.relay_app, settings.node_app)]
    return [from_app(src)]


def lint_paths(paths: list[str], settings: Any, params: dict[str, Any] | None = None,
               suppress: list[tuple[str, str | None]] | None = None) -> Report:
    """Lint every file (each read first, so that a bad file stops the run before any output)."""
    from loomctl.checks.definitions import run_definitions

    sources = [read(p) for p in paths]
    report = Report([s.path for s in sources])
    for src in sources:
        notes: list[Note] = []
        for resources in _resources(src, params or {}, settings, notes):
            for dep in group(resources, settings, notes):
                report.deployments += 1
                results = run_definitions(dep.definitions)
                report.findings += [place(r, dep, src) for r in results]
            for res in resources:
                report.findings += _unresolved_notes(res)
        report.findings += [_note(n) for n in notes]
    _fold(report.findings)
    _suppress(report, sources, suppress or [])
    report.findings.sort(key=lambda f: (report.files.index(f.file), f.line, f.column, f.code))
    return report


def _target(result: CheckResult, dep: Deployment) -> tuple[Resource | None, str]:
    path = result.details.get("path") if isinstance(result.details.get("path"), str) else None
    pointer = path or judges.JUDGES.get(result.code, ("",))[0]
    prefix, rel = judges.split(pointer)
    if prefix is None:
        return (dep.apps.get(result.resource or ""), rel)
    return dep.targets.get(prefix), rel


def place(result: CheckResult, dep: Deployment, src: Source) -> Finding:
    """The result at the property it judges; a value unknown offline there makes it "not judged"."""
    res, rel = _target(result, dep)
    finding = Finding(result.code, result.title, result.status, result.message, src.path, 1, 1, result.hint,
                      result.resource or (res.short_name if res else None), rel or None)
    if res is None:
        return finding
    finding.ignores = frozenset(res.ignores)
    where = judges.concrete(res.body, rel) if rel else ()
    finding.line, finding.column = res.source.doc.position(res.doc_path_of(where))
    unknown = _unknown(result, res, where, dep)
    if unknown is not None:
        finding.status, finding.not_judged = Status.SKIP, unknown.expression
        finding.message = f"not judged: {unknown.expression} is known only when deploying"
        finding.hint = None
    return finding


def _unknown(result: CheckResult, res: Resource, where: tuple[Any, ...], dep: Deployment) -> Any:
    if result.status in (Status.FAIL, Status.WARN):
        for path, u in res.unresolved.items():
            if judges.overlaps(path, where):
                return u
        return None
    if result.status is not Status.PASS:
        return None
    for reads in judges.JUDGES.get(result.code, ()):
        prefix, rel = judges.split(reads)
        target = dep.apps.get(result.resource or "") if prefix is None else dep.targets.get(prefix)
        if target is None:
            continue
        at = judges.concrete(target.body, rel)
        for path, u in target.unresolved.items():
            if judges.overlaps(path, at):
                return u
    return None


def _unresolved_notes(res: Resource) -> list[Finding]:
    out = []
    for path, u in res.unresolved.items():
        if path[0] not in JUDGED_KEYS:  # location, tags: no check reads them, so nothing is left unjudged
            continue
        line, col = res.source.doc.position(res.doc_path_of(path))
        shown = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        out.append(Finding("LOOM804", LINT_RULES["LOOM804"][0], Status.SKIP,
                           f"not judged: {shown} of '{res.short_name}' is {u.expression}"
                           + (f" ({u.why})" if u.why else ""), res.source.path, line, col,
                           resource=res.short_name, path=shown, not_judged=u.expression))
    return out


def _fold(findings: list[Finding]) -> None:
    """One line per unknown value: its LOOM804 finding names the checks it kept from judging; those checks'
    own results say `told_by` (kept in JSON, not repeated in the table or SARIF)."""
    notes = {(f.file, f.resource, f.not_judged): f for f in findings if f.code == "LOOM804"}
    kept: dict[tuple[Any, ...], list[str]] = {}
    for f in findings:
        key = (f.file, f.resource, f.not_judged)
        if f.code != "LOOM804" and f.not_judged and key in notes:
            f.told_by = "LOOM804"
            kept.setdefault(key, []).append(f.code)
    for key, codes in kept.items():
        notes[key].message += f"; not judged for it: {', '.join(sorted(set(codes)))}"


def _note(n: Note) -> Finding:
    line, col = n.source.doc.position(n.doc_path)
    return Finding(n.code, LINT_RULES[n.code][0], Status.SKIP, n.message, n.source.path, line, col)


def _first_line(src: Source) -> int:
    """The first line that is not a comment (comments above it are the file's header)."""
    cached = getattr(src, "_first", None)
    if cached is None:
        cached = next((n for n, text in enumerate(src.text.splitlines(), 1)
                       if text.strip() and not text.lstrip().startswith(("#", "//"))), 0)
        src._first = cached  # type: ignore[attr-defined]
    return int(cached)


def _suppress(report: Report, sources: list[Source], profile: list[tuple[str, str | None]]) -> None:
    by_path = {s.path: s for s in sources}
    for f in report.findings:
        if f.status not in (Status.FAIL, Status.WARN):
            continue
        src = by_path[f.file]
        why = None
        if any(f.code == c and (r is None or r == f.resource) for c, r in profile):
            why = "profile"
        elif f.code in _comment_codes(src, f.line):
            why = "comment"
        elif f.code in f.ignores:
            why = "metadata"
        if why:
            f.suppressed = why
            f.status = Status.SKIP
            f.message = f"suppressed by {why} ({f.message})"
            f.hint = None


def _comment_codes(src: Source, line: int) -> set[str]:
    ignores = src.doc.ignores
    if not ignores:
        return set()
    first = _first_line(src)
    codes: set[str] = set()
    for n, c in ignores.items():
        if n in (line, line - 1) or n < first:  # on the line, the line above, or the file's header
            codes |= c
    return codes
