"""Environment variables loomctl reads, other than the profile keys (those are `profiles.KEYS`), and one reader.

An unset or empty variable (or one that is only spaces) gives the default, and so does a value that does not
parse as the variable's type or is below its `minimum`: a typo in `LOOMCTL_HTTP_TIMEOUT` (or a `COLUMNS=0` from a
shell) never stops a command, it is ignored with one `warning:` line per command, as GNU `ls` does for COLUMNS.
Paths are `~`-expanded.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Var:
    name: str
    kind: type  # str, int, float, bool (set and not empty) or Path
    default: Any
    help: str
    minimum: float | None = None  # int and float: smaller values are ignored (with a warning)


VARS: dict[str, Var] = {
    v.name: v
    for v in [
        Var("LOOMCTL_CONFIG", Path, None, "the config file (default $XDG_CONFIG_HOME/loomctl/config.toml)"),
        Var("LOOMCTL_PROFILE", str, None, "the profile to use (as --profile)"),
        Var("LOOMCTL_OUTPUT", str, None, "default output format: table, json, yaml, tsv or none"),
        Var("LOOMCTL_TABLE_ROWS", int, 500, "most rows a table shows"),
        Var("LOOMCTL_HTTP_TIMEOUT", float, 30.0, "seconds each HTTP request may take"),
        Var("LOOMCTL_RETRIES", int, 3, "retries of a throttled (429) or failed (5xx) Azure request"),
        Var("LOOMCTL_RETRY_BACKOFF", float, 0.8, "backoff factor (seconds) between those retries"),
        Var("LOOMCTL_POLL_INTERVAL", float, 5.0, "seconds between polls of a long-running Azure operation"),
        Var("LOOMCTL_EXEC_RETRY_DELAY", float, 0.5,
            "seconds before the first retry of a refused exec handshake (doubling, up to 5 s)"),
        Var("LOOMCTL_EXEC_HANDSHAKE_TIMEOUT", float, 30.0,
            "seconds `exec` keeps retrying a handshake refused with 500/502/503 (within --timeout)"),
        Var("LOOMCTL_LIVE_DURATION", float, None, "stop `logs --live` after this many seconds"),
        Var("LOOMCTL_ACA_DATAPLANE_ENDPOINT", str, None,
            "Container Apps data-plane base URL (https://REGION.azurecontainerapps.dev)"),
        Var("LOOMCTL_PRICES_ENDPOINT", str, None, "Azure Retail Prices API URL (`cost prices update`)"),
        Var("LOOMCTL_CACHE_DIR", Path, None,
            "cache folder: price lists, gun, Azure tokens (default $XDG_CACHE_HOME/loomctl)"),
        Var("LOOMCTL_SANDBOX_DIR", Path, None, "sandbox state folder (default $XDG_STATE_HOME/loomctl/sandbox)"),
        Var("LOOMCTL_GUN_DIR", Path, None, "a folder holding node_modules/gun for the sandbox (no install)"),
        Var("XDG_CONFIG_HOME", Path, None, "base of the config folder (default ~/.config)"),
        Var("XDG_CACHE_HOME", Path, None, "base of the cache folder (default ~/.cache)"),
        Var("XDG_STATE_HOME", Path, None, "base of the state folder (default ~/.local/state)"),
        Var("NO_COLOR", bool, False, "no colour in messages and tables"),
        Var("FORCE_COLOR", bool, False, "colour even when not on a terminal"),
        Var("COLUMNS", int, 120, "table width (a whole number, at least 10)", minimum=10),
        Var("AZURE_CLIENT_ID", str, None, "service principal (application) id; loomctl names it in sign-in hints"),
        Var("AZURE_TENANT_ID", str, None, "tenant to sign in to (read by azure-identity); part of the token key"),
        Var("AZURE_USERNAME", str, None, "user of username/password sign-in (azure-identity); part of the token key"),
        Var("AZURE_CLIENT_CERTIFICATE_PATH", str, None,
            "service principal certificate (azure-identity); part of the token key"),
        Var("AZURE_FEDERATED_TOKEN_FILE", str, None, "workload identity token file (azure-identity); part of the key"),
        Var("AZURE_TOKEN_CREDENTIALS", str, None,
            "which DefaultAzureCredential members sign in (azure-identity); part of the token key"),
        Var("AZURE_CONFIG_DIR", Path, None, "the Azure CLI's folder (default ~/.azure): its signed-in account"),
        Var("REQUESTS_CA_BUNDLE", str, None, "CA bundle (PEM) trusted for HTTPS"),
        Var("SSL_CERT_FILE", str, None, "CA bundle for the exec WebSocket when REQUESTS_CA_BUNDLE is unset"),
    ]
}


def get(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """The value of a variable in `VARS`, as its type; its default when unset, empty or not parseable."""
    value = given(name, environ)
    return VARS[name].default if value is None else value


def given(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """The value a variable in `VARS` sets, as its type; None when it is unset, empty or ignored (a warning)."""
    var = VARS[name]
    text = (os.environ if environ is None else environ).get(name, "").strip()
    if not text:
        return None
    if var.kind is bool:
        return True
    if var.kind is Path:
        return Path(text).expanduser()
    try:
        value = var.kind(text)
    except ValueError:
        value = None
    if value is None or value != value or value in (float("inf"), float("-inf")) or \
            (var.minimum is not None and value < var.minimum):
        _warn_ignored(var, text)
        return None
    return value


def _describe(var: Var) -> str:
    what = {int: "a whole number", float: "a number"}.get(var.kind, var.kind.__name__)
    if var.minimum is not None:
        what += f" of at least {var.minimum:g}"
    return what


_WARNED: set[str] = set()  # variables already warned about in this command (threads included)
_WARNED_LOCK = threading.Lock()


def forget_warnings() -> None:
    """A new command starts (cli.py): warn again about ignored values."""
    with _WARNED_LOCK:
        _WARNED.clear()


def _warn_ignored(var: Var, text: str) -> None:
    """One warning per variable and command, whichever thread reads it first."""
    with _WARNED_LOCK:
        if var.name in _WARNED:
            return
        _WARNED.add(var.name)
    import click  # plain click (not output.ui, which reads this table): the same `warning:` line, uncoloured

    click.echo(f"warning: ignoring {var.name}={text!r}: not {_describe(var)}", err=True)


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`$LOOMCTL_CACHE_DIR`, else `$XDG_CACHE_HOME/loomctl` (`~/.cache/loomctl`)."""
    given_dir = get("LOOMCTL_CACHE_DIR", environ)
    if given_dir is not None:
        return given_dir
    return (get("XDG_CACHE_HOME", environ) or Path.home() / ".cache") / "loomctl"
