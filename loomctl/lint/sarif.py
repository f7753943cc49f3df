"""SARIF 2.1.0 for GitHub code scanning: one run, the rules the findings name (with help text and the docs
anchor), and each warning, failure or not-judged expression as a result at its file, line and column."""

from __future__ import annotations

from typing import Any

from loomctl import __version__
from loomctl.checks.base import DOCS_URL, Status

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Status.FAIL: "error", Status.WARN: "warning", Status.SKIP: "note"}
INFO_URI = "https://github.com/loomdb/loomctl"


def artifact(path: str) -> dict[str, str]:
    """The file as code scanning maps it to the repository: relative to the working directory (the checkout's
    root in CI) with %SRCROOT%, or a file: URI for a file outside it."""
    import os
    from pathlib import Path
    from urllib.parse import quote

    rel = os.path.relpath(os.path.abspath(path))
    if rel.startswith(".."):
        return {"uri": Path(os.path.abspath(path)).as_uri()}
    return {"uri": quote(Path(rel).as_posix()), "uriBaseId": "%SRCROOT%"}


def _rules(codes: list[str]) -> list[dict[str, Any]]:
    from loomctl.checks.registry import all_checks
    from loomctl.lint.run import LINT_RULES

    specs = {s.code: s for s in all_checks()}
    out = []
    for code in codes:
        spec = specs.get(code)
        if spec is not None:
            title, text, fix, anchor = spec.title, spec.explanation, spec.fix, spec.anchor
        else:
            title, text, fix = LINT_RULES[code]
            anchor = f"{DOCS_URL.replace('checks.md', 'lint.md')}#{code.lower()}"
        out.append({"id": code, "name": title.title().replace(" ", "").replace("-", ""),
                    "shortDescription": {"text": title},
                    "fullDescription": {"text": text},
                    "help": {"text": f"{text}\nFix: {fix}",
                             "markdown": f"{text}\n\n**Fix:** {fix}\n\n[{code}]({anchor})"},
                    "helpUri": anchor,
                    "defaultConfiguration": {"level": "note" if code.startswith("LOOM8") else "warning"}})
    return out


def document(report: Any) -> dict[str, Any]:
    shown = [f for f in report.findings if (f.status in (Status.FAIL, Status.WARN) or
             (f.status is Status.SKIP and (f.not_judged or f.suppressed))) and not f.told_by]
    codes = sorted({f.code for f in shown})
    index = {c: i for i, c in enumerate(codes)}
    results = []
    for f in shown:
        text = f.message + (f"\nFix: {f.hint}" if f.hint else "")
        result: dict[str, Any] = {
            "ruleId": f.code, "ruleIndex": index[f.code], "level": LEVELS.get(f.status, "note"),
            "message": {"text": text},
            "locations": [{"physicalLocation": {
                "artifactLocation": artifact(f.file),
                "region": {"startLine": f.line, "startColumn": f.column}}}],
            "partialFingerprints": {"loomctl/v1": f"{f.code}:{f.resource or ''}:{f.path or ''}"},
        }
        if f.resource:
            result["properties"] = {"resource": f.resource, "path": f.path}
        if f.suppressed:
            result["suppressions"] = [{"kind": "inSource" if f.suppressed != "profile" else "external",
                                       "justification": f"loomctl:ignore ({f.suppressed})"}]
        results.append(result)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "loomctl", "version": __version__, "informationUri": INFO_URI,
                                "rules": _rules(codes)}},
            "results": results,
        }],
    }
