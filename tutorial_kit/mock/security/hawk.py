"""Hawk, the signature scheme of Taskcluster's API, as the mock verifies it: the header's
attributes, the host and port, the payload hash, the MAC over the normalised request, ``ext``,
bewits (signed URLs) and the nonces already seen.

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
import threading
from dataclasses import dataclass
from typing import Any

from tutorial_kit.mock.model.errors import QueueError

#: Hawk's allowance for the difference between the client's clock and ours.
TIMESTAMP_SKEW = 60.0


def auth_failed(reason: str) -> QueueError:
    """401 with ``www-authenticate: hawk``, worded like the real service (``Unauthorized: Bad mac``)."""
    return QueueError("AuthenticationFailed", f"Unauthorized: {reason}",
                      headers={"www-authenticate": "hawk"})


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
