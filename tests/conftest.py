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
from tests.subproc import network_guards

# Variables from the developer's own shell that would change what loomctl does under test.
_SCRUB = [k for k in os.environ if k.startswith(("AZURE_", "LOOMCTL_", "GUN_", "LOOM_"))] + [
    "REQUESTS_CA_BUNDLE", "NO_COLOR", "FORCE_COLOR", "IDENTITY_ENDPOINT", "MSI_ENDPOINT", "XDG_CONFIG_HOME"]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    for k in _SCRUB:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("LOOMCTL_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("COLUMNS", "160")
    # each test its own cache folder (beside tmp_path, whose listing some tests check): no test sees another's
    # Azure tokens (azure/tokens.py) or price lists
    monkeypatch.setenv("LOOMCTL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    # off the network in-process too: proxies and DNS on a closed loopback port, never managed identity (IMDS) or
    # the Azure CLI on the developer's machine (the same guards the subprocess runner gives its children)
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in network_guards().items():
        if name != "LOOMCTL_DNS_SERVERS":  # the `azure` fixture sets it: config tests read dns_servers from profiles
            monkeypatch.setenv(name, value)


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
    # the deployment's names are asked of a closed loopback port, never the machine's resolver (a test with its
    # own `dns_server` sets it again)
    monkeypatch.setenv("LOOMCTL_DNS_SERVERS", network_guards()["LOOMCTL_DNS_SERVERS"])
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


def _guarded(request: pytest.FixtureRequest, runner: Any) -> Any:
    """`runner` with the secret guard (tests/secretguard.py) on every run: the test fails when stdout or stderr
    holds a secret the test Azure knows (its current state when the test uses it) or anything credential-looking."""
    from tests.secretguard import assert_no_secrets

    def run(*args: str, **kwargs: Any) -> Any:
        result = runner(*args, **kwargs)
        server = request.getfixturevalue("fake_azure_server") if "fake_azure_server" in request.fixturenames else None
        assert_no_secrets(result.stdout + result.stderr, server.state if server else None,
                          f"`loomctl {' '.join(args)}`")
        return result

    return run


@pytest.fixture
def loomctl(request: pytest.FixtureRequest) -> Any:
    """Run loomctl in-process through click's CliRunner; stdout and stderr are kept apart. A test marked
    `also_subprocess` runs a second time with loomctl as a real process (cold module caches, as for users).
    Every run passes the secret guard."""
    if getattr(request, "param", "in-process") == "subprocess":
        from tests import subproc

        return _guarded(request, subproc.run)
    return _guarded(request, invoke)


@pytest.fixture
def loomctl_proc(request: pytest.FixtureRequest) -> Any:
    """Run loomctl as a fresh `python -m loomctl` process in the test's environment (tests/subproc.py); every run
    passes the secret guard."""
    from tests import subproc

    return _guarded(request, subproc.run)


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
