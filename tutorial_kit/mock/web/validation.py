"""Schema validation for the mock queue, over the schema files the package ships.

The real Queue validates with Ajv (draft-06, ``useDefaults``, formats enforced, every error
collected). :class:`Validator` does the same with ``jsonschema``'s draft-06 validator over a
``referencing`` registry of ``mock/schemas``:

* request bodies get the ``default`` values of their input schema filled in *before* the check,
  as Ajv does, and a failure raises :class:`InputValidationError` (a ``QueueError``) whose message
  reads like the real service's ("Schema Validation Failed!" ... ``  * data/retries must be <= 49``);
* replies and pulse messages can be checked against their output/message schema;
* the schema and reference documents are served in their absolute form for a given rootUrl.

The parts live beside it: ``schema_registry`` (the shipped documents, their registry, a
compiled validator per schema, cached), ``schema_defaults`` (Ajv's ``useDefaults``) and ``ajv``
(Ajv's formats and wording). The package never reads ``../shared``. jsonschema itself is
imported with the first validator compiled, so a mock starts without it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from tutorial_kit.mock.model.errors import QueueError

from .schema_defaults import DefaultsPlan, build_plan
from .schema_registry import ORIGIN, SchemaRegistry, UnknownSchema

__all__ = ["Validator", "InputValidationError", "UnknownSchema"]


class InputValidationError(QueueError):
    """A request body that its input schema rejects (400 ``InputValidationError``).

    ``payload`` is the body with the schema defaults filled in (the real service shows that
    in ``requestInfo.payload``), ``errors`` the bullet lines, ``schema_url`` the rejecting schema.
    """

    def __init__(self, message: str, *, payload: Any, errors: list[str], schema_url: str):
        super().__init__("InputValidationError", message)
        self.payload = payload
        self.errors = errors
        self.schema_url = schema_url


def _copy(body: Any) -> Any:
    """A deep copy of a JSON body; a JSON round trip needs far less stack than ``deepcopy``."""
    try:
        return json.loads(json.dumps(body))
    except (TypeError, ValueError):  # not plain JSON (a Python caller's tuple, NaN, ...)
        return copy.deepcopy(body)


class Validator(SchemaRegistry):
    """The mock queue's validation: request bodies (defaults filled in, then checked), replies
    and pulse messages, over the shipped schemas; see the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self._plans: dict[str, DefaultsPlan] = {}

    # -- validation ------------------------------------------------------------------------

    def validate_input(self, schema_name: str, body: Any, *, root_url: str = "") -> Any:
        """Fill the schema's defaults into a copy of ``body``, validate it, return the copy.

        Raises :class:`InputValidationError` listing every error. ``root_url`` only shapes the
        schema URL named in the message (``<root_url>/schemas/queue/v1/<name>.json``).
        """
        path, validator = self.compiled(schema_name)
        url = f"{root_url.rstrip('/')}/schemas/{path}"
        try:
            filled = _copy(body)
            self._plan(path).apply(filled)
            errors = list(validator.iter_errors(filled))
            if not errors:
                return filled
            from .ajv import ajv_messages  # (with jsonschema, loaded by compiled())

            lines = ajv_messages(errors)
        except RecursionError:
            # JSON nested deeper than Python's stack allows: a clear 400, never a crash
            filled, lines = body, ["data is nested too deeply to be validated"]
        message = "\nSchema Validation Failed!\nRejecting Schema: {}\nErrors:\n{}".format(
            url, "\n".join("  * " + line for line in lines))
        raise InputValidationError(message, payload=filled, errors=lines, schema_url=url)

    def output_errors(self, schema_name: str, body: Any) -> list[str]:
        """What is wrong with a reply body for its output schema; empty when it is valid."""
        _, validator = self.compiled(schema_name)
        from .ajv import ajv_messages

        try:
            return ajv_messages(validator.iter_errors(body))
        except RecursionError:
            return ["data is nested too deeply to be validated"]

    def message_errors(self, exchange_schema_name: str, payload: Any) -> list[str]:
        """What is wrong with a pulse message for its exchange's schema; empty when valid."""
        return self.output_errors(exchange_schema_name, payload)

    # -- defaults --------------------------------------------------------------------------

    def _plan(self, path: str) -> DefaultsPlan:
        plan = self._plans.get(path)
        if plan is None:
            base = ORIGIN + self._schemas[path]["$id"].split("#")[0]
            plan = build_plan(self._registry, self._schemas[path], base)
            self._plans[path] = plan
        return plan
