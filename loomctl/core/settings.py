"""Resolved settings: flag > environment > profile > default, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loomctl.core import environment
from loomctl.core import profiles as cfgmod
from loomctl.core.clouds import CLOUDS, Cloud
from loomctl.core.errors import ConfigError, UsageError

# the keys that locate the Azure deployment: asking for one on a profile with azure = false is asking for Azure
AZURE_KEYS = ("subscription", "resource_group", "environment")


@dataclass(frozen=True)
class Settings:
    profile: str | None
    config_path: Path
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # key -> "flag" | "env VAR" | "profile NAME" | "default"
    command: str | None = None  # the command these settings were resolved for ("loomctl status"), for messages

    def get(self, key: str) -> Any:
        return self.values.get(key)

    @property
    def subscription(self) -> str | None:
        return self.values.get("subscription")

    @property
    def resource_group(self) -> str | None:
        return self.values.get("resource_group")

    @property
    def environment(self) -> str | None:
        return self.values.get("environment")

    @property
    def relay_app(self) -> str:
        return self.values.get("relay_app") or "gun-relay"

    @property
    def node_app(self) -> str:
        return self.values.get("node_app") or "loom-node"

    @property
    def azure_enabled(self) -> bool:
        return self.values.get("azure", True) is not False

    @property
    def cloud(self) -> Cloud:
        name = self.values.get("cloud") or "AzureCloud"
        if name not in CLOUDS:
            raise ConfigError(f"unknown cloud '{name}' ({self.sources.get('cloud', 'default')})",
                              f"use one of {', '.join(CLOUDS)}, or set arm_endpoint/logs_endpoint/authority_host")
        return CLOUDS[name]

    @property
    def arm_endpoint(self) -> str:
        return (self.values.get("arm_endpoint") or self.cloud.arm_endpoint).rstrip("/")

    @property
    def logs_endpoint(self) -> str:
        return (self.values.get("logs_endpoint") or self.cloud.logs_endpoint).rstrip("/")

    @property
    def authority_host(self) -> str:
        return (self.values.get("authority_host") or self.cloud.authority_host).rstrip("/")

    @property
    def arm_scope(self) -> str:
        if self.values.get("arm_endpoint"):
            return self.arm_endpoint + "/.default"
        return self.cloud.arm_scope

    def no_azure(self) -> ConfigError:
        """The error of a command that needs Azure, run with a profile that has no Azure deployment."""
        what = f"`{self.command}`" if self.command else "this command"
        return ConfigError(f"{what} needs an Azure deployment, and profile '{self.profile}' has none (azure = false)",
                           "with this profile `loomctl doctor`, `loomctl diagnose peers` and `loomctl sandbox status` "
                           "work without Azure; for Azure pick another with --profile NAME (`loomctl config show` "
                           "lists them)")

    def require(self, *keys: str) -> None:
        """Raise a usage error naming the first missing key and every way to set it (on a profile without Azure,
        that it has no Azure deployment)."""
        if not self.azure_enabled and any(k in AZURE_KEYS for k in keys):
            raise self.no_azure()
        for key in keys:
            if not self.values.get(key):
                spec = cfgmod.KEYS[key]
                flag = "--" + key.replace("_", "-")
                env = f", env {spec.env}" if spec.env else ""
                raise ConfigError(
                    f"no {spec.help} is set",
                    f"pass {flag}{env}, or `loomctl config set {key} VALUE`",
                )


def resolve(flags: dict[str, Any], profile: str | None = None, environ: dict[str, str] | None = None,
            path: Path | None = None) -> Settings:
    """Merge flags, environment, the chosen profile and defaults."""
    env = os.environ if environ is None else environ
    path = path or cfgmod.config_path(env)
    cfg = cfgmod.load(path)
    profile = profile or environment.get("LOOMCTL_PROFILE", env) or cfg.current
    prof: dict[str, Any] = {}
    if profile:
        if profile in cfg.profiles:
            prof = cfg.profiles[profile]
        elif profile != cfg.current or cfg.profiles:
            cfg.profile(profile)  # raises with the known names
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, spec in cfgmod.KEYS.items():
        if flags.get(key) not in (None, (), []):
            value = flags[key]
            if isinstance(value, str) and spec.shape and (problem := spec.shape(value)):
                flag = "--" + key.replace("_", "-")
                raise UsageError(f"{flag} {problem}: '{value}'", f"{key}: {spec.help}")
            values[key] = list(value) if isinstance(value, tuple) else value
            sources[key] = "flag"
        elif spec.env and env.get(spec.env):
            values[key] = cfgmod.coerce(key, env[spec.env], f"environment variable {spec.env}")
            sources[key] = f"env {spec.env}"
        elif key in prof:
            values[key] = prof[key]
            sources[key] = f"profile {profile}"
        elif spec.default is not None:
            values[key] = spec.default
            sources[key] = "default"
    import click

    ctx = click.get_current_context(silent=True)
    return Settings(profile=profile, config_path=path, values=values, sources=sources,
                    command=ctx.command_path if ctx is not None else None)
