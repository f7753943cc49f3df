"""A failed sign-in names its cause from Entra ID's AADSTS code, with the fix for that cause (exit 3).

The local Azure answers the sign-in as Entra ID does (tests/fakeazure/entra.py); azure-identity and MSAL run
for real between loomctl and it.
"""

from __future__ import annotations

import pytest

from tests.fakeazure.entra import TOKEN, error_body, sign_in_fault
from tests.fakeazure.server import CLIENT_ID, TENANT, Fault

EXPECTED = {
    7000215: ("Azure sign-in failed: the client secret is not valid (AADSTS7000215)",
              "set AZURE_CLIENT_SECRET to the secret's value (not its ID); a new one: "
              f"`az ad app credential reset --id {CLIENT_ID} --append`"),
    7000222: ("Azure sign-in failed: the client secret has expired (AADSTS7000222)",
              f"create a new secret (`az ad app credential reset --id {CLIENT_ID} --append`) and set "
              "AZURE_CLIENT_SECRET to it"),
    700016: (f"Azure sign-in failed: no application with client id '{CLIENT_ID}' in tenant '{TENANT}' "
             "(AADSTS700016)",
             "check AZURE_CLIENT_ID (the app registration's application (client) ID) and AZURE_TENANT_ID"),
    90002: (f"Azure sign-in failed: the tenant was not found (tenant '{TENANT}')",
            "check AZURE_TENANT_ID (`az account show --query tenantId`); for a national cloud set "
            "AZURE_AUTHORITY_HOST"),
    65001: ("Azure sign-in failed: the application has no consent to sign in to Azure Resource Manager "
            "(AADSTS65001)",
            "an administrator grants consent for the app registration (`az ad app permission admin-consent "
            f"--id {CLIENT_ID}`)"),
}  # the hints name AZURE_CLIENT_ID's value, so that the fix can be typed as shown


@pytest.mark.parametrize("code", list(EXPECTED))
def test_sign_in_failure_names_its_cause(azure, loomctl, code):
    azure.faults.append(sign_in_fault(code))
    run = loomctl("status")
    message, hint = EXPECTED[code]
    assert (run.exit_code, run.stderr) == (3, f"error: {message}\nhint: {hint}\n")


def test_wrong_secret_against_the_token_endpoint(azure, loomctl, monkeypatch):
    """The fake's own token endpoint refuses a wrong secret as Entra ID does: the message names the secret."""
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "wrong")
    run = loomctl("status")
    assert run.exit_code == 3
    assert run.stderr.splitlines()[0] == "error: Azure sign-in failed: the client secret is not valid (AADSTS7000215)"
    assert azure.arm_requests() == []


def test_doctor_names_the_sign_in_cause_once(azure, loomctl):
    azure.faults.append(sign_in_fault(7000222))
    run = loomctl("doctor", "-o", "table")
    assert run.exit_code == 3
    failures = [line for line in run.stdout.splitlines() if line.startswith("×")][:-1]  # the last is the summary
    assert failures == ["× LOOM101 signed in to Azure: Azure sign-in failed: the client secret has expired "
                        "(AADSTS7000222)"]


def test_an_aadsts_code_without_a_known_cause_links_to_its_page(azure, loomctl):
    azure.faults.append(Fault(TOKEN, status=400, body=error_body(
        7000112, "unauthorized_client", f"Application '{CLIENT_ID}'(loomctl-ci) is disabled.")))
    run = loomctl("status")
    assert (run.exit_code, run.stderr) == (3, (
        f"error: Azure sign-in failed: AADSTS7000112: Application '{CLIENT_ID}'(loomctl-ci) is disabled\n"
        "hint: see https://login.microsoftonline.com/error?code=7000112 for the cause and its fix\n"))


def test_nothing_configured_is_still_not_signed_in(azure, loomctl, monkeypatch):
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    run = loomctl("status")
    assert run.exit_code == 3
    assert run.stderr.splitlines()[0] == "error: not signed in to Azure: no credential could get a token"
