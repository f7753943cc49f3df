"""What a fleet is made of: the scope asked for, the deployments Resource Graph found, what could not be read."""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any


@dataclass(frozen=True)
class FleetScope:
    """Which subscriptions to ask (None: every one the caller can read) and which deployments count.

    relay/node/environment: name patterns (shell-style, case-insensitive); tag: (key, value or None) the
    environment must carry."""

    subscriptions: tuple[str, ...] | None
    relay: str = "gun-relay"
    node: str = "loom-node"
    environment: str = "*"
    tag: tuple[str, str | None] | None = None

    @staticmethod
    def matches(pattern: str, name: str) -> bool:
        return fnmatchcase(name.lower(), pattern.lower())

    def exact_app_names(self) -> list[str] | None:
        """The app names to ask Resource Graph for, when neither pattern has wildcards."""
        names = [self.relay, self.node]
        return None if any(ch in n for n in names for ch in "*?[") else names


@dataclass
class Deployment:
    """One LoomDB deployment: a managed environment and its relay and node apps, as Resource Graph rows."""

    subscription: str
    resource_group: str
    environment: str
    region: str
    env_row: dict[str, Any]
    apps: dict[str, tuple[str, dict[str, Any] | None]]  # role -> (name, row or None when the app is missing)
    tags: dict[str, str] = field(default_factory=dict)
    others: list[str] = field(default_factory=list)  # more apps matching a role's pattern (first one is used)

    @property
    def key(self) -> str:
        """A unique, readable name: resource group/environment (subscription prefix when it is needed)."""
        return f"{self.resource_group}/{self.environment}"

    @property
    def missing(self) -> list[str]:
        return [role for role, (_, row) in self.apps.items() if row is None]


@dataclass
class Fleet:
    scope: FleetScope
    deployments: list[Deployment]
    subscriptions: list[str]  # those asked (or, at tenant scope, those rows came from)
    denied: dict[str, str]  # subscription -> why Resource Graph refused it
    truncated: bool
    requests: int
    pages: int
    rows: int
    query: str
