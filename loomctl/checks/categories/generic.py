"""Generic Container Apps rules a reviewer expects (PSRule for Azure's Container Apps set), as definition
checks of the Configuration category (LOOM220-LOOM239): doctor judges them live, `lint` in a template.

Each verdict is about the app's own definition; see docs/lint.md for PSRule's rules side by side.
"""

from __future__ import annotations

import re
from typing import Any

from loomctl.checks.base import AppRef, NotJudged, Outcome, failed, never_live, passed, spec_maker, warned

CATEGORY = "Configuration"
NAME = re.compile(r"[a-z][a-z0-9-]{0,30}[a-z0-9]")
RETIRED_API_VERSIONS = {"2022-06-01-preview", "2022-11-01-preview"}  # retired 16 November 2023


def check_name(app: AppRef, app_obj: Any) -> Outcome:
    name = app_obj.name or ""
    if not NAME.fullmatch(name) or "--" in name:
        return failed(f"app name '{name}' is not a valid container app name: 2-32 characters, lower-case letters, "
                      "digits and hyphens, starting with a letter, ending with a letter or digit, no '--'",
                      "rename it (Azure refuses the name when deploying)", name=name)
    return passed(f"'{name}' is a valid container app name")


def check_managed_identity(app: AppRef, app_obj: Any) -> Outcome:
    kind = (app_obj.identity_type or "None").strip()
    if kind.lower() == "none":
        return warned(f"'{app_obj.name}' has no managed identity: Key Vault secrets and registry pulls then need "
                      "credentials stored in the app",
                      f"assign one: `az containerapp identity assign -n {app_obj.name} -g <group> "
                      "--user-assigned <identity-id>`")
    return passed(f"managed identity: {kind}", identity=kind)


def check_api_version(app: AppRef, app_obj: Any) -> Outcome:
    version = app_obj.raw.get("apiVersion")
    if not version:
        raise NotJudged("a deployed app's definition names no template apiVersion")
    if str(version).lower() in RETIRED_API_VERSIONS:
        return failed(f"'{app_obj.name}' is deployed with API version {version}, retired on 16 November 2023: "
                      "Azure refuses to create or update it with this version",
                      "set apiVersion to a supported version, e.g. 2024-03-01", api_version=version)
    return passed(f"API version {version} is supported", api_version=version)


def check_affinity(app: AppRef, app_obj: Any) -> Outcome:
    ing = (app_obj.raw.get("properties") or {}).get("configuration", {}).get("ingress") or {}
    affinity = str((ing.get("stickySessions") or {}).get("affinity") or "none")
    if affinity.lower() == "sticky":
        return warned(f"'{app_obj.name}' pins each client to one replica (sticky sessions): load spreads unevenly "
                      "across its replicas, and new replicas get only new clients",
                      f"`az containerapp ingress sticky-sessions set -n {app_obj.name} -g <group> --affinity none`",
                      affinity=affinity)
    return passed(f"session affinity {affinity}")


def check_ip_restrictions(app: AppRef, app_obj: Any) -> Outcome:
    ing = (app_obj.raw.get("properties") or {}).get("configuration", {}).get("ingress") or {}
    rules = [r for r in ing.get("ipSecurityRestrictions") or [] if isinstance(r, dict)]
    if not rules:
        return passed("no IP restrictions")
    actions = {str(r.get("action") or "").lower() for r in rules}
    if actions != {"allow"}:
        deny = next((r.get("name") or r.get("ipAddressRange") for r in rules
                     if str(r.get("action") or "").lower() != "allow"), "?")
        return warned(f"'{app_obj.name}' has an IP restriction that is not 'Allow' ({deny}): with deny rules every "
                      "address not listed is admitted", "list the addresses to admit, each with action Allow",
                      actions=sorted(actions))
    return passed(f"{len(rules)} IP restriction(s), each Allow: other addresses are refused", rules=len(rules))


_spec = spec_maker(CATEGORY, after=("LOOM105",), needs_azure=True, fill_hints=True, per_app=True)

GENERIC_CHECKS = [
    _spec("LOOM220", "app name is valid",
          "Container app names are 2-32 lower-case letters, digits and hyphens, start with a letter, end with a "
          "letter or digit and have no '--' (PSRule Azure.ContainerApp.Name); Azure refuses other names.",
          "Rename the app in the definition.", check_name, ("app_obj",)),
    _spec("LOOM221", "app has a managed identity",
          "Without a managed identity the app cannot read Key Vault secrets or pull from a registry without "
          "stored credentials (PSRule Azure.ContainerApp.ManagedIdentity).",
          "`az containerapp identity assign --user-assigned <identity-id>`.", check_managed_identity, ("app_obj",)),
    _spec("LOOM222", "API version is not retired",
          "API versions 2022-06-01-preview and 2022-11-01-preview of Microsoft.App were retired on 16 November 2023: "
          "a template using them cannot create or update the app (PSRule Azure.ContainerApp.APIVersion). A "
          "deployed app names no template version: judged by `lint` only.",
          "Set the resource's apiVersion to a supported version, e.g. 2024-03-01.", check_api_version, ("app_obj",),
          runs_if=never_live),
    _spec("LOOM223", "session affinity is off",
          "Sticky sessions pin each client to one replica: load spreads unevenly across replicas, and replicas added "
          "by scaling get only new clients (PSRule Azure.ContainerApp.DisableAffinity).",
          "`az containerapp ingress sticky-sessions set --affinity none`.", check_affinity, ("app_obj",)),
    _spec("LOOM224", "IP restrictions allow, never deny",
          "IP restrictions with a Deny action admit every address not listed; allow-lists refuse them "
          "(PSRule Azure.ContainerApp.RestrictIngress).",
          "Write the restrictions as Allow rules for the addresses to admit.", check_ip_restrictions, ("app_obj",)),
]
