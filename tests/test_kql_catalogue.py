"""Every canned query and every `loomctl logs` query is valid KQL for Microsoft's Kusto parser, against the
columns of the real tables (tests/fixtures/kql_schema.json), for both log destinations and both metric tables."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from loomctl.logs.kql import catalogue as cat
from loomctl.logs.query import LogQuery, build_query

AWKWARD = ['"', "\\", "'; drop", 'a"\n| take 1 //', "\\\"", "\u2028", "ünï\tcode", "", "x" * 300, "//", "`"]
NOW = dt.datetime(2026, 11, 28, 4, 0, tzinfo=dt.timezone.utc)


def all_variants():
    """Each query for each table family it reads: destinations for log views, metric tables for Metrics."""
    for q in cat.load_all().values():
        dests = (
            ("log-analytics", "azure-monitor") if {"ConsoleLogs", "SystemLogs"} & set(q.views) else ("log-analytics",)
        )
        msrcs = ("AppMetrics", "customMetrics") if "Metrics" in q.views else ("AppMetrics",)
        for dest, msrc in itertools.product(dests, msrcs):
            yield q, dest, msrc


def test_catalogue_has_the_issue_queries():
    names = set(cat.load_all())
    assert {"peer-errors", "sync-latency", "peers-connected", "graph-size", "replica-count", "restarts",
            "storage-errors"} <= names
    for q in cat.load_all().values():
        assert q.description and q.views, q.name


def test_every_canned_query_passes_microsofts_parser(kusto):
    problems = []
    for q, dest, msrc in all_variants():
        for scope in (cat.Scope(destination=dest, metrics_source=msrc),  # portal form: ago()/now()
                      cat.Scope(destination=dest, metrics_source=msrc, start=NOW - dt.timedelta(hours=6), end=NOW,
                                since=None, apps=["gun-relay", "loom-node"], replica="loom-node--n1-abc")):
            text = cat.render(q, scope)
            diags = [d for d in kusto.analyze(text)["diagnostics"] if d["severity"] in ("Error", "Warning")]
            problems += [(q.name, dest, msrc, d["code"], d["message"]) for d in diags]
    assert problems == []


def test_parameters_with_awkward_values_stay_valid(kusto):
    problems = []
    for q, dest, msrc in all_variants():
        for value in ("", 'a"\n| take 1 // \\ \' \u2028 `'):
            scope = cat.Scope(destination=dest, metrics_source=msrc, apps=[value, "loom-node"], replica=value,
                              revision=value)
            text = cat.render(q, scope)
            problems += [(q.name, dest, repr(value), e["message"]) for e in kusto.errors(text)]
        for p in q.params:  # typed parameters: a valid value of each type
            sample = {"int": "7", "timespan": "90s", "string": AWKWARD[3], "real": "2.5", "bool": "true"}[p.type]
            text = cat.render(q, cat.Scope(destination=dest, metrics_source=msrc, params={p.name: sample}))
            problems += [(q.name, p.name, e["message"]) for e in kusto.errors(text)]
    assert problems == []


def test_logs_queries_valid_for_both_destinations(kusto):
    problems = []
    for dest, system, errors, grep in itertools.product(("log-analytics", "azure-monitor"), (False, True),
                                                         (False, True), (None, AWKWARD[3])):
        text = build_query(LogQuery(["gun-relay", 'we"ird\\app'], NOW - dt.timedelta(hours=1), NOW, dest, system,
                                    errors, grep, 'rep"\n', "rev\\", 50))
        problems += [(dest, system, errors, grep, e["message"]) for e in kusto.errors(text)]
    assert problems == []


def test_schema_catches_the_reference_architecture_query(kusto):
    """The parser with this schema is strict enough: the reference's console query is rejected as it must be."""
    errors = kusto.errors("ContainerAppConsoleLogs_CL | project TimeGenerated, ReplicaName_s, Log_s")
    assert [e["code"] for e in errors] == ["KS142"]
    assert kusto.errors("AppMetrics | summarize avg(Value)")  # AppMetrics has no Value column


def test_unknown_param_and_bad_values_are_usage_errors():
    from loomctl.core.errors import UsageError

    q = cat.get("peer-errors")
    with pytest.raises(UsageError, match="has no parameter 'nope'"):
        cat.parse_assignments(["nope=1"], q)
    with pytest.raises(UsageError, match="is not a whole number"):
        cat.render(q, cat.Scope(params={"top": "5; drop"}))
    with pytest.raises(UsageError) as info:
        cat.get("peer-error")
    assert "did you mean 'peer-errors'" in info.value.hint
