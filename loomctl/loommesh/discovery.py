"""Which LoomMesh peers to probe, in the spirit of the reference's `AzureServiceDiscovery.getPeers`.

Order of precedence: explicit `--peer URL` (or the profile's `peers`), then `--relay-host` / `--node-host`
(env GUN_RELAY_HOST, LOOM_NODE_HOST), then the live deployment: the relay's FQDN with the scheme, port and `/gun`
path its live ingress exposes (never an assumed :8765), and the node's LoomMesh port when its ingress exposes it.
The node's `GUN_PEERS` value is judged against the relay's ingress (`loomctl.loommesh.relay_urls.judge`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from loomctl.core.errors import ConfigError, UsageError
from loomctl.loommesh.peer_url import parse

if TYPE_CHECKING:  # pragma: no cover
    from loomctl.azure.model import App, Environment
    from loomctl.core.settings import Settings

GUN_PORT = 8765  # the container port of the embedded LoomMesh peer in loom-node


@dataclass
class Peer:
    url: str
    role: str  # relay | node | peer
    source: str  # flag | profile | env | live deployment


@dataclass
class GunPeersVerdict:
    value: str | None
    urls: list[str]
    ok: bool
    problems: list[str] = field(default_factory=list)
    suggestion: str | None = None


@dataclass
class PeerList:
    peers: list[Peer]
    notes: list[str] = field(default_factory=list)
    gun_peers: GunPeersVerdict | None = None


def host_url(value: str, default_port: int | None = None) -> str:
    """A host override as a peer URL: `HOST`, `HOST:PORT` or a full URL; the path is /gun unless given."""
    from urllib.parse import urlsplit

    v = value.strip()
    if not v:
        raise UsageError("empty host", "give HOST, HOST:PORT or a URL such as http://HOST/gun")
    if "://" not in v:
        v = "http://" + v
    try:
        parts = urlsplit(v)
        port = parts.port
    except ValueError as exc:
        reason = str(exc)
        try:  # the peer URL parser's words for a bad port (urllib says "Port out of range 0-65535")
            parse(v)
        except ValueError as named:
            reason = str(named)
        raise UsageError(f"'{value}' is not a host or URL: {reason}",
                         "give HOST, HOST:PORT or http://HOST[:PORT]/gun") from None
    if not parts.hostname or parts.scheme not in ("http", "https", "ws", "wss"):
        raise UsageError(f"'{value}' is not a host or URL", "give HOST, HOST:PORT or http://HOST[:PORT]/gun")
    if port is None and default_port:
        host = parts.hostname
        netloc = f"[{host}]:{default_port}" if ":" in host else f"{host}:{default_port}"
    else:
        netloc = parts.netloc
    url = f"{parts.scheme}://{netloc}{parts.path if parts.path not in ('', '/') else '/gun'}"
    try:
        parse(url)
    except ValueError as exc:
        raise UsageError(f"'{value}' is not a host or URL: {exc}",
                         "give HOST, HOST:PORT or http://HOST[:PORT]/gun") from None
    return url


def validate_url(url: str, source: str = "flag") -> str:
    """The URL, or a one-line error: a usage error for --peer, a config error naming where else it was set."""
    try:
        parse(url)
    except ValueError as exc:
        where = "" if source == "flag" else f" ({source})"
        cls = UsageError if source == "flag" else ConfigError
        raise cls(f"peer '{url}'{where} is not a peer URL: {exc}",
                  "write peers as http://HOST[:PORT]/gun (ws://, https:// and wss:// work too)") from None
    return url


def validate_peers(settings: Settings) -> None:
    """Check the configured peers (--peer, LOOMCTL_PEERS, profile) and host overrides before anything runs."""
    source = settings.sources.get("peers", "profile")
    for u in settings.get("peers") or []:
        validate_url(u, source)
    for key, port in (("relay_host", None), ("node_host", GUN_PORT)):
        if settings.get(key):
            host_url(settings.get(key), port)


def node_gun_urls(node: App) -> list[str]:
    """URLs on which the node's embedded LoomMesh peer (container port 8765) is exposed, if any."""
    ing = node.ingress
    if ing is None or not ing.fqdn:
        return []
    out = []
    if (ing.transport or "").lower() == "tcp" and ing.target_port == GUN_PORT:
        out.append(f"http://{ing.fqdn}:{ing.exposed_port or ing.target_port}/gun")
    for m in ing.additional_ports:
        if m.target_port == GUN_PORT and m.exposed_port:
            out.append(f"http://{ing.fqdn}:{m.exposed_port}/gun")
    return out


