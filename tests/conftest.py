"""Shared fixtures: the local HTTPS Azure, an isolated config folder, and a CLI runner."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.fakeazure import topology
from tests.fakeazure.server import CLIENT_ID, CLIENT_SECRET, TENANT, FakeAzure
from tests.kusto import kusto  # noqa: F401 - session fixture: Microsoft's Kusto parser in one node process

# Variables from the developer's own shell that would change what loomctl does under test.
_SCRUB = [k for k in os.environ if k.startswith(("AZURE_", "LOOMCTL_", "GUN_", "LOOM_"))] + [
    "REQUESTS_CA_BUNDLE", "NO_COLOR", "FORCE_COLOR", "IDENTITY_ENDPOINT", "MSI_ENDPOINT", "XDG_CONFIG_HOME"]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for k in _SCRUB:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("LOOMCTL_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("COLUMNS", "160")
    # never fall through to managed identity (IMDS) or the Azure CLI on the developer's machine
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential")


@pytest.fixture(scope="session")
def fake_azure_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    server = FakeAzure(str(tmp_path_factory.mktemp("ca"))).start()
    yield server
    server.stop()


@pytest.fixture
def azure(fake_azure_server: FakeAzure, monkeypatch: pytest.MonkeyPatch) -> FakeAzure:
    """The local Azure serving the healthy LoomDB deployment, with loomctl pointed at it."""
    fake_azure_server.reset(topology.healthy())
    url = fake_azure_server.url
    monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
    monkeypatch.setenv("AZURE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", url)
    monkeypatch.setenv("LOOMCTL_ARM_ENDPOINT", url)
    monkeypatch.setenv("LOOMCTL_LOGS_ENDPOINT", url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake_azure_server.ca_path)
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", topology.SUB)
    monkeypatch.setenv("LOOMCTL_RESOURCE_GROUP", topology.RG)
    monkeypatch.setenv("LOOMCTL_ENVIRONMENT", topology.ENV)
    monkeypatch.setenv("LOOMCTL_RETRY_BACKOFF", "0.05")
    monkeypatch.setenv("LOOMCTL_HTTP_TIMEOUT", "5")
    return fake_azure_server


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    result: Result

    def json(self) -> Any:
        import json

        return json.loads(self.stdout)


def invoke(*args: str, input: str | None = None) -> Run:
    from loomctl.cli import cli

    runner = CliRunner()
    result = runner.invoke(cli, list(args), input=input, prog_name="loomctl", catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr, result)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "also_subprocess: run the test twice, with `loomctl` in-process and as a "
                                       "fresh `python -m loomctl` process (tests/subproc.py)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("also_subprocess") and "loomctl" in metafunc.fixturenames:
        metafunc.parametrize("loomctl", ["in-process", "subprocess"], indirect=True)


@pytest.fixture
def loomctl(request: pytest.FixtureRequest) -> Any:
    """Run loomctl in-process through click's CliRunner; stdout and stderr are kept apart. A test marked
    `also_subprocess` runs a second time with loomctl as a real process (cold module caches, as for users)."""
    if getattr(request, "param", "in-process") == "subprocess":
        from tests import subproc

        return subproc.run
    return invoke


@pytest.fixture
def loomctl_proc() -> Any:
    """Run loomctl as a fresh `python -m loomctl` process in the test's environment (tests/subproc.py)."""
    from tests import subproc

    return subproc.run


@pytest.fixture
def relays(tmp_path: Any) -> Any:
    """Start real GUN relays (npm gun pinned in tests/node); every one is killed after the test."""
    from tests.gunrelay import Relays

    r = Relays(tmp_path / "relays")
    yield r
    r.stop_all()


@pytest.fixture
def dns_server() -> Any:
    """A real DNS server on 127.0.0.1 (dnslib); fill `.zone` in the test."""
    from tests.dnsserver import DnsServer

    server = DnsServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def bad_peers() -> Any:
    from tests.badpeers import BadPeersProcess

    peers = BadPeersProcess().start()
    yield peers
    peers.stop()
