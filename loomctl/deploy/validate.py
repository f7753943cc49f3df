"""Image references and revision suffixes, checked before any request is sent."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from loomctl.core.errors import UsageError

# distribution/reference grammar (the one Docker and ACR use)
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?"
_NAME = rf"(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(rf"^{_NAME}(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$")

# Container Apps: lower case letters, digits and '-', starting with a letter, ending with a letter or digit,
# no '--' (it separates the app name from the suffix); the revision name <app>--<suffix> is at most 64 long.
_SUFFIX = re.compile(r"^[a-z](?:[a-z0-9-]*[a-z0-9])?$")
MAX_REVISION_NAME = 64


@dataclass(frozen=True)
class ImageRef:
    text: str
    registry: str | None
    repository: str
    tag: str | None
    digest: str | None


def parse_image(text: str) -> ImageRef:
    """The image reference, or a UsageError saying what is wrong with it."""
    value = (text or "").strip()
    if not value:
        raise UsageError("the image reference is empty", "give --image REGISTRY/REPOSITORY:TAG, "
                         "e.g. --image myacr.azurecr.io/loom:1234")
    if any(c.isspace() for c in value):
        raise UsageError(f"image reference '{text}' contains white space",
                         "give one reference such as myacr.azurecr.io/loom:1234")
    m = _REFERENCE.match(value)
    if not m:
        why = ""
        path = value.split("@")[0].rsplit(":", 1)[0] if value.count(":") else value
        if path != path.lower() and "/" in path and path.split("/", 1)[1] != path.split("/", 1)[1].lower():
            why = " (repository names must be lower case)"
        elif value.endswith(":") or ":@" in value:
            why = " (empty tag)"
        elif "@" in value:
            why = " (a digest is ALGORITHM:HEX, e.g. sha256:<64 hex digits>)"
        raise UsageError(f"'{text}' is not a valid image reference{why}",
                         "use REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST], e.g. myacr.azurecr.io/loom:1234")
    domain, path = m.group("domain"), m.group("path")
    if domain and "." not in domain and ":" not in domain and domain != "localhost":
        # "loom/node:1" is repository "loom/node" on Docker Hub, not a registry called "loom"
        path, domain = f"{domain}/{path}", None
    if len(value.split("@")[0].rsplit(":", 1)[0] if m.group("tag") else value.split("@")[0]) > 255:
        raise UsageError("the image name is longer than 255 characters", "shorten the repository path")
    return ImageRef(value, domain, path, m.group("tag"), m.group("digest"))


def check_suffix(suffix: str, app: str) -> str:
    """A revision suffix as Container Apps accepts it, or a UsageError."""
    s = suffix or ""
    if not _SUFFIX.match(s) or "--" in s:
        problems = []
        if not s:
            problems.append("it is empty")
        else:
            if not s[0].isalpha() or not s[0].islower():
                problems.append("it must start with a lower-case letter")
            if re.search(r"[^a-z0-9-]", s):
                problems.append("only lower-case letters, digits and '-' are allowed")
            if s.endswith("-"):
                problems.append("it must end with a letter or digit")
            if "--" in s:
                problems.append("'--' is not allowed (it separates app and suffix)")
        raise UsageError(f"revision suffix '{suffix}' is not valid: {'; '.join(problems) or 'bad characters'}",
                         f"e.g. --revision-suffix {derive_suffix_from(s) or 'v1234'}")
    if len(app) + 2 + len(s) > MAX_REVISION_NAME:
        raise UsageError(f"revision name '{app}--{s}' is longer than {MAX_REVISION_NAME} characters",
                         f"use a suffix of at most {MAX_REVISION_NAME - len(app) - 2} characters")
    return s


def derive_suffix_from(text: str) -> str:
    s = re.sub(r"[^a-z0-9-]+", "-", (text or "").lower())
    s = re.sub(r"-{2,}", "-", s).strip("-")
    if s and not s[0].isalpha():
        s = "v" + s
    return s


def default_suffix(image: ImageRef, app: str, taken: set[str], now: float | None = None) -> str:
    """From the tag (1234 -> v1234, 1.4.3 -> v1-4-3), else from the time; made unique among `taken` names."""
    base = derive_suffix_from(image.tag) if image.tag and image.tag != "latest" else ""
    if not base:
        base = time.strftime("r%Y%m%d-%H%M%S", time.gmtime(now))
    room = MAX_REVISION_NAME - len(app) - 2
    candidate = base[:room].rstrip("-")
    n = 2
    while f"{app}--{candidate}" in taken:
        tail = f"-{n}"
        candidate = base[:room - len(tail)].rstrip("-") + tail
        n += 1
    return candidate
