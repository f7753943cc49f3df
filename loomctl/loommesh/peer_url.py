"""Peer URLs, parsed once: `http(s)://HOST[:PORT]/PATH` or `ws(s)://...` (a bare `HOST[:PORT]` is http), with IPv6
literals in brackets (`ws://[::1]:8765/gun`). Every module that takes a peer URL apart uses `parse`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class PeerURL:
    scheme: str  # http or https (GUN dials them as ws and wss)
    host: str  # without brackets: what DNS resolves and what a socket connects to
    port: int
    path: str
    query: str = ""

    @property
    def netloc(self) -> str:
        """host:port, the host in brackets when it is an IPv6 literal."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def url(self, websocket: bool = False) -> str:
        """The URL: http(s)://, or ws(s):// with `websocket`; the port only when it is not the scheme's default
        (so that the Host header an ingress routes on is the bare host, as the user wrote it)."""
        scheme = {"http": "ws", "https": "wss"}[self.scheme] if websocket else self.scheme
        default = self.port == (443 if self.scheme == "https" else 80)
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = host if default else self.netloc
        return f"{scheme}://{netloc}{self.path}{'?' + self.query if self.query else ''}"


def parse(url: str) -> PeerURL:
    """A peer URL taken apart; ValueError (a one-line reason) when it is not one: an unknown scheme, no host, or a
    port that is not a number from 1 to 65535 (port 0 is refused, never read as "the default")."""
    try:
        parts = urlsplit(url.strip() if "://" in url else "http://" + url.strip())
    except ValueError:  # urlsplit: "Invalid IPv6 URL", an unbalanced '[' or ']'
        raise ValueError("its host has a '[' or ']' out of place (an IPv6 address is written [::1])") from None
    host_part = parts.netloc.rpartition("@")[2]
    if ("[" in host_part or "]" in host_part) and not re.fullmatch(r"\[[0-9A-Fa-f:.]+(%[^\]]+)?\](:\d*)?", host_part):
        raise ValueError(f"host '{host_part}' is neither a name nor an IPv6 address in brackets ([::1])")
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme.lower(), parts.scheme.lower())
    if scheme not in ("http", "https"):
        raise ValueError(f"scheme '{parts.scheme}' is not http, https, ws or wss")
    if not parts.hostname:
        raise ValueError("no host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"port '{_port_text(parts.netloc)}' is not a number from 1 to 65535") from None
    if port == 0:
        raise ValueError("port 0 is not a port a peer listens on (use 1 to 65535)")
    if port is None:  # none given, or an empty one ("HOST:"), which RFC 3986 reads as the scheme's default
        port = 443 if scheme == "https" else 80
    return PeerURL(scheme, parts.hostname, port, parts.path or "/", parts.query)


def _port_text(netloc: str) -> str:
    hostport = netloc.rsplit("@", 1)[-1]
    return hostport.rsplit("]", 1)[-1].rpartition(":")[2] if hostport.startswith("[") else hostport.rpartition(":")[2]


def split_url(url: str) -> tuple[str, str, int, str]:
    """(scheme http|https, host, port, path) of a peer URL (see `parse`)."""
    p = parse(url)
    return p.scheme, p.host, p.port, p.path


def peer_host(url: str) -> str:
    """The host a peer URL names (what DNS must resolve); the text itself when it names none."""
    try:
        return urlsplit(url if "://" in url else "http://" + url).hostname or url
    except ValueError:
        return url
