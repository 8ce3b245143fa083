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

Hawk is verified here rather than with ``mohawk.Receiver`` because the key of a temporary client
is derived from the certificate inside ``ext``, and the MAC must cover the raw target and the
Host header exactly as received; both are awkward to feed through mohawk's URL-based API.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import scopes as _scopes
from tutorial_kit.mock.model.errors import QueueError

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

#: Hawk's allowance for the difference between the client's clock and ours.
TIMESTAMP_SKEW = 60.0
#: The auth service's allowance on a certificate's start and expiry.
CERTIFICATE_SKEW_MS = 5 * 60 * 1000
#: Temporary credentials may not last longer than this.
CERTIFICATE_MAX_MS = 31 * 24 * 3600 * 1000


@dataclass(frozen=True)
class Client:
    """A permanent client the mock knows."""

    client_id: str
    access_token: str
    scopes: tuple[str, ...]


def make_clients(config: Mapping[str, Any] | None) -> dict[str, Client]:
    """Check and convert ``{clientId: {accessToken, scopes}}`` (or :class:`Client` values)."""
    clients: dict[str, Client] = {}
    for client_id, spec in (config or {}).items():
        if isinstance(spec, Client):
            clients[client_id] = spec
            continue
        if not isinstance(spec, Mapping):
            raise ValueError(f"client {client_id!r}: expected {{accessToken, scopes}}, got {spec!r}")
        token = spec.get("accessToken")
        if not isinstance(token, str) or not token:
            raise ValueError(f"client {client_id!r} needs a non-empty string accessToken")
        scope_list = spec.get("scopes", [])
        if not isinstance(scope_list, (list, tuple)) or not all(isinstance(s, str) for s in scope_list):
            raise ValueError(f"client {client_id!r}: scopes must be a list of strings")
        clients[client_id] = Client(client_id, token, tuple(scope_list))
    return clients


def new_access_token() -> str:
    """A random 44-character URL-safe token, the shape Taskcluster's tokens have."""
    return secrets.token_urlsafe(33)


# -- the caller -----------------------------------------------------------------------------

class Caller:
    """An authenticated (or anonymous) caller; implements ``call.Caller``.

    When authentication failed, the caller carries the error and raises it as soon as a scope is
    checked. That mirrors the real service, where a bad signature only matters once the method
    asks for scopes (``ping`` with a bad signature still answers).
    """

    def __init__(self, client_id: str | None, scopes: Iterable[str], *,
                 error: QueueError | None = None) -> None:
        self.client_id = client_id
        self.scopes: tuple[str, ...] = tuple(_scopes.normalize_scopes(scopes))
        self._held = _scopes.ScopeSet(self.scopes)
        self.error = error

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


def auth_failed(reason: str) -> QueueError:
    """401 with ``www-authenticate: hawk``, worded like the real service (``Unauthorized: Bad mac``)."""
    return QueueError("AuthenticationFailed", f"Unauthorized: {reason}",
                      headers={"www-authenticate": "hawk"})


# -- temporary credentials ------------------------------------------------------------------

def _ms(value: datetime | int | float) -> int:
    if isinstance(value, datetime):
        return int(round(value.timestamp() * 1000))
    return int(value)


def _b64url_nopad(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _certificate_text(cert: Mapping[str, Any], client_id: str | None,
                      trailing_newline: bool = False) -> str:
    lines = [f"version:{cert['version']}"]
    if cert.get("issuer"):
        lines += [f"clientId:{client_id}", f"issuer:{cert['issuer']}"]
    lines += [f"seed:{cert['seed']}", f"start:{cert['start']}", f"expiry:{cert['expiry']}",
              "scopes:"]
    lines += list(cert["scopes"])
    text = "\n".join(lines)
    # With no scopes the JS client signs "scopes:\n" and the Python client "scopes:".
    return text + "\n" if trailing_newline else text


def _sign(key: str, text: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), text.encode(), hashlib.sha256).digest()).decode()


def temporary_access_token(issuer_access_token: str, seed: str) -> str:
    """URL-safe base64 (no padding) of HMAC-SHA256(issuer's token, seed)."""
    return _b64url_nopad(hmac.new(issuer_access_token.encode(), seed.encode(), hashlib.sha256).digest())


