"""Lazily filled state asked for from several threads at once: the second caller waits for the first one's build
and gets the same, complete value. Each test forces the interleaving (tests/races.py), on a cold copy of the module."""

from __future__ import annotations

import ssl
from types import SimpleNamespace

from tests.races import Interleave, fresh_module


def test_canned_queries_asked_for_while_another_thread_reads_the_files():
    """doctor's four log checks start together: one of them used to see a half-read catalogue ("no canned query
    named 'sync-latency'")."""
    from loomctl.logs.kql import catalogue as warm

    every = sorted(warm.load_all())
    cat = fresh_module("loomctl.logs.kql.catalogue")
    race = Interleave(lambda: (cat.get("sync-latency").name, sorted(cat.load_all())))
    real_parse, parsed = cat.parse, []

    def parse(text, source=""):
        parsed.append(source)
        if len(parsed) == 2:  # one query read, the others not yet
            race.pause()
        return real_parse(text, source)

    cat.parse = parse
    assert sorted(cat.load_all()) == every
    assert race.outcome() == ("sync-latency", every)
    assert len(parsed) == len(every)  # the files were read once


def test_one_tls_context_for_peers_probed_together():
    pp = fresh_module("loomctl.loommesh.peer_probe")
    race = Interleave(lambda: pp.tls_context())
    built = []

    def create_default_context():
        built.append(1)
        race.pause()
        return ssl.create_default_context()

    pp.ssl = SimpleNamespace(create_default_context=create_default_context)
    first = pp.tls_context()
    assert race.outcome() is first
    assert len(built) == 1


def test_gun_states_stay_strictly_increasing_when_two_threads_put_the_same_key():
    w = fresh_module("loomctl.loommesh.wire")
    race = Interleave(lambda: w.next_state("soul", "v"))

    def sleep(seconds):  # our clock stands still, so both callers must step past the last state
        race.pause()

    w.time = SimpleNamespace(time=lambda: 1000.0, sleep=sleep)
    assert w.next_state("soul", "v") == 999_999  # the clock (1,000,000 ms) minus one
    first = w.next_state("soul", "v")
    second = race.outcome()
    assert sorted([first, second]) == [1_000_000, 1_000_001]


def test_one_azure_session_per_command_when_checks_ask_together(monkeypatch):
    # AzureSession is the real class; the subclass only counts its builds and pauses inside the first one
    from loomctl.azure import session as session_module
    from loomctl.core.context import LoomContext

    loom = LoomContext()
    race = Interleave(lambda: loom.azure)
    built = []

    class CountedSession(session_module.AzureSession):
        def __init__(self, settings):
            built.append(1)
            race.pause()
            super().__init__(settings)

    monkeypatch.setattr(session_module, "AzureSession", CountedSession)
    first = loom.azure
    assert race.outcome() is first
    assert len(built) == 1


def test_session_client_factory_runs_once_while_another_thread_asks():
    from loomctl.azure.session import AzureSession

    session = AzureSession(settings=None)  # type: ignore[arg-type] - client() does not read the settings
    race = Interleave(lambda: session.client("storage", factory))
    built = []

    def factory():
        built.append(1)
        race.pause()
        return object()

    first = session.client("storage", factory)
    assert race.outcome() is first
    assert len(built) == 1


def test_one_rich_console_per_stream_across_threads(monkeypatch):
    import rich.console

    ui = fresh_module("loomctl.output.ui")
    race = Interleave(lambda: ui.console(stderr=True))
    built = []

    class CountedConsole(rich.console.Console):  # the real Console, counted
        def __init__(self, *args, **kwargs):
            built.append(1)
            race.pause()
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(rich.console, "Console", CountedConsole)
    first = ui.console(stderr=True)
    assert race.outcome() is first
    assert len(built) == 1
