"""The errors a Queue method can answer with, as the real service names them.

The model raises :class:`QueueError`; the HTTP layer turns it into Taskcluster's error envelope
(``{code, message, requestInfo}``) with the status that belongs to the code.
"""

from __future__ import annotations

from typing import Any

#: Taskcluster error code -> HTTP status, as the real service maps them.
STATUS_BY_CODE: dict[str, int] = {
    "MalformedPayload": 400,
    "InvalidRequestArguments": 400,
    "InputValidationError": 400,
    "InputError": 400,
    "AuthenticationFailed": 401,
    "InsufficientScopes": 403,
    "ResourceNotFound": 404,
    "RequestConflict": 409,
    "ResourceExpired": 410,
    "InputTooLarge": 413,
    "TooManyRequests": 429,
    "InternalServerError": 500,
    "NotImplemented": 501,
}


class QueueError(Exception):
    """A Queue method refused the request.

    ``message`` is the human sentence without the footer; the HTTP layer appends the
    ``---``/method/errorCode/statusCode/time footer the real service adds.
    """

    def __init__(self, code: str, message: str, *, status: int | None = None,
                 headers: dict[str, str] | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        if code not in STATUS_BY_CODE and status is None:
            raise ValueError(f"unknown error code {code!r} needs an explicit status")
        self.code = code
        self.message = message
        self.status = status if status is not None else STATUS_BY_CODE[code]
        self.headers = dict(headers or {})
        self.details = dict(details or {})

    def __repr__(self) -> str:
        return f"QueueError({self.code!r}, {self.message!r}, status={self.status})"


def not_found(what: str) -> QueueError:
    return QueueError("ResourceNotFound", what)


def conflict(message: str) -> QueueError:
    return QueueError("RequestConflict", message)


def input_error(message: str) -> QueueError:
    return QueueError("InputError", message)
