"""The subset of the Cosmos DB NoSQL query language the fake Cosmos DB answers.

``SELECT [TOP n|@p] (* | VALUE COUNT(1) | c.a, c.b…) FROM c [WHERE …] [ORDER BY c.x [ASC|DESC]]``
with ``=, !=, <>, <, <=, >, >=``, ``AND``, ``OR``, ``NOT``, parentheses, ``@parameters``,
string/number/boolean/null literals and ``ARRAY_CONTAINS(array, value)``. Values follow
Cosmos DB's rules where the store depends on them: a missing property is *undefined*, a
comparison with undefined (or between a string and a number) is undefined, and ``WHERE``
keeps only documents for which the filter is ``true``. Anything else is a 400 at the fake,
so the store cannot come to rely on SQL the real service would answer differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

UNDEFINED: Any = object()

_TOKEN = re.compile(
    r"\s*(?:(?P<number>-?\d+(?:\.\d+)?)|(?P<string>'(?:[^'\\]|\\.)*')"
    r"|(?P<param>@[A-Za-z_]\w*)|(?P<name>[A-Za-z_]\w*)|(?P<op><=|>=|!=|<>|[=<>(),.*]))"
)
_KEYWORDS = {
    "select", "top", "value", "from", "where", "order", "by", "asc", "desc", "and", "or",
    "not", "true", "false", "null", "count", "array_contains",
}  # fmt: skip


class QueryError(ValueError):
    """The query is outside the subset (or malformed): the fake answers 400."""


@dataclass(frozen=True)
class Query:
    """A parsed query, ready to run over a list of documents."""

    top: Any  # int, a parameter name, or None
    count: bool
    fields: tuple[tuple[str, ...], ...]  # empty: SELECT *
    where: Any
    order: tuple[tuple[str, ...], bool] | None  # (path, descending)
    alias: str = "c"
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_cross_partition_plan(self) -> bool:
        """What a gateway cannot serve across partitions without a client-side query plan."""
        return self.top is not None or self.count or self.order is not None

    def run(self, documents: list[dict[str, Any]]) -> list[Any]:
        kept = [d for d in documents if _evaluate(self.where, d, self.parameters) is True]
        if self.order is not None:
            path, descending = self.order
            kept.sort(key=lambda d: _sort_key(_lookup(d, path)), reverse=descending)
        if self.count:
            return [len(kept)]
        if self.top is not None:
            limit = self.parameters.get(self.top) if isinstance(self.top, str) else self.top
            if not isinstance(limit, int) or limit < 0:
                raise QueryError("TOP needs a non-negative integer")
            kept = kept[:limit]
        if not self.fields:
            return kept
        projected = []
        for document in kept:
            row = {}
            for path in self.fields:
                value = _lookup(document, path)
                if value is not UNDEFINED:
                    row[path[-1]] = value
            projected.append(row)
        return projected


def parse(text: str, parameters: list[dict[str, Any]] | None = None) -> Query:
    """The query in ``text`` with its ``[{"name": "@x", "value": …}]`` parameters."""
    return _Parser(text, {p["name"]: p["value"] for p in parameters or []}).query()


def _sort_key(value: Any) -> tuple[int, Any]:
    # Cosmos DB orders undefined < null < booleans < numbers < strings.
    if value is UNDEFINED:
        return (0, 0)
    if value is None:
        return (1, 0)
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, int | float):
        return (3, value)
    if isinstance(value, str):
        return (4, value)
    return (5, repr(value))


def _lookup(document: Any, path: tuple[str, ...]) -> Any:
    value = document
    for part in path[1:]:
        if not isinstance(value, dict) or part not in value:
            return UNDEFINED
        value = value[part]
    return value


def _comparable(a: Any, b: Any) -> bool:
    number = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    return (isinstance(a, number) and isinstance(b, number)) or (
        isinstance(a, str) and isinstance(b, str)
    )


def _evaluate(node: Any, document: dict[str, Any], parameters: dict[str, Any]) -> Any:
    if node is None:
        return True
    kind = node[0]
    if kind == "literal":
        return node[1]
    if kind == "param":
        if node[1] not in parameters:
            raise QueryError(f"parameter {node[1]} has no value")
        return parameters[node[1]]
    if kind == "path":
        return _lookup(document, node[1])
    if kind == "not":
        value = _evaluate(node[1], document, parameters)
        return (not value) if isinstance(value, bool) else UNDEFINED
    if kind in ("and", "or"):
        left = _evaluate(node[1], document, parameters)
        right = _evaluate(node[2], document, parameters)
        if kind == "and":
            if left is False or right is False:
                return False
            return True if left is True and right is True else UNDEFINED
        if left is True or right is True:
            return True
        return False if left is False and right is False else UNDEFINED
    if kind == "array_contains":
        array = _evaluate(node[1], document, parameters)
        value = _evaluate(node[2], document, parameters)
        if not isinstance(array, list) or value is UNDEFINED:
            return UNDEFINED
        return value in array
    if kind == "compare":
        left = _evaluate(node[2], document, parameters)
        right = _evaluate(node[3], document, parameters)
        if left is UNDEFINED or right is UNDEFINED:
            return UNDEFINED
        op = node[1]
        if op in ("=", "!=", "<>"):
            if left is None or right is None:
                equal = left is right
            elif not _comparable(left, right):
                return UNDEFINED
            else:
                equal = left == right
            return equal if op == "=" else not equal
        if not _comparable(left, right):
            return UNDEFINED
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
    raise QueryError(f"cannot evaluate {kind}")


class _Parser:
    def __init__(self, text: str, parameters: dict[str, Any]) -> None:
        self.parameters = parameters
        self.tokens: list[tuple[str, str]] = []
        position = 0
        text = text.strip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                raise QueryError(f"cannot read the query at {text[position : position + 20]!r}")
            position = match.end()
            kind = match.lastgroup or ""
            value = match.group(kind)
            if kind == "name" and value.lower() in _KEYWORDS:
                kind, value = "keyword", value.lower()
            self.tokens.append((kind, value))
        self.position = 0

    def peek(self, value: str | None = None) -> bool:
        if self.position >= len(self.tokens):
            return False
        return value is None or self.tokens[self.position][1] == value

    def take(self, value: str | None = None) -> tuple[str, str]:
        if not self.peek(value):
            found = self.tokens[self.position][1] if self.position < len(self.tokens) else "end"
            raise QueryError(f"expected {value or 'more'}, found {found!r}")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def query(self) -> Query:
        self.take("select")
        top: Any = None
        if self.peek("top"):
            self.take()
            kind, value = self.take()
            top = int(value) if kind == "number" else value if kind == "param" else None
            if top is None:
                raise QueryError("TOP needs a number or a parameter")
        count = False
        fields: list[tuple[str, ...]] = []
        if self.peek("*"):
            self.take()
        elif self.peek("value"):
            self.take()
            self.take("count")
            self.take("(")
            self.take()
            self.take(")")
            count = True
        else:
            fields.append(self.path())
            while self.peek(","):
                self.take()
                fields.append(self.path())
        self.take("from")
        alias = self.take()[1]
        where = None
        if self.peek("where"):
            self.take()
            where = self.expression()
        order = None
        if self.peek("order"):
            self.take()
            self.take("by")
            path = self.path()
            descending = False
            if self.peek("asc") or self.peek("desc"):
                descending = self.take()[1] == "desc"
            order = (path, descending)
        if self.position != len(self.tokens):
            raise QueryError(f"unexpected {self.tokens[self.position][1]!r}")
        for path in fields:
            if path[0] != alias:
                raise QueryError(f"{'.'.join(path)} does not start with the alias {alias}")
        return Query(top, count, tuple(fields), where, order, alias, self.parameters)

    def path(self) -> tuple[str, ...]:
        kind, first = self.take()
        if kind != "name":
            raise QueryError(f"expected a property path, found {first!r}")
        parts = [first]
        while self.peek("."):
            self.take()
            parts.append(self.take()[1])
        return tuple(parts)

    def expression(self) -> Any:
        node = self.conjunction()
        while self.peek("or"):
            self.take()
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> Any:
        node = self.negation()
        while self.peek("and"):
            self.take()
            node = ("and", node, self.negation())
        return node

    def negation(self) -> Any:
        if self.peek("not"):
            self.take()
            return ("not", self.negation())
        return self.comparison()

    def comparison(self) -> Any:
        left = self.operand()
        if self.position < len(self.tokens) and self.tokens[self.position][1] in (
            "=", "!=", "<>", "<", "<=", ">", ">=",
        ):  # fmt: skip
            op = self.take()[1]
            return ("compare", op, left, self.operand())
        return left

    def operand(self) -> Any:
        kind, value = self.tokens[self.position] if self.peek() else ("end", "")
        if value == "(":
            self.take()
            node = self.expression()
            self.take(")")
            return node
        if kind == "number":
            self.take()
            return ("literal", float(value) if "." in value else int(value))
        if kind == "string":
            self.take()
            return ("literal", re.sub(r"\\(.)", r"\1", value[1:-1]))
        if kind == "param":
            self.take()
            return ("param", value)
        if kind == "keyword" and value in ("true", "false", "null"):
            self.take()
            return ("literal", {"true": True, "false": False, "null": None}[value])
        if kind == "keyword" and value == "array_contains":
            self.take()
            self.take("(")
            array = self.operand()
            self.take(",")
            item = self.operand()
            self.take(")")
            return ("array_contains", array, item)
        if kind == "name":
            return ("path", self.path())
        raise QueryError(f"unexpected {value or 'end of query'!r}")
