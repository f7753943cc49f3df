"""An interactive exec session on the local terminal (cbreak mode, restored on exit, unlike az)."""

from __future__ import annotations

import os
import select
import shutil
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

    threading.Thread(target=reader, daemon=True).start()
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd, termios.TCSANOW)  # keep what was typed while connecting
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
        conn.close()
        done.wait(2)
    return exit_code[0]
