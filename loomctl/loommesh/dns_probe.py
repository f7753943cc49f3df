"""Resolve LoomMesh peer hosts with dnspython and tell NXDOMAIN, SERVFAIL, no answer and timeout apart.

Plain functions returning dataclasses, so that the same result renders the same wherever it was produced
(`where` says where: "local", or a replica when run inside the environment).
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass, field
from typing import Any

from loomctl.core.errors import UsageError


@dataclass
class DnsResult:
    host: str
    ok: bool
    status: str  # ok | literal | hosts-file | nxdomain | servfail | no-answer | timeout | error
    addresses: list[str] = field(default_factory=list)
    cname_chain: list[str] = field(default_factory=list)
    ttl: int | None = None
    duration_ms: float = 0.0
    server: str = "system"
    error: str | None = None
    hint: str | None = None
    expected: bool = False  # a failure that is expected where it ran (an internal name outside the environment)
    where: str = "local"


def parse_servers(values: list[str] | tuple[str, ...] | None) -> list[tuple[str, int]]:
    """`HOST[:PORT]` (or `[v6]:PORT`) as (address, port); a bad value is a usage error."""
    out: list[tuple[str, int]] = []
    for raw in values or []:
        for v in str(raw).split(","):
            v = v.strip()
            if not v:
                continue
            host, port = v, 53
            if v.startswith("["):
                host, _, rest = v[1:].partition("]")
                if rest.startswith(":"):
                    port = _port(rest[1:], v)
            elif v.count(":") == 1:
                host, p = v.split(":")
                port = _port(p, v)
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise UsageError(f"DNS server '{v}' is not an IP address",
                                 "give --dns-server as IP[:PORT], e.g. 10.0.0.10 or 127.0.0.1:5353") from None
            out.append((host, port))
    return out


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError(f"DNS server '{whole}' has a bad port", "give --dns-server as IP[:PORT], e.g. 127.0.0.1:5353")
    return int(text)


def is_internal(host: str) -> bool:
    return ".internal." in f".{host.lower()}."


def internal_hint(host: str) -> str:
    return (f"'{host}' is an environment-internal name: it resolves only inside the Container Apps environment's "
            "network, so this is expected from outside. Probe from inside instead: `loomctl diagnose dns "
            "--from-inside` (or `loomctl doctor --from-inside`) runs the lookup in a replica through exec; or run "
            "loomctl on a VM in the environment's VNet; by hand: `az containerapp exec -n <node-app> -g <group> "
            f"--command sh`, then `nslookup {host}`.")


def needs_dns(host: str, servers: list[tuple[str, int]] | None = None) -> bool:
    """False for an address literal, or a name in /etc/hosts when the system resolver is used."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return False
    except ValueError:
        return bool(servers) or not _hosts_file(host)


def _hosts_file(host: str, path: str = "/etc/hosts") -> list[str]:
    found: list[str] = []
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.split("#", 1)[0].split()
                if len(parts) >= 2 and host.lower() in (p.lower() for p in parts[1:]):
                    found.append(parts[0])
    except OSError:
        pass
    return found


def _resolver(servers: list[tuple[str, int]], timeout: float) -> Any:
    import dns.asyncresolver

    if servers:
        r = dns.asyncresolver.Resolver(configure=False)
        r.nameservers = [h for h, _ in servers]
        r.nameserver_ports = dict(servers)
        r.port = servers[0][1]
    else:
        try:
            r = dns.asyncresolver.Resolver()
        except Exception:  # noqa: BLE001 - no /etc/resolv.conf
            r = dns.asyncresolver.Resolver(configure=False)
            r.nameservers = ["127.0.0.53"]
    r.lifetime = timeout
    r.timeout = min(timeout, 2.0)
    r.retry_servfail = False
    return r


