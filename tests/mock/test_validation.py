"""tutorial_kit.mock.web.validation: defaults, Ajv-worded errors, output checks, served documents."""

from __future__ import annotations

import copy
import json
import re

import pytest

from tutorial_kit import api
from tutorial_kit.mock.model.errors import QueueError
from tutorial_kit.mock.web.validation import InputValidationError, UnknownSchema, Validator

ROOT = "http://127.0.0.1:8765"
SCHEMA_URL = f"{ROOT}/schemas/queue/v1/create-task-request.json"


@pytest.fixture(scope="module")
def v() -> Validator:
    return Validator()


def minimal_task() -> dict:
    return {
        "taskQueueId": "proj-getting-started/tutorial",
        "created": "2030-01-01T00:00:00.000Z",
        "deadline": "2030-01-02T00:00:00.000Z",
        "payload": {},
        "metadata": {"name": "hello", "description": "a first task", "owner": "me@example.com",
                     "source": "https://example.com/tutorial"},
    }


def rejection(v: Validator, body, schema: str = "create-task-request.json") -> InputValidationError:
    with pytest.raises(QueueError) as info:
        v.validate_input(schema, body, root_url=ROOT)
    err = info.value
    assert isinstance(err, InputValidationError)
    assert err.code == "InputValidationError" and err.status == 400
    return err


# --- defaults ----------------------------------------------------------------------------------

def test_defaults_are_filled_for_a_minimal_create_task(v):
    body = minimal_task()
    original = copy.deepcopy(body)
    filled = v.validate_input("create-task-request.json", body, root_url=ROOT)
    assert body == original  # the caller's body is left alone
    assert filled == {**original, "schedulerId": "-", "priority": "lowest", "retries": 5,
                      "dependencies": [], "requires": "all-completed", "routes": [],
                      "scopes": [], "tags": {}, "extra": {}, "projectId": "none"}
    # defaults are copies: changing one task's list must not leak into the next
    filled["routes"].append("x")
    assert v.validate_input("create-task-request.json", minimal_task())["routes"] == []


def test_given_values_win_over_defaults_and_other_schemas_fill_theirs(v):
    body = {**minimal_task(), "priority": "high", "retries": 0, "schedulerId": "tutorial"}
    filled = v.validate_input("v1/create-task-request.json#", body)
    assert (filled["priority"], filled["retries"], filled["schedulerId"]) == ("high", 0, "tutorial")
    assert v.validate_input("claim-work-request.json", {"workerGroup": "g", "workerId": "w"}) == {
        "workerGroup": "g", "workerId": "w", "tasks": 1}
    assert v.validate_input("tasks-request.json", {}) == {"taskIds": []}


def test_defaults_are_shown_even_when_the_body_is_rejected(v):
    body = minimal_task()
    del body["metadata"]
    err = rejection(v, body)
    assert err.payload["priority"] == "lowest" and err.payload["tags"] == {}
    assert "metadata" not in err.payload


# --- errors ------------------------------------------------------------------------------------

MUTATIONS = [
    (lambda b: b.pop("metadata"), "data must have required property 'metadata'"),
    (lambda b: b.update(priority="normal"), "data/priority must be equal to one of the allowed values"),
    (lambda b: b.update(retries=50), "data/retries must be <= 49"),
    (lambda b: b.update(retries=-1), "data/retries must be >= 0"),
    (lambda b: b.update(taskGroupId="not-a-slug"),
     'data/taskGroupId must match pattern "^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-]'
     '[A-Za-z0-9_-]{10}[AQgw]$"'),
    (lambda b: b.update(dependencies=["nope"]), "data/dependencies/0 must match pattern"),
    (lambda b: b.update(created="yesterday"), 'data/created must match format "date-time"'),
    (lambda b: b.update(deadline="2030-02-30T00:00:00Z"), 'data/deadline must match format "date-time"'),
    (lambda b: b.update(expires="2030-01-05T00:00:00"), 'data/expires must match format "date-time"'),
    (lambda b: b.update(colour="blue"), "data must NOT have additional properties"),
    (lambda b: b.update(retries="5"), "data/retries must be integer"),
    (lambda b: b.update(routes=["a", "a"]),
     "data/routes must NOT have duplicate items (items ## 1 and 0 are identical)"),
    (lambda b: b["metadata"].update(source="ftp://example.com"),
     'data/metadata/source must match pattern "^(https?://|ssh://|git@)"'),
    (lambda b: b["metadata"].update(name="x" * 256),
     "data/metadata/name must NOT have more than 255 characters"),
]


@pytest.mark.parametrize("change, line", MUTATIONS)
def test_each_kind_of_error_is_reported_in_ajv_words(v, change, line):
    body = minimal_task()
    change(body)
    err = rejection(v, body)
    assert err.message.startswith(
        f"\nSchema Validation Failed!\nRejecting Schema: {SCHEMA_URL}\nErrors:\n  * ")
    assert any(e.startswith(line) for e in err.errors), err.errors
    assert all(f"  * {e}" in err.message.splitlines() for e in err.errors)


