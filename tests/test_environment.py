"""The table of environment variables and its reader: defaults, types, bad values, one cache folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loomctl.core import environment

ROOT = Path(__file__).resolve().parent.parent


def test_unset_empty_or_blank_gives_the_default(monkeypatch):
    for value in (None, "", "   "):
        if value is None:
            monkeypatch.delenv("LOOMCTL_TABLE_ROWS", raising=False)
        else:
            monkeypatch.setenv("LOOMCTL_TABLE_ROWS", value)
        assert environment.get("LOOMCTL_TABLE_ROWS") == 500


@pytest.mark.parametrize("name,text,value", [
    ("LOOMCTL_TABLE_ROWS", " 7 ", 7),
    ("LOOMCTL_TABLE_ROWS", "seven", 500),
    ("LOOMCTL_HTTP_TIMEOUT", "2.5", 2.5),
    ("LOOMCTL_HTTP_TIMEOUT", "soon", 30.0),
    ("LOOMCTL_RETRIES", "x", 3),
    ("NO_COLOR", "0", True),  # present and not empty, as no-color.org says
    ("LOOMCTL_OUTPUT", "yaml", "yaml"),
])
def test_values_are_typed_and_a_bad_one_is_the_default(name, text, value):
    assert environment.get(name, {name: text}) == value


def test_paths_are_expanded():
    assert environment.get("LOOMCTL_SANDBOX_DIR", {"LOOMCTL_SANDBOX_DIR": "~/sb"}) == Path.home() / "sb"


def test_an_unknown_name_is_an_error():
    with pytest.raises(KeyError):
        environment.get("LOOMCTL_NO_SUCH_VARIABLE")


def test_one_cache_folder_for_prices_and_gun(monkeypatch, tmp_path):
    from loomctl.cost import prices

    monkeypatch.setenv("LOOMCTL_CACHE_DIR", "~/loomcache")
    assert prices.cache_path("eastus", "USD") == Path.home() / "loomcache" / "prices-eastus-USD.json"
    monkeypatch.delenv("LOOMCTL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert environment.cache_dir() == tmp_path / "loomctl"


def test_one_retry_backoff_for_azure_and_the_prices_api(monkeypatch):
    from loomctl.azure.session import client_kwargs
    from loomctl.cost import retail_api

    monkeypatch.delenv("LOOMCTL_RETRY_BACKOFF", raising=False)
    assert client_kwargs()["retry_backoff_factor"] == retail_api._backoff() == 0.8
    monkeypatch.setenv("LOOMCTL_RETRY_BACKOFF", "0.1")
    assert client_kwargs()["retry_backoff_factor"] == retail_api._backoff() == 0.1


def test_every_read_goes_through_the_table():
    direct = re.compile(r"os\.environ\.get\(|os\.environ\[|os\.getenv\(|environ\.get\(\"")
    found = [f"{p.relative_to(ROOT)}:{n}" for p in (ROOT / "loomctl").rglob("*.py") if p.name != "environment.py"
             for n, line in enumerate(p.read_text().splitlines(), 1) if direct.search(line)]
    assert found == []


def test_readme_lists_every_variable():
    readme = (ROOT / "README.md").read_text()
    assert [name for name in environment.VARS if f"`{name}`" not in readme] == []
