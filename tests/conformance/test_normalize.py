"""The normalizer against the golden traces: de-normalize, normalize back, get the original.

Each golden trace is turned into a concrete one with fresh ids, a fresh provisionerId, real
instants on a synthetic step timeline, random secrets and shuffled query strings; normalizing it
again must give the golden trace back exactly. Targeted cases pin the individual rules.
"""

from __future__ import annotations

import json
import random
import re
import secrets
import uuid
import zlib

import pytest

from . import timestamps as ts
from .concretize import Concretizer, slugid
from .normalize import Normalizer, Setting, compact_like, compact_status
from .traces import load, trace_names

T0 = ts.parse_string("2026-11-28T20:00:00.000Z")
ROOT_URL = "http://127.0.0.1:43123"
STORAGE = "http://localhost:9000"
PROV = "golden-k3x9q2"
# rerun-limit's loop steps were compacted after normalization: instants first seen in the
# dropped parts cannot be re-derived from the compact trace, so a round trip cannot apply.
NOT_ROUND_TRIPPABLE = {"rerun-limit": "compact steps hide where instants were first seen"}


class Synth:
    """Builds a concrete trace from a golden one, with a synthetic timeline."""

    def __init__(self, trace: dict, seed: int):
        self.rng = random.Random(seed)
        steps = trace["steps"]
        self.start = {}
        self.observed = {}
        clock = T0 + 1500 * 1000 + self.rng.randrange(0, 500) * 1000
        for step in steps:
            self.start[step["step"]] = clock + self.rng.randrange(0, 1000)  # sub-ms noise
            self.observed[step["step"]] = self.start[step["step"]] + 600 * 1000
            clock += 2 * ts.SECOND
        self.concretizer = Concretizer(
            t0_us=T0, provisioner_id=PROV, root_url=ROOT_URL, storage_origin=STORAGE,
            new_task_id=lambda n: slugid(), step_instant=self._step_instant,
        )

    def _step_instant(self, step: int, offset: int, key: str) -> int:
        base = self.start[step] - self.start[step] % 1000
        if offset == 0:  # happened during the step, before its reply
            return base + self.rng.randrange(1, 500) * 1000
        jitter = 20 if abs(offset) >= 10 * ts.MINUTE else 0.3
        return base + offset + int(self.rng.uniform(-jitter, jitter) * 1000) * 1000

    def value(self, obj, key=None):
        if isinstance(obj, dict):
            return {k: self.value(v, k) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.value(v, key) for v in obj]
        if not isinstance(obj, str):
            return obj
        if obj == "<redacted>":
            return json.dumps({"version": 1, "seed": secrets.token_urlsafe(33)}) if key == "certificate" \
                else secrets.token_urlsafe(32)
        if obj == "<continuationToken>":
            return secrets.token_urlsafe(30)
        text = obj.replace("<epoch>", str(self.rng.randrange(1_700_000_000, 1_900_000_000)))
        text = text.replace("=<redacted>", "=" + secrets.token_hex(16))
        text = re.sub(r"<uuid>", lambda m: str(uuid.uuid4()), text)
        text = self.concretizer.string(text)
        return self._shuffle_queries(text)

    def _shuffle_queries(self, text: str) -> str:
        def shuffle(m):
            base, _, query = m.group(0).partition("?")
            params = query.split("&")
            self.rng.shuffle(params)
            return base + "?" + "&".join(params)
        return re.sub(r"https?://[^\s\"'<>`?]+\?[^\s\"'<>`]+", shuffle, text)

    def trace(self, trace: dict) -> list[dict]:
        raw_steps = []
        for step in trace["steps"]:
            raw = {k: self.value(v) for k, v in step.items() if k != "messages"}
            raw["messages"] = [dict(self.value(m), observed_us=self.observed[step["step"]])
                               for m in step["messages"]]
            raw["started_us"] = self.start[step["step"]]
            raw["observed_us"] = self.observed[step["step"]]
            raw_steps.append(raw)
        return raw_steps


