"""The npm `gun` package the sandbox runs: pinned, installed on first use into a cache folder.

`LOOMCTL_GUN_DIR` names a folder that already holds `node_modules/gun` (the tests use tests/node); otherwise
gun is installed with `npm install --prefix` into `$LOOMCTL_CACHE_DIR` (default `$XDG_CACHE_HOME/loomctl`,
`~/.cache/loomctl`) under `gun-<version>`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from loomctl.core import environment
from loomctl.core.errors import ConfigError, NetworkError

GUN_VERSION = "0.2020.1241"


def node_binary() -> str:
    node = shutil.which("node")
    if not node:
        raise ConfigError("the sandbox needs Node.js, and `node` is not on PATH",
                          "install Node.js 18 or later (e.g. `apt-get install nodejs npm`, or https://nodejs.org)")
    return node


def _has_gun(folder: Path) -> bool:
    return (folder / "node_modules" / "gun" / "package.json").is_file()


def ensure_gun(version: str = GUN_VERSION) -> Path:
    """The node_modules folder holding gun@version; installs it on first use."""
    folder = environment.get("LOOMCTL_GUN_DIR")
    if folder is not None:
        given = str(folder)
        if not _has_gun(folder):
            raise ConfigError(f"LOOMCTL_GUN_DIR={given} holds no node_modules/gun",
                              f"run `npm install --prefix {given} gun@{version}`, or unset LOOMCTL_GUN_DIR")
        return folder / "node_modules"
    target = environment.cache_dir() / f"gun-{version}"
    if _has_gun(target):
        return target / "node_modules"
    npm = shutil.which("npm")
    if not npm:
        raise ConfigError("the sandbox installs the npm package gun on first use, and `npm` is not on PATH",
                          "install npm (e.g. `apt-get install npm`), or set LOOMCTL_GUN_DIR to a folder where "
                          f"`npm install gun@{version}` was run")
    from loomctl.output import ui

    ui.info(f"installing gun@{version} into {target} (first use) ...")
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        proc = subprocess.run([npm, "install", "--prefix", str(tmp), f"gun@{version}", "--no-audit", "--no-fund",
                               "--loglevel=error"], capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not _has_gun(tmp):
            last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise NetworkError(f"npm could not install gun@{version}: {last[0]}",
                               "check the network or npm proxy settings, or set LOOMCTL_GUN_DIR to a folder where "
                               f"`npm install gun@{version}` was run")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except subprocess.TimeoutExpired:
        raise NetworkError(f"npm install gun@{version} took more than 10 minutes", "check the network") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target / "node_modules"
