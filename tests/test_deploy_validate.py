"""Image references and revision suffixes (pure functions, no server)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loomctl.core.errors import UsageError
from loomctl.deploy.validate import check_suffix, default_suffix, parse_image


@pytest.mark.parametrize("ref,registry,repo,tag,digest", [
    ("myacr.azurecr.io/loom:1234", "myacr.azurecr.io", "loom", "1234", None),
    ("localhost:5000/team/loom:v1.2", "localhost:5000", "team/loom", "v1.2", None),
    ("loom/node:1", None, "loom/node", "1", None),
    ("busybox", None, "busybox", None, None),
    ("myacr.azurecr.io/loom@sha256:" + "a" * 64, "myacr.azurecr.io", "loom", None, "sha256:" + "a" * 64),
    ("myacr.azurecr.io/loom:1.4.2@sha256:" + "b" * 64, "myacr.azurecr.io", "loom", "1.4.2", "sha256:" + "b" * 64),
])
def test_valid_references(ref, registry, repo, tag, digest):
    r = parse_image(ref)
    assert (r.registry, r.repository, r.tag, r.digest) == (registry, repo, tag, digest)


@pytest.mark.parametrize("ref", ["myacr.azurecr.io/loom:", "http://myacr.azurecr.io/loom:1", "loom:tag with space",
                                 "myacr.azurecr.io/-loom:1", "myacr.azurecr.io/loom:" + "x" * 129, ":1234"])
def test_invalid_references(ref):
    with pytest.raises(UsageError) as e:
        parse_image(ref)
    assert e.value.hint


@pytest.mark.parametrize("tag,suffix", [("1234", "v1234"), ("1.4.3", "v1-4-3"), ("Release_7", "release-7"),
                                        ("latest", None), (None, None)])
def test_suffix_from_tag(tag, suffix):
    ref = parse_image("myacr.azurecr.io/loom" + (f":{tag}" if tag else ""))
    got = default_suffix(ref, "loom-node", set(), now=0)
    assert got == (suffix or "r19700101-000000")


@settings(max_examples=100, deadline=None)
@given(tag=st.from_regex(r"[\w][\w.-]{0,127}", fullmatch=True),
       app=st.from_regex(r"[a-z][a-z0-9-]{0,30}[a-z0-9]", fullmatch=True),
       taken=st.sets(st.integers(min_value=2, max_value=5)))
def test_derived_suffix_is_always_accepted_and_unique(tag, app, taken):
    ref = parse_image(f"myacr.azurecr.io/loom:{tag}")
    first = default_suffix(ref, app, set(), now=0)
    names = {f"{app}--{first}"} | {f"{app}--{first[:40]}-{n}" for n in taken}
    s = default_suffix(ref, app, names, now=0)
    assert check_suffix(s, app) == s
    assert f"{app}--{s}" not in names
