"""The contract between the HTTP layer (``app``) and the model (``backend``).

``app`` parses, authenticates and validates a request, then hands the model a :class:`Call`;
the model answers with a :class:`Reply` or raises :class:`~tutorial_kit.mock.model.errors.QueueError`.
Neither side imports the other's internals: the model never sees a Starlette request, and the
HTTP layer never reads the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from tutorial_kit.api import Entry


class Caller(Protocol):
    """Who is calling, as authentication established it (see ``mock/auth.py``)."""

    client_id: str | None  # None for an anonymous caller
    scopes: tuple[str, ...]  # expanded scopes, including the anonymous role's

    def satisfies(self, expression: Any, params: dict[str, Any]) -> bool: ...

    def authorize(self, expression: Any, params: dict[str, Any]) -> None:
        """Raise QueueError('InsufficientScopes') unless the expression is satisfied."""


@dataclass
class Call:
    """One API call, already parsed, authenticated and validated."""

    entry: Entry  # the row of tutorial_kit.api.ENTRIES
    params: dict[str, Any]  # URL parameters, percent-decoded; runId as int
    query: dict[str, str]  # query-string options (continuationToken, limit, ...), bewit removed
    body: Any  # request JSON after schema validation with defaults applied; None if no input
    caller: Caller
    root_url: str  # the rootUrl the client used, no trailing slash (for putUrl, download URLs)

    def authorize(self, **params: Any) -> None:
        """Check the method's scope expression with URL parameters plus ``params``.

        Handlers call this when the expression needs values from the store (e.g. cancelTask
        needs the task's schedulerId), after any 404 the real service answers first.
        """
        self.caller.authorize(self.entry.scopes, {**self.params, **params})


@dataclass
class Reply:
    body: Any = None  # JSON-serialisable; None means an empty body
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
