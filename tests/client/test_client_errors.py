"""Answers: JSON bodies, 204, 303 bodies, and every error mapped to TaskclusterError."""

from __future__ import annotations

import pytest

from scripted_server import Answer
from tutorial_kit.client import (ArtifactError, TaskclusterAuthError, TaskclusterError)

TASK = "fN1SbArXTPSVFNUvaOlinQ"

FOOTER = ("\n\n---\n\n* method:     status\n* errorCode:  ResourceNotFound\n"
          "* statusCode: 404\n* time:       2026-11-28T20:00:00.000Z")


def test_envelope_becomes_fields_and_a_readable_str(server, anon_queue):
    body = {"code": "ResourceNotFound", "message": "`" + TASK + "` does not correspond to a task"
            + FOOTER, "requestInfo": {"method": "status", "params": {"taskId": TASK},
                                       "payload": {}, "time": "2026-11-28T20:00:00.000Z"}}
    server.push(Answer(404, body))
    with pytest.raises(TaskclusterError) as info:
        anon_queue.status(TASK)
    err = info.value
    assert type(err) is TaskclusterError
    assert err.status_code == 404 and err.code == "ResourceNotFound"
    assert err.message == body["message"] and err.body == body
    assert err.requestInfo == body["requestInfo"]
    assert err.method == "status" and err.url.endswith(f"/task/{TASK}/status")
    assert str(err) == f"ResourceNotFound (404): `{TASK}` does not correspond to a task"


def test_validation_message_keeps_its_bullets(server, anon_queue):
    message = ("\nSchema Validation Failed!\nRejecting Schema: create-task-request.json\n"
               "Errors:\n  * data must have required property 'metadata'" + FOOTER)
    server.push(Answer(400, {"code": "InputValidationError", "message": message}))
    with pytest.raises(TaskclusterError) as info:
        anon_queue.createTask(TASK, {})
    assert str(info.value).startswith("InputValidationError (400): Schema Validation Failed!\n")
    assert "required property 'metadata'" in str(info.value) and "---" not in str(info.value)


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors(server, queue, status):
    code = {401: "AuthenticationFailed", 403: "InsufficientScopes"}[status]
    server.push(Answer(status, {"code": code, "message": "nope"}))
    with pytest.raises(TaskclusterAuthError) as info:
        queue.createTask(TASK, {"a": 1})
    assert info.value.code == code and info.value.status_code == status
    assert isinstance(info.value, TaskclusterError)


def test_non_json_error_body_is_still_clear(server, anon_queue):
    server.push(Answer(418, b"<html>I am a teapot</html>", {"Content-Type": "text/html"}))
    with pytest.raises(TaskclusterError) as info:
        anon_queue.status(TASK)
    err = info.value
    assert err.code == "UnknownError" and err.status_code == 418
    assert err.body == "<html>I am a teapot</html>"
    assert "not a Taskcluster error body" in str(err) and "teapot" in str(err)


def test_unknown_route_body(server, anon_queue):
    server.push(Answer(404, {"error": "Not found"}))
    with pytest.raises(TaskclusterError, match=r"UnknownError \(404\): Not found"):
        anon_queue.ping()


def test_error_artifact_424(server, anon_queue):
    server.push(Answer(424, {"reason": "file-missing-on-worker", "message": "no such file"},
                       {"x-taskcluster-artifact-storage-type": "error"}))
    with pytest.raises(ArtifactError) as info:
        anon_queue.getLatestArtifact(TASK, "public/missing.txt")
    err = info.value
    assert err.reason == "file-missing-on-worker" and err.message == "no such file"
    assert err.status_code == 424
    assert str(err) == "ArtifactError (424): file-missing-on-worker: no such file"


def test_204_is_none_and_303_returns_its_body_without_following(server, queue):
    server.push(Answer(204), Answer(303, {"storageType": "s3", "url": server.url + "/blob"},
                                    {"Location": server.url + "/blob"}))
    assert queue.finishArtifact(TASK, 0, "public/x", {"uploadId": TASK}) is None
    assert queue.getLatestArtifact(TASK, "public/x") == {"storageType": "s3",
                                                         "url": server.url + "/blob"}
    assert len(server.requests) == 2  # the redirect was not followed


def test_success_that_is_not_json(server, anon_queue):
    server.push(Answer(200, b"hello"))
    with pytest.raises(TaskclusterError, match="not JSON") as info:
        anon_queue.ping()
    assert info.value.code == "InvalidResponse"


def test_json_is_parsed_whatever_the_content_type(server, anon_queue):
    server.push(Answer(200, b'{"alive": true}', {"Content-Type": "text/plain"}))
    assert anon_queue.ping() == {"alive": True}
