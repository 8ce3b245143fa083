"""SchemaTable: rows for the official schemas, $refs across files, instances and their errors."""

from __future__ import annotations

import json
import re

import pytest

from tutorial_kit.widgets import SchemaTable
from tutorial_kit.widgets import _schemas


def oracle_paths(folder, name: str) -> set[str]:
    """Every property path of an oracle schema, walked independently from the files on disk."""
    base = folder / "schemas" / "queue" / "v1"
    paths: set[str] = set()

    def load(ref: str, current: str) -> tuple[dict, str]:
        file, _, fragment = ref.partition("#")
        file = file.lstrip("./") or current
        node = json.loads((base / file).read_text())
        for part in [p for p in fragment.split("/") if p]:
            node = node[part]
        return node, file

    def walk(schema: dict, file: str, path: str, seen: tuple) -> None:
        if "$ref" in schema:
            if schema["$ref"] in seen:
                return
            target, file = load(schema["$ref"], file)
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            seen = seen + (schema.get("$ref", ""),)
        for key, sub in (schema.get("properties") or {}).items():
            paths.add(f"{path}/{key}")
            walk(sub, file, f"{path}/{key}", seen)
        if isinstance(schema.get("items"), dict):
            walk(schema["items"], file, f"{path}/[]", seen)
        for keyword in ("oneOf", "anyOf", "allOf"):
            for sub in schema.get(keyword) or []:
                walk(sub, file, path, seen)

    walk(json.loads((base / name).read_text()), name, "", ())
    return paths


def table_paths(table: SchemaTable) -> set[str]:
    return {n.pointer for n in table.rows if n.kind == "property" and n.path}


@pytest.fixture(autouse=True)
def fresh_cache():
    _schemas.clear_cache()
    yield
    _schemas.clear_cache()


def test_every_field_of_the_oracle_status_schema_is_a_row(oracle_schemas, oracle_deployment):
    expected = oracle_paths(oracle_schemas, "task-status-response.json")
    assert "/status/runs/[]/reasonResolved" in expected and len(expected) >= 24
    table = SchemaTable("task-status-response.json", root_url=oracle_deployment)
    assert not table.load_error
    assert table_paths(table) == expected
    state = table.row("/status/state")
    assert state.required and state.types == ["string"]
    assert "enum: unscheduled, pending, running, completed, failed, exception" in table._body.value
    assert table.row("/status/runs/[]/reasonResolved").required is False
    assert table.row("/status/runs/[]/runId").required is True
    # $ref followed across files: status -> task-status.json, priority -> task.json
    assert table.row("/status").ref.endswith("/schemas/queue/v1/task-status.json")
    assert table.row("/status/priority").ref.endswith("task.json#/properties/priority")


def test_the_mock_serves_the_same_structure_as_the_oracle(oracle_schemas, mock):
    for name in ("task-status-response.json", "create-task-request.json",
                 "list-artifacts-response.json"):
        table = SchemaTable(name, root_url=mock.root_url)
        assert not table.load_error, table.load_error
        assert table_paths(table) == oracle_paths(oracle_schemas, name), name


def test_create_task_request_follows_refs_and_shows_keywords(oracle_deployment):
    table = SchemaTable("create-task-request", root_url=oracle_deployment)
    assert table.row("/metadata/name") is not None  # task-metadata.json, two files away
    priority = table.row("/priority")
    assert priority.schema.get("default") == "lowest"
    html = table._body.value
    assert "default: lowest" in html and "format: date-time" in html
    assert re.search(r'data-path="/created".*?tk-required', html, re.S)
    assert "<script" not in html


def test_live_status_instance_is_marked_and_valid(queue, drive, mock):
    task_id = drive.make_task()
    run_id = drive.claim(task_id)
    queue.reportCompleted(task_id, run_id)
    status = queue.status(task_id)
    table = SchemaTable("task-status-response.json", queue=queue, instance=status)
    assert table.errors == []
    body = table._body.value
    assert f"&quot;{task_id}&quot;" in body  # the value beside its row
    row = re.search(r'data-path="/status/runs/\[\]/reasonResolved".*?</div></div>', body, re.S)
    assert row and "aria-label=\"present\"" in row.group(0) and "completed" in row.group(0)


def test_errors_of_an_invalid_instance_sit_at_their_rows(oracle_deployment):
    bad = {"status": {
        "taskId": "not-a-slug", "provisionerId": "p", "workerType": "w", "taskQueueId": "p/w",
        "schedulerId": "-", "projectId": "none", "taskGroupId": "fN1ZmbYyRzWe0O9Ywd63Yw",
        "deadline": "2026-01-01T00:00:00.000Z", "expires": "2027-01-01T00:00:00.000Z",
        "retriesLeft": 5, "state": "sleeping", "surprise": 1,
        "runs": [{"runId": 0, "state": "pending", "scheduled": "yesterday"}]}}
    table = SchemaTable("task-status-response.json", root_url=oracle_deployment, instance=bad)
    errors = dict()
    for pointer, message in table.errors:
        errors.setdefault(pointer, []).append(message)
    assert any("not-a-slug" in m for m in errors["/status/taskId"])
    assert any("'sleeping' is not one of" in m for m in errors["/status/state"])
    assert any("required" in m for m in errors["/status/runs/[]/reasonCreated"])
    assert any("date-time" in m for m in errors["/status/runs/[]/scheduled"])
    assert any("surprise" in m for m in errors["/status"])
    body = table._body.value
    assert re.search(r'data-path="/status/state".*?role="alert"', body, re.S)
    # fixing the instance clears the errors
    table.instance = {"status": {**bad["status"], "state": "pending"}}
    assert "/status/state" not in {p for p, _ in table.errors}


