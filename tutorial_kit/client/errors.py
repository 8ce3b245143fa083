"""The one error type the client raises, and how an HTTP answer becomes one.

Every failure surfaces as :class:`TaskclusterError` (or a subclass), carrying the server's
``code`` and ``message`` so a learner sees what the Queue said, not a traceback from httpx.
"""

from __future__ import annotations

import json
import pathlib
import traceback
from typing import Any, Callable
from urllib.parse import urlsplit

from .retry import RETRYABLE_ERRORS

# The real Queue appends a footer ("\n\n---\n\n* method: ...") to every message; str() leaves it
# out because the same facts are on the exception's attributes.
_FOOTER = "\n---\n"
_MAX_SUMMARY_LINES = 12


class TaskclusterError(Exception):
    """A Queue call failed.

    Attributes: ``status_code`` (HTTP status, or None when no answer came), ``code`` (the
    Taskcluster error code, e.g. ``ResourceNotFound``), ``message`` (the server's full
    message), ``requestInfo`` (the server's echo of the request, when sent), ``body`` (the
    parsed JSON body, or the raw text when it was not JSON), ``method`` (the API method name)
    and ``url``.
    """

    def __init__(self, message: str, *, status_code: int | None = None, code: str = "UnknownError",
                 requestInfo: Any = None, body: Any = None, method: str | None = None,
                 url: str | None = None):
        self.message = message
        self.status_code = status_code
        self.code = code
        self.requestInfo = requestInfo
        self.body = body
        self.method = method
        self.url = url
        super().__init__(self._summary())

    def _summary(self) -> str:
        status = "no response" if self.status_code is None else str(self.status_code)
        return f"{self.code} ({status}): {summarize_message(self.message)}"

    def __str__(self) -> str:
        return self._summary()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(code={self.code!r}, status_code={self.status_code!r}, "
                f"method={self.method!r})")

    def _render_traceback_(self) -> list[str]:
        """What IPython (a notebook) shows for an uncaught error: see :func:`render_traceback`."""
        return render_traceback(self)


class TaskclusterAuthError(TaskclusterError):
    """The Queue refused the credentials (401) or they lack a scope (403)."""


class TaskclusterConnectionError(TaskclusterError):
    """No answer from the Queue after all retries (refused, reset, timed out)."""


class TaskclusterConfigError(TaskclusterError, ValueError):
    """The client was configured wrongly (no rootUrl, half-set credentials, bad certificate)."""

    def __init__(self, message: str):
        super().__init__(message, code="ConfigurationError")

    def _summary(self) -> str:
        return self.message


class ArtifactError(TaskclusterError):
    """The artifact is an error artifact (424): the worker recorded why it could not upload it.

    ``reason`` is one of the Queue's reasons (e.g. ``file-missing-on-worker``) and ``message``
    the worker's explanation.
    """

    def __init__(self, reason: str, message: str, **kw: Any):
        self.reason = reason
        kw.setdefault("code", "ArtifactError")
        super().__init__(message, **kw)

    def _summary(self) -> str:
        return f"{self.code} ({self.status_code}): {self.reason}: {summarize_message(self.message)}"


# Frames from these folders are plumbing (the client's, httpx's, IPython's): a learner's
# traceback hides them, so an API error reads as the learner's line and the Queue's answer.
_HIDDEN_DIRS = tuple(str(p) for p in (pathlib.Path(__file__).resolve().parent.parent,))
_HIDDEN_PACKAGES = ("/httpx/", "/httpcore/", "/anyio/", "/IPython/core/", "/ipykernel/")


def _hidden(filename: str) -> bool:
    try:
        resolved = str(pathlib.Path(filename).resolve())
    except (OSError, ValueError):
        resolved = filename
    return resolved.startswith(_HIDDEN_DIRS) or any(p in resolved for p in _HIDDEN_PACKAGES)


