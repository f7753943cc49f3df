"""Profiles: init, show, use, set; precedence flag > environment > profile > default; bad files."""

from __future__ import annotations

import os
import sys


def settings_of(loomctl, *args):
    run = loomctl("config", "show", "-o", "json", *args)
    assert run.exit_code == 0, run.stderr
    return {r["key"]: (r["value"], r["source"]) for r in run.json()["settings"]}


def test_init_set_use_show(loomctl, tmp_path):
    cfg = tmp_path / "config.toml"
    run = loomctl("config", "init", "--profile", "prod", "--subscription", "11111111-2222-3333-4444-555555555555",
                  "-g", "rg-prod", "--environment", "env-prod")
    assert run.exit_code == 0, run.stderr
    assert "created profile 'prod'" in run.stderr
    assert oct(os.stat(cfg).st_mode & 0o777) == "0o600"
    assert loomctl("config", "init", "--profile", "dev", "-g", "rg-dev").exit_code == 0
    assert settings_of(loomctl)["resource_group"] == ("rg-dev", "profile dev")
    assert loomctl("config", "use", "prod").exit_code == 0
    s = settings_of(loomctl)
    assert s["resource_group"] == ("rg-prod", "profile prod")
    assert s["relay_app"] == ("gun-relay", "default")
    assert loomctl("config", "set", "relay_app", "my-relay").exit_code == 0
    assert loomctl("config", "set", "dns_servers", "127.0.0.1:5353, 10.0.0.10").exit_code == 0
    s = settings_of(loomctl)
    assert s["relay_app"] == ("my-relay", "profile prod")
    assert s["dns_servers"] == (["127.0.0.1:5353", "10.0.0.10"], "profile prod")
    assert settings_of(loomctl, "--profile", "dev")["resource_group"] == ("rg-dev", "profile dev")


def test_precedence_flag_env_profile_default(loomctl, monkeypatch):
    loomctl("config", "init", "--profile", "p", "-g", "from-profile")
    assert settings_of(loomctl)["resource_group"] == ("from-profile", "profile p")
    monkeypatch.setenv("LOOMCTL_RESOURCE_GROUP", "from-env")
    assert settings_of(loomctl)["resource_group"] == ("from-env", "env LOOMCTL_RESOURCE_GROUP")
    monkeypatch.setenv("LOOMCTL_PROFILE", "p")
    assert settings_of(loomctl)["resource_group"] == ("from-env", "env LOOMCTL_RESOURCE_GROUP")


def test_flag_beats_environment(azure, loomctl):
    # -g on a command wins over LOOMCTL_RESOURCE_GROUP: the request goes to the flag's group
    run = loomctl("status", "-g", "flag-group", "-o", "json")
    assert run.exit_code == 3
    assert any("/resourceGroups/flag-group/" in r.path for r in azure.requests)


def test_malformed_file_names_file(loomctl, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text("current = 'x'\n[profiles.x\n")
    run = loomctl("config", "show")
    assert run.exit_code == 2
    assert f"error: {cfg} is not valid TOML" in run.stderr
    assert "hint:" in run.stderr
    assert cfg.read_text() == "current = 'x'\n[profiles.x\n"  # untouched


def test_unknown_key_names_file_and_key(loomctl, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('current = "x"\n[profiles.x]\nresource_grop = "a"\n')
    run = loomctl("config", "show")
    assert run.exit_code == 2
    assert f"unknown key 'resource_grop' in {cfg} [profiles.x]" in run.stderr
    assert "known keys:" in run.stderr


def test_wrong_type_in_file(loomctl, tmp_path):
    (tmp_path / "config.toml").write_text('current = "x"\n[profiles.x]\nazure = "maybe"\n')
    run = loomctl("config", "show")
    assert run.exit_code == 2
    assert "key 'azure'" in run.stderr and "must be a bool" in run.stderr


def test_unknown_profile(loomctl):
    loomctl("config", "init", "--profile", "a")
    run = loomctl("config", "use", "b")
    assert run.exit_code == 2
    assert "profile 'b' is not in" in run.stderr
    assert "known profiles: a" in run.stderr
    run = loomctl("status", "--profile", "b")
    assert run.exit_code == 2


def test_bad_values_rejected_file_unchanged(loomctl, tmp_path):
    loomctl("config", "init", "--profile", "a", "-g", "rg")
    before = (tmp_path / "config.toml").read_text()
    for args, fragment in [(("set", "nosuch", "1"), "unknown key 'nosuch'"),
                           (("set", "azure", "perhaps"), "must be a bool"),
                           (("set", "cloud", "MarsCloud"), "unknown cloud 'MarsCloud'"),
                           (("init", "--profile", "bad name!"), "not a valid profile name"),
                           (("init", "--profile", "a"), "already exists")]:
        run = loomctl("config", *args)
        assert run.exit_code == 2, args
        assert fragment in run.stderr, (args, run.stderr)
    assert (tmp_path / "config.toml").read_text() == before


def test_values_with_quotes_round_trip(loomctl):
    loomctl("config", "init", "--profile", "q")
    assert loomctl("config", "set", "environment", 'we"ird\\name').exit_code == 0
    assert settings_of(loomctl)["environment"] == ('we"ird\\name', "profile q")


def test_config_debug_prints_the_traceback_of_an_unexpected_error(loomctl, monkeypatch):
    from loomctl.core import profiles

    assert loomctl("config", "init", "--profile", "x").exit_code == 0

    def boom(cfg):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(profiles, "save", boom)
    plain = loomctl("config", "set", "relay_app", "r")
    assert plain.exit_code == 3 and "disk on fire" in plain.stderr and "Traceback" not in plain.stderr
    for args in (("config", "set", "relay_app", "r", "--debug"), ("config", "use", "x", "--debug"),
                 ("config", "init", "--profile", "x", "--force", "--debug")):
        run = loomctl(*args)
        assert run.exit_code == 3, run.stderr
        assert "Traceback" in run.stderr and "RuntimeError: disk on fire" in run.stderr
    assert "--debug" not in loomctl("config", "set", "--help").stdout  # still hidden


def test_debug_after_a_separator_is_not_the_debug_flag(loomctl, monkeypatch):
    # `--debug` as an argument value (not the option) no longer turns tracebacks on
    from loomctl.core import profiles

    def boom(cfg):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(profiles, "save", boom)
    args = ("config", "set", "relay_app", "--", "--debug")
    monkeypatch.setattr(sys, "argv", ["loomctl", *args])  # as in a real run
    run = loomctl(*args)
    assert "disk on fire" in run.stderr and "Traceback" not in run.stderr
