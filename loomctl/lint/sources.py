"""Read a file given to `loomctl lint` and say what it is: an ARM template, an app export, or loomctl's spec.

Every file problem is one line (exit 2): missing, a folder, not UTF-8, not JSON/YAML, empty, a `.bicep` file
(`az bicep build` first: the Bicep compiler is not a Python package), or a document that is none of the above.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loomctl.core.errors import FileError
from loomctl.lint.positions import Document, ParseError, parse_json, parse_yaml

HINT = "give an ARM template (.json), an `az containerapp show` export (.json/.yaml) or a spec (.toml)"


@dataclass
class Source:
    path: str  # as given (shown in findings and SARIF)
    kind: str  # "template", "app", "apps", "spec"
    doc: Document
    text: str


def read(path: str) -> Source:
    from loomctl.core.files import read_text

    if path.lower().endswith(".bicep"):
        raise FileError(f"{path} is Bicep: loomctl lints the ARM template Bicep compiles to",
                        f"run `az bicep build --file {path}` and lint the .json it writes")
    try:
        text = read_text(path, HINT)
    except UnicodeDecodeError:
        raise FileError(f"cannot read {path}: it is not UTF-8 text", HINT) from None
    if text is None:
        raise FileError(f"cannot read {path}: no such file", HINT)
    text = text.removeprefix("\ufeff")  # a byte order mark, as some Windows tools write
    if not text.strip():
        raise FileError(f"{path} is empty", HINT)
    suffix = Path(path).suffix.lower()
    if suffix == ".toml":
        return Source(path, "spec", spec_positions(text), text)
    doc = _parse(path, text, suffix)
    return Source(path, _kind(path, doc.value), doc, text)


def _parse(path: str, text: str, suffix: str) -> Document:
    first = text.lstrip()[:1]
    as_json = suffix == ".json" or (suffix not in (".yaml", ".yml") and first in "{[")
    try:
        return parse_json(text) if as_json else parse_yaml(text)
    except ParseError as exc:
        what = "JSON" if as_json else "YAML"
        raise FileError(f"{path}:{exc.line}:{exc.column}: not valid {what}: {exc}", HINT) from None
    except RecursionError:
        raise FileError(f"{path}: nested too deeply to read", HINT) from None


def _kind(path: str, value: Any) -> str:
    if isinstance(value, dict):
        if isinstance(value.get("resources"), list) or "deploymentTemplate" in str(value.get("$schema", "")):
            return "template"
        if "parameters" in value and "deploymentParameters" in str(value.get("$schema", "")):
            raise FileError(f"{path} is a parameters file, not a template", "give it with --parameters FILE")
        if isinstance(value.get("properties"), dict) and (
                "containerapps" in str(value.get("type", "")).lower() or
                {"template", "configuration"} & set(value["properties"])):
            return "app"
    if isinstance(value, list) and value and all(isinstance(v, dict) and isinstance(v.get("properties"), dict)
                                                 for v in value):
        return "apps"  # `az containerapp list -o json`
    raise FileError(f"{path} is neither an ARM template nor a container app definition",
                    "an ARM template has a 'resources' list; an app export has 'properties.template'")


def parameter_values(path: str) -> dict[str, Any]:
    """The values of an ARM parameters file ({"parameters": {"name": {"value": ...}}}); a Key Vault
    reference stays unresolved."""
    from loomctl.lint.expressions import Unresolved

    src_text = _read_plain(path)
    doc = _parse(path, src_text, Path(path).suffix.lower())
    value = doc.value
    params = value.get("parameters") if isinstance(value, dict) else None
    if not isinstance(params, dict):
        raise FileError(f"{path} is not a parameters file: it has no 'parameters' object",
                        'a parameters file is {"parameters": {"name": {"value": ...}}}')
    out: dict[str, Any] = {}
    for name, p in params.items():
        if isinstance(p, dict) and "value" in p:
            out[name] = p["value"]
        elif isinstance(p, dict) and "reference" in p:
            out[name] = Unresolved(f"[parameters('{name}')]", "a Key Vault reference of the parameters file")
        else:
            raise FileError(f"{path}: parameter '{name}' has no 'value'", 'write it as "name": {"value": ...}')
    return out


def _read_plain(path: str) -> str:
    from loomctl.core.files import read_text

    try:
        text = read_text(path, "give a parameters file (.json)")
    except UnicodeDecodeError:
        raise FileError(f"cannot read {path}: it is not UTF-8 text", "give a parameters file (.json)") from None
    if text is None:
        raise FileError(f"cannot read {path}: no such file", "give a parameters file (.json)")
    if not text.strip():
        raise FileError(f"{path} is empty", "give a parameters file (.json)")
    return text


def spec_positions(text: str) -> Document:
    """Where a spec's tables and keys are: [apps.NAME] -> ("apps", NAME), a key below it -> (..., table, key)."""
    import re

    positions: dict[Any, tuple[int, int]] = {(): (1, 1)}
    table: tuple[str, ...] = ()
    for n, line in enumerate(text.splitlines(), 1):
        head = re.match(r"\s*\[([^\]]+)\]", line)
        if head:
            table = tuple(p.strip().strip('"') for p in head.group(1).split("."))
            positions.setdefault(table, (n, line.index("[") + 1))
            continue
        key = re.match(r"\s*\"?([A-Za-z0-9_.-]+)\"?\s*=", line)
        if key and table:
            positions.setdefault((*table, key.group(1)), (n, line.index(key.group(1)) + 1))
    from loomctl.lint.positions import comment_ignores

    return Document(None, positions, comment_ignores(text))
