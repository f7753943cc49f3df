"""`loomctl diagnose sync --across A,B`: a write through one deployment's relay, timed until it arrives through
the other's, on two local meshes (real GUN relays); two unpeered meshes never sync, and that is the finding."""

from __future__ import annotations

from typing import Any


def _profiles(tmp_path: Any, east: str, west: str) -> None:
    (tmp_path / "config.toml").write_text(
        f'[profiles.east]\nazure = false\npeers = ["{east}"]\n\n[profiles.west]\nazure = false\npeers = ["{west}"]\n')


def test_sync_across_two_peered_meshes_is_within_the_rpo(relays, loomctl, tmp_path):
    from tests.gunrelay import wait_peered

    east = relays.start()
    west = relays.start(peers=[east])  # the reference's multi-region link: one region's relay dials the other's
    wait_peered(west)
    _profiles(tmp_path, east.url, west.url)
    run = loomctl("diagnose", "sync", "--across", "east,west", "--samples", "3", "-o", "json")
    assert run.exit_code == 0, run.stdout + run.stderr
    doc = run.json()
    assert doc["urls"] == {"east": east.url, "west": west.url}
    assert doc["rpo_s"] == 60.0 and doc["ok"] is True
    legs = {(leg["writer"], leg["reader"]): leg for leg in doc["legs"]}
    assert set(legs) == {("east", "west"), ("west", "east")}
    for leg in legs.values():
        assert (leg["ok"], leg["received"], leg["samples"], leg["error"]) == (True, 3, 3, None)
        assert 0 <= leg["median_ms"] <= leg["max_ms"]
    table = loomctl("diagnose", "sync", "--across", "east,west", "-o", "table")
    assert any(line.startswith("✓ east → west: median ") and line.endswith("(3/3 arrived); within the RPO of 60 s")
               for line in table.stdout.splitlines())


def test_two_meshes_that_are_not_peered_never_sync(relays, loomctl, tmp_path):
    east, west = relays.start(), relays.start()
    _profiles(tmp_path, east.url, west.url)
    run = loomctl("diagnose", "sync", "--across", "east,west", "--samples", "1", "--timeout", "1", "-o", "json")
    assert run.exit_code == 1
    doc = run.json()
    assert doc["ok"] is False
    assert [(leg["writer"], leg["ok"], leg["received"]) for leg in doc["legs"]] == [("east", False, 0),
                                                                                   ("west", False, 0)]
    assert "the relays are not peered" in doc["legs"][0]["hint"]


def test_across_needs_two_profiles(loomctl, tmp_path):
    run = loomctl("diagnose", "sync", "--across", "east")
    assert run.exit_code == 2
    assert run.stderr.splitlines()[0] == "error: --across 'east' must name two different profiles"
    unknown = loomctl("diagnose", "sync", "--across", "east,west")
    assert unknown.exit_code == 2
    assert unknown.stderr.splitlines()[0].startswith("error: profile 'east' is not in")
