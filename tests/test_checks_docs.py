"""docs/checks.md is generated from the catalogue and must not be stale; every code is described in it."""

from __future__ import annotations

import re

from loomctl.checks.registry import all_checks
from tools import regen as docs


def test_docs_checks_md_is_current():
    committed = (docs.ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    assert committed == docs.checks_md(), "docs/checks.md is stale: run `python tools/regen.py`"


def test_every_code_has_a_section_with_what_why_fix():
    text = docs.checks_md()
    sections = dict(re.findall(r"^### (LOOM\d{3})\n\n(.*?)(?=^### |^## |\Z)", text, re.S | re.M))
    codes = [s.code for s in all_checks()]
    assert len(codes) == len(set(codes)), "duplicate check codes"
    assert set(sections) == set(codes)
    for code, body in sections.items():
        for part in ("What it checks:", "Why it matters:", "How to fix:"):
            assert part in body, (code, part)


def test_regen_check_passes_on_the_tree_and_names_a_stale_file(tmp_path):
    """`python tools/regen.py --check`, run as a contributor runs it (from another folder), is green on the
    committed tree and names exactly the file that is stale in a copy."""
    import shutil
    import subprocess
    import sys

    here = subprocess.run([sys.executable, str(docs.ROOT / "tools" / "regen.py"), "--check"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert (here.returncode, here.stderr) == (0, "")
    for folder in ("docs", "completions", "tools"):
        shutil.copytree(docs.ROOT / folder, tmp_path / folder)
    (tmp_path / "docs" / "checks.md").write_text(docs.checks_md().replace("LOOM505", "LOOM5O5"), encoding="utf-8")
    run = subprocess.run([sys.executable, str(tmp_path / "tools" / "regen.py"), "--check"], cwd="/",
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert run.stderr == "docs/checks.md is stale: run `python tools/regen.py`\n"


def test_checks_list_shows_new_categories(loomctl):
    run = loomctl("checks", "list", "--category", "storage", "-o", "json")
    assert run.exit_code == 0
    rows = {r["code"]: r for r in run.json()}
    assert set(rows) == {f"LOOM50{i}" for i in range(1, 10)}
    assert rows["LOOM507"]["failure_means"].startswith("Several replicas")
    assert rows["LOOM505"]["docs"].endswith("docs/checks.md#loom505")
