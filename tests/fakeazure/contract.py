"""What ARM's contract says the local Azure may answer (see CONTRACT.md for the spec references).

The state holds resources as they were written (secret values included, as a PUT would send them); a GET, a
list and a PUT/PATCH response show them as ARM does:

- write-only properties (`x-ms-secret: true` in the REST spec) are never returned: container app secret
  values (`Secret.value`), the Azure Files account key of an environment storage (`AzureFileProperties.accountKey`),
  the Log Analytics shared key of an environment (`LogAnalyticsConfiguration.sharedKey`), certificate passwords
  and blobs (`CertificateProperties.password` / `.value`). Values come only from POST listSecrets / listKeys.
- pageable lists (`x-ms-pageable`) answer `PAGE_SIZE` items with a `nextLink` to the rest.

`known_secret_values(state)` lists every secret value the state holds, with the sign-in secret and the tokens
the server issues: no GET answer and no loomctl output may contain one.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlencode

PAGE_SIZE = 1  # small on purpose: a list that does not follow nextLink misses items

# (resource kind, path to a dict or a list of dicts, write-only key), as in the REST spec definitions
WRITE_ONLY: dict[str, list[tuple[tuple[str, ...], str]]] = {
    "containerApp": [(("properties", "configuration", "secrets", "[]"), "value")],
    "environment": [(("properties", "appLogsConfiguration", "logAnalyticsConfiguration"), "sharedKey"),
                    (("properties", "customDomainConfiguration"), "certificatePassword"),
                    (("properties", "customDomainConfiguration"), "certificateValue")],
    "envStorage": [(("properties", "azureFile"), "accountKey")],
    "certificate": [(("properties",), "password"), (("properties",), "value")],
}


def _holders(body: Any, path: tuple[str, ...]) -> list[dict[str, Any]]:
    nodes = [body]
    for part in path:
        nxt: list[Any] = []
        for n in nodes:
            if part == "[]":
                nxt.extend(x for x in (n if isinstance(n, list) else []) if isinstance(x, dict))
            elif isinstance(n, dict) and n.get(part) is not None:
                nxt.append(n[part])
        nodes = nxt
    return [n for n in nodes if isinstance(n, dict)]


def view(kind: str, body: Any) -> Any:
    """The resource as ARM returns it: a copy without its write-only properties."""
    if not isinstance(body, dict):
        return body
    out = copy.deepcopy(body)
    for path, key in WRITE_ONLY.get(kind, []):
        for holder in _holders(out, path):
            holder.pop(key, None)
    return out


def secret_values(kind: str, body: Any) -> list[str]:
    """The write-only values a stored resource holds."""
    return [str(h[key]) for path, key in WRITE_ONLY.get(kind, []) for h in _holders(body, path)
            if h.get(key) not in (None, "")]


def page(items: list[Any], base_url: str, path: str, query: dict[str, list[str]]) -> dict[str, Any]:
    """One page of a pageable list (`$skiptoken` = index of the first item), `nextLink` when more follow."""
    start = int((query.get("$skiptoken") or ["0"])[0] or 0)
    body: dict[str, Any] = {"value": items[start:start + PAGE_SIZE]}
    if start + PAGE_SIZE < len(items):
        api = (query.get("api-version") or [""])[0]
        body["nextLink"] = f"{base_url}{path}?" + urlencode({"api-version": api, "$skiptoken": start + PAGE_SIZE})
    return body


def known_secret_values(state: dict[str, Any]) -> list[str]:
    """Every secret value the test Azure knows for `state`: the client secret, issued tokens, app secret values,
    storage keys (environment storages and listKeys), Log Analytics shared keys, and the fixed ones of topology."""
    from tests.fakeazure import topology
    from tests.fakeazure.server import CLIENT_SECRET

    out = [CLIENT_SECRET, "fake-access-token-", *topology.KNOWN_SECRETS]
    for app in (state.get("apps") or {}).values():
        out += secret_values("containerApp", app)
    out += secret_values("environment", state.get("environment"))
    for st in (state.get("storages") or {}).values():
        out += secret_values("envStorage", st)
    for keys in (state.get("storage_keys") or {}).values():
        out += [k["value"] for k in keys]
    return sorted(set(out))
