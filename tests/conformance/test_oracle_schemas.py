"""The official schemas judge the mock: replies and messages of every replay, and the schemas
the mock serves.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .compare import compare_values
from .oracle import Oracle, errors, structure
from .traces import trace_names


@pytest.fixture(scope="session")
def oracle(oracle_schemas) -> Oracle:
    return Oracle(oracle_schemas)


def _is_json_reply(raw: dict[str, Any]) -> bool:
    return (raw["call"].startswith("queue.") and raw["status"] in (200, 303)
            and isinstance(raw.get("body"), (dict, list)))


@pytest.mark.parametrize("trace_name", trace_names())
def test_replies_and_messages_validate(oracle, replays, trace_name):
    result = replays.get(trace_name)
    if not result.raw:
        pytest.fail(f"{trace_name}: nothing was replayed ({result.error})")
    problems, checked = [], 0
    for raw in result.raw:
        if _is_json_reply(raw):
            validator = oracle.output_validator(raw["call"].split(".", 1)[1])
            if validator is not None:
                checked += 1
                problems += [f"step {raw['step']} {raw['call']} reply: {e}" for e in errors(validator, raw["body"])]
        for i, message in enumerate(raw["messages"]):
            checked += 1
            validator = oracle.message_validator(message["exchange"])
            problems += [f"step {raw['step']} message {i} ({message['exchange'].rsplit('/', 1)[-1]}): {e}"
                         for e in errors(validator, message["payload"])]
    assert checked or all(not _is_json_reply(r) and not r["messages"] for r in result.raw)
    assert not problems, f"{trace_name}:\n  " + "\n  ".join(problems[:20])


def test_oracle_rejects_a_bad_status(oracle):
    """The validators are real: a status with an unknown state fails."""
    validator = oracle.output_validator("status")
    assert errors(validator, {"status": {"state": "sleeping"}})
    assert oracle.message_validator("exchange/taskcluster-queue/v1/task-pending").schema["$id"].endswith(
        "/schemas/queue/v1/task-pending-message.json#")


def _queue_schema_names(oracle: Oracle) -> list[str]:
    return [p.rsplit("/", 1)[1] for p in oracle.schemas if p.startswith("/schemas/queue/v1/")]


def test_served_schemas_match_the_oracle(oracle, mock_queue):
    root = mock_queue.root_url
    problems = []
    with httpx.Client(timeout=10) as http:
        for name in _queue_schema_names(oracle):
            response = http.get(f"{root}/schemas/queue/v1/{name}")
            if response.status_code != 200:
                problems.append(f"{name}: HTTP {response.status_code}")
                continue
            served = response.json()
            expected_id = f"{root}/schemas/queue/v1/{name}#"
            if served.get("$id") != expected_id:
                problems.append(f"{name}: $id {served.get('$id')!r}, expected {expected_id!r}")
            if served.get("$schema") != f"{root}/schemas/common/metaschema.json#":
                problems.append(f"{name}: $schema {served.get('$schema')!r} is not absolute on the rootUrl")
            found: list = []
            compare_values(structure(oracle.schemas[f"/schemas/queue/v1/{name}"]), structure(served),
                           name, found)
            problems += [f"{path}: oracle {exp!r}, served {got!r}" for path, exp, got in found]
        # The meta-schema every $schema names is served too.
        meta = http.get(f"{root}/schemas/common/metaschema.json")
        if meta.status_code != 200 or "$ref" not in meta.json():
            problems.append(f"metaschema.json: HTTP {meta.status_code}, not a pointer to draft-06")
    assert not problems, "\n  ".join(["served schemas differ from the oracle:"] + problems[:40])


def test_served_api_reference_matches_the_oracle(oracle, mock_queue):
    """Every method of the oracle's api.json is in the served one, with the same facts."""
    response = httpx.get(f"{mock_queue.root_url}/references/queue/v1/api.json", timeout=10)
    assert response.status_code == 200
    served = {e["name"]: e for e in response.json()["entries"]}
    problems = []
    for entry in oracle.api["entries"]:
        got = served.get(entry["name"])
        if got is None:
            problems.append(f"{entry['name']}: missing")
            continue
        for key in ("method", "route", "args", "query", "input", "output", "scopes", "stability"):
            if entry.get(key) != got.get(key):
                problems.append(f"{entry['name']}.{key}: oracle {entry.get(key)!r}, served {got.get(key)!r}")
    assert not problems, "\n  ".join(problems)