def judge_gun_peers(node: App, relay: App, domain: str | None) -> GunPeersVerdict | None:
    from loomctl.loommesh import relay_urls

    value = None
    for c in node.containers:
        value = c.env_value("GUN_PEERS") or value
    if value is None:
        return None
    urls = relay_urls.split_peers(value)
    if not urls:
        return GunPeersVerdict(value, [], False, ["GUN_PEERS is empty: the node dials no relay"],
                               (relay_urls.expected_urls(relay, domain) or [None])[0])
    verdicts = [relay_urls.judge(u, relay, domain) for u in urls]
    good = [v for v in verdicts if v.ok]
    problems = [f"{v.url}: {p}" for v in verdicts if not v.ok for p in v.problems]
    suggestion = None if good else next((v.suggestion for v in verdicts if v.suggestion), None)
    return GunPeersVerdict(value, urls, bool(good), problems, suggestion)


def from_deployment(env: Environment, relay: App, node: App) -> PeerList:
    from loomctl.loommesh import relay_urls

    notes: list[str] = []
    peers: list[Peer] = []
    expected = relay_urls.expected_urls(relay, env.default_domain)
    if expected:
        peers.append(Peer(expected[0], "relay", "live deployment"))
    else:
        notes.append(f"relay app '{relay.name}' has no ingress: no peer URL reaches it")
    node_urls = node_gun_urls(node)
    if node_urls:
        peers.append(Peer(node_urls[0], "node", "live deployment"))
    else:
        notes.append(f"node app '{node.name}' does not expose its LoomMesh port {GUN_PORT} on its ingress "
                     "(no TCP ingress or additional port mapping): only the relay is probed; use --node-host "
                     "to probe a node directly")
    verdict = judge_gun_peers(node, relay, env.default_domain)
    if verdict and not verdict.ok:
        notes.append(f"the node's GUN_PEERS ({verdict.value}) does not reach the relay: "
                     + "; ".join(verdict.problems) + (f"; use {verdict.suggestion}" if verdict.suggestion else ""))
    return PeerList(peers, notes, verdict)


def from_live_deployment(settings: Settings) -> bool:
    """Whether `discover` reads the peers from the live deployment (no peers or peer hosts are given)."""
    given = settings.get("peers") or settings.get("relay_host") or settings.get("node_host")
    return bool(settings.azure_enabled and not given)


def discover(settings: Settings, live: Any = None) -> PeerList:
    """The peers to probe. `live()` returns (environment, relay app, node app) and is called only when needed."""
    explicit = list(settings.get("peers") or [])
    if explicit:
        source = settings.sources.get("peers", "profile")
        return PeerList([Peer(validate_url(u, source), "peer", source) for u in explicit])
    relay_host, node_host = settings.get("relay_host"), settings.get("node_host")
    if relay_host or node_host:
        out = []
        if relay_host:
            out.append(Peer(host_url(relay_host), "relay", settings.sources.get("relay_host", "flag")))
        if node_host:
            out.append(Peer(host_url(node_host, GUN_PORT), "node", settings.sources.get("node_host", "flag")))
        return PeerList(out)
    if not settings.azure_enabled:
        raise ConfigError(f"profile '{settings.profile}' has no Azure deployment and names no peers",
                          "set peers: `loomctl config set peers ws://127.0.0.1:8765/gun`, or pass --peer URL")
    if live is None:
        raise ConfigError("no LoomMesh peers given", "pass --peer URL, --relay-host HOST, or an Azure deployment")
    env, relay, node = live()
    return from_deployment(env, relay, node)


def live_from_session(session: Any) -> Any:
    """A `live()` callable reading the environment and both apps concurrently."""
    def live() -> tuple[Any, Any, Any]:
        from loomctl.azure import deployment as d

        s = session.settings
        s.require("subscription", "resource_group", "environment")
        return tuple(d.parallel([lambda: d.get_environment(session), lambda: d.get_app(session, s.relay_app),
                                 lambda: d.get_app(session, s.node_app)]))
    return live