def issue_temporary_credentials(issuer_client_id: str, issuer_access_token: str,
                                client_id: str | None, scopes: Iterable[str],
                                start: datetime | int | float,
                                expiry: datetime | int | float) -> dict[str, str]:
    """Mint temporary credentials ``{clientId, accessToken, certificate}``.

    ``start``/``expiry`` are datetimes or milliseconds since the epoch. With a ``client_id`` the
    credentials are *named* (the certificate names its issuer); with None they act under the
    issuer's own clientId.
    """
    scope_list = list(scopes)
    if not all(isinstance(s, str) for s in scope_list):
        raise ValueError("scopes must be strings")
    named = client_id is not None and client_id != issuer_client_id
    cert: dict[str, Any] = {
        "version": 1,
        "scopes": scope_list,
        "start": _ms(start),
        "expiry": _ms(expiry),
        "seed": _b64url_nopad(secrets.token_bytes(33)),  # 44 characters
    }
    if named:
        cert["issuer"] = issuer_client_id
    final_id = client_id if named else issuer_client_id
    cert["signature"] = _sign(issuer_access_token, _certificate_text(cert, final_id))
    return {
        "clientId": final_id,
        "accessToken": temporary_access_token(issuer_access_token, cert["seed"]),
        "certificate": json.dumps(cert, separators=(",", ":")),
    }


# -- Hawk -----------------------------------------------------------------------------------

_ATTR = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
_BEWIT_IN_QUERY = re.compile(r"(?:^|&)bewit=([^&]*)")


def parse_hawk_header(header: str) -> dict[str, str]:
    """The attributes of ``Hawk id="…", ts="…", …``; raises QueueError 401 when malformed."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "hawk":
        raise auth_failed("Unknown authorization scheme (only Hawk is accepted)")
    attrs: dict[str, str] = {}
    for m in _ATTR.finditer(rest):
        if m.group(1) in attrs:
            raise auth_failed(f"Duplicate attribute: {m.group(1)}")
        attrs[m.group(1)] = m.group(2)
    leftover = _ATTR.sub("", rest).replace(",", "").strip()
    if leftover:
        raise auth_failed("Bad header format")
    missing = [k for k in ("id", "ts", "nonce", "mac") if not attrs.get(k)]
    if missing:
        raise auth_failed("Missing attributes: " + ", ".join(missing))
    return attrs


def split_host(host_header: str | None, scheme: str) -> tuple[str, int]:
    """``host[:port]`` (IPv6 in brackets) -> (lower-case host, port), the default port if none."""
    default = 443 if scheme == "https" else 80
    if not host_header:
        return "", default
    host_header = host_header.strip()
    if host_header.startswith("["):
        end = host_header.find("]")
        host, rest = host_header[: end + 1], host_header[end + 1:]
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = host_header.partition(":")
    try:
        return host.lower(), int(port) if port else default
    except ValueError:
        return host.lower(), default


def payload_hash(body: bytes, content_type: str | None) -> str:
    """Hawk's payload hash: sha256 over ``hawk.1.payload\\n<mime type>\\n<body>\\n``."""
    mime = (content_type or "").split(";")[0].strip().lower()
    h = hashlib.sha256()
    h.update(b"hawk.1.payload\n" + mime.encode() + b"\n" + body + b"\n")
    return base64.b64encode(h.digest()).decode()


def hawk_mac(key: str, kind: str, ts: str, nonce: str, method: str, resource: str, host: str,
             port: int, hash_: str, ext: str) -> str:
    """Hawk 1 MAC (sha256, standard base64) over the normalized request string."""
    ext = ext.replace("\\", "\\\\").replace("\n", "\\n")
    text = f"hawk.1.{kind}\n{ts}\n{nonce}\n{method.upper()}\n{resource}\n{host}\n{port}\n{hash_}\n{ext}\n"
    return base64.b64encode(hmac.new(key.encode(), text.encode(), hashlib.sha256).digest()).decode()


