"""An interactive exec session on the local terminal, as `kubectl exec -it` does it.

The local terminal is put in raw mode, so every key goes to the remote process as stdin data: Ctrl-C is the
byte 0x03 (the remote terminal turns it into SIGINT for the remote foreground process; loomctl is not
interrupted), Ctrl-D is 0x04 (end of input for the remote shell), Ctrl-Z and Ctrl-\\ likewise. The session ends
when the remote process exits or the local terminal reaches end of input (hang-up). The terminal mode is always
restored: on a normal end, on an error, and on SIGTERM or SIGHUP.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import sys
import threading

from loomctl.aca import framing
from loomctl.aca.exec_client import connect
from loomctl.aca.target import Target


def session(target: Target, token: str, command: str, timeout: float) -> int:
    import termios
    import tty

    from websockets.exceptions import ConnectionClosed

    conn, _ = connect(target, token, command, timeout)
    sys.stderr.write(f"Connected to {target.where} ({target.container}); Ctrl+D exits.\n")
    sys.stderr.flush()
    cols, rows = shutil.get_terminal_size()
    conn.send(framing.resize(cols, rows))
    exit_code = [0]
    done = threading.Event()

    def reader() -> None:
        try:
            for message in conn:
                frame = framing.decode(message)
                if frame.kind in ("stdout", "stderr"):
                    stream = sys.stdout if frame.kind == "stdout" else sys.stderr
                    stream.buffer.write(frame.data)
                    stream.flush()
                elif frame.kind == "error":
                    err = framing.parse_error(frame.text)
                    exit_code[0] = err.exit_code if err.exit_code is not None else 1
                    if err.exit_code is None:
                        sys.stderr.write(f"\r\nerror: {err.message}\r\n")
                elif frame.kind == "end":
                    break
        except ConnectionClosed:
            pass
        finally:
            done.set()

    def ended(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through the finally below, which restores the terminal

    threading.Thread(target=reader, daemon=True).start()
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    handlers = {sig: signal.signal(sig, ended) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        tty.setraw(fd, termios.TCSANOW)  # keep what was typed while connecting
        while not done.is_set():
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                data = os.read(fd, 1024)
                if not data:
                    break
                try:
                    conn.send(framing.stdin(data))
                except ConnectionClosed:
                    break
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        conn.close()
        done.wait(2)
    return exit_code[0]
