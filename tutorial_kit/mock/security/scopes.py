"""Scopes and scope expressions, as Taskcluster evaluates them.

A *scope* is a string. A held scope that ends in ``*`` grants every scope starting with the part
before the ``*``; any other held scope grants exactly itself.

A *scope expression* (the ``scopes`` column of :mod:`tutorial_kit.api`) is one of:

* a string, possibly with ``<param>`` placeholders;
* ``{"AllOf": [expr, ...]}`` / ``{"AnyOf": [expr, ...]}``;
* inside an ``AllOf``/``AnyOf`` list, a template ``{"for": "x", "in": "xs", "each": "...<x>..."}``
  that stands for one string per element of the list parameter ``xs``.

:func:`expand` turns a template expression into a plain one (no placeholders, no templates), the
form shown in error messages; :func:`satisfies` and :func:`unsatisfied` evaluate plain
expressions against the scopes a caller holds.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_]+)>")


class ScopeExpressionError(ValueError):
    """An expression is malformed, or a parameter it needs is missing or of the wrong type."""


# -- single scopes --------------------------------------------------------------------------

def scope_match(held: str, required: str) -> bool:
    """True if the held scope grants the required one (``*`` suffix = prefix match)."""
    if held.endswith("*"):
        return required.startswith(held[:-1])
    return held == required


class ScopeSet:
    """Held scopes, prepared for many checks: exact scopes in a set, ``*`` scopes as prefixes
    (every request checks scopes, so this is on the hot path)."""

    __slots__ = ("scopes", "_exact", "_prefixes")

    def __init__(self, scopes: Iterable[str]) -> None:
        self.scopes = tuple(scopes)
        self._exact = frozenset(s for s in self.scopes if not s.endswith("*"))
        self._prefixes = tuple(s[:-1] for s in self.scopes if s.endswith("*"))

    def grants(self, required: str) -> bool:
        return required in self._exact or required.startswith(self._prefixes)

    def __iter__(self):
        return iter(self.scopes)


def has_scope(held: Iterable[str], required: str) -> bool:
    """True if any of the held scopes grants ``required``."""
    if isinstance(held, ScopeSet):
        return held.grants(required)
    return any(scope_match(h, required) for h in held)


def intersect_scopes(a: Iterable[str], b: Iterable[str]) -> list[str]:
    """The scopes granted by both sets (each side's ``*`` patterns taken into account).

    Used for temporary credentials: a certificate cannot grant more than its issuer holds.
    """
    a, b = list(a), list(b)
    out: list[str] = []
    for x in a:
        for y in b:
            if scope_match(y, x):
                out.append(x)
            elif scope_match(x, y):
                out.append(y)
    return normalize_scopes(out)


def normalize_scopes(scopes: Iterable[str]) -> list[str]:
    """Sorted, without duplicates and without scopes already granted by a ``*`` pattern."""
    return list(_normalized(frozenset(scopes)))


@functools.lru_cache(maxsize=1024)
def _normalized(scopes: frozenset[str]) -> tuple[str, ...]:
    # Cached: every request normalizes the same few scope sets (anonymous, each client).
    unique = sorted(scopes)
    patterns = [s for s in unique if s.endswith("*")]
    return tuple(s for s in unique if not any(p != s and scope_match(p, s) for p in patterns))


# -- expressions ----------------------------------------------------------------------------

@functools.lru_cache(maxsize=512)
def _template(template: str) -> tuple[str, ...]:
    """A template split into literal text and parameter names, alternating (cached: every
    request of a method expands the same one)."""
    return tuple(_PLACEHOLDER.split(template))


def _substitute(template: str, params: Mapping[str, Any]) -> str:
    parts = _template(template)
    if len(parts) == 1:
        return template
    out = []
    for i, part in enumerate(parts):
        if not i % 2:
            out.append(part)
            continue
        if part not in params:
            raise ScopeExpressionError(f"scope expression needs parameter {part!r}")
        v = params[part]
        if isinstance(v, (list, tuple, dict)) or v is None:
            raise ScopeExpressionError(
                f"scope parameter {part!r} must be a string or a number, not {type(v).__name__}")
        out.append(str(v))
    return "".join(out)


def _is_template(node: Any) -> bool:
    return isinstance(node, Mapping) and "for" in node and "in" in node and "each" in node


def _expand_items(items: Any, params: Mapping[str, Any]) -> list[Any]:
    if not isinstance(items, list):
        raise ScopeExpressionError("AllOf/AnyOf must hold a list")
    out: list[Any] = []
    for item in items:
        if _is_template(item):
            # A template stands for one scope per element of its list parameter; an empty
            # list contributes nothing (so createTask without routes needs no route scopes).
            values = params.get(item["in"])
            if values is None:
                raise ScopeExpressionError(f"scope expression needs list parameter {item['in']!r}")
            if not isinstance(values, (list, tuple)):
                raise ScopeExpressionError(f"scope parameter {item['in']!r} must be a list")
            for v in values:
                out.append(_substitute(item["each"], {**params, item["for"]: v}))
        else:
            out.append(expand(item, params))
    return out


def expand(expression: Any, params: Mapping[str, Any]) -> Any:
    """The expression with every placeholder filled and every template unrolled."""
    if isinstance(expression, str):
        return _substitute(expression, params)
    if isinstance(expression, Mapping):
        if set(expression) == {"AllOf"}:
            return {"AllOf": _expand_items(expression["AllOf"], params)}
        if set(expression) == {"AnyOf"}:
            return {"AnyOf": _expand_items(expression["AnyOf"], params)}
    raise ScopeExpressionError(f"not a scope expression: {expression!r}")


def satisfies(held: Iterable[str], expression: Any) -> bool:
    """True if the held scopes satisfy a plain (expanded) expression."""
    return _satisfies(held if isinstance(held, ScopeSet) else ScopeSet(held), expression)


def _satisfies(held: ScopeSet, expression: Any) -> bool:
    if isinstance(expression, str):
        return has_scope(held, expression)
    if isinstance(expression, Mapping):
        if "AllOf" in expression:
            return all(_satisfies(held, e) for e in expression["AllOf"])
        if "AnyOf" in expression:
            return any(_satisfies(held, e) for e in expression["AnyOf"])
    raise ScopeExpressionError(f"not a plain scope expression: {expression!r}")


def unsatisfied(held: Iterable[str], expression: Any) -> Any:
    """What is still missing: the expression with every satisfied part removed, or None.

    ``AllOf`` keeps its unsatisfied children; ``AnyOf`` is satisfied as soon as one child is, and
    otherwise keeps all of them. A list of one is collapsed to its only element.
    """
    held = held if isinstance(held, ScopeSet) else ScopeSet(held)

    def walk(expr: Any) -> Any:
        if isinstance(expr, str):
            return None if has_scope(held, expr) else expr
        if "AllOf" in expr:
            rest = [r for r in (walk(e) for e in expr["AllOf"]) if r is not None]
            if not rest:
                return None
            return rest[0] if len(rest) == 1 else {"AllOf": rest}
        if "AnyOf" in expr:
            rest = [walk(e) for e in expr["AnyOf"]]
            if any(r is None for r in rest):
                return None
            return rest[0] if len(rest) == 1 else {"AnyOf": rest}
        raise ScopeExpressionError(f"not a plain scope expression: {expr!r}")

    return walk(expression)


#: What stands in for every parameter when :func:`granted_for_any_params` asks: a character
#: no held scope contains (it checks), so no held scope can match past it.
_ANY_VALUE = "\x00"


def granted_for_any_params(held: ScopeSet, template: str) -> tuple[str, ...] | None:
    """The names a one-scope template needs, if ``held`` grants it whatever their values are
    (``queue:status:*`` grants ``queue:status:<taskId>`` for every ``taskId``); else None.

    Each parameter is filled with a character that no held scope contains, so only a scope
    equal to the literal text (no parameters) or a ``*`` scope ending within the literal text
    before the first parameter can grant the result: and those grant every filling.
    """
    parts = _template(template)
    names = parts[1::2]
    if any(_ANY_VALUE in scope for scope in held):
        return None
    filled = _ANY_VALUE.join(parts[::2])
    return names if held.grants(filled) else None


def fills(names: tuple[str, ...], params: Mapping[str, Any]) -> bool:
    """Do ``params`` give every one of ``names`` a value :func:`expand` puts in a scope (a
    string or a number; a missing, None or list value makes it raise instead)?"""
    for name in names:
        value = params.get(name)
        if value is None or isinstance(value, (list, tuple, dict)):
            return False
    return True


def required_params(expression: Any) -> set[str]:
    """Names of the parameters an expression needs (placeholders and template lists).

    A template's own loop variable is not a parameter, but other placeholders in ``each`` are.
    """
    needed: set[str] = set()

    def walk(expr: Any, bound: frozenset[str]) -> None:
        if expr is None:
            return
        if isinstance(expr, str):
            needed.update(n for n in _PLACEHOLDER.findall(expr) if n not in bound)
        elif _is_template(expr):
            needed.add(expr["in"])
            walk(expr["each"], bound | {expr["for"]})
        elif isinstance(expr, Mapping):
            for items in expr.values():
                for item in items:
                    walk(item, bound)
        else:
            raise ScopeExpressionError(f"not a scope expression: {expr!r}")

    walk(expression, frozenset())
    return needed


def format_expression(expression: Any) -> str:
    """A string as it is; anything else as 2-space-indented JSON (as the real messages show)."""
    if isinstance(expression, str):
        return expression
    return json.dumps(expression, indent=2)
