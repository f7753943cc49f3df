"""loomctl diagnose storage"""

from __future__ import annotations

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import LoomError, ProblemsFound
from loomctl.core.options import common_options


@click.command()
@click.option("--fail-on-warn", is_flag=True, help="Exit 1 on warnings too.")
@common_options
@pass_loom
def storage(loom: LoomContext, fail_on_warn: bool) -> None:
    """Check the Azure Files share, mounts and quotas.

    Shows each app's mounts and data folder, the environment storages with their shares' usage,
    then runs the Storage checks (LOOM5xx). Exit 1 when a check failed, 3 when Azure access
    itself failed (LOOM101, LOOM102).

    \b
    Examples:
      loomctl diagnose storage
      loomctl diagnose storage -o json --query 'shares[0].percent'
    """
    from loomctl.checks import plan as doc
    from loomctl.checks.providers import build_inputs, fetch_plan
    from loomctl.checks.render import CollectingRenderer, TableRenderer, as_document, is_success
    from loomctl.output.views.storage import storage_view, tables

    loom.settings.require("subscription", "resource_group", "environment")  # Azure Files: Azure only
    instances, sel = doc.plan(loom, ("Storage",), ())
    inputs = build_inputs(loom, ["loomctl.checks.categories.storage"])
    fetch_plan(instances, inputs)  # every read the overview and the checks need, at once
    view = None
    try:
        view = storage_view(inputs.get("apps"), inputs.get("storage"))
    except LoomError:  # no overview: the checks below name the cause once (the prerequisite that failed)
        view = None
    out = loom.output
    if out.is_table and not out.query:
        if view is not None:
            out.emit(view, table=tables)
            click.echo("")
        renderer = TableRenderer([i.key for i in instances], fail_on_warn=fail_on_warn)
        results = doc.run(loom, instances, sel, renderer, inputs=inputs)
        renderer.finish()
    else:
        collector = CollectingRenderer()
        results = doc.run(loom, instances, sel, collector, inputs=inputs)
        document = {**(view or {}), "checks": as_document(results, fail_on_warn)}
        out.emit(document)
    stopped = doc.access_failure(instances, results)
    if stopped is not None:  # nothing was checked: an Azure error (exit 3), not "problems found"
        raise stopped
    if not is_success(results, fail_on_warn):
        raise ProblemsFound("storage problems found", None)
