"""User text reaches KQL only as an escaped literal: Microsoft's parser reads back exactly the text given, and
the token structure of a whole query never changes, whatever the text (quotes, backslashes, newlines, ...)."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loomctl.logs.kql import catalogue as cat
from loomctl.logs.kql import literals as lit
from loomctl.logs.matching import is_error_line, matches_grep
from loomctl.logs.query import LogQuery, build_query

NOW = dt.datetime(2026, 11, 28, 4, 0, tzinfo=dt.timezone.utc)
NASTY = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(['"', "'", "\\", "\n", "\r", "|", ";", "/", "`", "@", "x", "\u2028", "\x00",
                                      "\x85", "{", "}", "(", ")"]), max_size=40),
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def shape(kusto, text):
    """Token kinds of the query, and the values of its string literals."""
    toks = kusto.analyze(text, tokens=True, syntax_only=True)["tokens"]
    return [t[0] for t in toks], [t[1] for t in toks if t[0] == STRING_KIND]


_BASE: dict[str, list[int]] = {}


def _baseline(kusto, key, make):
    if key not in _BASE:
        _BASE[key] = shape(kusto, make())[0]
    return _BASE[key]


STRING_KIND = 322  # SyntaxKind.StringLiteralToken in Kusto.Language 12.4.1 (checked in the first test)


def test_string_literal_kind(kusto):
    kinds, values = shape(kusto, 'print v = "a"')
    assert kinds[-1] == STRING_KIND and values == ["a"]


@SETTINGS
@given(NASTY)
def test_literal_round_trips_through_microsofts_parser(kusto, value):
    text = f"print v = {lit.string(value)}"
    result = kusto.analyze(text, tokens=True, syntax_only=True)
    assert [d for d in result["diagnostics"] if d["severity"] == "Error"] == []
    assert [t[0] for t in result["tokens"]] == [174, 323, 301, STRING_KIND]  # print, v, =, one string literal
    assert result["tokens"][-1][1] == value
    assert "\n" not in lit.string(value) and "\r" not in lit.string(value)


@SETTINGS
@given(grep=NASTY, replica=NASTY, app=NASTY)
def test_logs_query_structure_never_changes(kusto, grep, replica, app):
    base_kinds = _baseline(kusto, "logs", lambda: build_query(
        LogQuery(["a"], NOW, NOW, "log-analytics", False, True, "g", "r", "", 10)))
    text = build_query(LogQuery([app], NOW, NOW, "log-analytics", False, True, grep or "g", replica or "r", "", 10))
    kinds, strings = shape(kusto, text)
    assert kinds == base_kinds
    assert app in strings and (grep or "g") in strings and (replica or "r") in strings


@SETTINGS
@given(value=NASTY)
def test_canned_query_structure_never_changes(kusto, value):
    q = cat.get("storage-errors")
    base = _baseline(kusto, "storage", lambda: cat.render(q, cat.Scope(apps=["a"], replica="r", revision="v")))
    kinds, strings = shape(kusto, cat.render(q, cat.Scope(apps=[value], replica=value, revision=value)))
    assert kinds == base
    assert strings.count(value) >= 3


def test_error_and_grep_matching():
    assert is_error_line("Error: connect ECONNREFUSED 10.0.0.4:8765")
    assert is_error_line("[gun] peer failed to sync")
    assert is_error_line("UnhandledPromiseRejection: x") is False  # not a whole term
    assert is_error_line("unhandled rejection") is True
    assert not is_error_line("terror alert")  # 'error' inside a word is not the term
    assert not is_error_line("") and not is_error_line(None)
    assert matches_grep("Hello World", "world") and matches_grep("x", None) and not matches_grep("abc", "abd")
