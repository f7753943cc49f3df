"""One rule for what is a credential, and one way to hide it (`mask`).

`looks_secret(name)`: an environment variable's name says it holds a credential; `holds_credential(value, name)`:
its name or its content does. Used where a literal value must be flagged (doctor LOOM209) and where a value must be
hidden (`mask`), so what doctor calls a credential is exactly what no output shows. The name is read as words (split
at `_`, `-`, `.` and camelCase humps): it looks secret when a word is a credential word (KEY, APIKEY, SECRET,
PASSWORD, PASSWD, PWD, TOKEN, SAS, CREDENTIAL(S), CONNECTIONSTRING, or CONNECTION followed by STRING), unless the
last word says the value only points at one (URL, URI, NAME, ID, FILE, PATH: `TOKEN_URL`, `CLIENT_SECRET_NAME`,
`PASSWD_FILE`). Whole words only, so `MONKEY`, `KEYVAULT_URL` and `SASQUATCH` do not look secret. Case does not
matter.

`mask(value, name=None)`: the value as it may be shown. A value under a credential name is `***` as a whole;
any other text keeps its shape with the credential parts replaced by `***`, whatever the name: the password of
a URL (`wss://user:***@host/gun`), SAS signatures (`sig=***`), connection-string keys and passwords
(`AccountKey=***`), JWTs, `Bearer` tokens and `Authorization` values, and token fields of OAuth responses. Lists
and dicts are masked item by item; a `{"name": N, "value": V}` pair (ARM's environment variable shape) by N.
Every output of loomctl passes through `mask_text` (`loomctl.output.masked.masked_streams`).
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

CREDENTIAL_WORDS = frozenset({"KEY", "APIKEY", "ACCESSKEY", "ACCOUNTKEY", "PRIVATEKEY", "SECRET", "PASSWORD",
                              "PASSWD", "PWD", "TOKEN", "SAS", "CREDENTIAL", "CREDENTIALS", "CONNECTIONSTRING"})
POINTER_WORDS = frozenset({"URL", "URI", "NAME", "ID", "FILE", "PATH"})
_HUMPS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

_TOKEN_CHARS = r"A-Za-z0-9._~+/=-"
_PARAMS = ("sig", "AccountKey", "SharedAccessKey", "SharedAccessSignature", "Password", "Pwd", "client_secret",
           "client_assertion", "access_token", "refresh_token", "id_token")
_FIELDS = ("access_token", "refresh_token", "id_token", "client_secret", "client_assertion", "token")
# (what the lower-cased text must contain for the pattern to apply, pattern, replacement); each replacement keeps
# what says what the value is and replaces the value itself. The cheap `in` test first keeps long outputs fast.
_BY_CONTENT = [
    # scheme://user:password@host -> scheme://user:***@host
    (("@",), re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@?#]*:)[^\s/?#]+(@)"), rf"\1{MASK}\2"),
    # query strings and connection strings: sig=..., AccountKey=..., Password=...
    (tuple(f"{p.lower()}=" for p in _PARAMS),
     re.compile(rf"(?i)(\b(?:{'|'.join(_PARAMS)})=)[^&;\s\"'<>]+"), rf"\1{MASK}"),
    # "access_token": "..." in a token response
    (tuple(f'"{f}"' for f in _FIELDS), re.compile(rf'(?i)("(?:{"|".join(_FIELDS)})"\s*:\s*")[^"]+(")'),
     rf"\1{MASK}\2"),
    # JSON Web Tokens (header.payload.signature, the header starts with {" -> eyJ)
    (("eyj",), re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), MASK),
    # Authorization: Bearer x / Authorization: Basic x / Bearer x (a token has a digit or a symbol)
    (("authorization",), re.compile(rf"(?i)(\bAuthorization['\"]?\s*[:=]\s*['\"]?(?:(?:Bearer|Basic)\s+)?)"
                                    rf"(?=[{_TOKEN_CHARS}]*[0-9._~+/=-])[{_TOKEN_CHARS}]{{8,}}"), rf"\1{MASK}"),
    (("bearer",), re.compile(rf"(\bBearer\s+)(?=[{_TOKEN_CHARS}]*[0-9._~+/=-])[{_TOKEN_CHARS}]{{8,}}"),
     rf"\1{MASK}"),
]


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


def mask_text(text: str) -> str:
    """Text with every part that looks like a credential by its content replaced by `***`."""
    low = text.lower()
    for needles, pattern, repl in _BY_CONTENT:
        if any(n in low for n in needles):
            text = pattern.sub(repl, text)
    return text


def holds_credential(value: str, name: str | None = None) -> bool:
    """Whether a literal value (of an environment variable `name`) is or holds a credential: what `mask` hides.
    Doctor flags exactly these (LOOM209), and outputs hide exactly these."""
    return bool(value) and mask(value, name) != value


def mask(value: Any, name: str | None = None) -> Any:
    """`value` as it may be shown: `***` under a credential name, else credential-looking parts masked."""
    if isinstance(value, str):
        return MASK if value and name and looks_secret(name) else mask_text(value)
    if isinstance(value, (list, tuple)):
        return [mask(v, name) for v in value]
    if isinstance(value, dict):
        pair = value.get("name") if isinstance(value.get("name"), str) else None
        return {k: mask(v, pair if k == "value" else None) for k, v in value.items()}
    return value
