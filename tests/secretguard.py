"""The guard against leaked secrets: no loomctl output may contain a secret value the test Azure knows.

`tests/conftest.py` runs `assert_no_secrets` on stdout and stderr of every `loomctl` fixture invocation; a test
that runs loomctl as a subprocess calls it on the subprocess's output. Two checks:

- no known value (`fakeazure.contract.known_secret_values(state)`, plus the `AZURE_CLIENT_SECRET` the run was given)
  appears anywhere in the text;
- nothing in the text still looks like a credential by its content (`core.secrets.mask_text` would change it):
  a URL password, a SAS signature, an account key, a JWT, a Bearer token.
"""

from __future__ import annotations

import os
from typing import Any


def known_secret_values(state: dict[str, Any] | None = None) -> list[str]:
    from tests.fakeazure.contract import known_secret_values as of_the_fake

    values = set(of_the_fake(state or {}))
    given = os.environ.get("AZURE_CLIENT_SECRET") or ""
    if len(given) >= 6:
        values.add(given)
    return sorted(values)


def leaks(text: str, state: dict[str, Any] | None = None) -> list[str]:
    """What in `text` is a secret: the known values found, and the lines that still look like credentials."""
    from loomctl.core.secrets import mask_text

    found = [f"known secret value {v!r}" for v in known_secret_values(state) if v in text]
    found += [f"credential-looking text {line.strip()!r}" for line in text.splitlines() if mask_text(line) != line]
    return found


def assert_no_secrets(text: str, state: dict[str, Any] | None = None, what: str = "loomctl output") -> None:
    found = leaks(text, state)
    assert not found, f"{what} leaks secrets: " + "; ".join(found) + "\n--- output ---\n" + text
