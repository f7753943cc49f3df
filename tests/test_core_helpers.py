"""Shared helpers in loomctl/core: the atomic file writer, the one TOML writer (config profiles and deploy specs),
the one looks-secret rule."""

from __future__ import annotations

import os

import pytest

from loomctl.core.errors import FileError
from loomctl.core.files import write_text_atomic

AWKWARD = 'del\x7f nul\x00 bell\x07 esc\x1b tab\t nl\n cr\r quote" back\\ é ✓'


def test_write_replaces_the_file_whole_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    write_text_atomic(path, "new ✓\n")
    assert path.read_text(encoding="utf-8") == "new ✓\n"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_mode_is_set_even_against_the_umask_and_otherwise_follows_it(tmp_path):
    old = os.umask(0o077)
    try:
        write_text_atomic(tmp_path / "private", "x", mode=0o640)
        write_text_atomic(tmp_path / "plain", "x")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "private").st_mode & 0o777 == 0o640
    assert os.stat(tmp_path / "plain").st_mode & 0o777 == 0o600  # 0o666 less the umask, as open() does


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "out.txt"
    path.write_text("old")

    def boom(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(FileError, match=f"cannot write {path}: disk full"):  # strerror-less OSError: its text
        write_text_atomic(path, "new")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_config_with_control_characters_round_trips(tmp_path):
    from loomctl.core import profiles

    cfg = profiles.ConfigFile(tmp_path / "config.toml", current="p",
                              profiles={"p": {"node_app": AWKWARD, "peers": [AWKWARD, "b"], "min_peers": 2,
                                              "sync_latency_warn_ms": 2.5, "azure": False}})
    profiles.save(cfg)
    back = profiles.load(cfg.path)
    assert back.profiles == cfg.profiles and back.current == "p"
    assert oct(os.stat(cfg.path).st_mode & 0o777) == "0o600"
    assert '[profiles."p"]' in cfg.path.read_text(encoding="utf-8")


def test_spec_with_control_characters_round_trips(tmp_path):
    from loomctl.deploy import spec as sp

    spec = sp.reference()
    app = next(iter(spec.apps.values()))
    app.env["AWKWARD"] = AWKWARD
    app.env["odd key\x7f"] = "v"
    text = sp.dumps(spec, "header line")
    path = tmp_path / "loom.toml"
    path.write_text(text, encoding="utf-8")
    back = sp.load(str(path), "gun-relay", "loom-node")
    assert back.apps[app.name].env["AWKWARD"] == AWKWARD
    assert back.apps[app.name].env["odd key\x7f"] == "v"
    assert sp.dumps(back, "header line") == text
    assert "\x7f" not in text  # escaped, as TOML requires


def test_values_stay_on_one_line():
    from loomctl.core import toml

    assert toml.value({"secret": "openai-api-key", "skip": None}) == '{secret = "openai-api-key"}'
    assert toml.value(["a", 1, 2.5, True]) == '["a", 1, 2.5, true]'
    assert toml.key("plain_key-1") == "plain_key-1" and toml.key("a.b") == '"a.b"'
    with pytest.raises(TypeError):
        toml.value(object())


@pytest.mark.parametrize("name,secret", [
    ("OPENAI_API_KEY", True), ("openai_apikey", True), ("DB_PASSWORD", True), ("DB_PASSWD", True),
    ("GITHUB_TOKEN", True), ("SQL_CONNECTION_STRING", True), ("STORAGE_CONNECTIONSTRING", True),
    ("STORAGE_SAS", True), ("SAS", True), ("storageAccountKey", True), ("AZURE_CLIENT_SECRET", True),
    ("CLIENT_SECRET_NAME", False), ("KEYVAULT_URL", False), ("TOKEN_URL", False), ("MONKEY", False),
    ("GUN_PEERS", False), ("GUN_DATA_PATH", False), ("SASQUATCH", False), ("PASSWD_FILE", False), ("", False),
])
def test_looks_secret_by_whole_words(name, secret):
    """Doctor (LOOM209) and deploy's masking share this rule: what it calls secret both flag and hide."""
    from loomctl.core.secrets import looks_secret

    assert looks_secret(name) is secret
