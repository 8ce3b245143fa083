"""The clients a mock knows and the temporary credentials it issues and accepts.

Permanent clients are ``{clientId: {accessToken, scopes}}``; temporary credentials (those
``claimWork`` hands out) carry a certificate signed with the issuer's token, and their access
token is derived from the issuer's token and the certificate's seed, as Taskcluster's auth
service does it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import scopes as _scopes
from .hawk import auth_failed

__all__ = ["Client", "make_clients", "new_access_token", "issue_temporary_credentials",
           "temporary_access_token", "check_certificate"]

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


def check_certificate(hawk_id: str, certificate: Any, clients: Mapping[str, Client],
                      now_ms: float) -> tuple[str, str, list[str]]:
    """(clientId, Hawk key, scopes) of temporary credentials: ``certificate`` (``ext``'s, JSON
    text or an object) checked as the auth service does, at ``now_ms`` (ms since the epoch).
    Raises QueueError 401 for anything wrong with it."""
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
    issuer = clients.get(issuer_id)
    if issuer is None:
        raise auth_failed(f"ext.certificate issuer {issuer_id!r} is unknown")
    valid = [_sign(issuer.access_token, _certificate_text(cert, hawk_id, trailing))
             for trailing in (False, True)]
    if not any(hmac.compare_digest(v, cert["signature"]) for v in valid):
        raise auth_failed("ext.certificate.signature is not valid")
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
