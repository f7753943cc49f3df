"""In-replica probes end to end: the exec double runs the generated probe for real on this machine, against a
real GUN relay and a real DNS server on loopback; the parsed results are the LoomMesh probes' dataclasses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from loomctl.core.context import LoomContext
from loomctl.inside import run as inside
from loomctl.inside import script
from loomctl.inside.results import DnsResult, PeerResult
from tests.acafakes.fixtures import aca_exec, fake_exec_server  # noqa: F401 - fixtures
from tests.dnsserver import DnsServer
from tests.fakeazure import topology
from tests.gunrelay import Relays

pytestmark = pytest.mark.timeout(90)

INTERNAL = f"gun-relay.internal.{topology.DOMAIN}"
MISSING = f"gun-rlay.internal.{topology.DOMAIN}"


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    """One real GUN relay for the module (tests.gunrelay: npm gun pinned in tests/node)."""
    relays = Relays(tmp_path_factory.mktemp("relays"))
    yield relays.start().port
    relays.stop_all()


@pytest.fixture(scope="module")
def dns_servers():
    server = DnsServer({INTERNAL: ("A", "127.0.0.1", 30)}).start()
    yield [("127.0.0.1", server.port)]
    server.stop()


def _image(tmp_path: Path, tools: list[str]) -> str:
    """A PATH holding only these tools: what a slim image would have."""
    bin_dir = tmp_path / "image-bin"
    bin_dir.mkdir(exist_ok=True)
    for t in tools:
        src = shutil.which(t)
        assert src, f"{t} is needed on this machine for the test"
        (bin_dir / t).symlink_to(src)
    return str(bin_dir)


SHELL_BASE = ["sh", "base64", "awk", "sort", "tr", "sed", "grep", "head", "tail"]


def test_node_probe_inside_resolves_internal_names_and_speaks_gun(aca_exec, relay, dns_servers):
    peers = [(f"http://{INTERNAL}:{relay}/gun", "relay"), (f"http://{INTERNAL}:1/gun", "peer"),
             (f"http://{MISSING}:{relay}/gun", "peer"), (f"http://127.0.0.1:{relay}/nope", "peer")]
    run = inside.probe(LoomContext(), "loom-node", hosts=[INTERNAL, MISSING], peers=peers,
                       dns_servers=dns_servers, timeout=4)
    assert run.tool == "node" and run.where == "loom-node--n1-5d9774cff-00000"
    assert [type(d) for d in run.dns] == [DnsResult, DnsResult]
    ok, missing = run.dns
    assert (ok.ok, ok.status, ok.addresses, ok.where) == (True, "ok", ["127.0.0.1"], run.where)
    assert (missing.ok, missing.status, missing.expected) == (False, "nxdomain", False)
    assert "does not exist even inside the environment" in missing.hint
    good, refused, nxd, badpath = run.peers
    assert isinstance(good, PeerResult)
    assert good.ok and [s.name for s in good.stages] == ["dns", "tcp", "websocket", "hello", "ping", "read"]
    assert good.pid and good.rtt_ms is not None and good.where == run.where
    assert (refused.failed_stage, refused.error) == ("tcp", "connection refused by " + INTERNAL + ":1")
    assert "nothing listens" in refused.hint
    assert nxd.failed_stage == "dns" and nxd.stages[0].details["status"] == "nxdomain"
    assert badpath.failed_stage == "websocket" and badpath.stages[-1].details["http_status"] == 400
    assert "/gun" in badpath.hint
    assert aca_exec.sessions[-1].command.startswith("node -e ")


def test_shell_probe_with_getent_and_curl(aca_exec, relay, tmp_path):
    aca_exec.path_env = _image(tmp_path, SHELL_BASE + ["getent", "curl"])
    peers = [(f"ws://localhost:{relay}/gun", "relay"), (f"http://localhost:{relay}/nope", "peer"),
             ("http://127.0.0.1:1/gun", "peer")]
    run = inside.probe(LoomContext(), "loom-node", hosts=["localhost", "no-such-host.invalid"], peers=peers,
                       timeout=2)
    assert run.tool == "getent+curl" and run.tools == ["getent", "curl"]
    assert run.dns[0].ok and "127.0.0.1" in run.dns[0].addresses and run.dns[0].server == "system (getent)"
    assert (run.dns[1].ok, run.dns[1].status) == (False, "nxdomain")
    good, badpath, refused = run.peers
    assert good.ok and [s.name for s in good.stages] == ["dns", "tcp", "websocket", "hello"]
    assert "ping, read need node" in good.hint
    assert badpath.failed_stage == "websocket" and "HTTP 400" in badpath.error
    assert refused.failed_stage == "tcp"
    # node was tried first and was not in this image
    assert [s.command.split()[0] for s in aca_exec.sessions] == ["node", "sh"]


def test_image_without_any_tool_is_a_distinct_finding(aca_exec, tmp_path, loomctl):
    aca_exec.path_env = _image(tmp_path, SHELL_BASE)
    run = inside.probe(LoomContext(), "loom-node", hosts=["localhost"], timeout=2)
    assert run.missing_tools and run.tools == [] and run.tool is None
    err = inside.no_tools_error(run)
    assert err.exit_code == 1 and "none of node, getent, nslookup, curl, wget, nc" in err.message


def test_image_without_shell_or_node(aca_exec, tmp_path):
    aca_exec.path_env = str(tmp_path / "empty")
    run = inside.probe(LoomContext(), "loom-node", hosts=["localhost"], timeout=2)
    assert run.missing_tools and run.note == "no node and no usable shell (sh with base64)"


def test_hostile_values_stay_data(aca_exec, relay, tmp_path):
    marker = tmp_path / "pwned"
    hostile = f"x';touch {marker};echo '$(touch {marker})\"`touch {marker}`"
    url = f"http://{hostile}:{relay}/gun"
    run = inside.probe(LoomContext(), "loom-node", hosts=[hostile], peers=[(url, "peer")], timeout=2)
    assert not marker.exists()
    assert run.dns[0].host == hostile and not run.dns[0].ok
    aca_exec.path_env = _image(tmp_path, SHELL_BASE + ["getent", "curl"])
    run = inside.probe(LoomContext(), "loom-node", hosts=[hostile], peers=[(url, "peer")], timeout=2)
    assert run.tool and run.tool.startswith("getent")
    assert not marker.exists()
    assert run.dns[0].host == hostile and not run.dns[0].ok
    # nothing of the value is on the command line in clear
    for s in aca_exec.sessions:
        assert "touch" not in (s.command or "")


def test_shell_script_quotes_every_value():
    p = script.params(["a'b"], [("http://h$(x):80/gun", "peer")], [("10.0.0.1", 53)], 3)
    text = script.shell_script(p)
    assert "probe_dns 0 'a'\"'\"'b' 10.0.0.1 &" in text
    assert "probe_peer 0 'http://h$(x):80/gun' 'h$(x)' 80 ) &" in text
