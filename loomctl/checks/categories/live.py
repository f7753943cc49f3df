"""Helpers shared by the categories that read the live deployment (Configuration, Storage, Runtime)."""

from __future__ import annotations

from typing import Any


def live_providers(apps: list[Any]) -> dict[str, Any]:
    """Inputs every live category registers: each app's model as "app_obj"."""
    return {f"app_obj:{ref.name}": (lambda i, n=ref.name: i.get(f"app:{n}")) for ref in apps}
