"""ARM template expressions ("[concat(parameters('a'), 'b')]") evaluated offline.

Only functions whose result is known without Azure are evaluated: parameters, variables, concat, format,
toLower, toUpper, string, int, bool, json, if, equals, not, and, or, empty, length, contains, replace, coalesce,
createArray, createObject, true, false, null, resourceId (its shape, with `{subscription}` and `{resourceGroup}`
where the template does not give them). Anything else (reference, resourceGroup, subscription, uniqueString,
listKeys, utcNow, ...) is `Unresolved`: the value is "not judged", never guessed. One exception is known
offline: `reference(<an environment of this template>).defaultDomain` becomes the symbol
`{<environment>.defaultDomain}`, which the environment's own definition carries too, so that a peer URL is
judged against the relay of the same template.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*')|(-?\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|([().,\[\]]))")


@dataclass(frozen=True)
class Unresolved:
    """A value the template computes at deployment time; `expression` is the template's text."""

    expression: str
    why: str = ""


@dataclass(frozen=True)
class Reference:
    """`reference(id)`: the runtime state of a resource; only an environment's defaultDomain is known."""

    target: str


def domain_symbol(environment: str) -> str:
    return "{" + environment + ".defaultDomain}"


class ExpressionError(ValueError):
    pass


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("[") and value.endswith("]") and not value.startswith("[[")


def literal(value: str) -> str:
    """A string that starts with "[[" is the literal text with one "[" less."""
    return value[1:] if value.startswith("[[") else value


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"unexpected character {text[pos]!r} at {pos + 1}")
        kind = "str" if m.group(1) else "num" if m.group(2) else "name" if m.group(3) else "punct"
        out.append((kind, m.group(m.lastindex or 0)))
        pos = m.end()
    return out


class Evaluator:
    """Evaluate expressions against the template's parameters and variables."""

    def __init__(self, parameters: dict[str, Any], variables: dict[str, Any],
                 environments: Callable[[str], str | None] = lambda _id: None):
        self.parameters = parameters  # name -> value (Unresolved when neither default nor parameters file gives it)
        self.raw_variables = variables
        self.variables: dict[str, Any] = {}
        self.environments = environments  # resource id -> environment name, for reference(...).defaultDomain
        self._busy: set[str] = set()

    # -- values ---------------------------------------------------------------------------------------------------
    def value(self, v: Any) -> Any:
        """A template value with every expression in it evaluated (recursively)."""
        if isinstance(v, str):
            if is_expression(v):
                return self.expression(v)
            return literal(v)
        if isinstance(v, dict):  # a property name may be an expression too (userAssignedIdentities)
            return {self._key(k): self.value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x) for x in v]
        return v

    def _key(self, key: str) -> str:
        if not is_expression(key):
            return literal(key)
        value = self.expression(key)
        return value if isinstance(value, str) else key

    def expression(self, text: str) -> Any:
        try:
            toks = _tokens(text[1:-1])
            self.toks, self.i = toks, 0
            result = self._expr()
            if self.i != len(toks):
                raise ExpressionError(f"unexpected '{toks[self.i][1]}'")
        except ExpressionError as exc:
            return Unresolved(text, f"not an expression loomctl reads: {exc}")
        if isinstance(result, Unresolved):
            return Unresolved(text, result.why)
        if isinstance(result, Reference):
            return Unresolved(text, "reference() is the deployed resource's state")
        return result

    # -- parser and evaluator in one pass ---------------------------------------------------------------------------
    def _peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _take(self, want: str | None = None) -> tuple[str, str]:
        tok = self._peek()
        if tok is None:
            raise ExpressionError("unexpected end")
        if want is not None and tok[1] != want:
            raise ExpressionError(f"expected '{want}', got '{tok[1]}'")
        self.i += 1
        return tok

    def _expr(self) -> Any:
        kind, text = self._take()
        if kind == "str":
            value: Any = text[1:-1].replace("''", "'")
        elif kind == "num":
            value = float(text) if "." in text else int(text)
        elif kind == "name":
            self._take("(")
            args: list[Any] = []
            if self._peek() and self._peek()[1] == ")":  # type: ignore[index]
                self._take(")")
            else:
                while True:
                    args.append(self._expr())
                    if self._take()[1] == ")":
                        break
            value = self._call(text, args)
        else:
            raise ExpressionError(f"unexpected '{text}'")
        while self._peek() and self._peek()[1] in (".", "["):  # type: ignore[index]
            if self._take()[1] == ".":
                value = self._member(value, self._take()[1])
            else:
                index = self._expr()
                self._take("]")
                value = self._member(value, index)
        return value

    def _member(self, value: Any, key: Any) -> Any:
        if isinstance(value, Reference):
            env = self.environments(value.target)
            if env is not None and key == "defaultDomain":
                return domain_symbol(env)
            return Unresolved("", f"reference(...).{key} is the deployed resource's state")
        if isinstance(value, Unresolved) or isinstance(key, Unresolved):
            return value if isinstance(value, Unresolved) else key
        if isinstance(value, dict):
            for k, v in value.items():  # ARM property names are case-insensitive
                if isinstance(key, str) and k.lower() == key.lower():
                    return v
            raise ExpressionError(f"no property '{key}'")
        if isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
            return value[key]
        raise ExpressionError(f"cannot take '{key}' of {type(value).__name__}")

    def _variable(self, name: str) -> Any:
        for k in self.raw_variables:
            if k.lower() == name.lower():
                if k not in self.variables:
                    if k in self._busy:
                        raise ExpressionError(f"variable '{name}' refers to itself")
                    self._busy.add(k)
                    saved = (self.toks, self.i)
                    self.variables[k] = self.value(self.raw_variables[k])
                    self.toks, self.i = saved
                    self._busy.discard(k)
                return self.variables[k]
        raise ExpressionError(f"the template has no variable '{name}'")

    def _call(self, name: str, args: list[Any]) -> Any:
        fn = name.lower()
        if fn == "if":  # only the branch taken matters
            if len(args) != 3:
                raise ExpressionError("if() takes 3 arguments")
            if isinstance(args[0], Unresolved):
                return args[0]
            return args[1] if args[0] else args[2]
        if fn == "coalesce":
            for a in args:
                if isinstance(a, Unresolved):
                    return a
                if a is not None:
                    return a
            return None
        if fn == "parameters":
            for k, v in self.parameters.items():
                if k.lower() == str(args[0]).lower():
                    return v
            raise ExpressionError(f"the template has no parameter '{args[0]}'")
        if fn == "variables":
            return self._variable(str(args[0]))
        if fn == "reference":
            target = args[0] if args else None
            if isinstance(target, str):
                return Reference(target)
            return Unresolved("", "reference() is the deployed resource's state")
        for a in args:
            if isinstance(a, (Unresolved, Reference)):
                return a if isinstance(a, Unresolved) else \
                    Unresolved("", "reference() is the deployed resource's state")
        impl = _FUNCTIONS.get(fn)
        if impl is None:
            return Unresolved("", f"{name}() is known only when deploying")
        try:
            return impl(*args)
        except (TypeError, ValueError, IndexError, KeyError) as exc:
            raise ExpressionError(f"{name}(): {exc}") from None


