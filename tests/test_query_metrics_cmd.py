"""`loomctl query`, `loomctl metrics` and the doctor category "Logs and metrics" against the local Log Analytics."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.fakeazure import topology
from tests.loganalytics import FakeLogAnalytics, body, table

NOW = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
LAT = [("TimeGenerated", "datetime"), ("p50", "real"), ("p95", "real"), ("p99", "real"), ("Samples", "long")]
PEERS = [("TimeGenerated", "datetime"), ("App", "string"), ("MinPeers", "real"), ("AvgPeers", "real"),
         ("MaxPeers", "real"), ("Replicas", "long")]
NODES = [("TimeGenerated", "datetime"), ("App", "string"), ("MaxNodes", "real"), ("AvgNodes", "real")]
PEER_ERR = [("App", "string"), ("Replica", "string"), ("Errors", "long"), ("Disconnects", "long"),
            ("First", "datetime"), ("Last", "datetime"), ("Sample", "string")]
RESTARTS = [("App", "string"), ("Replica", "string"), ("Restarts", "long"), ("CrashLoopEvents", "long"),
            ("First", "datetime"), ("Last", "datetime"), ("Reasons", "string"), ("Sample", "string"),
            ("CrashLooping", "bool")]


def bins(n=4):
    return [NOW - dt.timedelta(minutes=5 * (n - i)) for i in range(n)]


def latency_rows(p95=(40.0, 55.0, 90.0, 61.0)):
    return [[t, 12.0 + i, p, p * 1.5, 100 + i] for i, (t, p) in enumerate(zip(bins(), p95))]


def metrics_answer(kql, p95=(40.0, 55.0, 90.0, 61.0), min_peers=2.0):
    if '"gun.sync.latency_ms"' in kql:
        return body(table(LAT, latency_rows(p95)))
    if '"gun.peers.connected"' in kql:
        return body(table(PEERS, [[t, "loom-node", min_peers, 2.5, 3.0, 3] for t in bins()]))
    if '"gun.nodes.count"' in kql:
        return body(table(NODES, [[t, "loom-node", 1000.0 + 10 * i, 990.0] for i, t in enumerate(bins())]))
    return body(table(LAT, []))


@pytest.fixture
def la(azure):
    return FakeLogAnalytics(azure)


def test_query_list_json(loomctl):
    run = loomctl("query", "list", "-o", "json")
    assert run.exit_code == 0
    names = [q["name"] for q in run.json()]
    assert "sync-latency" in names and "restarts" in names
    sync = next(q for q in run.json() if q["name"] == "sync-latency")
    assert sync["tables"] == ["Metrics"] and sync["params"][0]["name"] == "bin_size"


def test_query_show_prints_kql_for_the_portal(loomctl, kusto):
    run = loomctl("query", "show", "restarts", "--destination", "azure-monitor", "--since", "6h", "--app", "relay")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith("// loomctl query: restarts (azure-monitor)")
    assert "let _start = ago(6h);" in run.stdout and 'pack_array("gun-relay")' in run.stdout
    assert "ContainerAppSystemLogs\n" in run.stdout
    assert kusto.errors(run.stdout) == []


def test_query_show_unknown_name_and_param(loomctl):
    run = loomctl("query", "show", "sync-latncy")
    assert run.exit_code == 2
    assert "error: no canned query named 'sync-latncy'" in run.stderr and "did you mean 'sync-latency'" in run.stderr
    run = loomctl("query", "show", "sync-latency", "--param", "bin_size=soon")
    assert run.exit_code == 2 and "--param bin_size 'soon' is not a duration" in run.stderr
    run = loomctl("query", "show", "sync-latency", "--param", "colour=red")
    assert run.exit_code == 2 and "has no parameter 'colour'" in run.stderr


def test_query_run_sync_latency_table_with_chart(azure, la, loomctl, kusto):
    la.answer = metrics_answer
    run = loomctl("query", "run", "sync-latency", "--since", "20m", "-o", "table")
    assert run.exit_code == 0, run.stderr
    assert "p95" in run.stdout and "90.0" in run.stdout
    spark = next(line for line in run.stdout.splitlines() if line.startswith("p95"))
    assert "▁" in spark and "█" in spark and "min 40.0" in spark and "max 90.0" in spark
    assert "let bin_size = 1m;" in la.last.kql  # about 30 bins over 20 minutes, rounded
    assert "AppMetrics" in la.last.kql and kusto.errors(la.last.kql) == []


def test_query_run_json_types_cells(azure, la, loomctl):
    la.answer = metrics_answer
    run = loomctl("query", "run", "sync-latency", "--metrics-source", "customMetrics", "-o", "json")
    assert run.exit_code == 0, run.stderr
    rows = run.json()
    assert rows[2]["p95"] == 90.0 and rows[0]["Samples"] == 100  # strings on the wire, numbers here
    assert rows[0]["TimeGenerated"].endswith("Z")
    assert "customMetrics" in la.last.kql


def test_query_run_empty_says_no_rows(azure, la, loomctl):
    run = loomctl("query", "run", "storage-errors", "--start", "2026-11-01T08:00:00Z", "--end",
                  "2026-11-01T09:00:00Z", "-o", "table")
    assert run.exit_code == 0
    assert run.stdout == ""
    assert "no rows between 2026-11-01" in run.stderr
    assert la.last.timespan.startswith("2026-11-01T08:00:00")


def test_query_run_partial_error(azure, la, loomctl):
    la.answer = lambda kql: body(table(LAT, latency_rows()), partial="Partial query failure: a shard timed out")
    run = loomctl("query", "run", "sync-latency", "-o", "table")
    assert run.exit_code == 1
    assert "90.0" in run.stdout
    assert "warning: partial result" in run.stderr and "shard timed out" in run.stderr


def test_table_caps_rows_and_says_how_many(azure, la, loomctl, monkeypatch):
    monkeypatch.setenv("LOOMCTL_TABLE_ROWS", "10")
    rows = [[NOW, "loom-node", f"rep-{i}", "ReadWrite", "mount failed"] for i in range(25)]
    cols = [("TimeGenerated", "datetime"), ("App", "string"), ("Replica", "string"), ("Reason", "string"),
            ("Log", "string")]
    la.answer = lambda kql: body(table(cols, rows))
    run = loomctl("query", "run", "storage-errors", "-o", "table")
    assert run.exit_code == 0, run.stderr
    assert "rep-9" in run.stdout and "rep-10" not in run.stdout
    assert "… 15 more rows not shown (25 in all)" in run.stdout


def test_metrics_table_and_json(azure, la, loomctl, kusto):
    la.answer = metrics_answer
    run = loomctl("metrics", "--since", "30m", "-o", "json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["source"] == "AppMetrics" and len(doc["bins"]) == 4
    assert doc["bins"][2]["p95_ms"] == 90.0 and doc["bins"][0]["nodes_max"] == 1000.0
    assert doc["bins"][0]["peers_min"] == 2.0 and doc["bins"][0]["peers_avg"] == 2.5
    assert len(la.queries) == 3 and all(kusto.errors(q.kql) == [] for q in la.queries)
    run = loomctl("metrics", "--since", "30m", "-o", "table")
    assert run.exit_code == 0
    assert "LoomMesh metrics" in run.stdout and "p95 ms" in run.stdout
    assert any(line.startswith("p95 ms") and "█" in line for line in run.stdout.splitlines())


def test_doctor_logs_and_metrics_category(azure, la, loomctl):
    def answer(kql):
        if "print ok = 1" in kql:
            return body(table([("ok", "long")], [[1]]))
        if "IsDisconnect" in kql:
            return body(table(PEER_ERR, [["loom-node", "loom-node--n1-abc", 3, 1, NOW, NOW, "Error: ECONNREFUSED"]]))
        if "CrashLoop" in kql:
            return body(
                table(RESTARTS, [["gun-relay", "gun-relay--r1-x", 6, 4, NOW, NOW, "BackOff", "Back-off", True]])
            )
        return metrics_answer(kql, p95=(40.0, 900.0, 60.0, 50.0), min_peers=0.0)

    la.answer = answer
    run = loomctl("doctor", "--category", "logs", "-o", "json")
    assert run.exit_code == 1, run.stderr
    checks = {c["code"]: c for cat in run.json()["categories"] for c in cat["checks"]}
    assert checks["LOOM701"]["status"] == "pass" and topology.WORKSPACE_ID in checks["LOOM701"]["message"]
    assert checks["LOOM702"]["status"] == "warn" and "3 LoomMesh error lines" in checks["LOOM702"]["message"]
    assert checks["LOOM703"]["status"] == "fail" and "gun-relay--r1-x" in checks["LOOM703"]["message"]
    assert checks["LOOM704"]["status"] == "warn" and "900 ms" in checks["LOOM704"]["message"]
    assert checks["LOOM705"]["status"] == "warn" and "only 0 LoomMesh peers" in checks["LOOM705"]["message"]


def test_doctor_logs_healthy_and_forbidden(azure, la, loomctl):
    la.answer = lambda kql: (body(table([("ok", "long")], [[1]])) if "print ok" in kql else
                             metrics_answer(kql) if "Metrics" in kql.split("\n", 1)[0] or "gun." in kql else
                             body(table(PEER_ERR, [])))
    run = loomctl("doctor", "--category", "logs", "-o", "json")
    checks = {c["code"]: c for cat in run.json()["categories"] for c in cat["checks"]}
    assert run.exit_code == 0, checks
    assert {c["status"] for c in checks.values()} == {"pass"}

    from tests.loganalytics import query_error

    la.answer = lambda kql: query_error(403, "InsufficientAccessError", "no access")
    run = loomctl("doctor", "--category", "logs", "-o", "json")
    assert run.exit_code == 3  # the workspace could not be read: an Azure access error, not a finding
    checks = {c["code"]: c for cat in run.json()["categories"] for c in cat["checks"]}
    assert checks["LOOM701"]["status"] == "fail" and "403" in checks["LOOM701"]["message"]
    assert checks["LOOM702"]["status"] == "skip"


def test_fit_widths_keeps_times_and_gives_text_the_rest():
    from loomctl.output.views.results import fit_widths

    cols = ["TimeGenerated", "App", "Replica", "Log"]
    texts = [["2026-11-28 05:11:09+01:00", "loom-node", "loom-node--n1-7d9f4-xk2lp", "x" * 300]]
    widths = fit_widths(cols, texts, 120, keep=[True, False, False, False])
    assert widths[:3] == [25, 9, 25]
    assert sum(widths) + 2 * 3 + 1 <= 120 and widths[3] >= 50
    narrow = fit_widths(cols, texts, 80, keep=[True, False, False, False])
    assert narrow[0] == 25 and sum(narrow) + 7 <= 80 and narrow[3] >= 20


@pytest.mark.also_subprocess
def test_doctor_logs_on_the_default_quiet_workspace(azure, loomctl):
    """The server's default Log Analytics route: a workspace with no rows passes, metric checks say why they skip."""
    run = loomctl("doctor", "--category", "logs", "-o", "json")
    assert run.exit_code == 0, run.stdout
    checks = {c["code"]: c for cat in run.json()["categories"] for c in cat["checks"]}
    assert [checks[c]["status"] for c in ("LOOM701", "LOOM702", "LOOM703", "LOOM704", "LOOM705")] == \
        ["pass", "pass", "pass", "skip", "skip"]
    assert "no gun.sync.latency_ms samples" in checks["LOOM704"]["message"]


