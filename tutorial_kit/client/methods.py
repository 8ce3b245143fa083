"""The bases that carry the API methods' types for editors and type checkers.

At runtime these classes are empty: :func:`~tutorial_kit.client.calls.install_methods` gives
``Queue``, ``AsyncQueue``, ``Object`` and ``AsyncObject`` one method per row of the API table
when they are imported. The typed signatures (``Queue.createTask(taskId, payload)``,
``await AsyncQueue.status(taskId)``, ...) are in ``methods.pyi`` next to this file, generated
from the same table by ``tools/gen_client_stubs.py``; a test fails when it is stale.
"""

from __future__ import annotations


class QueueMethods:
    """``Queue``'s API methods (see ``methods.pyi``)."""


class AsyncQueueMethods:
    """``AsyncQueue``'s API coroutines (see ``methods.pyi``)."""


class ObjectMethods:
    """``Object``'s API methods (see ``methods.pyi``)."""


class AsyncObjectMethods:
    """``AsyncObject``'s API coroutines (see ``methods.pyi``)."""
