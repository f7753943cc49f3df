"""Build the remote probe command. No user or host text ever reaches the remote command line unencoded:
the node probe gets its parameters as base64 JSON; the shell probe is a script whose values are single-quoted
with `shlex.quote` and which travels base64-encoded inside `sh -c 'echo <b64>|base64 -d|sh'`."""

from __future__ import annotations

import base64
import json
import shlex
from importlib import resources
from urllib.parse import urlsplit

from loomctl.loommesh.peer_url import parse

# argv: [node, script (raw deflate, base64), params (base64 JSON), "base64", "zlib"]: no quotes needed anywhere
NODE_LOADER = "eval(require(process.argv[4]).inflateRawSync(Buffer.from(process.argv[1],process.argv[3])).toString())"


def _data(name: str) -> str:
    return resources.files("loomctl").joinpath("data", name).read_text(encoding="utf-8")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def params(hosts: list[str], peers: list[tuple[str, str]], dns_servers: list[tuple[str, int]],
           timeout: float) -> dict:
    return {"hosts": list(hosts), "peers": [[u, r] for u, r in peers],
            "dns": [f"{h}:{p}" if p != 53 else h for h, p in dns_servers], "timeout": timeout}


def _compact(text: str, comment: str) -> str:
    """Drop comment lines and indentation: the command travels in the exec URL, which has a length limit."""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip() and
                     not line.strip().startswith(comment)) + "\n"


def node_command(p: dict, script: str = "inside_probe.js") -> str:
    """`node -e <loader> <script> <params> base64 zlib`: the script (a file of loomctl/data) deflated and
    base64-encoded."""
    import zlib

    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = c.compress(_compact(_data(script), "//").encode("utf-8")) + c.flush()
    return shlex.join(["node", "-e", NODE_LOADER, base64.b64encode(packed).decode("ascii"), _b64(json.dumps(p)),
                       "base64", "zlib"])


def http_url(url: str) -> tuple[str, str, int]:
    """(http(s) URL as written, host, port) of a peer URL, checked by `loommesh.peer_url.parse` (the one parser)."""
    try:
        p = parse(url)
    except ValueError as exc:
        raise ValueError(f"not a peer URL: {url} ({exc})") from None
    parts = urlsplit(url.strip() if "://" in url else "http://" + url.strip())
    return parts._replace(scheme=p.scheme).geturl(), p.host, p.port


def shell_script(p: dict) -> str:
    q = shlex.quote
    dns = p["dns"][0].split(":")[0] if p["dns"] else ""
    lines = [f"T={int(max(1, min(20, p['timeout'])))}", _compact(_data("inside_probe.sh"), "#")]
    # every probe in the background, then wait: a run takes as long as the slowest one (each line is one write)
    for i, host in enumerate(p["hosts"]):
        lines.append(f"probe_dns {i} {q(host)} {q(dns)} &")
    for i, (url, _role) in enumerate(p["peers"]):
        try:
            href, host, port = http_url(url)
        except ValueError:
            continue  # reported as a bad URL by the parser
        lines.append(f"( probe_dns p{i} {q(host)} {q(dns)}; probe_peer {i} {q(href)} {q(host)} {port} ) &")
    lines.append("wait")
    lines.append("echo LOOMPROBE done")
    return "\n".join(lines) + "\n"


def shell_command(p: dict) -> str:
    return shlex.join(["sh", "-c", f"echo {_b64(shell_script(p))}|base64 -d|sh"])