def _healthy_logs(kql):
    if "print ok" in kql:
        return body(table([("ok", "long")], [[1]]))
    if "Metrics" in kql.split("\n", 1)[0] or "gun." in kql:
        return metrics_answer(kql)
    return body(table(PEER_ERR, []))


def test_doctor_logs_warn_when_log_analytics_answers_only_in_part(azure, la, loomctl):
    """A PartialError (200 with rows and an `error`): the checks that would pass say the answer was partial."""
    def answer(kql):
        doc = _healthy_logs(kql)
        return doc if "print ok" in kql else body(*doc["tables"], partial="Query exceeded the memory limit")

    la.answer = answer
    run = loomctl("doctor", "--category", "logs", "-o", "json")
    assert run.exit_code == 0, run.stdout  # warnings only
    checks = {c["code"]: c for cat in run.json()["categories"] for c in cat["checks"]}
    assert checks["LOOM701"]["status"] == "pass"
    for code, query, came_back in (("LOOM702", "peer-errors", "no LoomMesh peer errors"),
                                   ("LOOM703", "restarts", "no restarts or crash loops"),
                                   ("LOOM704", "sync-latency", "sync latency p95 at most 90 ms"),
                                   ("LOOM705", "peers-connected", "every replica saw at least 2 peers")):
        c = checks[code]
        assert c["status"] == "warn", (code, c)
        assert c["message"].startswith(f"Log Analytics answered '{query}' only in part (There were some errors "
                                       "when processing your query. (Query exceeded the memory limit)); "
                                       f"from what came back: {came_back}"), c["message"]
        assert f"`loomctl query run {query}`" in c["hint"]
        assert "Query exceeded the memory limit" in c["details"]["partial_error"]


