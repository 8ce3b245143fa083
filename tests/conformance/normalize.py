"""Normalize a concrete Queue trace the way the golden traces were normalized.

The rules are those of ``../shared/golden-traces/README.md`` ("Normalization"): slugids become
``T1``/``U1``…, the scenario's provisionerId becomes ``golden``, the rootUrl ``<rootUrl>`` and other
service-returned origins ``<storage>``, URL query strings are sorted with secrets redacted,
credentials, uuids and continuation tokens are masked, and every instant is rewritten relative to
t0 or to the step in which it happened.

A :class:`Normalizer` is stateful: it numbers ids and renders instants in order of first
appearance, so steps must be fed in order (:meth:`Normalizer.step`). A replayer may seed it with
the ids it chose (``ids=``) so that ``T<n>`` keeps the meaning the golden trace gives it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from . import timestamps as ts

SLUGID_RE = re.compile(
    r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]"
    r"(?![A-Za-z0-9_-])"
)
UUID_RE = re.compile(
    r"(?<![0-9A-Za-z])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"(?![0-9A-Za-z])"
)
URL_RE = re.compile(r"https?://[^\s\"'<>`]+")
UNTIL_RE = re.compile(r"/until/\d+")
#: Query parameters whose values are secrets or vary on every signature.
REDACTED_QUERY = frozenset({
    "X-Amz-Credential", "X-Amz-Date", "X-Amz-Signature", "X-Amz-Security-Token", "bewit",
    "Signature", "AWSAccessKeyId",
})
REDACTED_KEYS = frozenset({"accessToken", "certificate"})
#: The order in which a step's parts are read (ids are numbered in this order).
STEP_PARTS = ("auth", "args", "payload", "query", "requestHeaders", "data", "body", "headers")


def origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0].split('?', 1)[0]}"


@dataclass
class Setting:
    """What a normalizer must know about the run it normalizes."""

    root_url: str
    t0_us: int  # the scenario's time origin, whole seconds
    provisioner_id: str | None = None  # the fresh one that stands for ``golden``
    root_client_id: str | None = None
    kept_origins: set[str] = field(default_factory=set)  # origins the scenario itself supplied


class Normalizer:
    """Normalizes one scenario's values, step after step."""

    def __init__(self, setting: Setting, *, ids: dict[str, str] | None = None):
        self.setting = setting
        self.root_url = setting.root_url.rstrip("/")
        self.ids: dict[str, str] = dict(ids or {})  # concrete id -> symbol
        self._counts = {"T": 0, "U": 0}
        for symbol in self.ids.values():
            kind, number = symbol[0], int(symbol[1:])
            self._counts[kind] = max(self._counts[kind], number)
        self.client_instants: dict[int, str] = {}  # us -> label ("now+1d")
        self.rendered: dict[int, str] = {}  # us -> label, once rendered
        self.step_starts: list[tuple[int, int]] = []  # (step number, start us)
        self.current_step = 0
        self._prov_re = (
            re.compile(rf"(?<![A-Za-z0-9_-]){re.escape(setting.provisioner_id)}(?![A-Za-z0-9_-])")
            if setting.provisioner_id else None
        )
        self._client_re = (
            re.compile(rf"(?<![A-Za-z0-9_/-]){re.escape(setting.root_client_id)}(?![A-Za-z0-9_/-])")
            if setting.root_client_id else None
        )

    # -- set-up -------------------------------------------------------------------------------

    def add_client_instants(self, obj: Any) -> None:
        """Register every instant in ``obj`` (request payloads) as client-supplied."""
        for text in _strings(obj):
            for match in ts.TIMESTAMP_RE.finditer(text):
                us, _ = ts.parse(match)
                offset = us - self.setting.t0_us
                self.client_instants.setdefault(us, "now" + ("" if offset == 0 else ts.format_offset(offset)))

    def add_kept_origins(self, obj: Any) -> None:
        """URLs the scenario supplied (in request payloads) keep their origin."""
        for text in _strings(obj):
            for match in URL_RE.finditer(text):
                origin = origin_of(match.group(0))
                if not self._is_root(match.group(0)):
                    self.setting.kept_origins.add(origin)

    def begin_step(self, number: int, start_us: int) -> None:
        # Server instants are whole milliseconds: compare against the step start floored to ms.
        self.step_starts.append((number, start_us - start_us % 1000))
        self.current_step = number

    def symbol(self, concrete: str) -> str | None:
        return self.ids.get(concrete)

    def concrete(self, symbol: str) -> str | None:
        for value, sym in self.ids.items():
            if sym == symbol:
                return value
        return None

    # -- values -------------------------------------------------------------------------------

    def value(self, obj: Any, *, observed_us: int | None = None, key: str | None = None) -> Any:
        """A normalized copy of ``obj``; ``observed_us`` is when it was received."""
        if observed_us is None:
            observed_us = self.step_starts[-1][1] if self.step_starts else self.setting.t0_us
        # Received instants are compared at ms precision too (ceil, so "already happened" holds).
        observed_us = observed_us + (-observed_us % 1000)
        return self._walk(obj, key, observed_us)

    def _walk(self, obj: Any, key: str | None, observed: int) -> Any:
        if isinstance(obj, dict):
            return {k: self._walk(obj[k], k, observed) for k in sorted(obj)}
        if isinstance(obj, list):
            return [self._walk(item, key, observed) for item in obj]
        if isinstance(obj, str):
            return self.string(obj, key=key, observed_us=observed)
        return obj

    def string(self, text: str, *, key: str | None = None, observed_us: int = 0) -> str:
        if key in REDACTED_KEYS:
            return "<redacted>"
        if key == "continuationToken":
            return "<continuationToken>"
        text = URL_RE.sub(self._url, text)
        text = UNTIL_RE.sub("/until/<epoch>", text)
        if self._prov_re is not None:
            text = self._prov_re.sub("golden", text)
        if self._client_re is not None:
            text = self._client_re.sub("<clientId>", text)
        text = UUID_RE.sub("<uuid>", text)
        text = ts.TIMESTAMP_RE.sub(lambda m: self._instant(m, observed_us), text)
        return SLUGID_RE.sub(lambda m: self._id(m.group(0), upload=key == "uploadId"), text)

    def _id(self, concrete: str, *, upload: bool) -> str:
        symbol = self.ids.get(concrete)
        if symbol is None:
            kind = "U" if upload else "T"
            self._counts[kind] += 1
            symbol = self.ids[concrete] = f"{kind}{self._counts[kind]}"
        return symbol

    def _is_root(self, url: str) -> bool:
        return url == self.root_url or url.startswith(self.root_url + "/") or url.startswith(self.root_url + "?")

    def _url(self, match: re.Match[str]) -> str:
        url = match.group(0)
        stripped = url.rstrip(".,;:)")
        tail = url[len(stripped):]
        url = stripped
        if self._is_root(url):
            prefix, rest = "<rootUrl>", url[len(self.root_url):]
        else:
            origin = origin_of(url)
            prefix = origin if origin in self.setting.kept_origins else "<storage>"
            rest = url[len(origin):]
        path, sep, query = rest.partition("?")
        if sep:
            params = sorted(query.split("&"), key=lambda p: p.split("=", 1)[0])
            params = [
                f"{p.split('=', 1)[0]}=<redacted>" if p.split("=", 1)[0] in REDACTED_QUERY else p
                for p in params
            ]
            path += "?" + "&".join(params)
        return prefix + path + tail

    def _instant(self, match: re.Match[str], observed: int) -> str:
        us, tag = ts.parse(match)
        return f"<{self.render_instant(us, observed)}{tag}>"

    def render_instant(self, us: int, observed: int) -> str:
        """The label of an instant (without brackets and tag), by the README's rules."""
        label = self.client_instants.get(us) or self.rendered.get(us)
        if label is None:
            label = self._whole_hours(us) or self._step_relative(us, observed)
            self.rendered[us] = label
        return label

    def _whole_hours(self, us: int) -> str | None:
        t0 = self.setting.t0_us
        if (us - t0) % ts.HOUR == 0:
            return "now" + ("" if us == t0 else ts.format_offset(us - t0))
        for base, label in self.client_instants.items():
            diff = us - base
            if diff and diff % ts.HOUR == 0:
                return label + ts.format_offset(diff)
        return None

    def _step_relative(self, us: int, observed: int) -> str:
        if us <= observed:
            number = 0
            for step, start in self.step_starts:
                if start <= us:
                    number = step
            return f"step{number}"
        start = self.step_starts[-1][1] if self.step_starts else self.setting.t0_us
        return f"step{self.current_step}{ts.format_offset(ts.round_offset(us - start))}"

    # -- steps --------------------------------------------------------------------------------

    def step(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Normalize one recorded step.

        ``raw`` has the golden step's keys with concrete values, plus ``started_us`` (when the
        step began), ``observed_us`` (when its reply arrived) and, per message, ``observed_us``.
        """
        self.begin_step(raw["step"], raw["started_us"])
        out: dict[str, Any] = {}
        for part in STEP_PARTS:
            if part in raw:
                observed = raw["observed_us"] if part in ("body", "headers") else raw["started_us"]
                out[part] = self.value(raw[part], observed_us=observed)
        messages = []
        for message in raw.get("messages", []):
            body = {k: v for k, v in message.items() if k != "observed_us"}
            messages.append(self.value(body, observed_us=message.get("observed_us", raw["observed_us"])))
        out["messages"] = messages
        for key, value in raw.items():
            if key not in out and key not in ("started_us", "observed_us"):
                out[key] = value
        return out


def _strings(obj: Any) -> Iterable[str]:
    if isinstance(obj, dict):
        for value in obj.values():
            yield from _strings(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from _strings(item)
    elif isinstance(obj, str):
        yield obj


def compact_status(status: dict[str, Any]) -> dict[str, Any]:
    """The reduced status of the traces' compact steps (the loop of ``rerun-limit``)."""
    runs = status.get("runs") or []
    out: dict[str, Any] = {
        "state": status.get("state"),
        "retriesLeft": status.get("retriesLeft"),
        "runCount": len(runs),
    }
    if runs:
        last = runs[-1]
        out["lastRun"] = {k: last[k] for k in ("runId", "state", "reasonCreated", "reasonResolved") if k in last}
    return out


def compact_like(golden_body: Any, body: Any) -> Any:
    """Reduce ``body`` the way ``golden_body`` was reduced, if it was (else return it as is)."""
    if not isinstance(golden_body, dict) or not isinstance(body, dict):
        return body
    status = golden_body.get("status")
    if isinstance(status, dict) and "runCount" in status and isinstance(body.get("status"), dict):
        return {"status": compact_status(body["status"])}
    tasks = golden_body.get("tasks")
    if (isinstance(tasks, list) and tasks and isinstance(tasks[0], dict)
            and isinstance(tasks[0].get("status"), dict) and "runCount" in tasks[0]["status"]
            and isinstance(body.get("tasks"), list)):
        return {"tasks": [
            {"runId": t.get("runId"), "status": compact_status(t.get("status") or {})}
            for t in body["tasks"] if isinstance(t, dict)
        ]}
    return body
