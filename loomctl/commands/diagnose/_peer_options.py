"""Options shared by `diagnose dns` and `diagnose peers`: which peers, which DNS servers, how long to wait."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from loomctl.core.options import _store_flag, peer_option

F = Callable[..., Any]


def peer_options(func: F) -> F:
    func = peer_target_options(func)
    func = click.option("--dns-server", metavar="HOST[:PORT]", multiple=True, expose_value=False,
                        callback=_store_flag("dns_servers"),
                        help="Query this DNS server instead of the system resolver (repeatable; "
                             "env LOOMCTL_DNS_SERVERS, comma-separated).")(func)
    func = click.option("--timeout", type=click.FloatRange(0.1, 300), default=5.0, show_default=True,
                        help="Deadline per peer, in seconds (peers are probed concurrently, at most 64 or a quarter "
                             "of the open-file limit at once).")(func)
    return func


def peer_target_options(func: F) -> F:
    """Which peers (`--peer`, `--relay-host`, `--node-host`), as `targets` resolves them; also `loomctl loadtest`."""
    func = peer_option(func)
    func = click.option("--relay-host", metavar="HOST[:PORT]", default=None, expose_value=False,
                        callback=_store_flag("relay_host"),
                        help="Relay host instead of the live deployment's (env GUN_RELAY_HOST).")(func)
    func = click.option("--node-host", metavar="HOST[:PORT]", default=None, expose_value=False,
                        callback=_store_flag("node_host"),
                        help="Node LoomMesh host (default port 8765) (env LOOM_NODE_HOST).")(func)
    return func


def targets(loom: Any) -> Any:
    """The peer list for this run (--peer > env > profile > live deployment)."""
    from loomctl.loommesh.discovery import discover, live_from_session

    settings = loom.settings
    live = None
    if settings.azure_enabled:
        def live() -> Any:
            return live_from_session(loom.azure)()
        return discover(settings, live)
    from loomctl.sandbox.hints import label

    return label(discover(settings, live))  # sandbox peers by their role (relay, node)


def dns_servers(loom: Any) -> list[tuple[str, int]]:
    from loomctl.loommesh.dns_probe import parse_servers

    return parse_servers(loom.settings.get("dns_servers") or [])
