"""loomctl deploy: app (rollout with a health gate), status, history, rollback, infra."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import ExitCode, LoomError, ProblemsFound, UsageError
from loomctl.core.options import common_options

DEFAULT_TIMEOUT = 600.0


@click.group()
def deploy() -> None:
    """Roll out images with a health gate; apply infrastructure.

    Every write is logged to stderr. Without --yes, loomctl asks on a terminal and refuses
    (exit 2) when stdin is not one; --dry-run never writes. LOOMCTL_POLL_INTERVAL sets how
    often operations and revisions are polled (seconds, default 5).
    """


# -- shared helpers ---------------------------------------------------------------------------------------
def confirm(question: str, yes: bool) -> None:
    """Ask on a terminal; refuse without --yes when stdin is not a terminal."""
    from loomctl.output import ui

    ui.confirm(question, yes, "refusing to change Azure without --yes (stdin is not a terminal)",
               "add --yes to go ahead, or --dry-run to see what would change")


def writer(loom: LoomContext, log: Callable[[str], None] | None = None) -> Any:
    from loomctl.azure.writes import Writer
    from loomctl.output import ui

    loom.settings.require("subscription", "resource_group")
    return Writer(loom.azure, log or ui.info)


def app_option(func: Any) -> Any:
    return click.option("--app", "app_name", metavar="NAME", default=None,
                        help="The container app (default: the node app, loom-node).")(func)


def timeout_option(func: Any) -> Any:
    return click.option("--timeout", type=click.FloatRange(min=0.1), default=DEFAULT_TIMEOUT, show_default=True,
                        metavar="SECONDS", help="Give up (and roll back) after this long.")(func)


def _verifier(loom: LoomContext, categories: tuple[str, ...]) -> tuple[Callable[[str], tuple[bool, str]], list[str]]:
    """Gate on doctor's checks: LoomMesh and DNS when present, else Azure access/Runtime (or --verify-category)."""
    from loomctl.checks import plan as doc
    from loomctl.checks.base import Status
    from loomctl.checks.registry import category_names, resolve_category

    names = category_names()
    if categories:
        chosen = [resolve_category(c) for c in categories]
    else:
        chosen = [c for c in ("LoomMesh", "DNS") if c in names] or \
                 [c for c in ("Azure access and apps", "Runtime") if c in names]

    def verify(revision: str) -> tuple[bool, str]:
        instances, sel = doc.plan(loom, tuple(chosen), ())
        results = doc.run(loom, instances, sel, lambda r: None)
        bad = [r for r in results if r.status is Status.FAIL]
        if not bad:
            counts = {s: sum(1 for r in results if r.status is s) for s in (Status.PASS, Status.WARN, Status.SKIP)}
            return True, (f"verified: {counts[Status.PASS]} checks passed, {counts[Status.WARN]} warned, "
                          f"{counts[Status.SKIP]} skipped ({', '.join(chosen)})")
        return False, "checks failed: " + "; ".join(
            f"{r.code}{' (' + r.resource + ')' if r.resource else ''} {r.message}" for r in bad
        )

    return verify, chosen


# -- deploy app -------------------------------------------------------------------------------------------
@deploy.command("app")
@click.option("--image", required=True, metavar="REF", help="Image reference, e.g. myacr.azurecr.io/loom:1234.")
@app_option
@click.option("--container", metavar="NAME", default=None,
              help="Container to update (default: the one named like the app, else the first).")
@click.option("--revision-suffix", metavar="S", default=None,
              help="Suffix of the new revision (default: from the image tag, e.g. 1234 -> v1234, else the time).")
@click.option("--canary", metavar="STEPS", default=None,
              help="Traffic steps in percent for multiple revision mode, e.g. 10,50,100 (default 100).")
@click.option("--step-wait", type=click.FloatRange(min=0), default=0.0, metavar="SECONDS",
              help="Pause between canary steps (the health gate runs after each).")
@click.option("--verify", is_flag=True, help="Also gate on doctor's checks (LoomMesh and DNS when available).")
@click.option("--verify-category", "verify_categories", multiple=True, metavar="NAME",
              help="Check category to gate on with --verify (repeatable; default: LoomMesh and DNS, else azure).")
