"""On a profile with `azure = false` every command that needs Azure says so, with a hint (exit 2), instead of
naming a missing subscription id or workspace."""

from __future__ import annotations

import pytest

HINT = ("hint: with this profile `loomctl doctor`, `loomctl diagnose peers` and `loomctl sandbox status` work "
        "without Azure; for Azure pick another with --profile NAME (`loomctl config show` lists them)\n")


@pytest.fixture
def sandbox_profile(tmp_path):
    (tmp_path / "config.toml").write_text('[profiles.sandbox]\nazure = false\npeers = ["ws://127.0.0.1:9/gun"]\n')


@pytest.mark.parametrize("args, command", [
    (("status",), "loomctl status"),
    (("logs",), "loomctl logs"),
    (("logs", "--live"), "loomctl logs"),
    (("metrics",), "loomctl metrics"),
    (("query", "run", "restarts"), "loomctl query run"),
    (("exec", "--profile", "sandbox", "--", "true"), "loomctl exec"),
    (("deploy", "app", "--dry-run", "--image", "x:1"), "loomctl deploy app"),
    (("deploy", "infra", "--export"), "loomctl deploy infra"),
    (("diagnose", "storage"), "loomctl diagnose storage"),
])
def test_azure_commands_say_the_profile_has_no_azure(sandbox_profile, loomctl, args, command):
    args = args if "--profile" in args else (*args, "--profile", "sandbox")
    run = loomctl(*args)
    assert (run.exit_code, run.stderr) == (2, (
        f"error: `{command}` needs an Azure deployment, and profile 'sandbox' has none (azure = false)\n" + HINT))