def test_all_errors_are_collected_in_ajv_order(v):
    body = {**minimal_task(), "priority": "normal", "retries": 50, "a": 1, "b": 2}
    del body["metadata"]
    err = rejection(v, body)
    assert err.errors == [
        "data must have required property 'metadata'",
        "data must NOT have additional properties",
        "data must NOT have additional properties",
        "data/priority must be equal to one of the allowed values",
        "data/retries must be <= 49",
    ]
    assert err.message == (f"\nSchema Validation Failed!\nRejecting Schema: {SCHEMA_URL}\nErrors:\n"
                           + "\n".join("  * " + e for e in err.errors))
    assert err.schema_url == SCHEMA_URL


def test_wrong_body_types_are_errors_not_crashes(v):
    for body in ([], "text", None, 5):
        assert rejection(v, body).errors == ["data must be object"]
    # a oneOf schema names what each branch missed, then the oneOf itself
    err = rejection(v, {"storageType": "nope"}, "post-artifact-request.json")
    assert err.errors[-1] == "data must match exactly one schema in oneOf"
    assert "data/storageType must be equal to one of the allowed values" in err.errors


def test_formats_accept_what_rfc3339_and_uris_allow(v):
    for stamp in ("2030-01-01T00:00:00Z", "2030-01-01T00:00:00.123456Z",
                  "2030-01-01T01:00:00+01:00", "2028-02-29T23:59:59.5Z"):
        v.validate_input("create-task-request.json", {**minimal_task(), "created": stamp})
    for source in ("https://github.com/taskcluster/taskcluster", "git@github.com:a/b.git",
                   "ssh://hg.example.com/repo"):
        task = minimal_task()
        task["metadata"]["source"] = source
        v.validate_input("create-task-request.json", task)
    good = {"storageType": "reference", "expires": "2030-01-01T00:00:00Z",
            "url": "https://example.com/x", "contentType": "text/plain"}
    assert v.validate_input("post-artifact-request.json", good) == good
    err = rejection(v, {**good, "url": "not a url"}, "post-artifact-request.json")
    assert 'data/url must match format "uri"' in err.errors


def test_golden_validation_answers_are_reproduced(v, golden_traces):
    """Every InputValidationError the real queue gave in the traces, word for word."""
    seen = 0
    for path in sorted(golden_traces.glob("*.json")):
        trace = json.loads(path.read_text(encoding="utf-8"))
        for step in trace.get("steps", []):
            body = step.get("body") or {}
            if not isinstance(body, dict) or body.get("code") != "InputValidationError":
                continue
            stamps: dict[str, str] = {}

            def concrete(node):
                # time placeholders (<now>, <now+1d>) become distinct real instants
                if isinstance(node, str) and re.fullmatch(r"<now[^>]*>", node):
                    return stamps.setdefault(node, f"2030-01-{len(stamps) + 1:02d}T00:00:00.000Z")
                if isinstance(node, dict):
                    return {k: concrete(x) for k, x in node.items()}
                if isinstance(node, list):
                    return [concrete(x) for x in node]
                return node

            entry = api.BY_NAME[step["call"].split(".")[-1]]
            with pytest.raises(InputValidationError) as info:
                v.validate_input(entry.input, concrete(step["payload"]), root_url="<rootUrl>")
            expected = body["message"].split("\n\n---\n\n")[0]
            assert info.value.message == expected, path.name
            assert info.value.payload == concrete(body["requestInfo"]["payload"]), path.name
            seen += 1
    assert seen >= 4


# --- outputs and messages ------------------------------------------------------------------------

def status(**changes) -> dict:
    return {"status": {
        "taskId": "fN1SbArXTPSVFNUvaOlinQ", "provisionerId": "proj-getting-started",
        "workerType": "tutorial", "taskQueueId": "proj-getting-started/tutorial",
        "schedulerId": "-", "projectId": "none", "taskGroupId": "fN1SbArXTPSVFNUvaOlinQ",
        "priority": "lowest", "deadline": "2030-01-01T00:00:00.000Z",
        "expires": "2031-01-01T00:00:00.000Z", "retriesLeft": 5, "state": "pending",
        "runs": [{"runId": 0, "state": "pending", "reasonCreated": "scheduled",
                  "scheduled": "2029-12-31T00:00:00.000Z"}], **changes}}


def test_output_errors(v):
    assert v.output_errors("task-status-response.json", status()) == []
    assert v.output_errors("task-status-response.json", status(state="waiting")) == [
        "data/status/state must be equal to one of the allowed values"]
    missing = status()
    del missing["status"]["runs"]
    assert v.output_errors("task-status-response.json", missing) == [
        "data/status must have required property 'runs'"]
    # outputs get no defaults: the reply is judged as it is
    assert v.output_errors("tasks-response.json", {}) == ["data must have required property 'tasks'"]


def test_message_errors(v):
    message = {"version": 1, "runId": 0, "task": {"tags": {}}, **status()}
    assert v.message_errors("task-pending-message.json", message) == []
    assert v.message_errors("v1/task-pending-message.json#", {**message, "version": 2}) == [
        "data/version must be equal to one of the allowed values"]
    assert v.message_errors("task-pending-message.json", {"version": 1}) == [
        "data must have required property 'status'", "data must have required property 'runId'"]


