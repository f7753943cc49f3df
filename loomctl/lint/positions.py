"""Parse JSON and YAML keeping where each value is: every value's path -> (line, column), 1-based.

A path is a tuple of keys and list indexes, e.g. ("resources", 0, "properties", "configuration"). For a member
of an object the position is its key's; for a list item, the item's. YAML comments of the form
`# loomctl:ignore LOOM211 LOOM212` are collected with their line (`Document.ignores`).
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from typing import Any

Path = tuple[Any, ...]
Position = tuple[int, int]

IGNORE_COMMENT = re.compile(r"(?:#|//|/\*)\s*loomctl:ignore\b[ \t:=]*([A-Za-z0-9_, \t]*)")


class ParseError(ValueError):
    """The text is not valid JSON/YAML; `line` and `column` say where (1-based)."""

    def __init__(self, message: str, line: int, column: int):
        super().__init__(message)
        self.line, self.column = line, column


@dataclass
class Document:
    value: Any
    positions: dict[Path, Position] = field(default_factory=dict)
    ignores: dict[int, set[str]] = field(default_factory=dict)  # comment line -> codes it ignores

    def position(self, path: Path) -> Position:
        """The position of `path`, or of its deepest ancestor the document has (for a list item that has a
        name, the name's: the line that says which item it is)."""
        for n in range(len(path), -1, -1):
            pos = self.positions.get(tuple(path[:n]))
            if pos is not None:
                if n < len(path) and (n == 0 or isinstance(path[n - 1], int)):
                    return self.positions.get((*path[:n], "name"), pos)
                return pos
        return (1, 1)


# -- JSON -------------------------------------------------------------------------------------------------------
# ARM templates may hold // and /* */ comments (Azure CLI and Resource Manager accept them): group 6
_TOKEN = re.compile(r'[ \t\r\n]*(?:(//[^\n]*|/\*[\s\S]*?\*/)|([{}\[\],:])|("(?:[^"\\\x00-\x1f]|\\.)*")|'
                    r'(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)|(true|false|null)|(\S))')
_LITERALS = {"true": True, "false": False, "null": None}


class _Json:
    def __init__(self, text: str):
        self.text = text
        self.lines = [m.end() for m in re.finditer("\n", text)]
        self.tokens: list[tuple[str, int, int]] = []
        self.comments: list[tuple[int, str]] = []  # offset, text
        for m in _TOKEN.finditer(text):
            kind = m.lastindex
            if kind == 1:
                self.comments.append((m.start(1), m.group(1)))
            elif kind:
                self.tokens.append((m.group(kind), m.start(kind), kind - 1))  # 1 punctuation ... 5 other
        self.i = 0
        self.positions: dict[Path, Position] = {}

    def where(self, offset: int) -> Position:
        line = bisect.bisect_right(self.lines, offset)
        start = self.lines[line - 1] if line else 0
        return line + 1, offset - start + 1

    def fail(self, message: str, offset: int | None = None) -> ParseError:
        if offset is None:
            offset = self.tokens[self.i][1] if self.i < len(self.tokens) else len(self.text.rstrip())
        line, col = self.where(offset)
        return ParseError(message, line, col)

    def next(self) -> tuple[str, int, int]:
        if self.i >= len(self.tokens):
            raise self.fail("unexpected end of the file")
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def value(self, path: Path) -> Any:
        tok, off, kind = self.next()
        if kind == 5:
            raise self.fail(f"unexpected character {tok!r}", off)
        if kind == 2:
            return tok[1:-1] if "\\" not in tok else json.loads(tok)
        if kind == 3:
            return int(tok) if tok.lstrip("-").isdigit() else float(tok)
        if kind == 4:
            return _LITERALS[tok]
        if tok == "{":
            return self.obj(path)
        if tok == "[":
            return self.arr(path)
        raise self.fail(f"unexpected {tok!r}", off)

    def obj(self, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.i < len(self.tokens) and self.tokens[self.i][0] == "}":
            self.i += 1
            return out
        while True:
            tok, off, kind = self.next()
            if kind != 2:
                raise self.fail("expected a quoted property name", off)
            key = tok[1:-1] if "\\" not in tok else json.loads(tok)
            if self.next()[0] != ":":
                raise self.fail(f"expected ':' after {tok}", self.tokens[self.i - 1][1])
            self.positions[(*path, key)] = self.where(off)
            out[key] = self.value((*path, key))
            sep, off, _ = self.next()
            if sep == "}":
                return out
            if sep != ",":
                raise self.fail("expected ',' or '}'", off)

    def arr(self, path: Path) -> list[Any]:
        out: list[Any] = []
        if self.i < len(self.tokens) and self.tokens[self.i][0] == "]":
            self.i += 1
            return out
        while True:
            if self.i < len(self.tokens):
                self.positions[(*path, len(out))] = self.where(self.tokens[self.i][1])
            out.append(self.value((*path, len(out))))
            sep, off, _ = self.next()
            if sep == "]":
                return out
            if sep != ",":
                raise self.fail("expected ',' or ']'", off)


def parse_json(text: str) -> Document:
    """JSON as ARM templates have it: comments (// and /* */) allowed; `// loomctl:ignore CODE` collected."""
    p = _Json(text)
    p.positions[()] = (1, 1)
    value = p.value(())
    if p.i < len(p.tokens):
        raise p.fail("unexpected text after the JSON value")
    ignores: dict[int, set[str]] = {}
    for offset, comment in p.comments:
        m = IGNORE_COMMENT.search(comment)
        if m:
            ignores[p.where(offset)[0]] = {c.upper() for c in re.split(r"[\s,*/]+", m.group(1)) if c}
    return Document(value, p.positions, ignores)


# -- YAML -------------------------------------------------------------------------------------------------------
def _yaml_value(node: Any, path: Path, positions: dict[Path, Position], loader: Any) -> Any:
    import yaml

    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for k, v in node.value:
            key = _yaml_value(k, (), {}, loader)
            if isinstance(key, (dict, list)):
                raise ParseError("a mapping key must be a scalar", k.start_mark.line + 1, k.start_mark.column + 1)
            positions[(*path, key)] = (k.start_mark.line + 1, k.start_mark.column + 1)
            out[key] = _yaml_value(v, (*path, key), positions, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, v in enumerate(node.value):
            positions[(*path, i)] = (v.start_mark.line + 1, v.start_mark.column + 1)
            items.append(_yaml_value(v, (*path, i), positions, loader))
        return items
    return loader.construct_object(node, deep=True)  # one scalar, resolved as safe_load would (int, bool, null)


def parse_yaml(text: str) -> Document:
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ParseError(str(problem), mark.line + 1 if mark else 1, mark.column + 1 if mark else 1) from None
    positions: dict[Path, Position] = {(): (1, 1)}
    value = None if node is None else _yaml_value(node, (), positions, yaml.SafeLoader(""))
    return Document(value, positions, comment_ignores(text))


def comment_ignores(text: str) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    if "loomctl:ignore" not in text:
        return out
    for n, line in enumerate(text.splitlines(), 1):
        m = IGNORE_COMMENT.search(line)
        if m:
            out[n] = {c.upper() for c in re.split(r"[\s,]+", m.group(1)) if c}
    return out
