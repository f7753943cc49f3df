"""docs/errors.md: every error family with its message shape, hint and exit code, produced by loomctl's own
error functions from sample inputs (so the page says what loomctl prints). `tools/regen.py` writes it."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

APP_URL = ("https://management.azure.com/subscriptions/<sub>/resourceGroups/rg-loom/providers/Microsoft.App/"
           "containerApps/gun-relay")


def _cell(text: str | None) -> str:
    """Text for a Markdown table cell: `|` escaped, and `<` outside code spans (else `<path>` is an HTML tag)."""
    parts = (text or "").replace("|", "\\|").replace("\n", " ").split("`")
    return "`".join(p if i % 2 else p.replace("<", "&lt;") for i, p in enumerate(parts))


def _table(errors: list[Any]) -> list[str]:
    out = ["| message (`error:` line) | hint (`hint:` line) |", "| --- | --- |"]
    out += [f"| {_cell(e.message) or '(none)'} | {_cell(e.hint) or '(none)'} |" for e in errors]
    return out + [""]


def _usage() -> list[Any]:
    from loomctl.checks.registry import resolve_category
    from loomctl.core.errors import LoomError, by_name

    out: list[Any] = []
    for attempt in (lambda: resolve_category("nonsense"),
                    lambda: by_name({"restarts": 1}, "restart", "canned query", "`loomctl query list` lists them")):
        try:
            attempt()
        except LoomError as exc:
            out.append(exc)
    return out


def _config() -> list[Any]:
    from loomctl.core.settings import Settings

    out: list[Any] = []
    for settings in (Settings(profile="prod", config_path=Path("config.toml")),
                     Settings(profile="sandbox", config_path=Path("config.toml"), values={"azure": False},
                              command="loomctl status")):
        try:
            settings.require("subscription")
        except Exception as exc:  # noqa: BLE001 - a ConfigError, shown as printed
            out.append(exc)
    return out


def _file() -> list[Any]:
    from loomctl.core.errors import _FILE_CAUSES, file_error

    out = [file_error(FileNotFoundError(errno.ENOENT, "No such file or directory", "<path>"))]  # reading
    for name in _FILE_CAUSES:
        if name not in ("EEXIST", "EPERM"):  # the same words as ENOTDIR and EACCES
            out.append(file_error(OSError(getattr(errno, name), name), "<path>", "write"))
    return out


def _azure() -> list[Any]:
    from loomctl.azure.errors import http_error, not_the_resource

    answers = ((401, "InvalidAuthenticationToken", None, None), (403, "AuthorizationFailed", None, None),
               (404, "ResourceNotFound", None, None), (409, "Conflict", "<Azure's message>", None),
               (429, "TooManyRequests", None, "30"), (503, "ServiceUnavailable", "<Azure's message>", None))
    return [not_the_resource("container app '<name>'", "a container app")] + [
        http_error(status, APP_URL, code=code, detail=detail, retry_after=after)
        for status, code, detail, after in answers]


def _auth() -> list[Any]:
    from azure.core.exceptions import ClientAuthenticationError

    from loomctl.azure.errors import as_loom_error
    from loomctl.azure.signin import CAUSES, sign_in_error

    client = os.environ.pop("AZURE_CLIENT_ID", None)  # the hints then say `<client id>`, whoever runs this
    try:
        out = [as_loom_error(ClientAuthenticationError("EnvironmentCredential authentication unavailable."))]
        out += [sign_in_error(f"Authentication failed: AADSTS{code}: <Entra ID's description>.") for code in CAUSES
                if code != "90002"]
        out.append(sign_in_error("Unable to get authority configuration for "
                                 "https://login.microsoftonline.com/<tenant>. "))
        out.append(sign_in_error("Authentication failed: AADSTS7000112: Application '<id>' is disabled. Trace ID: x"))
    finally:
        if client is not None:
            os.environ["AZURE_CLIENT_ID"] = client
    return out


def _network() -> list[Any]:
    from loomctl.core.errors import connect_error, timeout_error, tls_error

    return [connect_error("[Errno 111] Connection refused (host='management.azure.com')"),
            timeout_error("Read timed out. (host='management.azure.com')"),
            tls_error("CERTIFICATE_VERIFY_FAILED (host='management.azure.com')")]


def _problems() -> list[Any]:
    from loomctl.checks.base import CheckResult, Status
    from loomctl.checks.categories.azure_access import CHECKS
    from loomctl.checks.plan import access_failure
    from loomctl.checks.runner import Instance
    from loomctl.core.errors import ProblemsFound

    spec = next(s for s in CHECKS if s.access)
    failed = CheckResult(spec.code, spec.category, spec.title, Status.FAIL, "<the sign-in error>")
    skipped = [CheckResult(f"LOOM{n}", "x", "x", Status.SKIP, "skipped", causes=(failed.key,)) for n in range(64)]
    return [ProblemsFound("doctor found problems"), access_failure([Instance(spec)], [failed, *skipped])]


def _unexpected() -> list[Any]:
    from loomctl.core.errors import as_loom_error

    return [as_loom_error(ValueError("<what went wrong>"))]


def _interrupted() -> list[Any]:
    from loomctl.core.errors import LoomError

    return [LoomError("interrupted")]


# (title, LoomError class names, when, examples); each class is documented here exactly once
FAMILIES: list[tuple[str, list[str], str, Callable[[], list[Any]]]] = [
    ("Usage", ["UsageError"], "a flag, argument or name on the command line that cannot be used", _usage),
    ("Configuration", ["ConfigError"], "a setting is missing or invalid, or the profile has no Azure deployment "
     "(`azure = false`) and the command needs one", _config),
    ("Local files", ["FileError"], "a file loomctl reads or writes (config, `--spec`, caches) cannot be used; the "
     "message names the file asked for", _file),
    ("Azure answered with an error", ["AzureError", "OperationFailed", "ExecError"], "an Azure API answered with an "
     "HTTP error after retries (`.status`, `.code`); `OperationFailed`: a long-running operation ended Failed; "
     "`ExecError`: the exec endpoint could not run a session", _azure),
    ("Sign-in", ["AuthError"], "no credential could get a token; when Microsoft Entra ID names the cause (an "
     "AADSTS code), the message names it and the hint gives the fix for that cause", _auth),
    ("Network", ["NetworkError"], "a connection, TLS or timeout failure (socket errors only: a local file problem "
     "is a file error)", _network),
    ("Problems found", ["ProblemsFound"], "the command ran and found problems; its output says which (often with no "
     "`error:` line at all). `doctor` exits 3 when Azure access itself (LOOM101 or LOOM102) failed or a check could "
     "not read Azure (403, throttled, an answer that is not the resource; a 404 is a finding)", _problems),
    ("Unexpected", ["LoomError"], "an exception loomctl has no message for: a bug, please report it", _unexpected),
    ("Interrupted", [], "Ctrl-C (SIGINT), in every command: streaming ones (`logs --follow`, `logs --live`, `exec`) "
     "and a confirmation prompt included; in `exec -i` Ctrl-C goes to the remote process instead", _interrupted),
]


def errors_md(regen: str) -> str:
    from loomctl.core.errors import ExitCode

    lines = ["# loomctl errors", "", f"<!-- generated by `{regen}`; do not edit by hand -->", "",
             "Every error is two lines on stderr, `error: <what failed>` and `hint: <what to do>`, and a documented",
             "exit code; `--debug` adds the traceback. The messages below are produced by loomctl's own error",
             "functions from sample inputs (`<...>` marks a sample).", "",
             "| exit | meaning |", "| --- | --- |"]
    meaning = {ExitCode.OK: "all well", ExitCode.PROBLEMS: "problems found",
               ExitCode.USAGE: "usage, configuration or local file error",
               ExitCode.AZURE: "Azure, sign-in or network error that stopped the command",
               ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
               ExitCode.BROKEN_PIPE: "stdout was closed early (`| head`): no message, as a tool ended by SIGPIPE"}
    lines += [f"| {int(code)} | {_cell(meaning[code])} |" for code in ExitCode] + [""]
    for title, classes, when, examples in FAMILIES:
        errs = examples()
        codes = sorted({int(e.exit_code) for e in errs})
        if title == "Interrupted":
            codes = [int(ExitCode.INTERRUPTED)]
        kinds = f" ({', '.join(f'`{c}`' for c in classes)})" if classes else ""
        lines += [f"## {title}{kinds}", "", f"Exit {', '.join(map(str, codes))}: {when}.", ""] + _table(errs)
    lines += ["## Broken pipe", "",
              f"Exit {int(ExitCode.BROKEN_PIPE)}, no message: stdout was closed before the command finished "
              "writing (`loomctl logs | head -1`); stdout then points at the null device. A broken network "
              "connection is a network error.", ""]
    return "\n".join(lines).rstrip("\n") + "\n"
