"""What a check is and what it returns.

A check is a plain function that receives everything it needs as keyword arguments (named in `needs`) and
returns an `Outcome`. It never reads shared state filled by other checks: ordering is expressed with `after`
(codes that must pass first) and data with `needs` (inputs the runner computes once and hands in).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

DOCS_URL = "https://github.com/loomdb/loomctl/blob/main/docs/checks.md"


class Status(str, enum.Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


class NotJudged(Exception):
    """An input the definition at hand does not hold (a template without the storage account): the check is
    skipped as "not judged: <reason>", never guessed (checks/definitions.py)."""


@dataclass(frozen=True)
class Outcome:
    status: Status
    message: str
    hint: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def passed(message: str, **details: Any) -> Outcome:
    return Outcome(Status.PASS, message, None, details)


def warned(message: str, hint: str | None = None, **details: Any) -> Outcome:
    return Outcome(Status.WARN, message, hint, details)


def failed(message: str, hint: str | None = None, **details: Any) -> Outcome:
    return Outcome(Status.FAIL, message, hint, details)


def skipped(message: str, **details: Any) -> Outcome:
    return Outcome(Status.SKIP, message, None, details)


@dataclass(frozen=True)
class CheckSpec:
    """A check in the catalogue.

    per_app: the check runs once for each LoomDB app (relay and node); it then receives `app` (an AppRef) and
    its results carry the app name as `resource`. `after` names codes that must pass (or warn) first; for a
    per-app check, a per-app prerequisite is the instance for the same app.
    needs_azure: the check reads the Azure deployment; on a profile with `azure = false` it is skipped (with
    the reason) before any of its inputs is fetched.
    fill_hints: its hints are commands naming this deployment: "<group>" and "<env>" become the profile's
    resource group and environment, ready to paste.
    after_if: more prerequisites, decided when the run is planned: `after_if(settings, inside)` (inside: the
    probes run in a replica) returns codes, e.g. the apps a peer list is read from when no peers are given.
    after_all: prerequisites of which every instance must pass (both apps), for a per-app check whose inputs read
    both apps (e.g. the environment storages both use).
    access: the check is Azure access itself; when it fails, the command stopped on an Azure error (exit 3).
    runs_if: `runs_if(run)` (a `Run`: the settings, and whether the probes run inside a replica or write) says
    whether the check is part of a doctor or runbook run at all: the mesh checks run only with `doctor
    --from-inside`, the write probe only with `--write-probe`, the sandbox's link check only on a profile without
    Azure, and a check that only a definition can answer (LOOM222, a template's apiVersion) never; None: always.
    The definition runs (`lint`, `fleet doctor`: checks/definitions.py) pick their checks by their inputs instead.
    """

    code: str
    category: str
    title: str
    explanation: str  # what a failure means
    fix: str  # how to fix it
    run: Callable[..., Outcome]
    needs: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    per_app: bool = False
    timeout: float = 30.0
    needs_azure: bool = False
    fill_hints: bool = False
    after_if: Callable[[Any, bool], tuple[str, ...]] | None = None
    after_all: tuple[str, ...] = ()
    access: bool = False
    runs_if: Callable[[Run], bool] | None = None

    @property
    def anchor(self) -> str:
        return f"{DOCS_URL}#{self.code.lower()}"


def spec_maker(category: str, **defaults: Any) -> Callable[..., CheckSpec]:
    """`_spec = spec_maker(CATEGORY)` then `_spec(code, title, explanation, fix, run, needs, ...)`.

    `defaults` are CheckSpec fields every check of the category shares (e.g. `needs_azure=True`); a keyword
    given to `_spec` overrides them.
    """

    def make(code: str, title: str, explanation: str, fix: str, run: Callable[..., Outcome],
             needs: tuple[str, ...] | None = None, **kw: Any) -> CheckSpec:
        fields = {**defaults, **kw}
        if needs is not None:
            fields["needs"] = needs
        return CheckSpec(code=code, category=category, title=title, explanation=explanation, fix=fix, run=run,
                         **fields)

    return make


@dataclass(frozen=True)
class Run:
    """What a doctor or runbook run is: its settings, and whether its probes run inside a replica and write."""

    settings: Any
    inside: bool = False
    write_probe: bool = False


def runs_here(spec: CheckSpec, run: Run) -> bool:
    """Whether `spec` belongs to this run (see CheckSpec.runs_if)."""
    return spec.runs_if is None or spec.runs_if(run)


def never_live(run: Run) -> bool:
    """runs_if of a check only a definition can answer: doctor and runbooks leave it out."""
    return False


def no_azure(settings: Any) -> Outcome:
    """The outcome of a check that needs Azure, on a profile without an Azure deployment."""
    return skipped(f"profile '{settings.profile}' has no Azure deployment (azure = false)")


def fill_placeholders(outcome: Outcome, settings: Any) -> Outcome:
    """The outcome with "<group>" and "<env>" in its hint replaced by the profile's resource group and
    environment (those the profile names; others stay placeholders)."""
    if not outcome.hint:
        return outcome
    hint = outcome.hint
    for placeholder, value in (("<group>", settings.get("resource_group")), ("<env>", settings.get("environment"))):
        if value:
            hint = hint.replace(placeholder, str(value))
    return replace(outcome, hint=hint)


@dataclass(frozen=True)
class AppRef:
    role: str  # "relay" or "node"
    name: str


@dataclass
class CheckResult:
    code: str
    category: str
    title: str
    status: Status
    message: str
    hint: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    resource: str | None = None
    duration_ms: int = 0
    # for a check skipped because a prerequisite did not pass: the checks at the root of that chain (the cause)
    causes: tuple[tuple[str, str | None], ...] = ()

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.code, self.resource)

    def to_json(self) -> dict[str, Any]:
        from loomctl.output.formats import to_jsonable

        return {
            "code": self.code,
            "title": self.title,
            "status": self.status.value,
            "message": self.message,
            "hint": self.hint,
            "details": to_jsonable(self.details),
            "resource": self.resource,
            "duration_ms": self.duration_ms,
        }