def test_doctor_logs_partial_answer_that_shows_a_crash_loop_still_fails(azure, la, loomctl):
    def answer(kql):
        if "CrashLoop" in kql:
            rows = [["gun-relay", "gun-relay--r1-x", 6, 4, NOW, NOW, "BackOff", "Back-off", True]]
            return body(table(RESTARTS, rows), partial="a shard timed out")
        return _healthy_logs(kql)

    la.answer = answer
    run = loomctl("doctor", "--category", "logs", "-o", "json")
    assert run.exit_code == 1
    checks = {c["code"]: c for cat in run.json()["categories"] for c in cat["checks"]}
    assert checks["LOOM703"]["status"] == "fail" and "gun-relay--r1-x" in checks["LOOM703"]["message"]
    assert "a shard timed out" in checks["LOOM703"]["details"]["partial_error"]
    assert [checks[c]["status"] for c in ("LOOM702", "LOOM704", "LOOM705")] == ["pass", "pass", "pass"]


def test_doctor_workspace_probe_answered_in_part_warns(azure, la, loomctl):
    la.answer = lambda kql: (body(table([("ok", "long")], [[1]]), partial="workspace shard unavailable")
                             if "print ok" in kql else _healthy_logs(kql))
    run = loomctl("doctor", "--category", "logs", "-o", "json")
    assert run.exit_code == 0, run.stdout
    c = {c["code"]: c for cat in run.json()["categories"] for c in cat["checks"]}["LOOM701"]
    assert c["status"] == "warn" and "only in part" in c["message"] and "workspace shard unavailable" in c["message"]
    assert c["message"].endswith(f"from what came back: workspace {topology.WORKSPACE_ID} answers (log-analytics "
                                 f"tables, from environment '{topology.ENV}')"), c["message"]
