"""docs/checks.md is generated from the catalogue and must not be stale; every code is described in it."""

from __future__ import annotations

import re

from loomctl.checks import docs
from loomctl.checks.registry import all_checks


def test_docs_checks_md_is_current():
    committed = docs.DOC.read_text(encoding="utf-8")
    assert committed == docs.render(), "docs/checks.md is stale: run `python -m loomctl.checks.docs`"
    assert docs.main(["--check"]) == 0


def test_every_code_has_a_section_with_what_why_fix():
    text = docs.render()
    sections = dict(re.findall(r"^### (LOOM\d{3})\n\n(.*?)(?=^### |^## |\Z)", text, re.S | re.M))
    codes = [s.code for s in all_checks()]
    assert len(codes) == len(set(codes)), "duplicate check codes"
    assert set(sections) == set(codes)
    for code, body in sections.items():
        for part in ("What it checks:", "Why it matters:", "How to fix:"):
            assert part in body, (code, part)


def test_check_detects_a_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "checks.md"
    stale.write_text(docs.render().replace("LOOM505", "LOOM5O5"), encoding="utf-8")
    monkeypatch.setattr(docs, "DOC", stale)  # our own module constant: point the check at a stale copy
    assert docs.main(["--check"]) == 1
    assert "is stale: run `python -m loomctl.checks.docs`" in capsys.readouterr().err


def test_checks_list_shows_new_categories(loomctl):
    run = loomctl("checks", "list", "--category", "storage", "-o", "json")
    assert run.exit_code == 0
    rows = {r["code"]: r for r in run.json()}
    assert set(rows) == {f"LOOM50{i}" for i in range(1, 10)}
    assert rows["LOOM507"]["failure_means"].startswith("Several replicas")
    assert rows["LOOM505"]["docs"].endswith("docs/checks.md#loom505")