def render_traceback(error: BaseException) -> list[str]:
    """The traceback of an API error as a notebook shows it (IPython's ``_render_traceback_``
    hook): the caller's own frames, none of tutorial_kit's or httpx's, then the error with the
    server's code and message. Chained causes (an httpx error under a connection error) are
    left out for the same reason; they stay on ``__cause__``."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if not _hidden(frame.filename)]
    lines: list[str] = []
    if frames:
        lines.append("Traceback (most recent call last; tutorial_kit's own frames hidden):")
        for entry in traceback.format_list(frames):
            lines.extend(entry.rstrip("\n").splitlines())
    lines.append(f"{type(error).__name__}: {error}")
    return lines


def summarize_message(message: Any) -> str:
    """The readable head of a Queue message: without the footer, at most a dozen lines."""
    text = "" if message is None else str(message)
    cut = text.find(_FOOTER)
    if cut != -1:
        text = text[:cut]
    lines = [line.rstrip() for line in text.strip().splitlines()]
    if len(lines) > _MAX_SUMMARY_LINES:
        lines = lines[:_MAX_SUMMARY_LINES] + ["..."]
    return "\n".join(lines) or "(no message)"


def _parse_body(content: bytes) -> tuple[Any, bool]:
    """(parsed JSON, True) or (text, False)."""
    try:
        return json.loads(content), True
    except (ValueError, UnicodeDecodeError):
        return content.decode("utf-8", "replace"), False


def error_from_response(status: int, content: bytes, *, reason_phrase: str = "",
                        method: str | None = None, url: str | None = None) -> TaskclusterError:
    """Turn an error answer (status >= 400) into the matching exception."""
    body, is_json = _parse_body(content)
    fields = dict(status_code=status, body=body, method=method, url=url)
    if isinstance(body, dict):
        if status == 424 and "reason" in body:
            return ArtifactError(str(body.get("reason")), str(body.get("message", "")), **fields)
        code = body.get("code") if isinstance(body.get("code"), str) else "UnknownError"
        message = body.get("message") or body.get("error") or reason_phrase or "Unknown Server Error"
        fields.update(code=code, requestInfo=body.get("requestInfo"))
    else:
        snippet = (body if not is_json else json.dumps(body)).strip()[:200]
        label = f"HTTP {status} {reason_phrase}".strip()
        message = f"{label}; the answer was not a Taskcluster error body" + (
            f": {snippet}" if snippet else " (empty body)")
        fields.update(code="UnknownError")
    cls = TaskclusterAuthError if status in (401, 403) else TaskclusterError
    return cls(str(message), **fields)


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.") or host.endswith(".localhost")


def connection_error(root_url: str, cause: BaseException, *, attempts: int,
                     method: str | None = None, url: str | None = None) -> TaskclusterConnectionError:
    """The error for a Queue that never answered, with advice that fits where it lives."""
    host = urlsplit(root_url).hostname or ""
    what = type(cause).__name__
    detail = str(cause) or what
    if _is_loopback(host):
        advice = (f"{root_url} is on this machine, so this is the local mock queue: it is not "
                  "running (or has stopped). Start it with `tutorial_kit.mock.start()` or "
                  "`tutorial-kit mock-queue serve`, or call `tutorial_kit.connect()` again.")
    else:
        advice = (f"{root_url} is a real Taskcluster deployment: check the network, and that "
                  "TASKCLUSTER_ROOT_URL is spelled right (e.g. https://tc.example.com, no /api).")
    message = (f"no answer from the Queue at {root_url} after {attempts} attempt(s) "
               f"({what}: {detail}). {advice}")
    err = TaskclusterConnectionError(message, code="ConnectionError", method=method, url=url)
    err.__cause__ = cause
    return err



def gave_up(root_url: str, *, method: str | None = None,
            url: str | None = None) -> Callable[[BaseException, int], BaseException]:
    """What a retry loop raises when it stops on an exception after ``attempts`` attempts: a
    failure with no answer becomes :func:`connection_error`; anything else stays as it is."""
    def error(exc: BaseException, attempts: int) -> BaseException:
        if isinstance(exc, RETRYABLE_ERRORS):
            return connection_error(root_url, exc, attempts=attempts, method=method, url=url)
        return exc
    return error


def data_gave_up(url: str) -> Callable[[BaseException, int], BaseException]:
    """:func:`gave_up` for the helpers' PUT or GET of an artifact's data at ``url``, which is
    wherever the data lives (storage), not the Queue."""
    def error(exc: BaseException, attempts: int) -> BaseException:
        if isinstance(exc, RETRYABLE_ERRORS):
            err = TaskclusterConnectionError(
                f"no answer from the data's storage at {url} after {attempts} attempt(s) "
                f"({type(exc).__name__}: {str(exc) or type(exc).__name__})",
                code="ConnectionError", url=url)
            err.__cause__ = exc
            return err
        return exc
    return error

class TaskclusterArtifactError(ArtifactError):
    """What the download helpers raise for an ``error`` artifact, named as the official client
    names it (``taskcluster.exceptions.TaskclusterArtifactError``): ``reason`` and ``message``
    are those the worker recorded."""

    def __init__(self, message: str, reason: str, **kw: Any):
        kw.setdefault("code", "TaskclusterArtifactError")
        super().__init__(reason, message, **kw)


class ObjectHashVerificationError(TaskclusterError):
    """Downloaded object data does not match the hashes the Object service holds for it."""

    def __init__(self, message: str, **kw: Any):
        kw.setdefault("code", "ObjectHashVerificationError")
        super().__init__(message, **kw)
