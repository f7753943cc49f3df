"""The error funnel in loomctl.cli: ProblemsFound exits 1; with no message it adds nothing to what was printed."""

from __future__ import annotations

import click
from click.testing import CliRunner

from loomctl.cli import RootGroup
from loomctl.core.errors import ProblemsFound


@click.group(cls=RootGroup)
@click.option("--debug", is_flag=True)
def root(debug: bool) -> None:
    pass


@root.command()
def quiet() -> None:
    click.echo("rows", err=False)
    click.echo("warning: partial result: a shard timed out", err=True)
    raise ProblemsFound()


@root.command()
def loud() -> None:
    raise ProblemsFound("2 checks failed", "see the table above")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(root, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_problems_found_without_message_exits_1_and_prints_nothing_more():
    assert run("quiet") == (1, "rows\n", "warning: partial result: a shard timed out\n")


def test_problems_found_without_message_prints_no_traceback_under_debug():
    assert run("--debug", "quiet") == (1, "rows\n", "warning: partial result: a shard timed out\n")


def test_problems_found_with_message_reports_it_with_the_hint():
    assert run("loud") == (1, "", "error: 2 checks failed\nhint: see the table above\n")
