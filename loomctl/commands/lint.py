"""loomctl lint"""

from __future__ import annotations

import click

from loomctl.core.context import LoomContext, pass_loom
from loomctl.core.errors import ProblemsFound
from loomctl.core.options import _store_attr, debug_option, profile_option

LINT_FORMATS = ["table", "json", "yaml", "sarif"]


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--parameters", "parameters_file", metavar="FILE", default=None,
              help="ARM parameters file whose values replace the template's defaults.")
@click.option("--fail-on-warn", is_flag=True, help="Exit 1 on warnings too.")
@click.option("-o", "--output", "fmt", type=click.Choice(LINT_FORMATS), default=None,
              help="Output format: table (default on a terminal), json (default when piped), yaml, "
                   "sarif (SARIF 2.1.0 for GitHub code scanning).")
@click.option("--query", metavar="JMESPATH", default=None, expose_value=False, callback=_store_attr("query"),
              help="JMESPath query applied to the JSON output, as in `az`.")
@profile_option
@debug_option
@pass_loom
def lint(loom: LoomContext, paths: tuple[str, ...], parameters_file: str | None, fail_on_warn: bool,
         fmt: str | None) -> None:
    """Judge deployment definitions before they are deployed, offline.

    PATH is an ARM template (what `az bicep build` writes), an `az containerapp show` export
    (JSON or YAML), an `az containerapp create --yaml` file, or a spec from `loomctl deploy infra
    --export`. The definition checks are doctor's own; each finding names its file, line and column.
    A value known only when deploying is "not judged", never guessed. Silence a finding with the
    profile's `suppress`, a resource's metadata `"loomctl:ignore": ["LOOM211"]`, or a comment
    `# loomctl:ignore LOOM211` (YAML) or `// loomctl:ignore LOOM211` (JSON) on the line or the line
    above. Exit 0 when nothing failed, 1 when a check failed (or warned, with --fail-on-warn), 2 when
    a file cannot be read.

    \b
    Examples:
      loomctl lint examples/reference-architecture.json
      loomctl lint main.json --parameters main.parameters.json -o sarif > lint.sarif
      loomctl lint app.yaml loom.toml -o json
    """
    from loomctl.checks.plan import parse_suppressions
    from loomctl.core.secrets import mask
    from loomctl.lint.report import as_document
    from loomctl.lint.run import lint_paths
    from loomctl.lint.sources import parameter_values
    from loomctl.output.formats import Format, Output, default_format

    settings = loom.settings
    params = parameter_values(parameters_file) if parameters_file else {}
    report = lint_paths(list(paths), settings, params, parse_suppressions(settings.get("suppress") or []))
    if fmt == "sarif":
        from loomctl.lint.sarif import document

        Output(Format.JSON, loom.query).emit(document(report))  # JSON, masked, --query applies
    else:
        out = Output(Format(fmt) if fmt else loom.output_format or default_format(), loom.query)
        doc = as_document(report, fail_on_warn)
        if out.is_table and not out.query:
            from loomctl.output.views.lint import render

            render(mask(doc))
        else:
            out.emit(doc)
    if report.problems(fail_on_warn):
        raise ProblemsFound("lint found problems", None)
