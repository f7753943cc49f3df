"""One rule for "this environment variable looks like it holds a credential", by its name.

Used where a literal value must be flagged (doctor LOOM209) and where a value must be hidden (deploy diffs and
request bodies). It is the union of the two rules those places had: a name containing KEY, SECRET, PASSWORD,
TOKEN or CONNECTION_STRING anywhere (OPENAI_API_KEY, KEYVAULT_TOKEN_URL), or ending in a word PASSWD,
CONNECTIONSTRING or SAS (DB_PASSWD, STORAGE_SAS). Case does not matter.
"""

from __future__ import annotations

import re

_ANYWHERE = re.compile(r"KEY|SECRET|PASSWORD|TOKEN|CONNECTION_STRING", re.I)
_LAST_WORD = re.compile(r"(^|_)(PASSWD|CONNECTIONSTRING|SAS)$", re.I)


def looks_secret(name: str) -> bool:
    """Whether an environment variable's name says it holds a credential."""
    return bool(_ANYWHERE.search(name) or _LAST_WORD.search(name))
