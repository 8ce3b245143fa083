"""Fault injection for teaching (placeholder: being written).

Interface the HTTP layer relies on::

    faults = Faults()
    error = await faults.apply(method_name)   # may sleep (latency); returns a QueueError to answer
                                              # instead of calling the backend, or None
"""

from __future__ import annotations

from .errors import QueueError


class Faults:
    async def apply(self, method: str) -> QueueError | None:
        return None
