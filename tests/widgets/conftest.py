"""Fixtures for the widget tests: a real HTTP server that serves schemas as a deployment does."""

from __future__ import annotations

import json
import pathlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class _SchemaHandler(BaseHTTPRequestHandler):
    folder: pathlib.Path

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0]
        target = (self.folder / path.lstrip("/")).resolve()
        if not path.startswith("/schemas/") or self.folder not in target.parents or not target.is_file():
            self.send_response(404)
            self.end_headers()
            return
        document = json.loads(target.read_text("utf-8"))
        host = f"http://{self.headers['Host']}"
        for key in ("$id", "$schema"):  # a deployment serves absolute ids; refs stay relative
            if isinstance(document.get(key), str) and document[key].startswith("/"):
                document[key] = host + document[key]
        body = json.dumps(document, indent=2).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def oracle_deployment(oracle_schemas):
    """rootUrl of a loopback server serving ../shared/taskcluster-schemas like a deployment."""
    handler = type("Handler", (_SchemaHandler,), {"folder": oracle_schemas.resolve()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# -- the mock queue, and a task driven through its states with the client ----------------------

TASK_QUEUE = "tk-widgets/test-queue"  # a queue of our own: no simulated worker serves it


@pytest.fixture(scope="module")
def mock():
    from tutorial_kit.mock.server import start

    queue_service = start(workers=False)
    yield queue_service
    queue_service.stop()


@pytest.fixture()
def queue(mock):
    from tutorial_kit import Queue

    client = Queue({"rootUrl": mock.root_url, "credentials": mock.credentials})
    yield client
    client.close()


class Driver:
    """Drives tasks through their states with the client, as a worker would."""

    def __init__(self, queue):
        self.queue = queue

    def make_task(self, **kw) -> str:
        return make_task(self.queue, **kw)

    def claim(self, task_id: str) -> int:
        return claim(self.queue, task_id)


@pytest.fixture()
def drive(queue) -> Driver:
    return Driver(queue)


def make_task(queue, *, name: str = "widget test", retries: int = 1,
              description: str = "A task for **widget** tests.", group: str | None = None) -> str:
    """Create a pending task on TASK_QUEUE; returns its taskId."""
    from tutorial_kit import fromNowJSON, slugid

    task_id = slugid()
    definition = {
        "taskQueueId": TASK_QUEUE,
        "created": fromNowJSON("0 seconds"),
        "deadline": fromNowJSON("1 hour"),
        "retries": retries,
        "payload": {},
        "metadata": {"name": name, "description": description, "owner": "tests@example.com",
                     "source": "https://example.com/tutorial-kit"},
    }
    if group:
        definition["taskGroupId"] = group
    queue.createTask(task_id, definition)
    return task_id


def claim(queue, task_id: str) -> int:
    """Claim the pending run of ``task_id`` as a test worker; returns its runId."""
    for _ in range(5):  # bounded: other pending tasks on the queue may be handed out first
        reply = queue.claimWork(TASK_QUEUE, {"workerGroup": "tests", "workerId": "w1", "tasks": 1})
        for item in reply.get("tasks", []):
            if item["status"]["taskId"] == task_id:
                return item["runId"]
            queue.reportCompleted(item["status"]["taskId"], item["runId"])
    raise AssertionError(f"could not claim {task_id}")


def upload(queue, task_id: str, run_id: int, name: str, data: bytes, content_type: str) -> None:
    """Store bytes as an s3 artifact, as a worker does: createArtifact, then PUT to putUrl."""
    import httpx

    from tutorial_kit import fromNowJSON

    reply = queue.createArtifact(task_id, run_id, name, {
        "storageType": "s3", "expires": fromNowJSON("1 day"), "contentType": content_type,
        "contentLength": len(data)})
    response = httpx.put(reply["putUrl"], content=data, headers={"Content-Type": content_type})
    assert response.status_code < 300, response.text


def error_artifact(queue, task_id: str, run_id: int, name: str, reason: str, message: str):
    from tutorial_kit import fromNowJSON

    queue.createArtifact(task_id, run_id, name, {
        "storageType": "error", "expires": fromNowJSON("1 day"), "reason": reason,
        "message": message})
