"""Microsoft's Kusto parser in one long-lived node process (tests/kql_validate.js), for every KQL test.

Nothing is skipped: without node or the npm package the tests fail and say how to install them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SCRIPT = HERE / "kql_validate.js"
PACKAGE = HERE / "node" / "node_modules" / "@kusto" / "language-service-next"
SCHEMA = HERE / "fixtures" / "kql_schema.json"  # copy of the shared table schema (columns of all six tables)


class KustoParser:
    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not installed: the KQL tests need Node 18+ (apt-get install nodejs npm)")
        if not PACKAGE.exists():
            raise RuntimeError("Microsoft's Kusto parser is missing: run `npm install --prefix tests/node`")
        self.proc = subprocess.Popen([node, str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.lock = threading.Lock()
        self.counter = 0
        tables = {name: t["columns"] for name, t in json.loads(SCHEMA.read_text())["tables"].items()}
        ready = self._send({"tables": tables})
        assert ready.get("ready"), ready

    def _send(self, msg: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"the Kusto parser process died: {err[-2000:]}")
        return json.loads(line)

    def analyze(self, text: str, tokens: bool = False, syntax_only: bool = False) -> dict[str, Any]:
        """Diagnostics (syntax and semantics against the schema; syntax only if asked) and optionally tokens."""
        with self.lock:
            self.counter += 1
            return self._send({"id": self.counter, "text": text, "tokens": tokens, "syntaxOnly": syntax_only})

    def errors(self, text: str) -> list[dict[str, Any]]:
        return [d for d in self.analyze(text)["diagnostics"] if d["severity"] == "Error"]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def kusto():
    parser = KustoParser()
    yield parser
    parser.close()
