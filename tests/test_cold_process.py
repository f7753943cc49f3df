"""`loomctl doctor` as fresh processes, several at once, against the healthy local Azure: every module cache
starts cold, as it does for users, and every run must give the same verdicts."""

from __future__ import annotations

from collections import Counter

from tests import subproc
from tests.fakeazure import topology

RELAY_FQDN = f"gun-relay.internal.{topology.DOMAIN}"
RUNS, AT_ONCE = 30, 6
# the healthy deployment seen from a laptop: the relay's internal name does not resolve outside the environment,
# and the quiet default workspace has no metric samples
NOT_PASSING = {"LOOM301": "warn", "LOOM402": "warn", "LOOM704": "skip", "LOOM705": "skip"}


def verdict(run: subproc.ProcRun) -> tuple[int, tuple[tuple[str, str, str], ...], str]:
    checks = [(c["code"], c["resource"] or "", c["status"]) for cat in run.json()["categories"] for c in cat["checks"]]
    return run.exit_code, tuple(sorted(checks)), run.stderr


def test_doctor_gives_the_same_verdicts_in_30_fresh_processes(azure, dns_server, monkeypatch):
    dns_server.zone[RELAY_FQDN] = "NXDOMAIN"
    monkeypatch.setenv("LOOMCTL_DNS_SERVERS", dns_server.address)
    runs = subproc.run_many([("doctor", "-o", "json")] * RUNS, at_once=AT_ONCE)
    seen = Counter(verdict(r) for r in runs)
    assert len(seen) == 1, [(n, v[0], [c for c in v[1] if c[2] != "pass"], v[2][-300:]) for v, n in seen.items()]
    exit_code, checks, stderr = next(iter(seen))
    assert (exit_code, stderr) == (0, "")
    assert {code: status for code, _, status in checks if status != "pass"} == NOT_PASSING
    assert {code[:5] for code, _, _ in checks} == {f"LOOM{n}" for n in (1, 2, 3, 4, 5, 6, 7)}  # every category ran
    assert runs[0].json()["success"] is True


def test_the_child_cannot_reach_other_hosts(tmp_path):
    """The subprocess guards: an HTTP request to a cloud metadata address or a public host fails at once (the
    proxy it must use is a closed loopback port), while loopback is reached directly."""
    import sys

    code = ("import requests, sys\n"
            "for url in sys.argv[1:]:\n"
            "    try:\n"
            "        requests.get(url, timeout=5)\n"
            "        print(url, 'reached')\n"
            "    except requests.exceptions.ProxyError:\n"
            "        print(url, 'blocked')\n")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code, "http://169.254.169.254/metadata/identity/oauth2/token",
                          "https://management.azure.com/", "http://login.microsoftonline.com/"],
                         env=subproc.child_env(), capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["http://169.254.169.254/metadata/identity/oauth2/token", "blocked",
                                  "https://management.azure.com/", "blocked", "http://login.microsoftonline.com/",
                                  "blocked"], out.stderr
    env = subproc.child_env()
    assert env["NO_PROXY"] == subproc.LOOPBACK and env["AZURE_TOKEN_CREDENTIALS"] == "EnvironmentCredential"
    assert env["LOOMCTL_DNS_SERVERS"].startswith("127.0.0.1:")
