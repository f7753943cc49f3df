"""loomctl doctor"""

from __future__ import annotations

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import ProblemsFound
from loomctl.core.options import common_options, peer_option


@click.command()
@click.option("--category", "categories", multiple=True, metavar="NAME",
              help="Only this category (repeatable), e.g. 'azure', 'dns', 'LoomMesh'.")
@click.option("--ignore", "ignore", multiple=True, metavar="CODE", help="Skip the check with this code (repeatable).")
@click.option("--fail-on-warn", is_flag=True, help="Exit 1 on warnings too.")
@click.option("--short", is_flag=True, help="Show only warnings and failures.")
@click.option("--from-inside", is_flag=True,
              help="Run the DNS and LoomMesh checks inside a replica (through exec), as the app sees them, and "
                   "the mesh check in every relay and node replica (LOOM403: its GUN process and links).")
@click.option("--app", "inside_app_name", metavar="NAME", default=None,
              help="With --from-inside: the app whose replica runs the probes (default: the node app).")
@click.option("--write-probe", is_flag=True,
              help="With --from-inside: also the mesh write probe (LOOM404): each replica writes one probe node "
                   "under loomctl/probe/<run id> and the others look for it. Opt-in: it writes.")
@peer_option
@common_options
@pass_loom
def doctor(loom: LoomContext, categories: tuple[str, ...], ignore: tuple[str, ...], fail_on_warn: bool,
           short: bool, from_inside: bool, inside_app_name: str | None, write_probe: bool) -> None:
    """Run every check and say what is wrong and how to fix it.

    Results stream as they finish. Exit 0 when nothing failed, 1 when a check failed
    (or warned, with --fail-on-warn), 3 when Azure access itself failed (LOOM101, LOOM102) or a
    check could not read Azure (403, throttled, an answer that is not the resource): the checks
    that need it are skipped, in one line for that cause.

    \b
    Examples:
      loomctl doctor
      loomctl doctor --category azure --short
      loomctl doctor -o json --ignore LOOM108
      loomctl doctor --from-inside --category dns --category loommesh
      loomctl doctor --from-inside --write-probe --category loommesh   (is the mesh whole?)
      loomctl doctor --category loommesh --peer ws://127.0.0.1:8765/gun
    """
    from loomctl.checks import plan as doc
    from loomctl.loommesh.discovery import validate_peers

    validate_peers(loom.settings)  # a bad --peer is a usage error before any check runs, as in `diagnose peers`
    from loomctl.checks.render import CollectingRenderer, TableRenderer, as_document, is_success

    given: dict[str, str | bool | None] = {}
    if from_inside or inside_app_name:
        from loomctl.inside.options import inside_app

        given["inside_app"] = inside_app(loom, from_inside, inside_app_name, None)
    if write_probe:
        if "inside_app" not in given:
            from loomctl.core.errors import UsageError

            raise UsageError("--write-probe runs the mesh probe inside every replica", "add --from-inside")
        given["mesh_write"] = True
    instances, sel = doc.plan(loom, categories, ignore, inside="inside_app" in given, write_probe=write_probe)
    out = loom.output
    if out.is_table and not out.query:
        renderer: TableRenderer | CollectingRenderer = TableRenderer([i.key for i in instances], short=short,
                                                                     fail_on_warn=fail_on_warn,
                                                                     quiet_skips=not loom.settings.azure_enabled)
        results = doc.run(loom, instances, sel, renderer, **given)
        renderer.finish()
    else:
        collector = CollectingRenderer()
        results = doc.run(loom, instances, sel, collector, **given)
        document = as_document(results, fail_on_warn)
        if short:
            for cat in document["categories"]:
                cat["checks"] = [c for c in cat["checks"] if c["status"] in ("warn", "fail")]
        out.emit(document)
    stopped = doc.access_failure(instances, results)
    if stopped is not None:
        raise stopped
    if not is_success(results, fail_on_warn):
        raise ProblemsFound("doctor found problems", None)
