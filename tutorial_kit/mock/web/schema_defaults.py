"""Ajv's ``useDefaults``: the ``default`` values of a schema filled into a request body before
it is checked, as the real Queue does.

A :class:`DefaultsPlan` is built once per schema (``$ref``s followed through the registry) and
then applied to each body; in a ``oneOf``/``anyOf`` the defaults of a branch go in only when
exactly that branch fits.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

if TYPE_CHECKING:
    from jsonschema import Draft6Validator
    from referencing import Registry

__all__ = ["DefaultsPlan", "build_plan"]

# --- defaults (Ajv useDefaults) --------------------------------------------------------------

@dataclass(eq=False)
class DefaultsPlan:
    """Where the defaults of one schema go, with ``$ref``s already followed."""

    defaults: list[tuple[str, Any]] = field(default_factory=list)
    properties: dict[str, DefaultsPlan] = field(default_factory=dict)
    additional: DefaultsPlan | None = None
    items: DefaultsPlan | None = None
    all_of: list[DefaultsPlan] = field(default_factory=list)
    # oneOf/anyOf: (branch validator, branch plan); defaults go in only when one branch fits
    choices: list[list[tuple[Draft6Validator, DefaultsPlan]]] = field(default_factory=list)

    def apply(self, instance: Any) -> None:
        if isinstance(instance, dict):
            for name, value in self.defaults:
                if name not in instance:
                    instance[name] = copy.deepcopy(value)
            for name, plan in self.properties.items():
                if name in instance:
                    plan.apply(instance[name])
            if self.additional is not None:
                for name, value in instance.items():
                    if name not in self.properties:
                        self.additional.apply(value)
        elif isinstance(instance, list) and self.items is not None:
            for value in instance:
                self.items.apply(value)
        for plan in self.all_of:
            plan.apply(instance)
        for branches in self.choices:
            fitting = [plan for validator, plan in branches if validator.is_valid(instance)]
            if len(fitting) == 1:
                fitting[0].apply(instance)



def build_plan(registry: Registry, schema: Any, base: str, pointer: str = "",
               memo: dict[str, DefaultsPlan] | None = None) -> DefaultsPlan:
    """The defaults plan of ``schema``, found at ``<base>#<pointer>`` in the registry."""
    memo = {} if memo is None else memo
    plan = DefaultsPlan()
    if not isinstance(schema, dict):
        return plan
    where = f"{base}#{pointer}"
    if where in memo:  # a recursive schema: reuse the plan under construction
        return memo[where]
    memo[where] = plan
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = urljoin(base + "#" + pointer, ref)
        target_base, _, target_pointer = target.partition("#")
        contents = registry.resolver(base_uri=base).lookup(ref).contents
        plan.all_of.append(build_plan(registry, contents, target_base, target_pointer, memo))
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict) and "default" in sub:
            plan.defaults.append((name, sub["default"]))
        plan.properties[name] = build_plan(registry, 
            sub, base, f"{pointer}/properties/{_escape(name)}", memo)
    if isinstance(schema.get("additionalProperties"), dict):
        plan.additional = build_plan(registry, 
            schema["additionalProperties"], base, f"{pointer}/additionalProperties", memo)
    if isinstance(schema.get("items"), dict):
        plan.items = build_plan(registry, schema["items"], base, f"{pointer}/items", memo)
    for i, sub in enumerate(schema.get("allOf") or ()):
        plan.all_of.append(build_plan(registry, sub, base, f"{pointer}/allOf/{i}", memo))
    for keyword in ("oneOf", "anyOf"):
        branches = schema.get(keyword) or ()
        built = [build_plan(registry, sub, base, f"{pointer}/{keyword}/{i}", memo)
                 for i, sub in enumerate(branches)]
        if any(_has_defaults(b, set()) for b in built):
            # jsonschema is loaded by now: a plan is built over the schema registry
            from jsonschema import Draft6Validator

            from .ajv import FORMATS

            plan.choices.append([
                (Draft6Validator({"$ref": f"{base}#{pointer}/{keyword}/{i}"},
                                 registry=registry, format_checker=FORMATS), b)
                for i, b in enumerate(built)
            ])
    return plan


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _has_defaults(plan: DefaultsPlan, seen: set[int]) -> bool:
    if id(plan) in seen:
        return False
    seen.add(id(plan))
    children = [*plan.properties.values(), *plan.all_of,
                *(p for p in (plan.additional, plan.items) if p is not None)]
    return bool(plan.defaults or plan.choices) or any(_has_defaults(c, seen) for c in children)