def normalize_all(raw_steps: list[dict]) -> list[dict]:
    normalizer = Normalizer(Setting(root_url=ROOT_URL, t0_us=T0, provisioner_id=PROV,
                                    root_client_id="static/tutorial-kit/root"))
    for raw in raw_steps:
        if "payload" in raw:
            normalizer.add_client_instants(raw["payload"])
            normalizer.add_kept_origins(raw["payload"])
    return [normalizer.step(raw) for raw in raw_steps]


@pytest.mark.parametrize("name", trace_names())
def test_round_trip(golden_traces, name):
    if name in NOT_ROUND_TRIPPABLE:
        pytest.skip(NOT_ROUND_TRIPPABLE[name])
    trace = load(golden_traces, name)
    synth = Synth(trace, seed=zlib.crc32(name.encode()))
    raw_steps = synth.trace(trace)
    # The synthetic trace really is concrete: no placeholder survives.
    assert not re.search(r"<(now|step|rootUrl|storage|uuid|epoch|continuationToken)", json.dumps(raw_steps))
    got = normalize_all(raw_steps)
    for golden_step, got_step in zip(trace["steps"], got):
        assert got_step == golden_step, f"{name} step {golden_step['step']}"


def test_round_trip_covers_the_index(golden_traces):
    """Every scenario of index.md has a trace file, and so a round-trip test."""
    listed = set(re.findall(r"^\| \[`([a-z0-9-]+)`\]", (golden_traces / "index.md").read_text(), re.M))
    assert listed and listed == set(trace_names())


def _normalizer(**kw):
    n = Normalizer(Setting(root_url=ROOT_URL, t0_us=T0, provisioner_id=PROV, **kw))
    return n


def test_instant_rules_in_order():
    n = _normalizer()
    n.add_client_instants({"created": ts.to_json(T0), "deadline": ts.to_json(T0 + 6 * ts.SECOND)})
    n.begin_step(1, T0 + 1_500_000)
    deadline = T0 + 6 * ts.SECOND
    observed = T0 + 2 * ts.SECOND
    # rule 1: client-supplied
    assert n.string(ts.to_json(deadline), observed_us=observed) == "<now+6s>"
    # rule 2: whole hours from a client instant, t0 preferred, else the instant that works
    assert n.string(ts.to_json(T0 + 366 * ts.DAY + ts.HOUR), observed_us=observed) == "<now+366d1h>"
    assert n.string(ts.to_json(deadline + 365 * ts.DAY), observed_us=observed) == "<now+6s+365d>"
    # rule 3: already happened -> the step it happened in
    assert n.string(ts.to_json(T0 + 1_700_000), observed_us=observed) == "<step1>"
    # rule 4: future -> offset from the step start, rounded (minutes from 10 min on)
    n.begin_step(2, T0 + 3_000_000)
    assert n.string(ts.to_json(T0 + 3_000_000 + 2710 * ts.SECOND + 123_000),
                    observed_us=T0 + 3_500_000) == "<step2+45m>"
    assert n.string(ts.to_json(T0 + 3_000_000 + 5 * ts.SECOND + 40_000),
                    observed_us=T0 + 3_500_000) == "<step2+5s>"
    # a value keeps its first rendering, whatever the step
    n.begin_step(3, T0 + 10 * ts.SECOND)
    assert n.string(ts.to_json(T0 + 3_000_000 + 5 * ts.SECOND + 40_000),
                    observed_us=T0 + 11 * ts.SECOND) == "<step2+5s>"


