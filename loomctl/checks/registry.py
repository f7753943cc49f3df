"""The check catalogue: categories in display order, each a module with a `CHECKS` list.

Modules are imported only when doctor or `checks list` runs.
"""

from __future__ import annotations

import importlib

from loomctl.checks.base import CheckSpec

# (category name, module), in the order doctor shows them.
# Codes: LOOM1xx Azure access, 2xx Configuration, 3xx DNS, 4xx LoomMesh, 5xx Storage, 6xx Runtime, 7xx Logs, 9xx Fleet.
CATEGORIES: list[tuple[str, str]] = [
    ("Azure access and apps", "loomctl.checks.categories.azure_access"),
    ("Configuration", "loomctl.checks.categories.configuration"),
    ("DNS", "loomctl.checks.categories.dns"),
    ("LoomMesh", "loomctl.checks.categories.loommesh"),
    ("Storage", "loomctl.checks.categories.storage"),
    ("Runtime", "loomctl.checks.categories.runtime"),
    ("Logs and metrics", "loomctl.checks.categories.logs_metrics"),
    ("Fleet", "loomctl.checks.categories.fleet"),
]
# categories only `loomctl fleet doctor` runs (they judge many deployments at once); `doctor` never plans them
FLEET_ONLY = ("Fleet",)


def category_names() -> list[str]:
    return [name for name, _ in CATEGORIES]


def all_checks(categories: list[str] | None = None) -> list[CheckSpec]:
    wanted = {c.lower() for c in categories} if categories else None
    specs: list[CheckSpec] = []
    for name, module in CATEGORIES:
        if wanted is not None and name.lower() not in wanted:
            continue
        specs.extend(importlib.import_module(module).CHECKS)
    return specs


def resolve_category(value: str) -> str:
    """Accept a category by name, case-insensitively, or by a unique prefix/slug ("azure", "dns")."""
    from loomctl.core.errors import UsageError

    v = value.strip().lower()
    names = category_names()
    for n in names:
        if n.lower() == v:
            return n
    slug = [n for n in names if n.lower().replace(" ", "-").startswith(v) or n.lower().startswith(v)]
    if len(slug) == 1:
        return slug[0]
    raise UsageError(f"unknown check category '{value}'", f"categories: {', '.join(names)}")
