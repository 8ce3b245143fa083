"""The model's contract with the HTTP layer: :class:`QueueModel`, what ``web/`` may use.

The web layer and the hosts (``server.py``, ``handle.py``, ``inprocess.py``) type their backend
as ``QueueModel`` and call these members directly; :class:`~.backend.QueueBackend` provides
them all. A test backend (a subclass, or a model of its own) satisfies the same Protocol, so a
type checker says what it lacks instead of a ``getattr`` probe deciding at request time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .call import Call, Reply
    from .clock import Clock
    from .events import Bus
    from .objects import ObjectService


class QueueModel(Protocol):
    """One mock queue's state and behaviour, as the HTTP layer sees it."""

    #: The time of the model (paused, advanced, sped up by the control plane).
    clock: Clock
    #: The Pulse messages it publishes (long polls and ``/mock/v1/events`` listen to it).
    bus: Bus
    #: The Object service beside the queue (``/api/object/v1``).
    objects: ObjectService
    #: The most bytes one upload may store (the HTTP layer refuses more before reading it).
    max_blob_bytes: int
    #: API methods whose reply depends only on URL parameters and the stored state: the HTTP
    #: layer reuses such a reply until :meth:`state_version` changes.
    STATE_READS: frozenset[str]

    def state_version(self) -> int:
        """A number that changes whenever anything is written."""
        ...

    def handle(self, call: Call) -> Reply:
        """Answer one Queue API call (raises ``QueueError`` for an API error)."""
        ...

    def tick(self) -> None:
        """Run the resolvers (claim expiry, deadlines) at the model's current time."""
        ...

    def seed(self, n: int) -> None:
        """Make generated ids and choices repeatable."""
        ...

    def reset(self) -> None:
        """Forget every task, artifact and object."""
        ...

    def dump(self) -> dict[str, Any]:
        """The whole state as JSON (``GET /mock/v1/state``, the classroom dashboard)."""
        ...

    def close(self) -> None:
        """Release the store (the server is stopping)."""
        ...

    # -- the storage stand-ins: plain-HTTP bytes behind signed URLs -------------------------
    def put_blob(self, key: str, query: dict[str, str], data: bytes, content_type: str | None,
                 *, content_length: int | None = None) -> None:
        """Store an artifact's bytes uploaded to a signed ``/mock/v1/blobs/`` URL."""
        ...

    def get_blob(self, key: str, query: dict[str, str]) -> tuple[bytes, str]:
        """An artifact's bytes and content type, for a signed download URL."""
        ...

    def put_object(self, name: str, query: dict[str, str], data: bytes,
                   content_type: str | None, *, content_length: int | None = None) -> None:
        """Store an object's bytes uploaded to a signed ``/mock/v1/objects/`` URL."""
        ...

    def get_object(self, key: str, query: dict[str, str]) -> tuple[bytes, str]:
        """An object's bytes and content type, for a signed download URL."""
        ...
