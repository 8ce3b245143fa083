"""The mock queue's request log: what was called, by whom, with what result.

A bounded ring, safe to use from the server's event loop and from other threads. Records never
hold secrets: no access tokens, Hawk headers, signatures or bewits; query strings are reduced to
their keys except for the harmless pagination options.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Callable
from urllib.parse import parse_qsl

from tutorial_kit.dates import to_json

# Query keys whose values are safe to show (everything else is kept as a key only).
_SHOWN_QUERY_KEYS = frozenset({"limit", "continuationToken", "quarantined", "since"})


@dataclass
class RequestRecord:
    seq: int
    time: str  # when the request arrived, Date.toJSON() form (mock clock)
    method: str | None  # API method name (createTask), None for non-API routes
    http_method: str
    route: str  # the path as requested (percent-encoded), no query string
    query: dict[str, str]  # redacted
    status: int
    latency_ms: float
    client_id: str | None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        return {"seq": d["seq"], "time": d["time"], "method": d["method"],
                "httpMethod": d["http_method"], "route": d["route"], "query": d["query"],
                "status": d["status"], "latencyMs": d["latency_ms"], "clientId": d["client_id"]}


def redact_query(query_string: str) -> dict[str, str]:
    """Keys of a raw query string, with values only for harmless keys; bewits never appear."""
    out: dict[str, str] = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        if key == "bewit":
            out[key] = "<redacted>"
        else:
            out[key] = value if key in _SHOWN_QUERY_KEYS else "<redacted>"
    return out


class RequestLog:
    """A thread-safe ring of the last ``maxlen`` requests.

    ``record`` runs on every request, so it keeps the facts as they come and formats them
    when someone reads the log (:meth:`since`); only a query string is redacted at once, so
    no bewit is ever held.
    """

    def __init__(self, maxlen: int = 2000) -> None:
        self._records: deque[tuple[Any, ...]] = deque(maxlen=maxlen)
        self._seq = 0
        self._lock = threading.Lock()
        #: Called with (time, method, http_method, status, client_id) of every request, for
        #: readers that keep more than the ring (the classroom dashboard); quick, never raising.
        self.listeners: list[Callable[..., None]] = []

    def record(self, *, time: datetime | str, method: str | None, http_method: str, route: str,
               query_string: str = "", status: int, latency_ms: float,
               client_id: str | None) -> None:
        """Append one request (``time``: when it arrived, on the mock's clock)."""
        with self._lock:
            self._seq += 1
            query = redact_query(query_string) if query_string else {}
            self._records.append((self._seq, time, method, http_method, route, query,
                                  status, latency_ms, client_id))
        for listener in self.listeners:
            listener(time, method, http_method, status, client_id)

    def since(self, seq: int = 0, limit: int | None = None) -> list[RequestRecord]:
        """Records with ``seq`` greater than the given one, oldest first, at most ``limit``."""
        with self._lock:
            raw = [r for r in self._records if r[0] > seq]
        if limit is not None:
            raw = raw[:limit]
        return [RequestRecord(n, to_json(when) if isinstance(when, datetime) else when, method,
                              http_method, route.split("?", 1)[0], dict(query), status,
                              round(latency, 3), client_id)
                for n, when, method, http_method, route, query, status, latency, client_id
                in raw]

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._seq

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
