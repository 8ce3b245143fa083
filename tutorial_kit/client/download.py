"""Where downloaded artifact bytes go (memory, a path, or a file object) and progress reports.

The HTTP loops live in ``sync.py`` and ``aio.py``; this module holds what they share.
"""

from __future__ import annotations

import io
import os
from typing import Any, Callable

import httpx

from .errors import TaskclusterError

DEFAULT_CHUNK_SIZE = 64 * 1024


class Sink:
    """The destination of one download: ``None`` (collect bytes), a path, or a binary file
    object. A retry may restart it only while nothing was written to a caller's file object."""

    def __init__(self, file: Any):
        if file is not None and not isinstance(file, (str, os.PathLike)) and not hasattr(file, "write"):
            raise TaskclusterError(
                f"file must be a path or a binary file object, got {type(file).__name__}",
                code="InvalidArgument")
        self._file = file
        self._out: Any = None
        self.written = 0

    @property
    def can_restart(self) -> bool:
        return self.written == 0 or not hasattr(self._file, "write")

    def open(self) -> None:
        """(Re)start writing from the beginning."""
        self.close()
        self.written = 0
        if self._file is None:
            self._out = io.BytesIO()
        elif isinstance(self._file, (str, os.PathLike)):
            self._out = open(self._file, "wb")
        else:
            self._out = self._file

    def write(self, chunk: bytes) -> None:
        self._out.write(chunk)
        self.written += len(chunk)

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


def report(progress: Callable[[int, int | None], Any] | None, received: int,
           total: int | None) -> None:
    if progress is not None:
        progress(received, total)


def unexpected_redirect(response: httpx.Response, method: str) -> TaskclusterError:
    """A 3xx that httpx did not follow (no usable Location)."""
    return TaskclusterError(
        f"{method} answered {response.status_code} without a usable Location header",
        status_code=response.status_code, code="InvalidResponse", method=method,
        url=str(response.url))


def too_many_redirects(exc: Exception, method: str, url: str) -> TaskclusterError:
    return TaskclusterError(f"{method}: too many redirects while downloading ({exc})",
                            code="TooManyRedirects", method=method, url=url)
