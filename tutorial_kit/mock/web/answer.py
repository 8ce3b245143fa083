"""What the mock's HTTP layer sends back: :class:`Answer`, a small ASGI response.

Every API reply carries the same six fixed headers (cache control, CORS). Starlette's
``Response`` would rebuild and re-encode them for each reply; a learner's status poll is the
mock's busiest path, so the fixed headers are encoded once here (:class:`FixedHeaders`) and an
answer only encodes what is its own (``Location``, ``x-for-request-id``, ...). An ``Answer`` is
an ASGI application, so Starlette routes may return one as they would a ``Response``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from tutorial_kit.mock.model.contract import QueueModel

JSON_TYPE = "application/json; charset=utf-8"

CORS_HEADERS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "OPTIONS,GET,HEAD,POST,PUT,DELETE,TRACE,CONNECT",
    "access-control-allow-headers": "X-Requested-With,Content-Type,Authorization,Accept,Origin,"
                                    "Cache-Control",
    "access-control-expose-headers": "location,x-for-request-id,x-for-trace-id,"
                                     "x-taskcluster-artifact-storage-type,www-authenticate",
    "access-control-max-age": "900",
}
API_HEADERS = {"cache-control": "no-store no-cache must-revalidate", **CORS_HEADERS}


class FixedHeaders:
    """A set of headers every answer of a kind carries, encoded for ASGI once."""

    __slots__ = ("names", "raw")

    def __init__(self, headers: Mapping[str, str]) -> None:
        self.names = frozenset(headers)
        self.raw = tuple((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())

    def without(self, names: Any) -> list[tuple[bytes, bytes]]:
        """The encoded headers, less those an answer sets itself."""
        if self.names.isdisjoint(names):
            return list(self.raw)
        drop = {n.encode("latin-1") for n in names}
        return [h for h in self.raw if h[0] not in drop]


API = FixedHeaders(API_HEADERS)
CORS = FixedHeaders(CORS_HEADERS)
NONE = FixedHeaders({})

# Statuses that must not carry a body, hence no Content-Length (RFC 9110 §8.6).
_NO_BODY = frozenset({204, 304})


class Answer:
    """An HTTP response: status, body bytes, its own headers on top of ``fixed``.

    ``headers`` is a plain ``dict`` (lower-case names) that may be changed until the answer is
    sent; a name in it replaces the fixed header of that name. ``content_type`` None sends
    none (an empty 204, or a stored blob whose type is in ``headers``).
    """

    __slots__ = ("body", "status_code", "headers", "content_type", "fixed")

    def __init__(self, body: bytes = b"", status_code: int = 200,
                 headers: dict[str, str] | None = None, *, content_type: str | None = JSON_TYPE,
                 fixed: FixedHeaders = API) -> None:
        self.body = body
        self.status_code = status_code
        self.headers = headers if headers is not None else {}
        self.content_type = content_type
        self.fixed = fixed

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        own = self.headers
        raw = self.fixed.without(own) if own else list(self.fixed.raw)
        if self.content_type is not None and "content-type" not in own:
            raw.append((b"content-type", self.content_type.encode("latin-1")))
        if self.status_code not in _NO_BODY and self.status_code >= 200:
            if "content-length" not in own:
                raw.append((b"content-length", str(len(self.body)).encode("latin-1")))
        for name, value in own.items():
            raw.append((name.encode("latin-1"), value.encode("latin-1")))
        return raw

    async def __call__(self, scope: Any, receive: Callable, send: Callable) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers()})
        await send({"type": "http.response.body", "body": self.body})


_ids = random.Random()  # seeded from os.urandom; request ids need uniqueness, not secrecy


def request_id() -> str:
    """A random (version 4) UUID as text, for ``x-for-request-id``.

    The same form as ``str(uuid.uuid4())`` without a system call per request.
    """
    n = _ids.getrandbits(128) & ~(0xF000 << 64) & ~(0xC << 60) | (0x4000 << 64) | (0x8 << 60)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class ReplyCache:
    """Encoded replies of the model's state reads, reused while the state is unchanged.

    The model names the methods whose reply depends on nothing but their URL parameters and
    the stored state (``backend.STATE_READS``: no caller, clock or rootUrl in it) and numbers
    its state (``backend.state_version()``, different after every write). So a learner
    polling a task gets the bytes of the previous poll until something happens in the store;
    any write anywhere starts afresh, which keeps the rule simple enough to trust.

    Used from the server's event loop only.
    """

    MAX_ENTRIES = 4096
    MAX_BODY = 64 * 1024  # a bigger reply (a task with a huge payload) is not kept
    MAX_TOTAL = 16 * 1024 * 1024

    def __init__(self, backend: QueueModel) -> None:
        self._version_of: Callable[[], int] = backend.state_version
        self._methods = frozenset(backend.STATE_READS)
        self._version: int | None = None
        self._bodies: dict[tuple[str, ...], bytes] = {}
        self._total = 0

    def lookup(self, method: str, params: Mapping[str, str]) -> tuple[bytes | None, int | None]:
        """The stored body (or None) and the state version to :meth:`put` a fresh one under.

        The version is read before the model runs, so a body is never filed under a version
        newer than the state it shows.
        """
        if method not in self._methods:
            return None, None
        version = self._version_of()
        if version != self._version:
            self._clear()
            self._version = version
            return None, version
        return self._bodies.get((method, *params.values())), version

    def put(self, method: str, params: Mapping[str, str], version: int | None,
            body: bytes) -> None:
        if version is None or version != self._version:
            return  # not a state read, or the state moved on while the model answered
        if len(body) > self.MAX_BODY:
            return
        if len(self._bodies) >= self.MAX_ENTRIES or self._total + len(body) > self.MAX_TOTAL:
            self._clear()
        key = (method, *params.values())
        self._total += len(body) - len(self._bodies.get(key, b""))
        self._bodies[key] = body

    def _clear(self) -> None:
        self._bodies.clear()
        self._total = 0