async def resolve(host: str, servers: list[tuple[str, int]] | None = None, timeout: float = 3.0,
                  where: str = "local") -> DnsResult:
    """Resolve one host (A, then AAAA when there is no A) and classify the outcome."""
    servers = servers or []
    label = ", ".join(f"{h}:{p}" if p != 53 else h for h, p in servers) or "system"
    start = time.perf_counter()
    ms = lambda: round((time.perf_counter() - start) * 1000, 1)  # noqa: E731
    try:
        ipaddress.ip_address(host.strip("[]"))
        return DnsResult(host, True, "literal", [host.strip("[]")], server="-", where=where)
    except ValueError:
        pass
    if not servers:
        local = _hosts_file(host)
        if local:
            return DnsResult(host, True, "hosts-file", local, duration_ms=ms(), server="/etc/hosts", where=where)
    import dns.exception
    import dns.rdatatype
    import dns.resolver

    r = _resolver(servers, timeout)
    result = DnsResult(host, False, "error", server=label, where=where)
    try:
        answer = None
        for rdtype in ("A", "AAAA"):
            try:
                answer = await r.resolve(host, rdtype, search=False)
                break
            except dns.resolver.NoAnswer:
                if rdtype == "AAAA":
                    raise
        assert answer is not None
        result.ok, result.status = True, "ok"
        result.addresses = [rd.to_text() for rd in answer]
        result.ttl = answer.rrset.ttl if answer.rrset is not None else None
        chain = [str(rrset.name).rstrip(".") for rrset in answer.response.answer
                 if rrset.rdtype == dns.rdatatype.CNAME]
        if chain:
            result.cname_chain = chain + [str(answer.canonical_name).rstrip(".")]
            result.ttl = min([rrset.ttl for rrset in answer.response.answer])
    except dns.resolver.NXDOMAIN:
        result.status, result.error = "nxdomain", f"{host} does not exist (NXDOMAIN from {label})"
        result.hint = "check the spelling and the environment's default domain (`loomctl status`)"
    except dns.resolver.NoAnswer:
        result.status, result.error = "no-answer", f"{host} exists but has no A or AAAA record"
        result.hint = "the name has other records only; point it (or its CNAME target) at an address"
    except dns.resolver.LifetimeTimeout:
        result.status, result.error = "timeout", f"no DNS answer within {timeout:g} s from {label}"
        result.hint = ("the DNS server does not answer: check --dns-server / LOOMCTL_DNS_SERVERS, a firewall on "
                       "UDP/TCP 53, or the VNet's DNS settings")
    except dns.resolver.NoNameservers as exc:
        servfail = "SERVFAIL" in str(exc)
        result.status = "servfail" if servfail else "error"
        result.error = f"{host}: {'SERVFAIL' if servfail else 'refused or failed'} from {label}"
        result.hint = ("the DNS server failed to resolve it (SERVFAIL): its upstream or the zone's servers are "
                       "broken, or DNSSEC validation failed; try another server with --dns-server")
    except dns.exception.DNSException as exc:
        result.status, result.error = "error", f"{host}: {type(exc).__name__}: {exc}"
        result.hint = "check the name and the DNS servers"
    result.duration_ms = ms()
    if not result.ok and result.status in ("nxdomain", "no-answer", "servfail", "timeout") and is_internal(host) \
            and where == "local":
        result.expected = result.status == "nxdomain"
        result.hint = internal_hint(host)
    return result


async def resolve_all(hosts: list[str], servers: list[tuple[str, int]] | None = None, timeout: float = 3.0,
                      where: str = "local") -> list[DnsResult]:
    """Every host concurrently (at most `probe_slots()` at once), in the order given (duplicates resolved once).
    Running out of file descriptors is one local error, not a failure of each host."""
    from loomctl.core.limits import fd_limit_error, is_fd_limit, probe_slots

    unique = list(dict.fromkeys(hosts))
    slots = asyncio.Semaphore(probe_slots())

    async def one(host: str) -> DnsResult:
        async with slots:
            return await resolve(host, servers, timeout, where)

    results = await asyncio.gather(*(one(h) for h in unique), return_exceptions=True)
    limited = [r for r in results if isinstance(r, BaseException) and is_fd_limit(r)]
    if limited:
        raise fd_limit_error(limited[0], f"{len(limited)} of {len(unique)} DNS lookups could not open a socket")
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return list(results)  # type: ignore[arg-type]
