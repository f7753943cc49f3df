"""Turn the in-replica probe's `LOOMPROBE` lines into the same DnsResult / PeerResult the outside probes give."""

from __future__ import annotations

import json
from typing import Any

from loomctl.inside.results import STAGES, DnsResult, InsideRun, PeerResult, Stage
from loomctl.inside.script import http_url
from loomctl.loommesh.peer_probe import who

DNS_HINTS = {
    "nxdomain": ("the name does not exist even inside the environment: check the spelling, the environment's "
                 "default domain (`loomctl status`) and that the target app exists with ingress enabled"),
    "no-answer": "the name exists inside the environment but has no address record",
    "servfail": "the environment's DNS failed to resolve it (SERVFAIL); retry, and check custom VNet DNS servers",
    "timeout": ("the environment's DNS did not answer in time: check custom DNS servers on the VNet and that "
                "they forward the environment's private zone"),
    "error": "resolution failed inside the replica; check the name and the VNet's DNS settings",
}

STAGE_HINTS = {
    "tcp-refused": ("nothing listens on {host}:{port} inside the environment: {who} is not running, or this is "
                    "not the port its ingress exposes (HTTP ingress: 80/443; TCP ingress: exposedPort)"),
    "tcp": "the replica cannot reach {host}:{port}: check the relay's ingress, network policies and the port",
    "websocket": ("the upgrade on the peer path failed: a GUN relay accepts WebSockets on /gun; check the path, "
                  "the ingress transport (http/auto) and the relay's logs"),
    "ws-400": "HTTP 400 on the upgrade: a GUN relay accepts WebSockets only on the path /gun; fix the peer URL",
    "ws-redirect": ("the upgrade was redirected: HTTP ingress with allowInsecure=false redirects port 80 to HTTPS; "
                    "use https:// (wss) or allow insecure connections on the relay's ingress"),
    "ws-5xx": "HTTP {status} from the ingress: no healthy relay replica answered behind it; check its replicas",
    "ws-404": "HTTP 404: nothing serves this host or path inside the environment; check the host and the path /gun",
    "hello": "the WebSocket opened but no GUN hello came: this is not a GUN relay, or its mesh layer is stuck",
    "ping": "{who} sent its hello but did not answer the ping: its event loop is blocked or overloaded",
    "read": "{who} answers pings but not a read: its storage (radisk on Azure Files) may be stuck",
    "timeout": "the {stage} stage did not finish in time inside the replica; see the stage's hint",
}


def dns_error(host: str, status: str, server: str, timeout: float | None = None) -> str:
    """The outside probe's wording for each outcome, so inside and outside read alike."""
    if status == "nxdomain":
        return f"{host} does not exist (NXDOMAIN from {server})"
    if status == "no-answer":
        return f"{host} exists but has no A or AAAA record"
    if status == "servfail":
        return f"{host}: SERVFAIL from {server}"
    if status == "timeout":
        return f"no DNS answer{f' within {timeout:g} s' if timeout else ''} from {server}"
    return f"{host}: resolution failed ({server})"


def _stage_hint(stage: str, error: str | None, details: dict[str, Any], host: str, port: int,
                role: str = "peer") -> str:
    status = details.get("http_status")
    if stage == "dns":
        return DNS_HINTS.get(str(details.get("status") or "error"), DNS_HINTS["error"])
    if "timed out" in (error or ""):
        return STAGE_HINTS["timeout"].format(stage=stage)
    if stage == "tcp":
        key = "tcp-refused" if "refused" in (error or "") else "tcp"
        return STAGE_HINTS[key].format(host=host, port=port, who=who(role))
    if stage == "websocket" and status:
        if status == 400:
            return STAGE_HINTS["ws-400"]
        if status in (301, 302, 307, 308):
            return STAGE_HINTS["ws-redirect"]
        if status in (502, 503, 504):
            return STAGE_HINTS["ws-5xx"].format(status=status)
        if status == 404:
            return STAGE_HINTS["ws-404"]
    return STAGE_HINTS.get(stage, "see {who}'s console logs").format(who=who(role))


def _lines(stdout: str) -> list[str]:
    return [line[len("LOOMPROBE "):].strip() for line in stdout.splitlines() if line.startswith("LOOMPROBE ")]


