"""Profiles in a TOML file: where it lives, what keys it may hold, reading and writing it.

File layout::

    current = "prod"

    [profiles.prod]
    subscription = "..."
    resource_group = "rg-loom"
    environment = "loom-env"

Location: ``$LOOMCTL_CONFIG`` or ``$XDG_CONFIG_HOME/loomctl/config.toml`` (``~/.config/loomctl/config.toml``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loomctl.core import environment, toml
from loomctl.core.errors import ConfigError
from loomctl.core.files import locked, read_text, write_text_atomic

_ALSO = "or set LOOMCTL_CONFIG to another file"  # added to the hint of a file error


@dataclass(frozen=True)
class Key:
    name: str
    kind: type  # str, int, float, bool or list (of str)
    help: str
    env: str | None = None
    default: Any = None
    shape: Callable[[str], str | None] | None = None  # a str key's format: what is wrong with a value, or None


_GUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")


def guid_problem(text: str) -> str | None:
    """What is wrong with a GUID (8-4-4-4-12 hex digits, as Azure ids are), or None."""
    return None if _GUID.match(text) else "is not a GUID (8-4-4-4-12 hex digits)"


# Every key a profile may hold. Other modules document their keys here so that `config set` validates them.
KEYS: dict[str, Key] = {
    k.name: k
    for k in [
        Key("subscription", str, "Azure subscription id", "AZURE_SUBSCRIPTION_ID", shape=guid_problem),
        Key("resource_group", str, "resource group of the deployment", "LOOMCTL_RESOURCE_GROUP"),
        Key("environment", str, "Container Apps managed environment name", "LOOMCTL_ENVIRONMENT"),
        Key("relay_app", str, "name of the LoomMesh relay app", "LOOMCTL_RELAY_APP", "gun-relay"),
        Key("node_app", str, "name of the application app", "LOOMCTL_NODE_APP", "loom-node"),
        Key("cloud", str, "AzureCloud, AzureUSGovernment or AzureChinaCloud", "LOOMCTL_CLOUD", "AzureCloud"),
        Key("arm_endpoint", str, "custom Azure Resource Manager endpoint (Azure Stack Hub, private clouds)",
            "LOOMCTL_ARM_ENDPOINT"),
        Key("logs_endpoint", str, "custom Log Analytics query endpoint", "LOOMCTL_LOGS_ENDPOINT"),
        Key("authority_host", str, "custom sign-in authority (https URL)", "AZURE_AUTHORITY_HOST"),
        Key("workspace_id", str, "Log Analytics workspace (customer) id; default: from the environment",
            "LOOMCTL_WORKSPACE_ID", shape=guid_problem),
        Key("logs_destination", str, "log-analytics or azure-monitor; default: from the environment",
            "LOOMCTL_LOGS_DESTINATION"),
        Key("metrics_source", str, "table with LoomMesh metrics: AppMetrics (default) or customMetrics",
            "LOOMCTL_METRICS_SOURCE", "AppMetrics"),
        Key("sync_latency_warn_ms", float, "p95 LoomMesh sync latency (ms) above which doctor warns", None, 500.0),
        Key("min_peers", int, "fewest LoomMesh peers a replica should see before doctor warns", None, 1),
        Key("azure", bool, "false for a profile with no Azure deployment (the local sandbox)", None, True),
        Key("peers", list, "LoomMesh peer URLs to probe instead of discovering them", "LOOMCTL_PEERS"),
        Key("relay_host", str, "LoomMesh relay host override", "GUN_RELAY_HOST"),
        Key("node_host", str, "LoomMesh node host override", "LOOM_NODE_HOST"),
        Key("dns_servers", list, "DNS servers HOST[:PORT] to query instead of the system resolver",
            "LOOMCTL_DNS_SERVERS"),
        Key("token_cache", bool, "keep Azure tokens between runs in the cache folder (`config logout` deletes them)",
            "LOOMCTL_TOKEN_CACHE", True),
        Key("suppress", list, "doctor findings to silence, as CODE or CODE=resource", None),
        Key("fleet_subscriptions", list, "subscription ids `loomctl fleet` looks at (default: the subscription)",
            None),
        Key("fleet_tag", str, "tag a fleet's environments carry, KEY=VALUE or KEY (e.g. loomdb=prod)", None),
        Key("fleet_relay_app", str, "name pattern of the fleet's relay apps (default: relay_app)", None),
        Key("fleet_node_app", str, "name pattern of the fleet's node apps (default: node_app)", None),
        Key("fleet_environment", str, "name pattern of the fleet's environments (default: all)", None),
    ]
}

_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def config_path(environ: dict[str, str] | None = None) -> Path:
    given = environment.get("LOOMCTL_CONFIG", environ)
    if given is not None:
        return given
    return (environment.get("XDG_CONFIG_HOME", environ) or Path.home() / ".config") / "loomctl" / "config.toml"


@dataclass
class ConfigFile:
    path: Path
    current: str | None = None
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)

    def profile(self, name: str) -> dict[str, Any]:
        if name not in self.profiles:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ConfigError(
                f"profile '{name}' is not in {self.path}",
                f"known profiles: {known}; create one with `loomctl config init --profile {name}`",
            )
        return self.profiles[name]


def validate_profile_name(name: str) -> str:
    if not _PROFILE_NAME.match(name):
        raise ConfigError(f"'{name}' is not a valid profile name",
                          "use letters, digits, '-', '_' and '.', starting with a letter or digit")
    return name


def coerce(key: str, value: Any, where: str) -> Any:
    """Check one key's value against its declared type; strings from the command line are converted.

    Numbers must be finite (TOML and `float()` accept nan and inf, JSON output cannot hold them); lists hold
    strings only."""
    if key not in KEYS:
        raise ConfigError(f"unknown key '{key}' in {where}", f"known keys: {', '.join(sorted(KEYS))}")
    kind = KEYS[key].kind
    if isinstance(value, str) and kind is not str:
        text = value.strip()
        if kind is bool:
            if text.lower() in ("true", "yes", "1", "on"):
                return True
            if text.lower() in ("false", "no", "0", "off"):
                return False
        elif kind is int:
            try:
                return int(text)
            except ValueError:
                pass
        elif kind is float:
            try:
                return _finite(key, float(text), value, where)
            except ValueError:
                pass
        elif kind is list:
            return [part.strip() for part in text.split(",") if part.strip()]
        raise ConfigError(f"key '{key}' in {where} must be a {kind.__name__}, not '{value}'",
                          f"{key}: {KEYS[key].help}")
    if kind is list:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise ConfigError(f"key '{key}' in {where} must be a list of strings, not {_shown(value)}",
                          f"{key}: {KEYS[key].help}; write it as {key} = [\"...\", \"...\"]")
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return _finite(key, float(value), value, where)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        problem = KEYS[key].shape(value) if kind is str and KEYS[key].shape else None
        if problem:
            raise ConfigError(f"key '{key}' in {where} {problem}: {_shown(value)}", f"{key}: {KEYS[key].help}")
        return value
    raise ConfigError(f"key '{key}' in {where} must be a {kind.__name__}, not {_shown(value)}",
                      f"{key}: {KEYS[key].help}")


def _finite(key: str, number: float, given: Any, where: str) -> float:
    if number != number or number in (float("inf"), float("-inf")):
        raise ConfigError(f"key '{key}' in {where} must be a finite number, not '{given}'",
                          f"{key}: {KEYS[key].help}")
    return number


def _shown(value: Any) -> str:
    """A value as the TOML file spells it, for messages (short)."""
    text = repr(value) if not isinstance(value, bool) else str(value).lower()
    return text if len(text) <= 60 else text[:57] + "..."


def load(path: Path | None = None) -> ConfigFile:
    """Read the config file; a missing file is an empty configuration."""
    path = path or config_path()
    try:
        text = read_text(path, "point LOOMCTL_CONFIG at a regular file (or at one that does not exist yet)")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"cannot read {path}: {exc}",
                          "check the file's permissions, or point LOOMCTL_CONFIG elsewhere") from exc
    if text is None:
        return ConfigFile(path)
    try:
        import tomllib  # type: ignore[import-not-found]
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}", "fix the file, or move it away and run `loomctl config init`"
        ) from exc
    cfg = ConfigFile(path)
    for top, value in data.items():
        if top == "current":
            if not isinstance(value, str):
                raise ConfigError(f"'current' in {path} must be a string", "set it with `loomctl config use NAME`")
            cfg.current = value
        elif top == "profiles":
            if not isinstance(value, dict):
                raise ConfigError(f"'profiles' in {path} must be a table", "write profiles as [profiles.NAME]")
            for name, keys in value.items():
                if not isinstance(keys, dict):
                    raise ConfigError(f"profile '{name}' in {path} must be a table", f"write it as [profiles.{name}]")
                cfg.profiles[name] = {k: coerce(k, v, f"{path} [profiles.{name}]") for k, v in keys.items()}
        else:
            raise ConfigError(f"unknown key '{top}' in {path}",
                              "the file holds only 'current' and [profiles.NAME] tables")
    return cfg


def dumps(cfg: ConfigFile) -> str:
    lines: list[str] = []
    if cfg.current:
        lines.append(f"current = {toml.value(cfg.current)}")
    for name in sorted(cfg.profiles):
        lines.append("")
        lines.append(f"[profiles.{toml.string(name)}]")
        for key in sorted(cfg.profiles[name]):
            lines.append(f"{toml.key(key)} = {toml.value(cfg.profiles[name][key])}")
    return "\n".join(lines) + "\n"


def save(cfg: ConfigFile) -> None:
    """Write atomically (never a half-written file); a new file is readable by the owner only."""
    write_text_atomic(cfg.path, dumps(cfg), mode=0o600, parents=True, also=_ALSO)


@contextlib.contextmanager
def editing(path: Path | None = None) -> Iterator[ConfigFile]:
    """Read the config file, let the block change it, save it: all under the file's lock (`core/files.locked`),
    so that parallel `config set` calls each keep their change. Nothing is saved when the block raises."""
    path = path or config_path()
    with locked(path, parents=True, also=_ALSO):
        cfg = load(path)
        yield cfg
        save(cfg)
