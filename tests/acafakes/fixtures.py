"""Fixtures for the Container Apps data-plane doubles: the getAuthToken ARM route, exec and log stream servers."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.acafakes.exec_server import FakeExec
from tests.fakeazure.server import FakeAzure, Request, Response, arm_error

AUTH_TOKEN_PATH = (r"/subscriptions/([^/]+)/resource[gG]roups/([^/]+)/providers/Microsoft\.App/containerApps/([^/]+)"
                   r"/get[aA]uth[tT]oken")


def add_auth_token_route(azure: FakeAzure, token: str) -> None:
    def handler(req: Request, m: re.Match[str]) -> Any:
        app = azure.state.get("apps", {}).get(m.group(3))
        if app is None:
            return Response(404, arm_error("ResourceNotFound", f"container app '{m.group(3)}' not found"))
        return {"id": app["id"], "name": app["name"], "type": "Microsoft.App/containerApps/accesstoken",
                "location": app.get("location"),
                "properties": {"token": token, "expires": "2030-01-01T00:00:00.0000000Z"}}

    azure.route("POST", AUTH_TOKEN_PATH, handler)


@pytest.fixture(scope="session")
def fake_exec_server(fake_azure_server: FakeAzure) -> Any:
    server = FakeExec(fake_azure_server.ca).start()
    yield server
    server.stop()


@pytest.fixture
def aca_exec(azure: FakeAzure, fake_exec_server: FakeExec, monkeypatch: pytest.MonkeyPatch) -> FakeExec:
    """The exec double, reset, with the ARM token route and loomctl's data-plane endpoint pointed at it."""
    fake_exec_server.reset()
    add_auth_token_route(azure, fake_exec_server.token)
    monkeypatch.setenv("LOOMCTL_ACA_DATAPLANE_ENDPOINT", fake_exec_server.url)
    monkeypatch.setenv("LOOMCTL_EXEC_RETRY_DELAY", "0.1")
    return fake_exec_server


@pytest.fixture(scope="session")
def fake_logstream_server(fake_azure_server: FakeAzure) -> Any:
    from tests.acafakes.logstream_server import FakeLogStream

    server = FakeLogStream(fake_azure_server.ca).start()
    yield server
    server.stop()


@pytest.fixture
def aca_logs(azure: FakeAzure, fake_logstream_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The log stream double, reset, with the token route and loomctl's data-plane endpoint pointed at it."""
    fake_logstream_server.reset()
    add_auth_token_route(azure, fake_logstream_server.token)
    monkeypatch.setenv("LOOMCTL_ACA_DATAPLANE_ENDPOINT", fake_logstream_server.url)
    return fake_logstream_server