def _string(v: Any) -> str:
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    return "" if v is None else str(v)


def _format(fmt: str, *args: Any) -> str:
    def sub(m: re.Match[str]) -> str:
        return _string(args[int(m.group(1))])

    return re.sub(r"\{(\d+)(?:[:,][^}]*)?\}", sub, fmt).replace("{{", "{").replace("}}", "}")


def _concat(*args: Any) -> Any:
    if args and all(isinstance(a, list) for a in args):
        return [x for a in args for x in a]
    return "".join(_string(a) for a in args)


def _equals(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return bool(a == b)


def _bool(v: Any) -> bool:
    if isinstance(v, str):
        if v.lower() not in ("true", "false"):
            raise ValueError(f"'{v}' is not a boolean")
        return v.lower() == "true"
    return bool(v)


def resource_id(*args: Any) -> str:
    """resourceId([subscriptionId], [resourceGroupName], type, name1, [name2], ...) as its shape."""
    args_l = [str(a) for a in args]
    i = next((n for n, a in enumerate(args_l) if "/" in a and "." in a.split("/")[0]), None)
    if i is None:
        raise ValueError("no resource type")
    sub = args_l[0] if i == 2 else "{subscription}"
    rg = args_l[i - 1] if i >= 1 else "{resourceGroup}"
    kind, names = args_l[i].split("/"), args_l[i + 1:]
    path = f"{kind[0]}/{kind[1]}/{names[0] if names else ''}"
    for t, n in zip(kind[2:], names[1:]):
        path += f"/{t}/{n}"
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{path}"


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "concat": _concat,
    "format": _format,
    "tolower": lambda s: str(s).lower(),
    "toupper": lambda s: str(s).upper(),
    "string": _string,
    "int": lambda v: int(v),
    "bool": _bool,
    "json": lambda s: json.loads(s),
    "equals": _equals,
    "not": lambda v: not v,
    "and": lambda *v: all(v),
    "or": lambda *v: any(v),
    "empty": lambda v: not v,
    "length": lambda v: len(v),
    "contains": lambda c, x: (x.lower() in c.lower()) if isinstance(c, str) else (x in c),
    "replace": lambda s, a, b: str(s).replace(str(a), str(b)),
    "createarray": lambda *v: list(v),
    "createobject": lambda *v: dict(zip(v[::2], v[1::2])),
    "true": lambda: True,
    "false": lambda: False,
    "null": lambda: None,
    "resourceid": resource_id,
}