def parse_node(stdout: str, where: str, peers: list[tuple[str, str]], hosts: list[str]) -> InsideRun:
    run = InsideRun(where, "node", ["node"])
    for raw in _lines(stdout):
        try:
            doc = json.loads(raw)
        except ValueError:
            continue
        kind = doc.get("kind")
        if kind == "tools":
            run.note = f"node {doc.get('version', '')}".strip()
        elif kind == "dns":
            res = DnsResult(doc["host"], bool(doc["ok"]), doc["status"], list(doc.get("addresses") or []),
                            duration_ms=float(doc.get("duration_ms") or 0), server=doc.get("server") or "system",
                            error=doc.get("error"), where=where)
            if not res.ok:
                if res.status != "error":
                    res.error = dns_error(res.host, res.status, res.server)
                res.hint = DNS_HINTS.get(res.status, DNS_HINTS["error"])
            run.dns.append(res)
        elif kind == "peer":
            stages = []
            for s in doc.get("stages") or []:
                details = dict(s.get("details") or {})
                hint = None if s.get("ok") else _stage_hint(s["name"], s.get("error"), details, doc.get("host", ""),
                                                            int(doc.get("port") or 0), str(doc.get("role") or "peer"))
                stages.append(Stage(s["name"], bool(s["ok"]), float(s.get("duration_ms") or 0), s.get("error"),
                                    hint, details))
            failed = next((s for s in stages if not s.ok), None)
            run.peers.append(PeerResult(doc["url"], doc.get("role") or "peer", doc.get("host") or "",
                                        int(doc.get("port") or 0), bool(doc.get("ok")), doc.get("failed_stage"),
                                        doc.get("error"), failed.hint if failed else None, doc.get("pid"),
                                        doc.get("rtt_ms"), float(doc.get("duration_ms") or 0), stages, where))
    _order(run, peers, hosts)
    return run


def _order(run: InsideRun, peers: list[tuple[str, str]], hosts: list[str]) -> None:
    """Results in the order asked (the probe prints them as they finish)."""
    rank = {h: i for i, h in enumerate(hosts)}
    run.dns.sort(key=lambda r: rank.get(r.host, len(rank)))
    prank = {(u, r): i for i, (u, r) in enumerate(peers)}
    run.peers.sort(key=lambda p: prank.get((p.url, p.role), len(prank)))


def _shell_dns(fields: list[str], host: str, where: str, dns_server: str | None) -> DnsResult:
    tool = fields[0]
    server = f"{dns_server} ({tool})" if dns_server and tool == "nslookup" else f"system ({tool})"
    if tool == "none":
        return DnsResult(host, False, "error", server="-", error="no DNS tool (getent, nslookup) in the image",
                         hint="the replica has neither getent nor nslookup; the peer stages below still resolve "
                              "through curl/wget", where=where)
    rc = int(fields[1]) if len(fields) > 1 and fields[1].lstrip("-").isdigit() else 1
    if tool == "getent":
        addrs = fields[2:]
        if rc == 0 and addrs:
            return DnsResult(host, True, "ok", addrs, server=server, where=where)
        status = "nxdomain" if rc == 2 else "error"
        return DnsResult(host, False, status, server=server,
                         error=dns_error(host, status, server) if rc == 2 else f"{host}: getent exit status {rc}",
                         hint=DNS_HINTS[status], where=where)
    kind = fields[2] if len(fields) > 2 else "other"
    addrs = fields[3:]
    if addrs and kind != "nxdomain":
        return DnsResult(host, True, "ok", addrs, server=server, where=where)
    status = kind if kind in ("nxdomain", "servfail", "timeout") else ("no-answer" if rc == 0 else "error")
    return DnsResult(host, False, status, server=server, error=dns_error(host, status, server),
                     hint=DNS_HINTS[status], where=where)


