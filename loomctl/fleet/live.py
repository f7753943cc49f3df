"""`fleet doctor --live`: doctor's own run on one deployment, with settings pointing at it."""

from __future__ import annotations

from typing import Any

from loomctl.checks.base import CheckResult
from loomctl.fleet.model import Deployment


def live_checks(loom: Any, dep: Deployment) -> list[CheckResult]:
    """Doctor's checks on `dep` (its own Azure session), less the definition checks Resource Graph's rows already
    judged. An Azure access failure (doctor's exit 3) raises, for the caller to report as LOOM905."""
    from loomctl.checks import plan as doc
    from loomctl.checks.definitions import definition_specs
    from loomctl.checks.render import CollectingRenderer
    from loomctl.core.context import LoomContext

    flags = {**loom.flags, "subscription": dep.subscription, "resource_group": dep.resource_group,
             "environment": dep.environment, "relay_app": dep.apps["relay"][0], "node_app": dep.apps["node"][0]}
    ctx = LoomContext(output_format=loom.output_format, debug=loom.debug, profile=loom.profile, flags=flags)
    instances, sel = doc.plan(ctx, (), ())
    results = doc.run(ctx, instances, sel, CollectingRenderer())
    stopped = doc.access_failure(instances, results)
    if stopped is not None:
        first = next(r for r in results if r.status.value == "fail")
        raise type(stopped)(f"{first.code} {first.title}: {first.message}", first.hint,
                            exit_code=stopped.exit_code)
    judged = {s.code for s in definition_specs()}
    return [r for r in results if r.code not in judged]
