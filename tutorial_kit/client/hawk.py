"""Hawk 1 request signing: the ``Authorization`` header and the ``bewit`` of signed URLs.

Written to produce exactly what the official Python client sends (which uses mohawk): header
attributes in the order mac, hash, id, ts, nonce, ext; a payload hash on every request (of an
empty payload with an empty content type when there is no body); and ``ext`` as URL-safe
base64 of compact JSON, ``{}`` included.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from .options import Credentials

_ALGORITHM = hashlib.sha256


def make_ext(credentials: Credentials, authorized_scopes: tuple[str, ...] | None) -> str:
    """The ``ext`` value: URL-safe base64 (padding kept) of ``{certificate?, authorizedScopes?}``."""
    ext: dict[str, Any] = {}
    if credentials.certificate is not None:
        ext["certificate"] = credentials.certificate
    if authorized_scopes is not None:
        ext["authorizedScopes"] = list(authorized_scopes)
    raw = json.dumps(ext, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def payload_hash(body: bytes, content_type: str) -> str:
    """Hawk's payload hash: sha256 over ``hawk.1.payload\\n<type>\\n<body>\\n``, base64."""
    media_type = content_type.split(";")[0].strip().lower()
    digest = _ALGORITHM(b"hawk.1.payload\n" + media_type.encode() + b"\n" + body + b"\n").digest()
    return base64.b64encode(digest).decode("ascii")


def _target(url: str) -> tuple[str, str, str]:
    """(path?query as sent, host, port) of a URL; the port defaults by scheme."""
    parts = urlsplit(url)
    resource = parts.path + (f"?{parts.query}" if parts.query else "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return resource, (parts.hostname or ""), str(port)


def _mac(key: str, kind: str, ts: str, nonce: str, method: str, url: str, hash_: str,
         ext: str) -> str:
    resource, host, port = _target(url)
    normalized = "\n".join(
        [f"hawk.1.{kind}", ts, nonce, method.upper(), resource, host, port, hash_, ext, ""])
    digest = hmac.new(key.encode("ascii"), normalized.encode("utf-8"), _ALGORITHM).digest()
    return base64.b64encode(digest).decode("ascii")


def new_nonce() -> str:
    """Six URL-safe random characters, as mohawk makes them."""
    return base64.urlsafe_b64encode(secrets.token_bytes(6)).decode("ascii")[:6]


def authorization_header(credentials: Credentials, method: str, url: str, *, body: bytes = b"",
                         content_type: str = "", ext: str = "", ts: int | None = None,
                         nonce: str | None = None) -> str:
    """The ``Authorization: Hawk ...`` value for one request (``ts``/``nonce`` fixed for tests)."""
    ts_text = str(int(time.time()) if ts is None else ts)
    nonce = new_nonce() if nonce is None else nonce
    hash_ = payload_hash(body, content_type)
    mac = _mac(credentials.accessToken, "header", ts_text, nonce, method, url, hash_, ext)
    header = (f'Hawk mac="{mac}", hash="{hash_}", id="{credentials.clientId}", '
              f'ts="{ts_text}", nonce="{nonce}"')
    if ext:
        header += f', ext="{ext}"'
    return header


def bewit(credentials: Credentials, url: str, *, expires: int, ext: str = "") -> str:
    """The ``bewit`` query value signing a GET of ``url`` (without any bewit) until ``expires``
    (unix seconds): URL-safe base64, unpadded, of ``id\\exp\\mac\\ext``."""
    mac = _mac(credentials.accessToken, "bewit", str(expires), "", "GET", url, "", ext)
    inner = f"{credentials.clientId}\\{expires}\\{mac}\\{ext}".encode("ascii")
    return base64.urlsafe_b64encode(inner).decode("ascii").rstrip("=")