def _shell_peer(fields: list[str], url: str, role: str, dns: DnsResult | None, where: str) -> PeerResult:
    try:
        _href, host, port = http_url(url)
    except ValueError as exc:
        st = Stage("dns", False, 0.0, str(exc), "write peers as http://HOST[:PORT]/gun (or ws://, https://, wss://)")
        return PeerResult(url, role, ok=False, failed_stage="dns", error=str(exc), hint=st.hint, stages=[st],
                          where=where)
    res = PeerResult(url, role, host, port, where=where)
    tool = fields[0] if fields else "none"

    def add(name: str, ok: bool, error: str | None = None, **details: Any) -> bool:
        details["tool"] = tool
        hint = None if ok else _stage_hint(name, error, details, host, port, role)
        res.stages.append(Stage(name, ok, 0.0, error, hint, details))
        if not ok:
            res.failed_stage, res.error, res.hint = name, error, hint
        return ok

    if dns is not None and dns.server != "-":  # "-": the image had no DNS tool; curl/wget resolve below
        if not add("dns", dns.ok, dns.error, addresses=dns.addresses, status=dns.status):
            return res
    nums = [int(f) if f.lstrip("-").isdigit() else 0 for f in fields[1:]]
    if tool == "curl":
        rc, status, hello = nums[0], nums[1], nums[3] if len(nums) > 3 else 0
        connect = float(fields[3]) if len(fields) > 3 and fields[3].replace(".", "", 1).isdigit() else 0.0
        if rc == 6:
            add("dns", False, f"{host}: could not resolve (curl)", status="nxdomain")
            return res
        if not res.stages:
            add("dns", True, status="ok")
        if rc == 7:
            add("tcp", False, f"connection refused or unreachable: {host}:{port} (curl)")
            return res
        if rc == 28 and connect == 0.0 and status == 0:
            add("tcp", False, f"timed out connecting to {host}:{port} (curl)")
            return res
        add("tcp", True, connect_s=connect)
        if status != 101:
            err = (
                f"upgrade rejected with HTTP {status}" if status else f"no HTTP answer to the upgrade (curl exit {rc})"
            )
            add("websocket", False, err, http_status=status or None)
            return res
        add("websocket", True, status=101)
        if not add("hello", bool(hello), None if hello else "no GUN hello in the first bytes after the upgrade"):
            return res
    elif tool == "wget":
        rc, status, connected, refused = (nums + [0, 0, 0, 0])[:4]
        if rc == 4 and not connected:
            if not res.stages:
                add("dns", True, status="ok")
            add("tcp", False, f"{'connection refused' if refused else 'network failure'}: {host}:{port} (wget)")
            return res
        if not res.stages:
            add("dns", True, status="ok")
        add("tcp", True)
        if status and status != 101:
            add("websocket", False, f"upgrade rejected with HTTP {status}", http_status=status)
            return res
        if status == 101:
            add("websocket", True, status=101)
    elif tool == "nc":
        if not res.stages:
            add("dns", True, status="ok")
        if not add("tcp", nums[0] == 0, None if nums[0] == 0 else f"cannot connect to {host}:{port} (nc)"):
            return res
    else:
        add("tcp", False, "no tool to open a connection (curl, wget, nc) in the image")
        return res
    done = [s.name for s in res.stages]
    res.ok = res.failed_stage is None
    missing = [s for s in STAGES if s not in done]
    if res.ok and missing:
        res.hint = (f"checked with {tool}: {', '.join(done)}; {', '.join(missing)} need node in the image "
                    "(the LoomMesh wire stages)")
    return res


def parse_shell(stdout: str, where: str, peers: list[tuple[str, str]], hosts: list[str],
                dns_server: str | None) -> InsideRun:
    run = InsideRun(where, None)
    peer_dns: dict[int, DnsResult] = {}
    peer_fields: dict[int, list[str]] = {}
    for raw in _lines(stdout):
        parts = raw.split()
        if not parts:
            continue
        if parts[0] == "tools":
            run.tools = [t for t in parts[1:] if t != "sh"]
        elif parts[0] == "dns" and len(parts) >= 3:
            idx = parts[1]
            if idx.startswith("p") and idx[1:].isdigit():
                i = int(idx[1:])
                if i < len(peers):
                    peer_dns[i] = _shell_dns(parts[2:], http_url(peers[i][0])[1], where, dns_server)
            elif idx.isdigit() and int(idx) < len(hosts):
                run.dns.append(_shell_dns(parts[2:], hosts[int(idx)], where, dns_server))
        elif parts[0] == "peer" and len(parts) >= 3 and parts[1].isdigit():
            peer_fields[int(parts[1])] = parts[2:]
    for i, (url, role) in enumerate(peers):
        run.peers.append(_shell_peer(peer_fields.get(i, ["none"]), url, role, peer_dns.get(i), where))
    net = [t for t in ("curl", "wget", "nc") if t in run.tools]
    dnst = [t for t in ("getent", "nslookup") if t in run.tools]
    run.tool = "+".join(([dnst[0]] if dnst else []) + ([net[0]] if net and peers else [])) or None
    run.missing_tools = not (net or dnst)
    _order(run, peers, hosts)
    return run
