"""loomctl completion bash|zsh|fish"""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


def completion_script(shell: str) -> str:
    from click.shell_completion import get_completion_class

    from loomctl.cli import cli

    cls = get_completion_class(shell)
    assert cls is not None
    return cls(cli, {}, "loomctl", "_LOOMCTL_COMPLETE").source()


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    bash:  loomctl completion bash > ~/.local/share/bash-completion/completions/loomctl
    zsh:   loomctl completion zsh > "${fpath[1]}/_loomctl"   (then restart zsh)
    fish:  loomctl completion fish > ~/.config/fish/completions/loomctl.fish

    The same scripts are in the repository's completions/ folder.
    """
    click.echo(completion_script(shell), nl=False)
