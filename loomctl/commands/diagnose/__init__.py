"""loomctl diagnose: dns, mesh, peers, storage (each subcommand in its own module, imported when run)."""

from __future__ import annotations

import click

from loomctl.core.lazy import LazyGroup


@click.group(
    cls=LazyGroup,
    lazy_subcommands={
        "dns": ("loomctl.commands.diagnose.dns:dns", "Resolve every LoomMesh peer host and explain failures."),
        "mesh": ("loomctl.commands.diagnose.mesh:mesh",
                 "Who syncs with whom, replica by replica; optional write probe."),
        "peers": (
            "loomctl.commands.diagnose.peers:peers",
            "Probe each LoomMesh peer stage by stage; optional write probe.",
        ),
        "storage": ("loomctl.commands.diagnose.storage:storage", "Check the Azure Files share, mounts and quotas."),
        "sync": ("loomctl.commands.diagnose.sync:sync",
                 "Time a write through one deployment's relay until it arrives through another's."),
    },
)
def diagnose() -> None:
    """Diagnose DNS, LoomMesh peers, the mesh replica by replica and Azure Files storage."""
