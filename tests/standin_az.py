"""A stand-in `az` on PATH for sign-in tests: `az account get-access-token -o json` prints a token in the Azure
CLI's own shape (accessToken, expiresOn as a naive local time, expires_on, subscription, tenant, tokenType; as
azure-identity's AzureCliCredential parses it) and appends one line per invocation to a count file. The token
starts with `fake-access-token-` (tests/fakeazure/contract.known_secret_values), so the secret guard knows it.
The account it is signed in as lives in `$AZURE_CONFIG_DIR/azureProfile.json`, as the real CLI keeps it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakeazure import topology
from tests.fakeazure.server import TENANT

SCRIPT = r'''#!{python}
import datetime, json, os, sys, time
args = sys.argv[1:]
with open({count!r}, "a", encoding="utf-8") as fh:
    fh.write(" ".join(args) + "\n")
if args[:2] != ["account", "get-access-token"]:
    sys.stderr.write("ERROR: the stand-in az only answers account get-access-token\n")
    sys.exit(2)
gate = os.environ.get("STANDIN_AZ_GATE")
while gate and not os.path.exists(gate):  # a test holds every caller in the one acquisition
    time.sleep(0.01)
tenant = args[args.index("--tenant") + 1] if "--tenant" in args else {tenant!r}
with open({count!r}, encoding="utf-8") as fh:
    n = len(fh.readlines())
expires = int(time.time()) + 3600
print(json.dumps({{
    "accessToken": "fake-access-token-az-%d" % n,
    "expiresOn": datetime.datetime.fromtimestamp(expires).strftime("%Y-%m-%d %H:%M:%S.%f"),
    "expires_on": expires,
    "subscription": {sub!r},
    "tenant": tenant,
    "tokenType": "Bearer",
}}, indent=2))
'''


class StandinAz:
    def __init__(self, root: Path):
        self.root = root
        self.bin = root / "bin"
        self.count_file = root / "az-calls.txt"
        self.config_dir = root / "azure-config"

    def calls(self) -> int:
        """How many times `az` was started."""
        return len(self.count_file.read_text(encoding="utf-8").splitlines()) if self.count_file.exists() else 0

    def sign_in(self, user: str, tenant: str = TENANT) -> None:
        """`az login` as `user`: the account the CLI keeps in azureProfile.json."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        profile = {"installationId": "test", "subscriptions": [{
            "id": topology.SUB, "name": "test", "state": "Enabled", "tenantId": tenant, "isDefault": True,
            "user": {"name": user, "type": "user"}, "environmentName": "AzureCloud"}]}
        (self.config_dir / "azureProfile.json").write_text(json.dumps(profile), encoding="utf-8")


def install_script(az: StandinAz) -> None:
    """Write the stand-in `az` into `az.bin`."""
    az.bin.mkdir(parents=True, exist_ok=True)
    script = az.bin / "az"
    script.write_text(SCRIPT.format(python=sys.executable, count=str(az.count_file), tenant=TENANT,
                                    sub=topology.SUB), encoding="utf-8")
    script.chmod(0o755)


def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StandinAz:
    """The stand-in `az` first on PATH, signed in as alice; environment credentials unset, and
    DefaultAzureCredential limited to the Azure CLI credential (no managed identity probe)."""
    az = StandinAz(tmp_path / "standin-az")
    install_script(az)
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_USERNAME",
                 "AZURE_CLIENT_CERTIFICATE_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "AzureCliCredential")
    monkeypatch.setenv("AZURE_CONFIG_DIR", str(az.config_dir))
    monkeypatch.setenv("PATH", f"{az.bin}{os.pathsep}{os.environ.get('PATH', '')}")
    az.sign_in("alice@example.com")
    return az


def cached_tokens() -> dict[str, Any]:
    from loomctl.azure.tokens import cache_path

    return json.loads(cache_path().read_text(encoding="utf-8"))["tokens"]
