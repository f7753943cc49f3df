"""Secrets never reach loomctl's output: one rule (`core.secrets`), one mask (`***`), every command and format.

The values below are credentials the way they appear in real deployments: under a credential name (DB_PASSWD,
STORAGE_SAS) and under innocent names with a credential inside (a SAS URL, a storage connection string, a JWT).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fakeazure import topology
from tests.fakeazure.server import CLIENT_SECRET, Fault
from tests.fakeazure.writes import install
from tests.secretguard import assert_no_secrets, known_secret_values, leaks

NODE = topology.NODE
IMAGE = "myacr.azurecr.io/loom:1234"
PASSWD = "hunter2-db-passwd-value"
SAS = "sv=2025-05-05&ss=f&srt=sco&sp=rwdl&se=2027-01-01T00:00:00Z&sig=q1w2e3r4SAS%2Bsignature%3D"
SAS_SIG = "q1w2e3r4SAS"
ACCOUNT_KEY = "YWNjb3VudC1rZXktbm90LXJlYWwtbG9vbQ=="
CONN = (f"DefaultEndpointsProtocol=https;AccountName=loomstorage01;AccountKey={ACCOUNT_KEY};"
        "EndpointSuffix=core.windows.net")
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJsb29tIn0.c2lnbmF0dXJlLW5vdC1yZWFs"
LEAKY_ENV = [
    {"name": "DB_PASSWD", "value": PASSWD},
    {"name": "STORAGE_SAS", "value": SAS},
    {"name": "BACKUP_URL", "value": f"https://loomstorage01.file.core.windows.net/backup?{SAS}"},  # innocent name
    {"name": "BLOB_SETTINGS", "value": CONN},  # innocent name, AccountKey inside
    {"name": "UPSTREAM_AUTH", "value": f"Bearer {JWT}"},
]
FORMATS = ["json", "yaml", "tsv", "table"]


def _leaky(azure):
    azure.state["apps"][NODE]["properties"]["template"]["containers"][0]["env"] += [dict(e) for e in LEAKY_ENV]


def _raw_values(text):
    return [v for v in (PASSWD, SAS, SAS_SIG, ACCOUNT_KEY, JWT, CLIENT_SECRET) if v in text]


@pytest.fixture
def fake(azure, monkeypatch, tmp_path):
    monkeypatch.setenv("LOOMCTL_POLL_INTERVAL", "0.02")
    monkeypatch.chdir(tmp_path)  # no ./loom.toml: the built-in reference spec
    return install(azure)


# -- the rule and the mask -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,shown", [
    ("wss://user:s3cr3t@relay.example/gun", "wss://user:***@relay.example/gun"),
    ("peers: wss://u:p@ss@h/gun, ws://v:q@i:8765/gun", "peers: wss://u:***@h/gun, ws://v:***@i:8765/gun"),
    (f"https://a.file.core.windows.net/s?{SAS}", "https://a.file.core.windows.net/s?sv=2025-05-05&ss=f&srt=sco"
                                                 "&sp=rwdl&se=2027-01-01T00:00:00Z&sig=***"),
    (CONN, "DefaultEndpointsProtocol=https;AccountName=loomstorage01;AccountKey=***;EndpointSuffix=core.windows.net"),
    ("Server=tcp:db;User ID=loom;Password=hunter2;", "Server=tcp:db;User ID=loom;Password=***;"),
    (f"token {JWT} expired", "token *** expired"),
    ("Authorization: Bearer fake-access-token-7", "Authorization: Bearer ***"),
    ('{"token_type": "Bearer", "access_token": "abc.def"}', '{"token_type": "Bearer", "access_token": "***"}'),
    # not credentials: unchanged
    ("http://gun-relay.internal.example.io:8765/gun", "http://gun-relay.internal.example.io:8765/gun"),
    ("ws://[::1]:8765/gun", "ws://[::1]:8765/gun"),
    ("'Authorization': 'REDACTED'", "'Authorization': 'REDACTED'"),
    ("send a Bearer token in the Authorization header", "send a Bearer token in the Authorization header"),
    ("user@example.com", "user@example.com"),
])
def test_mask_text_hides_credentials_by_content(text, shown):
    from loomctl.core.secrets import mask, mask_text

    assert mask_text(text) == shown
    assert mask_text(shown) == shown  # masking twice changes nothing
    assert mask(text) == shown


def test_mask_by_name_hides_the_whole_value():
    from loomctl.core.secrets import MASK, mask

    assert MASK == "***"
    assert mask(PASSWD, "DB_PASSWD") == "***" and mask(SAS, "STORAGE_SAS") == "***"
    assert mask("", "DB_PASSWD") == "" and mask("8765", "GUN_PORT") == "8765"
    body = {"env": [{"name": "OPENAI_API_KEY", "value": "sk-1"}, {"name": "GUN_PORT", "value": "8765"},
                    {"name": "X", "secretRef": "x"}], "replicas": 3}
    assert mask(body) == {"env": [{"name": "OPENAI_API_KEY", "value": "***"}, {"name": "GUN_PORT", "value": "8765"},
                                  {"name": "X", "secretRef": "x"}], "replicas": 3}


def test_one_secret_rule_in_the_code():
    """Every "does this look secret" decision goes through core/secrets.py: no second word list or pattern."""
    root = Path(__file__).resolve().parents[1] / "loomctl"
    second_rule = re.compile(
        r"""(?ix)
        ["'](?:secret|password|passwd|pwd|token|key|sas|credential)s?["']\s+(?:not\s+)?in\b  # "secret" in key
        | \b(?:sig|accountkey|sharedaccesskey)=                                          # content patterns
        | frozenset\(\{[^}]*["'](?:PASSWORD|SECRET|TOKEN)["']                              # a word list
        | ["']\(value\ hidden\)["']                                                      # a second mask form
        """)
    offenders = [f"{p.relative_to(root)}:{n}: {line.strip()}"
                 for p in sorted(root.rglob("*.py")) if p.name != "secrets.py" or p.parent.name != "core"
                 for n, line in enumerate(p.read_text().splitlines(), 1) if second_rule.search(line)]
    assert offenders == []


# -- commands ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_deploy_app_dry_run_masks_credentials_in_every_format(fake, azure, loomctl, fmt):
    _leaky(azure)
    run = loomctl("deploy", "app", "--image", IMAGE, "--dry-run", "-o", fmt)
    assert run.exit_code == 0, run.stderr
    assert _raw_values(run.stdout + run.stderr) == []
    if fmt == "json":
        env = {e["name"]: e.get("value") for e in
               run.json()["request"]["body"]["properties"]["template"]["containers"][0]["env"]}
        assert env["DB_PASSWD"] == "***" and env["STORAGE_SAS"] == "***"
        assert env["BACKUP_URL"].endswith("&sig=***") and env["BACKUP_URL"].startswith("https://loomstorage01.")
        assert "AccountKey=***;EndpointSuffix" in env["BLOB_SETTINGS"]
        assert env["UPSTREAM_AUTH"] == "Bearer ***"
        assert env["GUN_SERVER_PORT"] == "8765" and env["GUN_ENABLED"] == "true"  # the rest is shown as it is


@pytest.mark.parametrize("fmt", FORMATS)
def test_deploy_infra_diff_masks_credentials_in_every_format(fake, azure, loomctl, fmt):
    _leaky(azure)
    run = loomctl("deploy", "infra", "--dry-run", "-o", fmt)
    assert run.exit_code == 0, run.stderr
    assert _raw_values(run.stdout + run.stderr) == []
    if fmt == "json":
        before = {c["field"]: c["before"] for c in run.json()["changes"] if c["field"].startswith("env.")}
        assert before["env.DB_PASSWD"] == "***" and before["env.STORAGE_SAS"] == "***"
        assert "AccountKey=***;" in before["env.BLOB_SETTINGS"] and before["env.BACKUP_URL"].endswith("sig=***")


@pytest.mark.parametrize("to_file", [False, True])
def test_export_refuses_a_literal_credential(fake, azure, loomctl, tmp_path, to_file):
    azure.state["apps"][NODE]["properties"]["template"]["containers"][0]["env"].append(
        {"name": "BLOB_SETTINGS", "value": CONN})
    out = tmp_path / "spec.toml"
    run = loomctl("deploy", "infra", "--export", *(["--spec", str(out)] if to_file else []))
    assert run.exit_code == 2
    assert run.stderr.splitlines()[0] == ("error: environment variable 'BLOB_SETTINGS' of app 'loom-node' holds a "
                                          "credential as a literal value")
    assert "secretRef" in run.stderr.splitlines()[1]
    assert run.stdout == "" and not out.exists()
    assert _raw_values(run.stdout + run.stderr) == []


@pytest.mark.parametrize("args", [["status"], ["deploy", "status"], ["doctor", "--category", "configuration"]])
@pytest.mark.parametrize("fmt", FORMATS)
def test_reads_never_show_credentials(azure, loomctl, args, fmt):
    _leaky(azure)
    run = loomctl(*args, "-o", fmt)
    assert run.exit_code in (0, 1), run.stderr
    assert _raw_values(run.stdout + run.stderr) == []


def test_doctor_names_the_credential_variables_without_their_values(azure, loomctl):
    _leaky(azure)
    run = loomctl("doctor", "--category", "configuration", "-o", "json")
    loom209 = next(c for cat in run.json()["categories"] for c in cat["checks"]
                   if c["code"] == "LOOM209" and c["resource"] == NODE)
    assert loom209["status"] == "fail"
    # the same rule flags and hides: names that say credential, and credentials inside innocent names
    assert loom209["message"].startswith("environment variable DB_PASSWD, STORAGE_SAS, BACKUP_URL, BLOB_SETTINGS, "
                                         "UPSTREAM_AUTH of 'loom-node' holds a literal value")
    assert _raw_values(run.stdout + run.stderr) == []


# -- peer URLs with a password -------------------------------------------------------------------------------------
def test_config_set_and_show_mask_peer_passwords(loomctl):
    run = loomctl("config", "set", "peers", "wss://loom:pe3r-pass@relay.example/gun")
    assert run.exit_code == 0, run.stderr
    assert "wss://loom:***@relay.example/gun" in run.stderr and "pe3r-pass" not in run.stderr
    for fmt in FORMATS:
        show = loomctl("config", "show", "-o", fmt)
        assert show.exit_code == 0
        assert "pe3r-pass" not in show.stdout + show.stderr
        assert "wss://loom:***@relay.example/gun" in show.stdout


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_diagnose_peers_masks_peer_passwords(bad_peers, loomctl, fmt):
    url = f"ws://loom:pe3r-pass@127.0.0.1:{bad_peers.closed_port}/gun"
    run = loomctl("diagnose", "peers", "--peer", url, "--timeout", "1", "-o", fmt)
    assert run.exit_code == 1
    assert "pe3r-pass" not in run.stdout + run.stderr
    assert f"ws://loom:***@127.0.0.1:{bad_peers.closed_port}/gun" in run.stdout
    if fmt == "json":
        assert run.json()["peers"][0]["failed_stage"] == "tcp"


def test_doctor_masks_peer_passwords(bad_peers, loomctl, tmp_path):
    url = f"ws://loom:pe3r-pass@127.0.0.1:{bad_peers.closed_port}/gun"
    (tmp_path / "config.toml").write_text(f'[profiles.local]\nazure = false\npeers = ["{url}"]\n')
    run = loomctl("doctor", "--profile", "local", "-o", "table")
    assert run.exit_code == 1
    assert "pe3r-pass" not in run.stdout + run.stderr
    assert "ws://loom:***@127.0.0.1" in run.stdout


def test_a_bad_peer_url_in_an_error_is_masked(loomctl):
    run = loomctl("diagnose", "peers", "--peer", "ws://loom:pe3r-pass@127.0.0.1:99999/gun")
    assert run.exit_code == 2
    assert run.stderr.startswith("error: peer 'ws://loom:***@127.0.0.1:99999/gun' is not a peer URL")
    assert "pe3r-pass" not in run.stderr


# -- --debug ---------------------------------------------------------------------------------------------------------
def test_debug_logs_requests_with_credentials_redacted(azure, loomctl):
    run = loomctl("status", "--debug", "-o", "json")
    assert run.exit_code == 0, run.stderr
    err = run.stderr
    # the SDK's request log is shown (sign-in and ARM), its Authorization header redacted
    assert "debug: azure.core.pipeline.policies.http_logging_policy: Request URL: " in err
    assert "/oauth2/v2.0/token'" in err and "/providers/Microsoft.App/containerApps/loom-node?api-version=" in err
    assert "'Authorization': 'REDACTED'" in err
    assert "fake-access-token-" not in err and CLIENT_SECRET not in err
    assert run.json()["environment"]["name"] == topology.ENV  # stdout stays the data


def test_debug_masks_a_credential_echoed_in_an_azure_error(azure, loomctl):
    message = (f"The access token '{JWT}' is invalid for "
               f"https://loomstorage01.file.core.windows.net/gun-storage?{SAS}")
    azure.faults.append(Fault(r"/containerApps/loom-node$", 401,
                              {"error": {"code": "InvalidAuthenticationToken", "message": message}}))
    run = loomctl("status", "--debug", "-o", "json")
    assert run.exit_code == 3
    assert "Traceback" in run.stderr  # --debug shows the traceback, which carries the message too
    assert _raw_values(run.stdout + run.stderr) == []
    assert "The access token '***' is invalid for https://loomstorage01.file.core.windows.net/gun-storage?" in \
           run.stderr and "&sig=***" in run.stderr


def test_debug_after_a_rejected_secret_never_prints_it(azure, loomctl, monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "rejected-secret-value-42")
    run = loomctl("status", "--debug", "-o", "json")
    assert run.exit_code == 3
    assert "AADSTS7000215" in run.stderr  # the cause is in the debug output
    assert "rejected-secret-value-42" not in run.stdout + run.stderr


def test_debug_in_a_fresh_process_masks_everything(fake, azure, loomctl_proc):
    """As users run it: a fresh process, real stdout/stderr, logging's own handlers (the guard checks it too)."""
    _leaky(azure)
    run = loomctl_proc("deploy", "app", "--image", IMAGE, "--dry-run", "--debug", "-o", "json")
    assert run.exit_code == 0, run.stderr
    assert "debug: azure.core.pipeline.policies.http_logging_policy: Request URL: " in run.stderr
    assert "'Authorization': 'REDACTED'" in run.stderr
    assert _raw_values(run.stdout + run.stderr) == []


def test_rejected_secret_in_a_fresh_process_is_never_printed(azure, loomctl_proc):
    run = loomctl_proc("status", "--debug", "-o", "json", env={"AZURE_CLIENT_SECRET": "rejected-secret-value-42"})
    assert run.exit_code == 3
    assert "AADSTS7000215" in run.stderr
    assert "rejected-secret-value-42" not in run.stdout + run.stderr


# -- the guard -------------------------------------------------------------------------------------------------------
def test_guard_knows_the_fakes_secrets(azure):
    azure.state["apps"][NODE]["properties"]["configuration"]["secrets"].append(
        {"name": "plain", "value": "plain-secret-value-9"})
    _leaky(azure)
    known = known_secret_values(azure.state)
    assert CLIENT_SECRET in known and "fake-access-token-" in known and "aca-test-token-3f9c" in known
    assert "plain-secret-value-9" in known and topology.STORAGE_KEY in known and topology.LOG_SHARED_KEY in known
    assert {PASSWD, SAS, CONN, f"Bearer {JWT}"} <= set(known)
    assert "8765" not in known and "true" not in known


@pytest.mark.parametrize("leak", [CLIENT_SECRET, "Authorization: fake-access-token-3", "aca-test-token-3f9c",
                                  topology.STORAGE_KEY, topology.PLAIN_SECRET_VALUE,
                                  "plain-secret-value-9", PASSWD, f"sig={SAS_SIG}x", f"AccountKey={ACCOUNT_KEY}",
                                  JWT, "wss://u:pw@h/gun"])
def test_guard_catches_a_leak(azure, leak):
    azure.state["apps"][NODE]["properties"]["configuration"]["secrets"].append(
        {"name": "plain", "value": "plain-secret-value-9"})
    _leaky(azure)
    text = f"status: ok\nsomething {leak} here\n"
    assert leaks(text, azure.state)
    with pytest.raises(AssertionError, match="leaks secrets"):
        assert_no_secrets(text, azure.state)


def test_guard_passes_masked_output(azure):
    _leaky(azure)
    assert_no_secrets("DB_PASSWD=***\nwss://u:***@h/gun\nsig=***&se=1\nAuthorization: Bearer ***\n", azure.state)


def test_loomctl_fixture_fails_a_run_that_leaks(fake, azure, loomctl, monkeypatch):
    """A deliberate regression: both masks switched off (our own functions replaced, since only a broken loomctl
    leaks) must make the `loomctl` fixture fail the test."""
    import loomctl.core.secrets as secrets
    import loomctl.output.masked as masked

    monkeypatch.setattr(secrets, "mask", lambda value, name=None: value)
    monkeypatch.setattr(masked, "mask_text", lambda text: text)
    _leaky(azure)
    with pytest.raises(AssertionError, match=f"`loomctl deploy app --image {IMAGE} --dry-run -o json` leaks secrets"):
        loomctl("deploy", "app", "--image", IMAGE, "--dry-run", "-o", "json")