def test_unknown_schema_shows_an_error_instead_of_raising(oracle_deployment):
    table = SchemaTable("no-such-schema.json", root_url=oracle_deployment)
    assert "no-such-schema.json" in table.load_error
    assert 'role="alert"' in table._header.value
    assert table.rows == []


def test_description_markdown_is_rendered_and_html_escaped(oracle_deployment):
    schema = {"$id": "/schemas/queue/v1/inline-test.json#", "type": "object",
              "title": "T", "description": "has **bold** and <img src=x onerror=alert(1)>",
              "properties": {"a": {"type": "string", "description": "`code`"}}}
    table = SchemaTable(schema, root_url=oracle_deployment)
    assert "<strong>bold</strong>" in table._header.value
    assert "<img" not in table._header.value and "&lt;img" in table._header.value
    assert "<code>code</code>" in table._body.value


def test_one_of_alternatives_and_their_errors(oracle_deployment):
    table = SchemaTable("post-artifact-request.json", root_url=oracle_deployment)
    combinators = [n for n in table.rows if n.kind == "combinator"]
    assert combinators and combinators[0].name == "one of"
    alternatives = [n for n in combinators[0].children if n.kind == "alternative"]
    assert len(alternatives) == 5  # s3, object, reference, link, error
    enums = [c.schema.get("enum") for alt in alternatives for c in alt.children
             if c.name == "storageType"]
    assert ["error"] in enums and ["s3"] in enums
    assert "// one of" in table._body.value
    table.instance = {"storageType": "s3"}  # misses expires and contentType
    assert table.errors and table.errors[0][0] == "/"


def test_follows_a_status_widget_live(queue, drive):
    from tutorial_kit.widgets import StatusWidget

    task_id = drive.make_task()
    status = StatusWidget(queue, task_id, start=False)
    status.refresh()
    table = SchemaTable("task-status-response.json", queue=queue)
    table.follow(status)
    assert table.instance["status"]["state"] == "pending" and table.errors == []
    assert table.row("/status/runs/[]/reasonResolved") is not None
    run_id = drive.claim(task_id)
    queue.reportCompleted(task_id, run_id)
    status.refresh()
    assert table.instance["status"]["state"] == "completed"
    row = re.search(r'data-path="/status/runs/\[\]/reasonResolved".*?</div></div>',
                    table._body.value, re.S)
    assert "completed" in row.group(0) and 'aria-label="present"' in row.group(0)


def test_opens_folded_to_the_first_level(oracle_deployment):
    """Lesson 1 says "click ▸ to unfold": only the root is open, every property folded."""
    table = SchemaTable("create-task-request.json", root_url=oracle_deployment)
    html = table._body.value
    assert html.count("<details open") == 1 and html.count("<details") > 5
    # the root's own properties are rows directly under the open root; nothing deeper is open
    assert 'data-path="/metadata"' in html and 'data-path="/metadata/name"' in html
    opened = re.findall(r'<details open role="treeitem"><summary><div class="tk-row" '
                        r'data-path="([^"]*)"', html)
    assert opened == ["/"]
    # a deeper default still works, for a lesson that wants it
    deeper = SchemaTable("create-task-request.json", root_url=oracle_deployment, expand=2)
    assert deeper._body.value.count("<details open") > 1


def test_a_lone_child_opens_with_its_parent(queue, drive):
    """task-status-response.json has one property, ``status``: folding it would show one row."""
    task_id = drive.make_task()
    table = SchemaTable("task-status-response.json", queue=queue, instance=queue.status(task_id))
    opened = re.findall(r'<details open role="treeitem"><summary><div class="tk-row" '
                        r'data-path="([^"]*)"', table._body.value)
    assert opened == ["/", "/status"]  # status's own fields show; runs stays folded


def test_present_fields_are_marked_with_the_lessons_dot(queue, drive):
    """Lesson 2: "fields your task has are marked ●"."""
    task_id = drive.make_task()
    table = SchemaTable("task-status-response.json", queue=queue, instance=queue.status(task_id))
    state = re.search(r'data-path="/status/state".*?</div></div>', table._body.value, re.S)
    assert '<span class="tk-present" aria-label="present"' in state.group(0)
    assert "●</span>" in state.group(0) and "✓" not in table._body.value
    absent = re.search(r'data-path="/status/runs/\[\]/resolved".*?</div></div>',
                       table._body.value, re.S)
    assert 'aria-label="absent">○ absent' in absent.group(0)