def test_format_tags():
    n = _normalizer()
    n.begin_step(1, T0 + ts.SECOND)
    us = T0 + ts.SECOND + 20 * ts.MINUTE + 120_000
    assert n.string(ts.to_tagged(us, "|+00:00"), observed_us=T0 + 2 * ts.SECOND) == "<step1+20m|+00:00>"
    assert ts.to_tagged(us, "|+00:00").endswith(".12+00:00")
    assert n.string(ts.to_json(us), observed_us=T0 + 2 * ts.SECOND) == "<step1+20m>"
    assert n.string(ts.to_tagged(us, "|frac6"), observed_us=T0 + 2 * ts.SECOND) == "<step1+20m|frac6>"
    assert n.string("2026-11-28T20:00:00Z", observed_us=T0) == "<now|frac0>"


def test_one_day_away_rounds_to_minutes():
    n = _normalizer()
    n.begin_step(9, T0 + 30 * ts.SECOND)
    expires = T0 + 25 * ts.SECOND + ts.DAY  # set 5 s before the step that first shows it
    assert n.string(ts.to_json(expires), observed_us=T0 + 31 * ts.SECOND) == "<step9+1d>"


def test_ids_urls_and_secrets():
    n = _normalizer(root_client_id="static/root")
    task, group, upload = slugid(), slugid(), slugid()
    n.add_kept_origins({"url": "https://example.com/x"})
    n.begin_step(1, T0 + ts.SECOND)
    out = n.value({
        "taskId": task,
        "taskGroupId": group,
        "uploadId": upload,
        "routingKey": f"primary.{task}.0._._.{PROV}.wt.-.{group}._",
        "putUrl": f"{STORAGE}/bucket/{task}/0/a.txt?X-Amz-Signature=ab&X-Amz-Algorithm=A&bewit=zz",
        "schema": f"{ROOT_URL}/schemas/queue/v1/x.json",
        "reference": "https://example.com/x?b=1&a=2",
        "credentials": {"clientId": f"task-client/{task}/0/on/wg/w/until/1790000000",
                        "accessToken": "secret", "certificate": "{}"},
        "incidentId": str(uuid.uuid4()),
        "continuationToken": "anything",
        "message": "client static/root lacks scopes",
        "literal": "bad_task_id",
    })
    assert out == {
        "continuationToken": "<continuationToken>",
        "credentials": {"accessToken": "<redacted>", "certificate": "<redacted>",
                        "clientId": "task-client/T1/0/on/wg/w/until/<epoch>"},
        "incidentId": "<uuid>",
        "literal": "bad_task_id",
        "message": "client <clientId> lacks scopes",
        "putUrl": "<storage>/bucket/T1/0/a.txt?X-Amz-Algorithm=A&X-Amz-Signature=<redacted>&bewit=<redacted>",
        "reference": "https://example.com/x?a=2&b=1",
        "routingKey": "primary.T1.0._._.golden.wt.-.T2._",
        "schema": "<rootUrl>/schemas/queue/v1/x.json",
        "taskGroupId": "T2",  # keys are read in sorted order: the credentials name the task first
        "taskId": "T1",
        "uploadId": "U1",
    }


def test_seeded_ids_keep_their_symbols():
    a, b = slugid(), slugid()
    n = Normalizer(Setting(root_url=ROOT_URL, t0_us=T0), ids={a: "T1", b: "T2"})
    n.begin_step(1, T0)
    assert n.value([b, a, slugid()]) == ["T2", "T1", "T3"]


def test_compact_status():
    status = {"state": "pending", "retriesLeft": 3, "runs": [
        {"runId": 0, "state": "exception", "reasonCreated": "scheduled", "reasonResolved": "intermittent-task",
         "scheduled": "x"},
        {"runId": 1, "state": "pending", "reasonCreated": "task-retry", "scheduled": "y"}]}
    assert compact_status(status) == {"state": "pending", "retriesLeft": 3, "runCount": 2,
                                      "lastRun": {"runId": 1, "state": "pending", "reasonCreated": "task-retry"}}
    golden = {"tasks": [{"runId": 1, "status": {"runCount": 2}}]}
    assert compact_like(golden, {"tasks": [{"runId": 1, "status": status, "task": {}}]}) == {
        "tasks": [{"runId": 1, "status": compact_status(status)}]}
