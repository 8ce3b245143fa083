"""Client options, as the official clients spell them, and reading them from the environment."""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from .errors import TaskclusterConfigError

DEFAULT_MAX_RETRIES = 5
DEFAULT_TIMEOUT = 30.0  # seconds per attempt; the official sync client has none
DEFAULT_SIGNED_URL_EXPIRATION = 15 * 60

_KNOWN = ("rootUrl", "credentials", "authorizedScopes", "maxRetries", "timeout",
          "signedUrlExpiration")

_HOW_TO_SET_ROOT_URL = (
    "no rootUrl: tell the client which Queue to talk to. Either run "
    "`tutorial_kit.connect()` (starts or finds the local mock queue), or "
    "`export TASKCLUSTER_ROOT_URL=https://tc.example.com` before starting Python and use "
    "`Queue.fromEnv()`, or pass it: `Queue({'rootUrl': 'https://tc.example.com'})`."
)


def optionsFromEnvironment(defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Options from ``TASKCLUSTER_ROOT_URL``, ``TASKCLUSTER_CLIENT_ID``,
    ``TASKCLUSTER_ACCESS_TOKEN`` and ``TASKCLUSTER_CERTIFICATE``, over ``defaults``."""
    options: dict[str, Any] = copy.deepcopy(dict(defaults or {}))
    root_url = os.environ.get("TASKCLUSTER_ROOT_URL")
    if root_url:
        options["rootUrl"] = root_url.rstrip("/")
    credentials = dict(options.get("credentials") or {})
    for key, var in (("clientId", "TASKCLUSTER_CLIENT_ID"),
                     ("accessToken", "TASKCLUSTER_ACCESS_TOKEN"),
                     ("certificate", "TASKCLUSTER_CERTIFICATE")):
        value = os.environ.get(var)
        if value:
            credentials[key] = value
    if credentials:
        options["credentials"] = credentials
    return options


@dataclass(frozen=True)
class Credentials:
    clientId: str
    accessToken: str = field(repr=False)  # a notebook that shows its options must not leak it
    certificate: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Options:
    """Validated options of one client."""

    rootUrl: str
    credentials: Credentials | None = None
    authorizedScopes: tuple[str, ...] | None = None
    maxRetries: int = DEFAULT_MAX_RETRIES
    timeout: float | None = DEFAULT_TIMEOUT
    signedUrlExpiration: int = DEFAULT_SIGNED_URL_EXPIRATION
    extra: dict[str, Any] = field(default_factory=dict)

    # The official clients keep options in a dict; lessons write queue.options["rootUrl"].
    def __getitem__(self, key: str) -> Any:
        if key == "credentials":
            c = self.credentials
            if c is None:
                return {}
            out: dict[str, Any] = {"clientId": c.clientId, "accessToken": c.accessToken}
            if c.certificate is not None:
                out["certificate"] = json.dumps(c.certificate, separators=(",", ":"))
            return out
        if key == "authorizedScopes" and self.authorizedScopes is not None:
            return list(self.authorizedScopes)
        if key in _KNOWN and (key != "authorizedScopes"):
            return getattr(self, key)
        if key in self.extra:
            return self.extra[key]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


def _text(value: Any, what: str) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if not isinstance(value, str):
        raise TaskclusterConfigError(f"credentials.{what} must be a string, got {type(value).__name__}")
    try:
        value.encode("ascii")
    except UnicodeEncodeError:
        raise TaskclusterConfigError(f"credentials.{what} must be ASCII") from None
    return value


def _certificate(value: Any) -> dict[str, Any] | None:
    if value in (None, "", b""):
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise TaskclusterConfigError(
                f"credentials.certificate is not valid JSON ({exc}); pass the certificate "
                "string exactly as claimWork/reclaimTask returned it") from None
    if not isinstance(value, dict):
        raise TaskclusterConfigError("credentials.certificate must be a JSON object (or its string)")
    return value


def _credentials(value: Any) -> Credentials | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TaskclusterConfigError("credentials must be a dict with clientId and accessToken")
    client_id, token = value.get("clientId"), value.get("accessToken")
    if not client_id and not token:
        return None  # the official clients' default: no credentials, no Authorization header
    if not client_id or not token:
        missing = "accessToken" if client_id else "clientId"
        raise TaskclusterConfigError(
            f"credentials have no {missing}: give both clientId and accessToken (or neither, "
            "to call the Queue anonymously); from the environment that is "
            "TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN")
    return Credentials(_text(client_id, "clientId"), _text(token, "accessToken"),
                       _certificate(value.get("certificate")))


def make_options(options: Mapping[str, Any] | None = None, **keywords: Any) -> Options:
    """Merge a dict of options and keyword options (keywords win) and validate them."""
    if options is not None and not isinstance(options, Mapping):
        raise TaskclusterConfigError(
            "options must be a dict like {'rootUrl': ..., 'credentials': {...}}")
    merged = {**copy.deepcopy(dict(options or {})),
              **{k: v for k, v in keywords.items() if v is not None}}
    if merged.get("baseUrl"):
        raise TaskclusterConfigError("baseUrl is no longer used: pass rootUrl instead")
    root_url = merged.get("rootUrl")
    if not root_url:
        raise TaskclusterConfigError(_HOW_TO_SET_ROOT_URL)
    if not isinstance(root_url, str) or not root_url.startswith(("http://", "https://")):
        raise TaskclusterConfigError(
            f"rootUrl must be an http(s) URL such as https://tc.example.com, got {root_url!r}")
    scopes = merged.get("authorizedScopes")
    if scopes is not None:
        if isinstance(scopes, str) or not all(isinstance(s, str) for s in scopes):
            raise TaskclusterConfigError("authorizedScopes must be a list of scope strings")
        scopes = tuple(scopes)
    max_retries = merged.get("maxRetries", DEFAULT_MAX_RETRIES)
    if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
        raise TaskclusterConfigError(f"maxRetries must be an integer >= 0, got {max_retries!r}")
    timeout = merged.get("timeout", DEFAULT_TIMEOUT)
    if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
        raise TaskclusterConfigError(f"timeout must be a positive number of seconds, got {timeout!r}")
    expiration = merged.get("signedUrlExpiration", DEFAULT_SIGNED_URL_EXPIRATION)
    return Options(
        rootUrl=root_url.rstrip("/"),
        credentials=_credentials(merged.get("credentials")),
        authorizedScopes=scopes,
        maxRetries=max_retries,
        timeout=None if timeout is None else float(timeout),
        signedUrlExpiration=int(expiration),
        extra={k: v for k, v in merged.items() if k not in _KNOWN},
    )
