"""loomctl config init | show | use | set | logout"""

from __future__ import annotations

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.options import debug_option, local_options


@click.group()
def config() -> None:
    """Manage profiles in the config file ($LOOMCTL_CONFIG or ~/.config/loomctl/config.toml).

    Precedence: command-line flag > environment variable > profile > default.
    """


def _keys_help() -> str:
    from loomctl.core.profiles import KEYS

    return ", ".join(KEYS)


@config.command("init")
@click.option("--profile", "name", default="default", show_default=True, metavar="NAME", help="Profile to create.")
@click.option("--subscription", metavar="ID", help="Azure subscription id.")
@click.option("-g", "--resource-group", metavar="NAME", help="Resource group of the deployment.")
@click.option("--environment", metavar="NAME", help="Container Apps environment.")
@click.option("--force", is_flag=True, help="Replace an existing profile of that name.")
@debug_option(hidden=True)
def init(name: str, subscription: str | None, resource_group: str | None, environment: str | None,
         force: bool) -> None:
    """Create a profile and make it the current one."""
    from loomctl.core import profiles as cfgmod
    from loomctl.core.errors import ConfigError
    from loomctl.output import ui

    cfgmod.validate_profile_name(name)
    with cfgmod.editing() as cfg:
        if name in cfg.profiles and not force:
            raise ConfigError(f"profile '{name}' already exists in {cfg.path}",
                              "use `loomctl config set KEY VALUE --profile NAME`, or --force to replace it")
        values = {"subscription": subscription, "resource_group": resource_group, "environment": environment}
        cfg.profiles[name] = {k: v for k, v in values.items() if v}
        cfg.current = name
    ui.info(f"created profile '{name}' in {cfg.path} and made it current")


@config.command("show")
@local_options
@pass_loom
def show(loom: LoomContext) -> None:
    """Show the effective settings and where each value comes from."""
    from loomctl.output.views.config import settings_table

    s = loom.settings
    rows = [{"key": k, "value": v, "source": s.sources.get(k, "")} for k, v in sorted(s.values.items())]
    doc = {"config_file": str(s.config_path), "profile": s.profile, "settings": rows}
    loom.output.emit(doc, table=settings_table)


@config.command("use")
@click.argument("name")
@debug_option(hidden=True)
def use(name: str) -> None:
    """Make profile NAME the current one."""
    from loomctl.core import profiles as cfgmod
    from loomctl.output import ui

    with cfgmod.editing() as cfg:
        cfg.profile(name)
        cfg.current = name
    ui.info(f"current profile is now '{name}'")


@config.command("set")
@click.argument("key")
@click.argument("value")
@click.option(
    "--profile", "name", metavar="NAME", envvar="LOOMCTL_PROFILE", help="Profile to change (default: current)."
)
@debug_option(hidden=True)
def set_(key: str, value: str, name: str | None) -> None:
    """Set KEY to VALUE in a profile (lists: comma-separated).

    Keys: subscription, resource_group, environment, relay_app, node_app, cloud, arm_endpoint, logs_endpoint,
    authority_host, workspace_id, azure, peers, relay_host, node_host, dns_servers, token_cache, suppress.
    """
    from loomctl.core import profiles as cfgmod
    from loomctl.core.errors import ConfigError
    from loomctl.output import ui

    coerced = cfgmod.coerce(key, value, "the command line")
    if key == "cloud":
        from loomctl.core.clouds import CLOUDS

        if coerced not in CLOUDS:
            raise ConfigError(f"unknown cloud '{coerced}'", f"use one of {', '.join(CLOUDS)}")
    if key in ("peers", "relay_host", "node_host"):  # refused now, not on first use
        from loomctl.loommesh.discovery import GUN_PORT, host_url, validate_url

        for url in coerced if key == "peers" else []:
            validate_url(url, "the command line")
        if key != "peers":
            host_url(coerced, GUN_PORT if key == "node_host" else None)
    with cfgmod.editing() as cfg:  # read, change, save under the file's lock: parallel calls keep every change
        name = name or cfg.current or "default"
        cfgmod.validate_profile_name(name)
        cfg.profiles.setdefault(name, {})[key] = coerced
        if cfg.current is None:
            cfg.current = name
    from loomctl.core.secrets import mask

    ui.info(f"set {key} = {mask(coerced, key)} in profile '{name}'")


set_.name = "set"


@config.command("logout")
@debug_option(hidden=True)
def logout() -> None:
    """Delete the Azure tokens loomctl keeps between runs (the token cache in the cache folder).

    The next command signs in again with its credential; `az logout` signs the Azure CLI itself out.
    """
    from loomctl.azure.tokens import TokenFile, cache_path
    from loomctl.core.errors import file_error
    from loomctl.output import ui

    path = cache_path()
    try:
        existed = TokenFile(path).delete()
    except OSError as exc:
        raise file_error(exc, path, "delete") from exc
    ui.info(f"deleted the token cache {path}" if existed else f"no token cache at {path}: nothing to delete")
