"""loomctl status"""

from __future__ import annotations

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.options import common_options


@click.command()
@click.option("--replicas", "with_replicas", is_flag=True, help="List every replica with its state and restarts.")
@common_options
@pass_loom
def status(loom: LoomContext, with_replicas: bool) -> None:
    """Show the environment, apps, revisions, replicas and ingress.

    \b
    Examples:
      loomctl status
      loomctl status --replicas -o json
      loomctl status --query 'apps[].{name:name,running:replicas.running}'
    """
    from loomctl.azure.deployment import deployment_state
    from loomctl.output.views.status import build_status, render_status

    settings = loom.settings
    settings.require("subscription", "resource_group", "environment")
    roles = {settings.relay_app: "relay", settings.node_app: "node"}
    dep = deployment_state(loom.azure, list(roles))
    doc = build_status(dep, roles, with_replicas)
    loom.output.emit(doc, table=render_status)