@click.option("--dry-run", is_flag=True, help="Validate and show the update that would be sent; change nothing.")
@click.option("--no-wait", is_flag=True, help="Start the update and return without waiting for health.")
@timeout_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@common_options
@pass_loom
def app(loom: LoomContext, image: str, app_name: str | None, container: str | None, revision_suffix: str | None,
        canary: str | None, step_wait: float, verify: bool, verify_categories: tuple[str, ...], dry_run: bool,
        no_wait: bool, timeout: float, yes: bool) -> None:
    """Roll out an image: new revision, health gate, traffic, automatic rollback.

    Replaces `az containerapp update --image ... --revision-suffix ...`: the new revision
    must be provisioned with running replicas at or above the minimum before it gets traffic
    (in steps with --canary in multiple revision mode). On failure or timeout the previous
    revision's traffic is restored (or it is reactivated) and the exit code is 1.
    Ctrl-C stops waiting, says which revision serves traffic, and exits 130.

    \b
    Examples:
      loomctl deploy app --image myacr.azurecr.io/loom:1234 --yes
      loomctl deploy app --image myacr.azurecr.io/loom:1234 --dry-run
      loomctl deploy app --image myacr.azurecr.io/loom:1235 --canary 10,50,100 --verify --yes
    """
    from loomctl.deploy.rollout import parse_canary, plan_rollout, run_rollout
    from loomctl.deploy.validate import check_suffix, parse_image
    from loomctl.output.views.deploy import Progress, render_rollout

    ref = parse_image(image)  # before any request
    name = app_name or loom.settings.node_app
    if revision_suffix is not None:
        check_suffix(revision_suffix, name)
    steps = parse_canary(canary)
    if verify_categories and not verify:
        raise UsageError("--verify-category needs --verify", "add --verify")
    verify_fn, verify_cats = _verifier(loom, verify_categories) if verify else (None, [])
    w = writer(loom)
    from loomctl.azure.deployment import parallel

    live, revisions = parallel([lambda: w.get_app(name), lambda: w.revisions(name)])
    plan = plan_rollout(live, revisions, ref, revision_suffix, steps, container)
    summary = {"app": name, "mode": plan.mode, "image": plan.image, "previous_image": plan.old_image,
               "revision": plan.revision, "previous_traffic": plan.previous, "steps": plan.steps,
               "verify": verify_cats}
    if dry_run:
        from loomctl.output import ui

        ui.info(f"dry run: would PATCH container app '{name}' (image {plan.old_image} -> {plan.image}, "
                f"new revision {plan.revision}); nothing was changed")
        from loomctl.core.secrets import mask

        loom.output.emit({**summary, "result": "dry-run", "request": {"method": "PATCH", "body": mask(plan.patch)}},
                         table=render_rollout)
        return
    confirm(f"Roll out {plan.image} to {name} as {plan.revision}?", yes)
    progress = Progress()
    w.log = progress.write
    try:
        out = run_rollout(w, plan, timeout, progress, verify_fn, no_wait, step_wait)
    finally:
        progress.close()
    doc = {**summary, "result": out.result, "stage": out.stage, "message": out.message, "traffic": out.traffic,
           "revision_status": out.revision_status, "rollback": out.rollback, "template_note": out.template_note,
           "duration_s": out.duration_s}
    loom.output.emit(doc, table=render_rollout)
    st = out.revision_status
    if out.result == "rolled-back":
        own = f"; revision status: {st.describe()}" if st and st.describe() not in out.message else ""
        raise ProblemsFound(f"rollout of {plan.revision} failed ({out.stage}): {out.message}{own}; "
                            f"rolled back: {out.rollback}",
                            f"see `loomctl deploy status --app {name}` and the revision's logs "
                            f"(`loomctl logs --app {name} --system`)")
    if out.result == "rollback-failed":
        from loomctl.deploy.rollout import fmt_traffic

        raise LoomError(f"rollout of {plan.revision} failed ({out.stage}): {out.message}; the rollback {out.rollback}; "
                        f"traffic now: {fmt_traffic(out.traffic)}",
                        f"put traffic back with `loomctl deploy rollback --app {name} --to {plan.previous_main}` "
                        "once Azure answers again", exit_code=ExitCode.AZURE)
    if out.result == "interrupted":
        raise LoomError(out.message, f"{plan.revision} may still be starting; see `loomctl deploy status --app {name}`;"
                        f" undo with `loomctl deploy rollback --app {name}`", exit_code=ExitCode.INTERRUPTED)


# -- status / history -------------------------------------------------------------------------------------
@deploy.command("status")
@app_option
@common_options
@pass_loom
def status(loom: LoomContext, app_name: str | None) -> None:
    """Active revisions of an app: image, created, traffic, replicas, health.

    \b
    Examples:
      loomctl deploy status
      loomctl deploy status --app gun-relay -o json
    """
    from loomctl.deploy.revisions import status_doc
    from loomctl.output.views.deploy import render_revisions

    loom.output.emit(status_doc(writer(loom), app_name or loom.settings.node_app, True), table=render_revisions)


