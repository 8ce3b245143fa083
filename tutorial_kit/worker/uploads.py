"""Publishing artifacts through the artifact API, as a worker does: ``createArtifact`` with the
run's temporary credentials, then the bytes through the Object service (``object``, see
:data:`STORAGE`) or a plain HTTP PUT to ``putUrl`` (``s3``)."""

from __future__ import annotations

import mimetypes
from typing import Any

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx

LOG_CONTENT_TYPE = "text/plain; charset=utf-8"


def content_type_for(*names: str) -> str:
    """Guess from the artifact name, then the file's own name (`public/passwd.txt` from
    `/etc/passwd` is text, which lets a browser show it)."""
    for name in names:
        if name.endswith((".log", ".txt")):
            return LOG_CONTENT_TYPE
        guessed, _ = mimetypes.guess_type(name)
        if guessed:
            return guessed
    return "application/octet-stream"


class UploadError(RuntimeError):
    """The storage refused the bytes after the queue accepted the artifact."""


#: How the engine stores artifact bytes: ``object`` (through the Object service, as
#: generic-worker does on a real deployment; the mock always offers it) or ``s3``.
STORAGE = "object"


def upload(queue: Any, http: httpx.Client, task_id: str, run_id: int, name: str, data: bytes, *,
           content_type: str, expires: str) -> None:
    """Store `data` as an artifact: ``object`` (createArtifact, the Object service's upload
    with the credentials it returned, finishArtifact) or ``s3`` (a PUT to its putUrl)."""
    if STORAGE == "object":
        from .artifacts import publish

        publish(queue, task_id, run_id, name, data, content_type=content_type,
                expires=expires, use_object=True)
        return
    reply = queue.createArtifact(task_id, run_id, name, {
        "storageType": "s3", "expires": expires, "contentType": content_type,
        "contentLength": len(data)})
    response = http.put(reply["putUrl"], content=data,
                        headers={"Content-Type": content_type, "Content-Length": str(len(data))})
    if response.status_code >= 300:
        raise UploadError(f"PUT of artifact {name} answered {response.status_code}: "
                          f"{response.text[:200]}")


def reference(queue: Any, task_id: str, run_id: int, name: str, url: str, *,
              content_type: str, expires: str) -> None:
    """Point artifact `name` at `url` (created again with a new url, it is re-pointed)."""
    queue.createArtifact(task_id, run_id, name, {
        "storageType": "reference", "expires": expires, "url": url,
        "contentType": content_type})


def error(queue: Any, task_id: str, run_id: int, name: str, *, reason: str, message: str,
          expires: str) -> None:
    """An ``error`` artifact: downloading it answers 424 with this reason and message."""
    queue.createArtifact(task_id, run_id, name, {
        "storageType": "error", "expires": expires, "reason": reason,
        "message": message[:4096]})
