"""Compare a replayed, normalized trace with its golden trace, step by step.

Exact on statuses, error codes, every status/run field, routing keys, message order and step
attribution. Loose only where the golden-trace README allows it:

- error ``message`` texts (Ajv wording, the footer): any non-empty string that names the same
  ``T<n>`` ids;
- ``<storage>`` URLs: any storage URL of the implementation (``<storage>…`` or ``<rootUrl>…``),
  path and query names free, but signed (has a query) exactly when the golden one is;
- the ``content-type`` charset: the media type must match;
- the ``|+00:00`` format tag: present or absent on either side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .normalize import compact_like

_PG_TAG = re.compile(r"\|\+00:00>")
_IDS = re.compile(r"(?<![A-Za-z0-9_-])[TU]\d+(?![A-Za-z0-9_-])")


@dataclass(frozen=True)
class Mismatch:
    step: int | str
    path: str
    expected: Any
    got: Any
    call: str = ""

    def __str__(self) -> str:
        where = f"step {self.step}" + (f" ({self.call})" if self.call else "")
        return f"{where} {self.path}: expected {_short(self.expected)}, got {_short(self.got)}"


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def media_type(value: Any) -> Any:
    return value.split(";")[0].strip().lower() if isinstance(value, str) else value


def _is_storage_url(text: str) -> bool:
    return text.startswith("<storage>") or text.startswith("<rootUrl>")


def _is_error_envelope(obj: Any) -> bool:
    return isinstance(obj, dict) and {"code", "message", "requestInfo"} <= set(obj)


def compare_values(expected: Any, got: Any, path: str, out: list[tuple[str, Any, Any]],
                   *, loose_message: bool = False) -> None:
    """Append (path, expected, got) for every difference."""
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in sorted(set(expected) | set(got)):
            sub = f"{path}.{key}"
            if key not in got:
                out.append((sub, expected[key], "<missing>"))
            elif key not in expected:
                out.append((sub, "<absent>", got[key]))
            else:
                compare_values(expected[key], got[key], sub, out,
                               loose_message=key == "message" and _is_error_envelope(expected))
        return
    if isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            out.append((f"{path}.length", len(expected), len(got)))
        for i, (e, g) in enumerate(zip(expected, got)):
            compare_values(e, g, f"{path}[{i}]", out)
        return
    if isinstance(expected, str) and isinstance(got, str):
        if loose_message:
            missing = set(_IDS.findall(expected)) - set(_IDS.findall(got))
            if not got.strip() or missing:
                out.append((path, expected, got))
            return
        if expected.startswith("<storage>"):
            if not _is_storage_url(got) or ("?" in expected) != ("?" in got):
                out.append((path, expected, got))
            return
        if _PG_TAG.sub(">", expected) != _PG_TAG.sub(">", got):
            out.append((path, expected, got))
        return
    if type(expected) is not type(got) or expected != got:
        out.append((path, expected, got))


def _messages(golden: list[dict[str, Any]], got: list[dict[str, Any]], unordered: bool) -> list[dict[str, Any]]:
    shaped = []
    for message in got:
        message = dict(message)
        if not message.get("cc"):
            message.pop("cc", None)  # the traces keep cc only when there are some
        shaped.append(message)
    if golden and all("payload" not in m for m in golden):  # a compact step
        shaped = [{k: v for k, v in m.items() if k != "payload"} for m in shaped]
    if unordered:
        shaped.sort(key=lambda m: (m.get("exchange", ""), m.get("routingKey", "")))
    return shaped


def compare_step(golden: dict[str, Any], got: dict[str, Any]) -> list[Mismatch]:
    found: list[tuple[str, Any, Any]] = []
    if got.get("pollTimedOut"):
        found.append(("poll", f"until {golden.get('poll', {}).get('until')!r}", "timed out"))
    if golden["status"] != got["status"]:
        found.append(("status", golden["status"], got["status"]))
    gh, oh = golden.get("headers", {}), got.get("headers", {})
    for name in sorted(set(gh) | set(oh)):
        e, g = gh.get(name, "<absent>"), oh.get(name, "<absent>")
        if name == "content-type":
            if media_type(e) != media_type(g):
                found.append((f"headers.{name}", e, g))
        else:
            compare_values(e, g, f"headers.{name}", found)
    if "body" in golden or "body" in got:
        if "body" not in got:
            found.append(("body", golden["body"], "<no body>"))
        elif "body" not in golden:
            found.append(("body", "<no body>", got["body"]))
        else:
            compare_values(golden["body"], compact_like(golden["body"], got["body"]), "body", found)
        # The 303's Location and body url are one URL; a loose comparison must not hide a split.
        body = got.get("body")
        if (isinstance(golden.get("body"), dict) and "location" in gh
                and golden["body"].get("url") == gh["location"] and isinstance(body, dict)
                and body.get("url") != oh.get("location")):
            found.append(("headers.location == body.url", body.get("url"), oh.get("location")))
    expected_messages = golden.get("messages", [])
    got_messages = _messages(expected_messages, got.get("messages", []), bool(golden.get("messagesUnordered")))
    compare_values(expected_messages, got_messages, "messages", found)
    return [Mismatch(golden["step"], path, e, g, golden.get("call", "")) for path, e, g in found]


def compare_trace(golden: dict[str, Any], steps: list[dict[str, Any]],
                  trailing: list[dict[str, Any]] | None = None) -> list[Mismatch]:
    """Every mismatch, in step order (the first one is the one to fix first)."""
    mismatches: list[Mismatch] = []
    for golden_step, got_step in zip(golden["steps"], steps):
        mismatches.extend(compare_step(golden_step, got_step))
    if trailing is not None and len(steps) == len(golden["steps"]):
        found: list[tuple[str, Any, Any]] = []
        compare_values(golden.get("trailingMessages", []), _messages([], trailing, False),
                       "trailingMessages", found)
        mismatches.extend(Mismatch("end", p, e, g) for p, e, g in found)
    return mismatches
