"""Who is calling: Hawk verification, clients, the anonymous role, temporary credentials.

The mock checks credentials the way a Taskcluster deployment does (the queue asks its auth
service; here it is done in process):

* a Hawk ``Authorization`` header, MAC'd over the raw request target exactly as sent (still
  percent-encoded), the host and port the client used, an optional payload ``hash`` and an
  ``ext`` in either base64 alphabet, within 60 s of clock skew, each nonce used once;
* or a ``bewit`` query parameter (a signed URL) that has not expired;
* ``ext.certificate`` carries temporary credentials (those ``claimWork`` hands out) and
  ``ext.authorizedScopes`` narrows what a call may do.

Every caller, signed or not, also holds the scopes of the ``anonymous`` role, which is what makes
task status, listings and ``public/`` artifacts readable without credentials.

:class:`Authenticator` decides who is calling; the wire format of Hawk is in ``hawk.py``, the
clients and temporary credentials in ``credentials.py``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tutorial_kit.mock.model.errors import QueueError

from . import scopes as _scopes
from .credentials import (Client, check_certificate, issue_temporary_credentials, make_clients,
                          new_access_token)
from .hawk import (TIMESTAMP_SKEW, HawkRequest, NonceCache, auth_failed, decode_ext, hawk_mac,
                   parse_hawk_header, payload_hash, split_bewit, split_host)

__all__ = ["ANONYMOUS_SCOPES", "Authenticator", "Caller", "insufficient_scopes",
           # the names callers have always imported from here
           "Client", "HawkRequest", "issue_temporary_credentials", "make_clients",
           "new_access_token"]

#: The queue part of a public deployment's ``anonymous`` role (golden-traces/README.md).
ANONYMOUS_SCOPES: tuple[str, ...] = (
    "queue:get-artifact:public/*",
    "queue:get-provisioner:*",
    "queue:get-task:*",
    "queue:get-worker-type:*",
    "queue:get-worker:*",
    "queue:list-artifacts:*",
    "queue:list-dependent-tasks:*",
    "queue:list-provisioners",
    "queue:list-task-group:*",
    "queue:list-worker-types:*",
    "queue:list-workers:*",
    "queue:pending-count:*",
    "queue:status:*",
)


# -- the caller -----------------------------------------------------------------------------

class Caller:
    """An authenticated (or anonymous) caller; implements ``call.Caller``.

    When authentication failed, the caller carries the error and raises it as soon as a scope is
    checked. That mirrors the real service, where a bad signature only matters once the method
    asks for scopes (``ping`` with a bad signature still answers).
    """

    def __init__(self, client_id: str | None, scopes: Iterable[str], *,
                 error: QueueError | None = None, shared: bool = False) -> None:
        self.client_id = client_id
        self.scopes: tuple[str, ...] = tuple(_scopes.normalize_scopes(scopes))
        self._held = _scopes.ScopeSet(self.scopes)
        self.error = error
        #: For a caller that serves many requests (the anonymous one): scope templates it holds
        #: whatever the parameters -> the parameter names (None: it depends on them), so a
        #: learner's anonymous poll checks ``queue:status:<taskId>`` without expanding it.
        #: The templates are the code's own (``api.ENTRIES``, the model's), so few.
        self._open: dict[str, tuple[str, ...] | None] | None = {} if shared else None

    @property
    def anonymous(self) -> bool:
        return self.client_id is None

    def check_authenticated(self) -> None:
        """Raise the authentication failure, if there was one."""
        if self.error is not None:
            raise self.error

    def satisfies(self, expression: Any, params: dict[str, Any]) -> bool:
        self.check_authenticated()
        if expression is None:
            return True
        return _scopes.satisfies(self._held, _scopes.expand(expression, params))

    def authorize(self, expression: Any, params: dict[str, Any]) -> None:
        """Raise QueueError('InsufficientScopes') unless the expression is satisfied."""
        self.check_authenticated()
        if expression is None:
            return
        if self._open is not None and isinstance(expression, str):
            try:
                names = self._open[expression]
            except KeyError:
                names = self._open[expression] = _scopes.granted_for_any_params(self._held,
                                                                                expression)
            if names is not None and _scopes.fills(names, params):
                return
        required = _scopes.expand(expression, params)
        missing = _scopes.unsatisfied(self._held, required)
        if missing is None:
            return
        raise insufficient_scopes(self.client_id, required, missing)

    def __repr__(self) -> str:
        state = f", error={self.error.message!r}" if self.error else ""
        return f"Caller({self.client_id!r}, {len(self.scopes)} scopes{state})"


def insufficient_scopes(client_id: str | None, required: Any, missing: Any) -> QueueError:
    """The 403 the real service answers, worded for a client or an anonymous caller."""
    fence = "```"
    if client_id is None:
        message = ("This request requires Taskcluster credentials that satisfy the following "
                   f"scope expression:\n\n{fence}\n{_scopes.format_expression(required)}\n{fence}")
    else:
        message = (f"Client ID {client_id} does not have sufficient scopes and is missing the "
                   f"following scopes:\n\n{fence}\n{_scopes.format_expression(missing)}\n{fence}\n\n"
                   "This request requires the client to satisfy the following scope expression:"
                   f"\n\n{fence}\n{_scopes.format_expression(required)}\n{fence}")
    return QueueError("InsufficientScopes", message)


class Authenticator:
    """Turns requests into :class:`Caller` objects.

    ``clients``: ``{clientId: {accessToken, scopes}}``. ``wall`` is the real time Hawk timestamps
    are compared with; ``cert_now`` the time certificates are checked against (the mock's
    clock, since ``claimWork`` dates its credentials by it).
    """

    def __init__(self, clients: Mapping[str, Any] | None = None, *,
                 anonymous_scopes: Iterable[str] = ANONYMOUS_SCOPES,
                 skew: float = TIMESTAMP_SKEW,
                 wall: Callable[[], float] = time.time,
                 cert_now: Callable[[], float] | None = None) -> None:
        self.clients = make_clients(clients)
        self.anonymous_scopes = tuple(anonymous_scopes)
        self.skew = skew
        self.wall = wall
        self.cert_now = cert_now or wall
        self.nonces = NonceCache(ttl=2 * skew)
        self._anonymous: tuple[tuple[str, ...], Caller] | None = None

    def add_client(self, client_id: str, access_token: str, scopes: Iterable[str]) -> None:
        self.clients[client_id] = Client(client_id, access_token, tuple(scopes))

    def anonymous(self) -> Caller:
        # A caller holds no per-request state, so every anonymous request can share one.
        cached = self._anonymous
        if cached is None or cached[0] is not self.anonymous_scopes:
            cached = self._anonymous = (self.anonymous_scopes,
                                        Caller(None, self.anonymous_scopes, shared=True))
        return cached[1]

    # -- entry point -----------------------------------------------------------------------
    def authenticate(self, request: HawkRequest) -> tuple[Caller, str]:
        """(caller, query string without the bewit). Raises QueueError 401 on bad credentials."""
        query, bewit = split_bewit(request.query)
        if bewit is not None and request.authorization:
            raise auth_failed("Multiple authentications (both a bewit and an Authorization header)")
        if bewit is not None:
            return self._bewit(request, query, bewit), query
        if not request.authorization:
            return self.anonymous(), query
        return self._header(request), query

    # -- header ----------------------------------------------------------------------------
    def _header(self, req: HawkRequest) -> Caller:
        attrs = parse_hawk_header(req.authorization or "")
        ext = attrs.get("ext", "")
        client_id, key, scopes = self._credentials(attrs["id"], decode_ext(ext))
        host, port = split_host(req.host, req.scheme)
        resource = req.path + ("?" + req.query if req.query else "")
        expected = hawk_mac(key, "header", attrs["ts"], attrs["nonce"], req.method, resource,
                            host, port, attrs.get("hash", ""), ext)
        if not hmac.compare_digest(expected, attrs["mac"]):
            raise auth_failed("Bad mac")
        if "hash" in attrs:
            # JS clients send no hash; when one is sent it must match the body.
            if not hmac.compare_digest(payload_hash(req.body, req.content_type), attrs["hash"]):
                raise auth_failed("Bad payload hash")
        now = self.wall()
        try:
            ts = float(attrs["ts"])
        except ValueError:
            raise auth_failed("Invalid timestamp") from None
        if abs(now - ts) > self.skew:
            raise auth_failed("Stale timestamp")
        if not self.nonces.check_and_add((attrs["id"], attrs["nonce"], attrs["ts"]), now):
            raise auth_failed("Invalid nonce")
        return Caller(client_id, list(scopes) + list(self.anonymous_scopes))

    # -- bewit -----------------------------------------------------------------------------
    def _bewit(self, req: HawkRequest, query: str, bewit: str) -> Caller:
        if req.method.upper() not in ("GET", "HEAD"):
            raise auth_failed("Bewit only allowed on GET requests")
        try:
            raw = base64.urlsafe_b64decode(bewit + "=" * (-len(bewit) % 4)).decode("ascii")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise auth_failed("Invalid bewit encoding") from None
        parts = raw.split("\\")
        if len(parts) != 4 or not all(parts[:3]):
            raise auth_failed("Invalid bewit structure")
        bewit_id, exp, mac, ext = parts
        client_id, key, scopes = self._credentials(bewit_id, decode_ext(ext))
        host, port = split_host(req.host, req.scheme)
        resource = req.path + ("?" + query if query else "")
        expected = hawk_mac(key, "bewit", exp, "", "GET", resource, host, port, "", ext)
        if not hmac.compare_digest(expected, mac):
            raise auth_failed("Bad mac")
        try:
            expires = float(exp)
        except ValueError:
            raise auth_failed("Invalid bewit expiry") from None
        if expires <= self.wall():
            raise auth_failed("Access expired")
        return Caller(client_id, list(scopes) + list(self.anonymous_scopes))

    # -- credentials -----------------------------------------------------------------------
    def _credentials(self, hawk_id: str, ext: Mapping[str, Any]) -> tuple[str, str, list[str]]:
        """(clientId, Hawk key, scopes) for the id and ext of a request."""
        certificate = ext.get("certificate")
        if certificate is not None:
            client_id, key, scope_list = check_certificate(
                hawk_id, certificate, self.clients, self.cert_now() * 1000)
        else:
            client = self.clients.get(hawk_id)
            if client is None:
                raise auth_failed(f"Unknown clientId {hawk_id!r}")
            client_id, key, scope_list = client.client_id, client.access_token, list(client.scopes)
        authorized = ext.get("authorizedScopes")
        if authorized is not None:
            if not isinstance(authorized, list) or not all(isinstance(s, str) for s in authorized):
                raise auth_failed("ext.authorizedScopes must be an array of strings")
            if not _scopes.satisfies(scope_list, {"AllOf": list(authorized)}):
                raise auth_failed("ext.authorizedScopes oversteps your scopes")
            scope_list = list(authorized)
        return client_id, key, scope_list
