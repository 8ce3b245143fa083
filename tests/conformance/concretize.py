"""Turn normalized golden values back into concrete ones (the inverse of ``normalize``).

The replayer uses it to rebuild each step's arguments, payload and query; the normalizer's own
test uses it on whole traces (bodies and messages too) to check the round trip.
"""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any, Callable

from . import timestamps as ts

PLACEHOLDER_INSTANT_RE = re.compile(r"<(?P<base>now|step(?P<step>\d+))(?P<offset>(?:[+-](?:\d+[dhms])+)*)(?P<tag>\|[^<>]+)?>")
SYMBOL_RE = re.compile(r"(?<![A-Za-z0-9_-])(?P<kind>[TU])(?P<n>\d+)(?![A-Za-z0-9_-])")
# ``golden`` as a provisionerId: a whole word before ``/`` or ``.`` (a task queue, a routing-key
# word) or the whole string; not "golden-wg", "golden@example.com", ".../golden" or prose.
GOLDEN_PROV_RE = re.compile(r"(?<![A-Za-z0-9_/@-])golden(?![A-Za-z0-9_@-])(?=[/.]|\Z)")


def slugid(prefix: str = "") -> str:
    """A fresh v4 slugid; ``prefix`` replaces its first characters (to control sort order)."""
    raw = uuid.uuid4().bytes
    slug = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    if prefix:
        slug = prefix + slug[len(prefix):]
    return slug


def ordered_slugid(n: int) -> str:
    """A fresh slugid for ``T<n>`` that sorts in number order (``a…`` for 1, ``b…`` for 2, …)."""
    n -= 1
    letters = "abcdefghijklmnopqrstuvwxyz"
    prefix = letters[n % 26] if n < 26 else "z" + letters[(n - 26) % 26]
    return slugid(prefix)


class Concretizer:
    """Maps placeholders to concrete values, consistently within one scenario."""

    def __init__(self, *, t0_us: int, provisioner_id: str, root_url: str,
                 storage_origin: str = "http://storage.invalid",
                 root_client_id: str = "static/tutorial-kit/root",
                 new_task_id: Callable[[int], str] = ordered_slugid,
                 step_instant: Callable[[int, int, str], int] | None = None,
                 lookup: Callable[[str], str | None] | None = None):
        self.t0_us = t0_us
        self.provisioner_id = provisioner_id
        self.root_url = root_url.rstrip("/")
        self.storage_origin = storage_origin
        self.root_client_id = root_client_id
        self.new_task_id = new_task_id
        self.step_instant = step_instant  # (step, offset us, placeholder) -> us; for synthesis
        self.lookup = lookup  # symbol -> a value learned from a reply (an uploadId), if any
        self.ids: dict[str, str] = {}  # symbol -> concrete
        self.tokens: dict[str, str] = {}  # latest continuation token, by method
        self.instants: dict[str, int] = {}

    def id(self, symbol: str) -> str:
        learned = self.lookup(symbol) if self.lookup is not None else None
        if learned is not None:
            return learned
        if symbol not in self.ids:
            self.ids[symbol] = self.new_task_id(int(symbol[1:])) if symbol[0] == "T" else slugid()
        return self.ids[symbol]

    def instant(self, match: re.Match[str]) -> int:
        offset = ts.parse_offsets(match.group("offset") or "")
        if match.group("base") == "now":
            return self.t0_us + offset
        if self.step_instant is None:
            raise ValueError(f"a request cannot carry a step instant: {match.group(0)}")
        key = match.group(0).split("|")[0]
        if key not in self.instants:
            self.instants[key] = self.step_instant(int(match.group("step")), offset, key)
        return self.instants[key]

    def string(self, text: str, *, method: str | None = None) -> str:
        text = PLACEHOLDER_INSTANT_RE.sub(
            lambda m: ts.to_tagged(self.instant(m), (m.group("tag") or "")), text)
        text = SYMBOL_RE.sub(lambda m: self.id(m.group(0)), text)
        text = GOLDEN_PROV_RE.sub(self.provisioner_id, text)
        text = text.replace("<rootUrl>", self.root_url).replace("<storage>", self.storage_origin)
        text = text.replace("<clientId>", self.root_client_id)
        if "<continuationToken>" in text:
            token = self.tokens.get(method or "")
            if token is None:
                raise ValueError(f"no continuation token from an earlier {method} call")
            text = text.replace("<continuationToken>", token)
        return text

    def value(self, obj: Any, *, method: str | None = None) -> Any:
        if isinstance(obj, dict):
            return {k: self.value(v, method=method) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.value(v, method=method) for v in obj]
        if isinstance(obj, str):
            return self.string(obj, method=method)
        return obj
