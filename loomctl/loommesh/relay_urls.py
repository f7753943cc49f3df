"""Which LoomMesh peer URLs reach the relay, derived from the relay's live ingress (never assumed `:8765`).

Container Apps HTTP ingress exposes an app's FQDN only on ports 80 (HTTP, and only while `allowInsecure` is true;
otherwise 80 redirects to 443) and 443 (HTTPS); `targetPort` is the container's port behind the ingress. TCP
ingress exposes `exposedPort`, and each `additionalPortMappings` entry its own `exposedPort`. A GUN relay accepts
the WebSocket upgrade only on the path `/gun`. Inside the environment an app is also reachable by its bare name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loomctl.azure.model import App
from loomctl.loommesh.peer_url import parse


@dataclass(frozen=True)
class Endpoint:
    scheme: str  # "http" or "https" (GUN dials ws/wss)
    port: int
    note: str


@dataclass
class PeerVerdict:
    url: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    suggestion: str | None = None


def relay_host(relay: App, default_domain: str | None) -> str | None:
    ing = relay.ingress
    if ing and ing.fqdn:
        return ing.fqdn
    if default_domain:
        return f"{relay.name}.internal.{default_domain}" if not (ing and ing.external) else \
            f"{relay.name}.{default_domain}"
    return None


def endpoints(relay: App) -> list[Endpoint]:
    """Scheme and port pairs on which the relay's FQDN reaches its container."""
    ing = relay.ingress
    if ing is None:
        return []
    out: list[Endpoint] = []
    transport = (ing.transport or "auto").lower()
    if transport == "tcp":
        port = ing.exposed_port or ing.target_port
        if port:
            out.append(Endpoint("http", int(port), "TCP ingress exposedPort"))
    else:
        out.append(Endpoint("https", 443, "HTTP ingress, HTTPS"))
        if ing.allow_insecure:
            out.append(Endpoint("http", 80, "HTTP ingress, allowInsecure"))
    for m in ing.additional_ports:
        if m.exposed_port:
            out.append(Endpoint("http", int(m.exposed_port), f"additional port mapping → {m.target_port}"))
    return out


def _url(scheme: str, host: str, port: int) -> str:
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}{'' if port == default else f':{port}'}/gun"


def expected_urls(relay: App, default_domain: str | None) -> list[str]:
    """Every peer URL that reaches this relay, the preferred one first."""
    host = relay_host(relay, default_domain)
    if not host:
        return []
    eps = endpoints(relay)
    # prefer plain http inside the environment when allowed (what the reference uses), then TCP, then https
    eps.sort(key=lambda e: (e.scheme != "http" or e.port != 80, e.scheme == "https"))
    return [_url(e.scheme, host, e.port) for e in eps]


def split_peers(value: str | None) -> list[str]:
    """GUN_PEERS as a list: comma- or whitespace-separated URLs (a JSON array is accepted too)."""
    if not value:
        return []
    text = value.strip()
    if text.startswith("["):
        import json

        try:
            items = json.loads(text)
            return [str(i).strip() for i in items if str(i).strip()]
        except ValueError:
            pass
    return [p for p in text.replace(",", " ").split() if p]


def judge(url: str, relay: App, default_domain: str | None) -> PeerVerdict:
    """Does this peer URL reach the relay? If not, say why and what would work."""
    expected = expected_urls(relay, default_domain)
    suggestion = expected[0] if expected else None
    problems: list[str] = []
    try:
        given = parse(url)
    except ValueError as exc:
        return PeerVerdict(url, False, [f"not a peer URL: {exc}"], suggestion)
    scheme, host, port, path = given.scheme, given.host.lower(), given.port, given.path
    fqdn = (relay_host(relay, default_domain) or "").lower()
    if host not in {fqdn, relay.name.lower()}:
        problems.append(f"host '{host}' is not the relay's FQDN '{fqdn}'")
    if relay.ingress is None:
        problems.append("the relay has no ingress, so no peer URL reaches it")
    else:
        eps = {(e.scheme, e.port) for e in endpoints(relay)}
        if (scheme, port) not in eps:
            offered = ", ".join(f"{s}:{p}" for s, p in sorted(eps)) or "none"
            why = ""
            if relay.ingress.target_port == port and (relay.ingress.transport or "auto").lower() != "tcp":
                why = f" ({port} is the container's targetPort behind HTTP ingress, not a port of the FQDN)"
            elif scheme == "http" and port == 80 and not relay.ingress.allow_insecure:
                why = " (allowInsecure is false, so port 80 redirects to HTTPS and the WebSocket upgrade fails)"
            problems.append(f"{scheme} on port {port} is not exposed by the relay's ingress{why}; exposed: {offered}")
    if path != "/gun":
        problems.append(f"path '{path}' is not '/gun' (the relay answers other paths with HTTP 400)")
    return PeerVerdict(url, not problems, problems, None if not problems else suggestion)