def test_unknown_schema_is_a_clear_error(v):
    with pytest.raises(UnknownSchema, match="no-such-schema"):
        v.validate_input("no-such-schema.json", {})
    with pytest.raises(LookupError):
        v.output_errors("queue/v2/task.json", {})


# --- served documents ----------------------------------------------------------------------------

def test_schema_document_absolutizes_only_id_and_schema(v):
    doc = v.schema_document("queue/v1/task-status-response.json", ROOT)
    assert doc["$id"] == f"{ROOT}/schemas/queue/v1/task-status-response.json#"
    assert doc["$schema"] == f"{ROOT}/schemas/common/metaschema.json#"
    assert doc["properties"]["status"]["$ref"] == "task-status.json#"  # refs stay relative
    other = v.schema_document("queue/v1/task-status-response.json", "https://tc.example.com")
    assert other["$id"] == "https://tc.example.com/schemas/queue/v1/task-status-response.json#"
    assert {k: x for k, x in doc.items() if k not in ("$id", "$schema")} == \
        {k: x for k, x in other.items() if k not in ("$id", "$schema")}
    meta = v.schema_document("common/metaschema.json", ROOT)
    assert meta["$ref"] == "http://json-schema.org/draft-06/schema#"
    assert meta["$schema"] == "http://json-schema.org/draft-06/schema#"  # absolute already
    assert v.schema_document("queue/v1/nope.json", ROOT) is None
    assert v.schema_document("../secrets.json", ROOT) is None


def test_reference_documents(v):
    api_doc = v.reference_document("queue/v1/api.json", ROOT)
    assert api_doc["$schema"] == f"{ROOT}/schemas/common/api-reference-v0.json#"
    assert [e["name"] for e in api_doc["entries"]] == [e.name for e in api.ENTRIES]
    exchanges = v.reference_document("queue/v1/exchanges.json", ROOT)
    assert exchanges["exchangePrefix"] == api.EXCHANGE_PREFIX
    manifest = v.reference_document("manifest.json", ROOT)
    assert manifest["references"] == ["/references/queue/v1/api.json",
                                      "/references/queue/v1/exchanges.json"]
    assert v.reference_document("queue/v1/logs.json", ROOT) is None
    # serving must not change what the next caller sees
    api_doc["entries"].clear()
    assert v.reference_document("queue/v1/api.json", ROOT)["entries"]


def test_defaults_inside_oneof_only_when_one_branch_fits():
    """No queue schema has them today; the rule is still defined: fill only an unambiguous branch."""
    from referencing import Resource
    from referencing.jsonschema import DRAFT6

    v = Validator()
    base = "https://tutorial-kit.invalid/schemas/test/choice.json"
    schema = {"$id": base, "type": "object", "properties": {"artifact": {"oneOf": [
        {"type": "object", "properties": {"kind": {"enum": ["a"]}, "size": {"default": 1}},
         "required": ["kind"]},
        {"type": "object", "properties": {"kind": {"enum": ["b"]}, "colour": {"default": "red"}},
         "required": ["kind"]},
        {"type": "object", "properties": {"kind": {"enum": ["a", "c"]}}, "required": ["kind"]},
    ]}}}
    v._registry = v._registry.with_resource(base, Resource.from_contents(
        schema, default_specification=DRAFT6))
    from tutorial_kit.mock.web.schema_defaults import build_plan

    plan = build_plan(v._registry, schema, base)
    only_b = {"artifact": {"kind": "b"}}
    plan.apply(only_b)
    assert only_b == {"artifact": {"kind": "b", "colour": "red"}}
    both = {"artifact": {"kind": "a"}}  # branches 0 and 2 fit: ambiguous, nothing filled
    plan.apply(both)
    assert both == {"artifact": {"kind": "a"}}


def test_inlined_refs_judge_exactly_like_the_registry(v):
    """The validators inline `$ref`s for speed; a plain registry validator must agree."""
    from jsonschema import Draft6Validator

    from tutorial_kit.mock.web import ajv, schema_registry

    schema = v.schema_document("queue/v1/create-task-request.json", schema_registry.ORIGIN)
    plain = Draft6Validator(schema, registry=v._registry, format_checker=ajv.FORMATS)
    bodies = []
    for change, _ in MUTATIONS:
        body = v.validate_input("create-task-request.json", minimal_task())
        change(body)
        bodies.append(body)
    bodies.append(v.validate_input("create-task-request.json", minimal_task()))
    for body in bodies:
        assert sorted(v.output_errors("create-task-request.json", body)) == sorted(
            ajv.ajv_messages(plain.iter_errors(body)))


def test_type_errors_take_ajv_places(v):
    """Ajv checks enum before the string group (whose type error it reports in that group's
    slot), but an integer type before anything else."""
    err = rejection(v, {**minimal_task(), "priority": 5, "retries": "x"})
    assert err.errors == ["data/priority must be equal to one of the allowed values",
                          "data/priority must be string",
                          "data/retries must be integer"]
