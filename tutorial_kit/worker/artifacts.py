"""Publishing a run's artifacts the way the deployment offers: ``object`` through its Object
service when it has one, ``s3`` otherwise; ``error`` artifacts for what cannot be uploaded.

Everything goes through the public API with the run's temporary credentials (the client the
claim handed out), so it works the same against the mock and a real deployment.
"""

from __future__ import annotations

from typing import Any

import tutorial_kit._httpx  # noqa: F401  # isort: skip  (first: httpx without its CLI)
import httpx

from tutorial_kit.client.objects import Object
from tutorial_kit.client.tls import ssl_context
from tutorial_kit.upload import uploadFromBuf

#: Content type of logs (text, so a browser shows them).
LOG_CONTENT_TYPE = "text/plain; charset=utf-8"


def has_object_service(root_url: str, *, timeout: float = 10.0) -> bool:
    """Does the deployment at ``root_url`` run an Object service? (its ``ping`` answers)"""
    try:
        reply = httpx.get(f"{root_url.rstrip('/')}/api/object/v1/ping", timeout=timeout,
                          verify=ssl_context())
    except httpx.HTTPError:
        return False
    if reply.status_code != 200:
        return False
    try:
        return bool(reply.json().get("alive"))
    except ValueError:
        return False


class UploadFailed(RuntimeError):
    """The storage refused the bytes after the queue accepted the artifact."""


def publish(queue: Any, task_id: str, run_id: int, name: str, data: bytes, *,
            content_type: str, expires: str, use_object: bool) -> str:
    """Store ``data`` as artifact ``name``; returns the storage type used."""
    if use_object:
        created = queue.createArtifact(task_id, run_id, name, {
            "storageType": "object", "contentType": content_type, "expires": expires})
        with Object({"rootUrl": queue.options["rootUrl"], "maxRetries": 3,
                     "credentials": created["credentials"]}) as objects:
            uploadFromBuf(projectId=created["projectId"], name=created["name"],
                          contentType=content_type, contentLength=len(data),
                          expires=created["expires"], uploadId=created["uploadId"], data=data,
                          objectService=objects, maxRetries=3)
        queue.finishArtifact(task_id, run_id, name, {"uploadId": created["uploadId"]})
        return "object"
    created = queue.createArtifact(task_id, run_id, name, {
        "storageType": "s3", "contentType": content_type, "expires": expires,
        "contentLength": len(data)})
    reply = httpx.put(created["putUrl"], content=data, timeout=60.0,
                      headers={"Content-Type": content_type}, verify=ssl_context())
    if reply.status_code >= 300:
        raise UploadFailed(f"PUT of artifact {name} answered {reply.status_code}: "
                           f"{reply.text[:200]}")
    return "s3"


def error(queue: Any, task_id: str, run_id: int, name: str, *, reason: str, message: str,
          expires: str) -> None:
    """An ``error`` artifact: a download of ``name`` then says why there is nothing."""
    queue.createArtifact(task_id, run_id, name, {
        "storageType": "error", "expires": expires, "reason": reason, "message": message[:4096]})
