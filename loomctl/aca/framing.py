"""The exec WebSocket channel framing (Container Apps proxy byte + Kubernetes remote-command channel).

Server to client: ``01`` + text = proxy INFO, ``02`` + JSON = proxy ERROR, ``00 01`` + bytes = stdout,
``00 02`` + bytes = stderr. Client to server: ``00 00`` + bytes = stdin, ``00 04`` + JSON = terminal resize.
Pure functions only, so the test double and the client share one definition.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

PROXY_FORWARD = 0
PROXY_INFO = 1
PROXY_ERROR = 2
STDIN, STDOUT, STDERR, ERROR, RESIZE = 0, 1, 2, 3, 4

_EXIT_RE = re.compile(r"exit code (\d+)")


@dataclass
class Frame:
    kind: str  # info | error | stdout | stderr | end | unknown
    data: bytes = b""

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


def decode(message: bytes | str) -> Frame:
    raw = message.encode("utf-8") if isinstance(message, str) else bytes(message)
    if not raw:
        return Frame("end")
    head = raw[0]
    if head == PROXY_INFO:
        return Frame("info", raw[1:])
    if head == PROXY_ERROR:
        return Frame("error", raw[1:])
    if head == PROXY_FORWARD and len(raw) >= 2:
        channel = raw[1]
        if channel == STDOUT:
            return Frame("stdout", raw[2:])
        if channel == STDERR:
            return Frame("stderr", raw[2:])
    return Frame("unknown", raw)


def stdin(data: bytes) -> bytes:
    return bytes([PROXY_FORWARD, STDIN]) + data


def resize(width: int, height: int) -> bytes:
    # exactly as az writes it (a space after ':' and ',')
    return bytes([PROXY_FORWARD, RESIZE]) + json.dumps({"Width": width, "Height": height}).encode()


def info(text: str) -> bytes:
    return bytes([PROXY_INFO]) + text.encode("utf-8")


def error(document: dict) -> bytes:
    return bytes([PROXY_ERROR]) + json.dumps(document).encode("utf-8")


def output(channel: int, data: bytes) -> bytes:
    return bytes([PROXY_FORWARD, channel]) + data


@dataclass
class ProxyError:
    code: str
    message: str
    exit_code: int | None  # the command's exit status when the error reports one


def parse_error(text: str) -> ProxyError:
    """An ERROR frame's JSON document (or plain text) as code, message and, if stated, the exit code."""
    code, message = "", text.strip()
    try:
        doc = json.loads(text)
        err = doc.get("Error") or doc.get("error") or {}
        if isinstance(err, dict):
            code = str(err.get("Code") or err.get("code") or "")
            message = str(err.get("Message") or err.get("message") or message)
    except (ValueError, AttributeError):
        pass
    m = _EXIT_RE.search(message)
    return ProxyError(code, message, int(m.group(1)) if m else None)


def cluster_exec_failure(message: str) -> dict:
    return {"Error": {"Code": "ClusterExecFailure", "Message": message, "Details": None, "Target": None,
                      "AdditionalInfo": None}}