def decode_ext(ext: str) -> dict[str, Any]:
    """``ext``: standard or URL-safe base64, padded or not, of a JSON object; '' means {}."""
    if not ext:
        return {}
    try:
        padded = ext.replace("-", "+").replace("_", "/")
        padded += "=" * (-len(padded) % 4)
        value = json.loads(base64.b64decode(padded, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise auth_failed("Failed to parse ext") from None
    if not isinstance(value, dict):
        raise auth_failed("ext must be a JSON object")
    return value


def split_bewit(query_string: str) -> tuple[str, str | None]:
    """Remove ``bewit`` from a raw query string: (query without it, bewit or None).

    The bewit must be the last parameter (clients append it after signing the URL); one
    elsewhere is refused, because the client's MAC would then not cover the same URL.
    """
    m = _BEWIT_IN_QUERY.search(query_string)
    if m is None:
        return query_string, None
    if m.end() != len(query_string):
        raise auth_failed("bewit must be the last query-string parameter")
    rest = query_string[: m.start()]
    return rest, m.group(1)


class NonceCache:
    """Remembers (id, nonce, ts) triples long enough to refuse replays, bounded in size."""

    def __init__(self, ttl: float = 2 * TIMESTAMP_SKEW, maxlen: int = 100_000) -> None:
        self._ttl = ttl
        self._maxlen = maxlen
        self._seen: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()

    def check_and_add(self, key: tuple[str, str, str], now: float) -> bool:
        """True if the key is new (and remember it); False for a replay."""
        with self._lock:
            if len(self._seen) >= self._maxlen:
                self._purge(now)
            if key in self._seen and self._seen[key] > now:
                return False
            self._seen[key] = now + self._ttl
            return True

    def _purge(self, now: float) -> None:
        self._seen = {k: v for k, v in self._seen.items() if v > now}
        if len(self._seen) >= self._maxlen:  # still full of fresh nonces: drop the oldest half
            keep = sorted(self._seen.items(), key=lambda kv: kv[1])[len(self._seen) // 2:]
            self._seen = dict(keep)


@dataclass
class HawkRequest:
    """The parts of an HTTP request Hawk covers."""

    method: str
    path: str  # raw, still percent-encoded
    query: str  # raw query string, without '?' (bewit included, if any)
    host: str | None  # the Host header
    scheme: str = "http"
    authorization: str | None = None
    body: bytes = b""
    content_type: str | None = None


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

    def add_client(self, client_id: str, access_token: str, scopes: Iterable[str]) -> None:
        self.clients[client_id] = Client(client_id, access_token, tuple(scopes))

    def anonymous(self) -> Caller:
        # A caller holds no per-request state, so every anonymous request can share one.
        cached = getattr(self, "_anonymous", None)
        if cached is None or cached[0] is not self.anonymous_scopes:
            cached = self._anonymous = (self.anonymous_scopes, Caller(None, self.anonymous_scopes))
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
            client_id, key, scope_list = self._temporary(hawk_id, certificate)
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

    def _temporary(self, hawk_id: str, certificate: Any) -> tuple[str, str, list[str]]:
        if isinstance(certificate, str):
            try:
                certificate = json.loads(certificate)
            except ValueError:
                raise auth_failed("ext.certificate is not valid JSON") from None
        if not isinstance(certificate, dict):
            raise auth_failed("ext.certificate must be a JSON object")
        cert = certificate
        if cert.get("version") != 1:
            raise auth_failed("ext.certificate.version must be 1")
        for name, kind in (("seed", str), ("signature", str), ("scopes", list)):
            if not isinstance(cert.get(name), kind):
                raise auth_failed(f"ext.certificate.{name} is missing or of the wrong type")
        for name in ("start", "expiry"):
            if not isinstance(cert.get(name), (int, float)) or isinstance(cert.get(name), bool):
                raise auth_failed(f"ext.certificate.{name} must be a number (ms since the epoch)")
        if len(cert["seed"]) != 44:
            raise auth_failed("ext.certificate.seed must be 44 characters")
        if not all(isinstance(s, str) for s in cert["scopes"]):
            raise auth_failed("ext.certificate.scopes must be strings")
        issuer_id = cert.get("issuer") or hawk_id
        if cert.get("issuer") and issuer_id == hawk_id:
            raise auth_failed("ext.certificate.issuer must differ from the temporary clientId")
        issuer = self.clients.get(issuer_id)
        if issuer is None:
            raise auth_failed(f"ext.certificate issuer {issuer_id!r} is unknown")
        valid = [_sign(issuer.access_token, _certificate_text(cert, hawk_id, trailing))
                 for trailing in (False, True)]
        if not any(hmac.compare_digest(v, cert["signature"]) for v in valid):
            raise auth_failed("ext.certificate.signature is not valid")
        now_ms = self.cert_now() * 1000
        if cert["start"] > now_ms + CERTIFICATE_SKEW_MS:
            raise auth_failed("ext.certificate.start > now")
        if cert["expiry"] < now_ms - CERTIFICATE_SKEW_MS:
            raise auth_failed("ext.certificate.expiry < now")
        if cert["expiry"] - cert["start"] > CERTIFICATE_MAX_MS:
            raise auth_failed("ext.certificate cannot last longer than 31 days")
        if cert.get("issuer") and not _scopes.has_scope(issuer.scopes, f"auth:create-client:{hawk_id}"):
            raise auth_failed(f"ext.certificate issuer {issuer_id} may not create client {hawk_id}")
        key = temporary_access_token(issuer.access_token, cert["seed"])
        return hawk_id, key, _scopes.intersect_scopes(cert["scopes"], issuer.scopes)
