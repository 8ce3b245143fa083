"""Artifact storage cannot be escaped by any name, and uploads are bounded.

Bytes live in the mock's SQLite file, keyed by (taskId, runId, name). The tests upload ``s3``
artifacts under hostile names with a file store in a fresh directory and check that no file
appears outside the database, that each name gets back exactly its own bytes (names that a file
system would collapse stay distinct), that a signed URL opens only its own blob, and that
uploads over the limits are refused without the server holding the bytes.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import quote

import pytest

from tutorial_kit.mock import MockQueue, start

from .support import (Wire, assert_still_serves, check_error, new_task_id, target_of,
                      task_definition, unique_queue, when)

HOSTILE_NAMES = [
    "../../escape.txt", "public/../../../escape.txt", "public/./x", "public//x", "public/x",
    "/etc/passwd", "public/a\\..\\..\\b", "..", ".", "public/%2e%2e/x", "public/%00nul",
    "private/../public/leak", "public/..", "public/" + "../" * 300 + "escape",
    "public/CON", "public/~/.ssh/id_rsa", "public/$(touch pwned)", "public/`id`",
]


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Iterator[tuple[MockQueue, object]]:
    directory = tmp_path_factory.mktemp("store")
    with start(workers=False, claim_wait=0.1, db=directory / "queue.sqlite") as queue:
        yield queue, directory


def _files(root) -> set[str]:
    found = set()
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            found.add(os.path.relpath(os.path.join(dirpath, name), root))
    return found


def _claimed_task(wire: Wire, creds: dict) -> str:
    queue, task_id = unique_queue(), new_task_id()
    assert wire.api("PUT", f"/task/{task_id}", credentials=creds,
                    json_body=task_definition(queue)).status == 200
    got = wire.api("POST", "/claim-work/" + quote(queue, safe=""), credentials=creds,
                   json_body={"workerGroup": "wg", "workerId": "wi"})
    assert got.json()["tasks"][0]["status"]["taskId"] == task_id
    return task_id


def _s3(wire: Wire, creds: dict, task_id: str, name: str) -> tuple[int, str | None]:
    made = wire.api("POST", f"/task/{task_id}/runs/0/artifacts/" + quote(name, safe=""),
                    credentials=creds, json_body={"storageType": "s3", "expires": when(3600),
                                                  "contentType": "application/octet-stream"})
    return made.status, made.json().get("putUrl") if made.status == 200 else None


def test_hostile_names_stay_inside_the_store(stored) -> None:
    mock, directory = stored
    wire, creds = Wire.for_root(mock.root_url), mock.credentials
    task_id = _claimed_task(wire, creds)
    before_here, before_dir = _files(os.getcwd()), _files(directory)
    uploaded: dict[str, bytes] = {}
    for i, name in enumerate(HOSTILE_NAMES):
        status, put_url = _s3(wire, creds, task_id, name)
        if status != 200:  # refusing a name is fine, as long as it is a clean 4xx
            check_error(wire.api("POST", f"/task/{task_id}/runs/0/artifacts/"
                                 + quote(name, safe=""), credentials=creds,
                                 json_body={"storageType": "s3", "expires": when(3600),
                                            "contentType": "application/octet-stream"}))
            continue
        data = f"{i}:{name}".encode()
        put = Wire.for_root(put_url).send("PUT", target_of(put_url), body=data,
                                          content_type="application/octet-stream")
        assert put.status == 200, (name, put.status, put.text[:300])
        uploaded[name] = data
    assert len(uploaded) >= len(HOSTILE_NAMES) // 2, "almost every name was refused"
    # no file appeared anywhere but the database's own
    assert _files(os.getcwd()) == before_here
    assert {f for f in _files(directory) - before_dir
            if not f.startswith("queue.sqlite")} == set()
    assert not os.path.exists(os.path.join(directory.parent, "escape.txt"))
    # every name reads back exactly its own bytes, by getArtifact's redirect
    for name, data in uploaded.items():
        answer = wire.api("GET", f"/task/{task_id}/runs/0/artifacts/" + quote(name, safe=""),
                          credentials=creds)
        assert answer.status == 303, (name, answer.text[:300])
        url = answer.headers["location"]
        blob = Wire.for_root(url).send("GET", target_of(url))
        assert blob.status == 200 and blob.body == data, (name, blob.status)
    listed = wire.api("GET", f"/task/{task_id}/runs/0/artifacts", credentials=creds).json()
    assert {a["name"] for a in listed["artifacts"]} >= set(uploaded)


def test_a_signed_url_opens_only_its_own_blob(stored) -> None:
    mock, _ = stored
    wire, creds = Wire.for_root(mock.root_url), mock.credentials
    task_a, task_b = _claimed_task(wire, creds), _claimed_task(wire, creds)
    _, put_a = _s3(wire, creds, task_a, "private/a.bin")
    _, put_b = _s3(wire, creds, task_b, "private/a.bin")
    blobs = Wire.for_root(put_a)
    target = target_of(put_a)
    forged = [target.replace(task_a, task_b), target.replace("a.bin", "b.bin"),
              target.replace("/0/", "/1/"), target.replace("private/", "public/", 1),
              target.replace("private/", "private/..%2F", 1),
              target.replace("/private/", "/private/../private/", 1)]
    for bad in forged:
        answer = blobs.send("PUT", bad, body=b"evil", content_type="application/octet-stream")
        check_error(answer)
    assert blobs.send("PUT", target, body=b"mine", content_type="application/octet-stream"
                      ).status == 200
    # b's artifact was never written by the forged requests
    assert blobs.send("PUT", target_of(put_b), body=b"b", content_type="application/octet-stream"
                      ).status == 200
    # once the URL has expired (mock clock) it opens nothing
    try:
        mock.clock.advance(timedelta(hours=2))
        check_error(blobs.send("PUT", target, body=b"late",
                               content_type="application/octet-stream"))
    finally:
        mock.clock.reset()
    assert_still_serves(wire)


def test_uploads_need_a_length_and_are_bounded(stored) -> None:
    mock, _ = stored
    wire, creds = Wire.for_root(mock.root_url), mock.credentials
    task_id = _claimed_task(wire, creds)
    _, put_url = _s3(wire, creds, task_id, "public/big.bin")
    blobs, target = Wire.for_root(put_url), target_of(put_url)
    # no Content-Length: 411, as S3 answers
    raw = (f"PUT {target} HTTP/1.1\r\nHost: {blobs.host}:{blobs.port}\r\n"
           "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n"
           "Connection: close\r\n\r\n4\r\nabcd\r\n0\r\n\r\n").encode()
    with socket.create_connection((blobs.host, blobs.port), timeout=10) as sock:
        sock.sendall(raw)
        head = sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 411"), head[:100]
    # over the store's own limit: refused
    limit = mock.backend.max_blob_bytes
    mock.backend.max_blob_bytes = 1000
    try:
        answer = blobs.send("PUT", target, body=b"x" * 1001,
                            content_type="application/octet-stream")
        assert answer.status == 413 and check_error(answer)["code"] == "InputTooLarge"
    finally:
        mock.backend.max_blob_bytes = limit
    # a declared size far beyond any limit is refused before a byte of it is read
    huge = 1024 ** 4
    answer = blobs.send("PUT", target, content_type="application/octet-stream",
                        headers={"Content-Length": str(huge)})
    assert answer.status == 413
    assert_still_serves(wire)


def test_a_declared_length_over_the_store_limit_is_refused_at_once(stored) -> None:
    mock, _ = stored
    wire, creds = Wire.for_root(mock.root_url), mock.credentials
    task_id = _claimed_task(wire, creds)
    _, put_url = _s3(wire, creds, task_id, "public/big2.bin")
    blobs = Wire.for_root(put_url, timeout=3)
    declared = mock.backend.max_blob_bytes + 1
    try:
        answer = blobs.send("PUT", target_of(put_url), content_type="application/octet-stream",
                            headers={"Content-Length": str(declared)})
    except socket.timeout:
        pytest.fail(f"the server waited for {declared} bytes instead of refusing them")
    assert answer.status == 413