@deploy.command("history")
@app_option
@common_options
@pass_loom
def history(loom: LoomContext, app_name: str | None) -> None:
    """Every revision of an app, newest first, active or not.

    \b
    Examples:
      loomctl deploy history
      loomctl deploy history --query 'revisions[].[name,image,traffic]' -o tsv
    """
    from loomctl.deploy.revisions import status_doc
    from loomctl.output.views.deploy import render_revisions

    loom.output.emit(status_doc(writer(loom), app_name or loom.settings.node_app, False), table=render_revisions)


@deploy.command("rollback")
@app_option
@click.option("--to", "to", metavar="REVISION", default=None,
              help="Revision to roll back to (default: the newest healthy one before the current).")
@click.option("--dry-run", is_flag=True, help="Say what would happen; change nothing.")
@timeout_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@common_options
@pass_loom
def rollback(loom: LoomContext, app_name: str | None, to: str | None, dry_run: bool, timeout: float,
             yes: bool) -> None:
    """Move traffic back to an earlier revision and verify it.

    \b
    Examples:
      loomctl deploy rollback --yes
      loomctl deploy rollback --to loom-node--v1233 --yes
    """
    from loomctl.azure.deployment import parallel
    from loomctl.deploy import revisions as rv
    from loomctl.deploy.rollout import RolloutFailed
    from loomctl.output.views.deploy import Progress

    name = app_name or loom.settings.node_app
    w = writer(loom)
    live, revs = parallel([lambda: w.get_app(name), lambda: w.revisions(name)])
    target, current = rv.pick_target(revs, to)
    doc: dict[str, Any] = {"app": name, "mode": rv.mode_of(live), "from": current, "to": target}
    if target == current:
        raise UsageError(f"{target} already serves traffic", "name another revision with --to")
    if dry_run:
        from loomctl.output import ui

        ui.info(f"dry run: would move all traffic of '{name}' from {current} to {target}; nothing was changed")
        loom.output.emit({**doc, "result": "dry-run"})
        return
    confirm(f"Roll {name} back from {current} to {target}?", yes)
    progress = Progress()
    w.log = progress.write
    try:
        res = rv.rollback(w, live, revs, target, timeout, progress)
    except RolloutFailed as exc:
        raise ProblemsFound(f"rollback of {name} to {target} failed: {exc.message}",
                            f"see `loomctl deploy status --app {name}`") from None
    finally:
        progress.close()
    loom.output.emit({**doc, "result": "rolled-back", "actions": res.actions, "traffic": res.traffic,
                      "template_note": res.template_note})


@deploy.command("infra")
@click.option("--spec", "spec_path", metavar="FILE", default=None,
              help="Declarative spec (TOML; default ./loom.toml if present, else the reference architecture).")
@click.option("--dry-run", is_flag=True, help="Print the differences and change nothing.")
@click.option("--export", "export", is_flag=True,
              help="Write the live deployment as a spec (to --spec FILE, else stdout); change nothing.")
@timeout_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@common_options
@pass_loom
def infra(loom: LoomContext, spec_path: str | None, dry_run: bool, export: bool, timeout: float,
          yes: bool) -> None:
    """Make the environment storage, relay and node apps match a declarative spec.

    Reads the live state, prints the differences (secret values are never shown), asks,
    and applies them with create-or-update. A second run reports no changes.

    \b
    Examples:
      loomctl deploy infra --dry-run
      loomctl deploy infra --spec loom.toml --yes
      loomctl deploy infra --export > loom.toml
    """
    from loomctl.deploy import infra as inf
    from loomctl.output.views.deploy import print_diff, render_diff

    s = loom.settings
    s.require("subscription", "resource_group", "environment")
    w = writer(loom)
    if export:
        if dry_run:
            raise UsageError("--export and --dry-run do not go together", "--export never changes anything")
        text = inf.export(w, s)
        if spec_path in (None, "-"):
            click.echo(text, nl=False)
        else:
            from loomctl.core.files import write_text_atomic
            from loomctl.output import ui

            write_text_atomic(spec_path, text)  # whole or not at all

            ui.info(f"wrote the live deployment as a spec to {spec_path}")
        return
    spec = inf.load_spec(spec_path, s)
    live = inf.read_live(w, s, spec)
    changes = inf.diff(spec, live)
    doc = {"spec": spec.source, "changes": [c.as_dict() for c in changes], "dry_run": dry_run}
    if not changes:
        doc["result"] = "no changes"
        loom.output.emit(doc, table=render_diff)
        return
    if dry_run:
        doc["result"] = "dry-run"
        loom.output.emit(doc, table=render_diff)
        from loomctl.output import ui

        ui.info(f"dry run: {len(changes)} change(s) not applied")
        return
    print_diff(changes)
    confirm(f"Apply {len(changes)} change(s) to {s.resource_group}/{s.environment}?", yes)
    applied = inf.apply(w, s, spec, live, changes, timeout)
    doc.update(result="applied", applied=applied)
    loom.output.emit(doc, table=render_diff)
