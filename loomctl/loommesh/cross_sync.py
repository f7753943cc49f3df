"""Cross-deployment sync (`loomctl diagnose sync --across A,B`): a probe written through one deployment's relay,
timed until it arrives through the other's, both ways, against the reference's "RPO < 1 minute".

It is the write probe (`write_probe.py`: only under `loomctl/probe/<run id>`, the reader subscribed first) on one
relay URL per deployment, its pairs named by deployment."""

from __future__ import annotations

from dataclasses import dataclass, field

from loomctl.loommesh.discovery import PeerList

RPO_S = 60.0  # the reference architecture's multi-region setup: "RPO < 1 minute"


@dataclass
class SyncLeg:
    writer: str  # deployment (profile) written through
    reader: str  # deployment read through
    writer_url: str
    reader_url: str
    ok: bool  # every write arrived, within the RPO
    received: int
    samples: int
    median_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    error: str | None = None
    hint: str | None = None


@dataclass
class CrossSync:
    across: list[str]
    urls: dict[str, str]
    rpo_s: float
    ok: bool
    run_id: str
    legs: list[SyncLeg] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # deployment -> why its relay could not be reached


def relay_url(peers: PeerList) -> str | None:
    """The deployment's relay (the peer other regions dial), else its first peer."""
    relays = [p.url for p in peers.peers if p.role == "relay"]
    return relays[0] if relays else (peers.peers[0].url if peers.peers else None)


async def measure(urls: dict[str, str], samples: int = 3, timeout: float = RPO_S) -> CrossSync:
    """Write through each deployment's relay and time the arrival through the other's (`timeout`: how long a write
    may take to arrive; a lag beyond the RPO fails even when it arrives)."""
    from loomctl.loommesh.write_probe import write_probe

    names = {url: name for name, url in urls.items()}
    probe = await write_probe(list(urls.values()), samples=samples, timeout=timeout)
    out = CrossSync(list(urls), dict(urls), RPO_S, False, probe.run_id,
                    errors={names.get(u, u): e for u, e in probe.errors.items()})
    for pair in probe.pairs:
        late = pair.max_ms is not None and pair.max_ms > RPO_S * 1000
        error, hint = pair.error, pair.hint
        if late and not error:
            error = f"a write took {pair.max_ms / 1000:.1f} s to arrive: more than the RPO of {RPO_S:g} s"
            hint = "the regions' relays sync too slowly: look at the link between them (`loomctl diagnose peers`)"
        out.legs.append(SyncLeg(names.get(pair.writer, pair.writer), names.get(pair.reader, pair.reader),
                                pair.writer, pair.reader, pair.ok and not late, pair.received, pair.samples,
                                pair.median_ms, pair.p95_ms, pair.max_ms, error, hint))
    out.ok = bool(out.legs) and all(leg.ok for leg in out.legs) and not out.errors
    return out
