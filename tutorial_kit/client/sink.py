"""Where ``Queue.downloadArtifact`` puts the bytes (memory, a path, or a file object), progress
reports, and what a finished download means. No I/O but the destination's own writes.

``sync.py`` and ``aio.py`` only open the stream and feed its chunks to a :class:`Sink`; what
the final answer means (the bytes, an error, an unfollowed redirect) is decided here, once.
"""

from __future__ import annotations

import io
import os
from typing import Any, Callable, Optional

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx

from .errors import TaskclusterError, error_from_response

DEFAULT_CHUNK_SIZE = 64 * 1024

Progress = Callable[[int, Optional[int]], Any]


class Sink:
    """The destination of one download: ``None`` (collect bytes), a path, or a binary file
    object. A retry may restart it only while nothing was written to a caller's file object."""

    def __init__(self, file: Any, progress: Progress | None = None):
        if file is not None and not isinstance(file, (str, os.PathLike)) and not hasattr(file, "write"):
            raise TaskclusterError(
                f"file must be a path or a binary file object, got {type(file).__name__}",
                code="InvalidArgument")
        self._file = file
        self._progress = progress
        self._out: Any = None
        self._total: int | None = None
        self.written = 0

    @property
    def can_restart(self) -> bool:
        return self.written == 0 or not hasattr(self._file, "write")

    def start(self, headers: httpx.Headers) -> None:
        """(Re)start writing from the beginning, for an answer with these headers."""
        self.close()
        self.written = 0
        self._total = content_length(headers)
        if self._file is None:
            self._out = io.BytesIO()
        elif isinstance(self._file, (str, os.PathLike)):
            self._out = open(self._file, "wb")
        else:
            self._out = self._file
        self._report()

    def write(self, chunk: bytes) -> None:
        self._out.write(chunk)
        self.written += len(chunk)
        self._report()

    def _report(self) -> None:
        if self._progress is not None:
            self._progress(self.written, self._total)

    def close(self) -> None:
        if self._out is not None and isinstance(self._file, (str, os.PathLike)):
            self._out.close()

    def result(self) -> bytes | int:
        """The bytes when collecting in memory, else the number of bytes written."""
        if self._file is None:
            return self._out.getvalue()
        return self.written


def content_length(headers: httpx.Headers) -> int | None:
    value = headers.get("content-length")
    # a compressed answer's Content-Length counts compressed bytes, not what we receive
    if value is None or not value.isdigit() or headers.get("content-encoding"):
        return None
    return int(value)


def wants_body(status: int) -> bool:
    """Only a 2xx carries the artifact; any other final answer is read whole, to explain it."""
    return status < 300


def finish(response: httpx.Response, sink: Sink, method: str) -> bytes | int:
    """The result of a download whose last answer was ``response``: the data, or the error."""
    status = response.status_code
    if status >= 400:
        raise error_from_response(status, response.content, reason_phrase=response.reason_phrase,
                                  method=method, url=str(response.url))
    if status >= 300:
        # a 3xx that httpx did not follow (no usable Location)
        raise TaskclusterError(
            f"{method} answered {status} without a usable Location header",
            status_code=status, code="InvalidResponse", method=method, url=str(response.url))
    return sink.result()


def too_many_redirects(exc: Exception, method: str, url: str) -> TaskclusterError:
    return TaskclusterError(f"{method}: too many redirects while downloading ({exc})",
                            code="TooManyRedirects", method=method, url=url)
