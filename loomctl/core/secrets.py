"""One rule for "this environment variable looks like it holds a credential", by its name.

Used where a literal value must be flagged (doctor LOOM209) and where a value must be hidden (deploy diffs and
request bodies). The name is read as words (split at `_`, `-`, `.` and camelCase humps): it looks secret when a
word is a credential word (KEY, APIKEY, SECRET, PASSWORD, PASSWD, PWD, TOKEN, SAS, CREDENTIAL(S),
CONNECTIONSTRING, or CONNECTION followed by STRING), unless the last word says the value only points at one
(URL, URI, NAME, ID, FILE, PATH: `TOKEN_URL`, `CLIENT_SECRET_NAME`, `PASSWD_FILE`). Whole words only, so
`MONKEY`, `KEYVAULT_URL` and `SASQUATCH` do not look secret. Case does not matter.
"""

from __future__ import annotations

import re

CREDENTIAL_WORDS = frozenset({"KEY", "APIKEY", "ACCESSKEY", "ACCOUNTKEY", "PRIVATEKEY", "SECRET", "PASSWORD",
                              "PASSWD", "PWD", "TOKEN", "SAS", "CREDENTIAL", "CREDENTIALS", "CONNECTIONSTRING"})
POINTER_WORDS = frozenset({"URL", "URI", "NAME", "ID", "FILE", "PATH"})
_HUMPS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def words(name: str) -> list[str]:
    """`OPENAI_API_KEY` -> OPENAI, API, KEY; `storageAccountKey` -> STORAGE, ACCOUNT, KEY."""
    return [w.upper() for part in re.split(r"[^A-Za-z0-9]+", name) for w in _HUMPS.findall(part)]


def looks_secret(name: str) -> bool:
    """Whether an environment variable's name says it holds a credential."""
    ws = words(name)
    if not ws or ws[-1] in POINTER_WORDS:
        return False
    return any(w in CREDENTIAL_WORDS for w in ws) or any(a == "CONNECTION" and b == "STRING"
                                                          for a, b in zip(ws, ws[1:]))
