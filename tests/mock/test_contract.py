"""model/contract.py: the QueueBackend is a QueueModel, member for member, so the web layer can
call what the Protocol names without probing for it."""

from __future__ import annotations

import inspect

from tutorial_kit.mock.model.backend import QueueBackend
from tutorial_kit.mock.model.contract import QueueModel


def _protocol_members() -> tuple[set[str], dict[str, object]]:
    attributes = set(QueueModel.__annotations__)
    methods = {name: value for name, value in vars(QueueModel).items()
               if inspect.isfunction(value) and not name.startswith("_")}
    return attributes, methods


def test_the_protocol_names_what_the_web_layer_uses():
    attributes, methods = _protocol_members()
    assert attributes == {"clock", "bus", "objects", "max_blob_bytes", "STATE_READS"}
    assert set(methods) == {"state_version", "handle", "tick", "seed", "reset", "dump", "close",
                            "put_blob", "get_blob", "put_object", "get_object"}


def test_queue_backend_has_every_member_with_the_protocol_signature():
    backend = QueueBackend()
    try:
        attributes, methods = _protocol_members()
        for name in attributes:
            assert hasattr(backend, name), name
        assert isinstance(backend.STATE_READS, frozenset)
        assert isinstance(backend.max_blob_bytes, int) and backend.max_blob_bytes > 0
        for name, declared in methods.items():
            implemented = getattr(backend, name)
            assert callable(implemented), name
            want = [(p.name, p.kind) for p in inspect.signature(declared).parameters.values()
                    if p.name != "self"]
            got = [(p.name, p.kind) for p in inspect.signature(implemented).parameters.values()]
            assert got == want, (name, got, want)
    finally:
        backend.close()
