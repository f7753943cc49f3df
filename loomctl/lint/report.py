"""The JSON document of a lint run (also what the table renders)."""

from __future__ import annotations

from typing import Any

from loomctl.checks.base import Status


def as_document(report: Any, fail_on_warn: bool = False) -> dict[str, Any]:
    findings = [f.to_json() for f in report.findings]
    summary = {
        "deployments": report.deployments,
        "fail": sum(f.status is Status.FAIL for f in report.findings),
        "warn": sum(f.status is Status.WARN for f in report.findings),
        "pass": sum(f.status is Status.PASS for f in report.findings),
        "not_judged": sum(bool(f.not_judged) and not f.told_by for f in report.findings),  # each value once
        "suppressed": sum(bool(f.suppressed) for f in report.findings),
        "skipped": sum(f.status is Status.SKIP and not f.not_judged and not f.suppressed for f in report.findings),
        "problems": len(report.problems(fail_on_warn)),
    }
    return {"files": report.files, "summary": summary, "findings": findings}
