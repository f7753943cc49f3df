"""AzureSession.client: one client per name, built once, safe to ask for from many threads."""


def test_session_client_is_built_once_while_threads_wait_for_it():
    import threading
    import time

    from loomctl.azure.session import AzureSession

    session = AzureSession(settings=None)  # type: ignore[arg-type] - client() does not read the settings
    built = []

    def factory():
        built.append(1)
        time.sleep(0.05)  # other threads ask meanwhile
        return object()

    got = []
    threads = [threading.Thread(target=lambda: got.append(session.client("storage", factory))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and len(got) == 8 and all(c is got[0] for c in got)
    # a factory may ask the session for another client (its own lock per name)
    assert session.client("outer", lambda: session.client("storage", factory)) is got[0]
