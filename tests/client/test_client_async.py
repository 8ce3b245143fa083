"""AsyncQueue: the same behaviour as coroutines (signing, retries, errors, pagination,
downloads), against the same real server."""

from __future__ import annotations

import asyncio

import pytest

from scripted_server import Answer
from tutorial_kit.client import (ArtifactError, AsyncQueue, TaskclusterConnectionError,
                                 TaskclusterError)

TASK = "fN1SbArXTPSVFNUvaOlinQ"


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=20))


def test_calls_are_signed_and_return_json(server, make_async):
    server.push(Answer(200, {"status": {"state": "pending"}}), Answer(204))

    async def main():
        async with make_async() as q:
            status = await q.createTask(TASK, {"provisionerId": "p"})
            done = await q.reportCompleted(TASK, 0)
            return status, done
    assert run(main()) == ({"status": {"state": "pending"}}, None)
    put, post = server.requests
    assert put.method == "PUT" and put.hawk == "ok" and put.body == b'{"provisionerId":"p"}'
    assert post.path == f"/api/queue/v1/task/{TASK}/runs/0/completed" and post.hawk == "ok"


def test_retries_with_async_sleep(server, make_async, sleeps):
    server.push(Answer(500, {"code": "InternalServerError", "message": "x"}),
                Answer(502, b"bad gateway"), Answer(200, {"ok": 1}))

    async def main():
        q = make_async()
        try:
            return await q.status(TASK)
        finally:
            await q.aclose()
    assert run(main()) == {"ok": 1}
    assert len(server.requests) == 3 and len(sleeps.delays) == 2


def test_errors_match_the_sync_client(server, make_async, sleeps):
    server.push(Answer(404, {"code": "ResourceNotFound", "message": "no task"}),
                Answer(424, {"reason": "file-missing-on-worker", "message": "m"}))

    async def main():
        async with make_async() as q:
            with pytest.raises(TaskclusterError) as a:
                await q.status(TASK)
            with pytest.raises(ArtifactError) as b:
                await q.getLatestArtifact(TASK, "public/x")
            return a.value, b.value
    a, b = run(main())
    assert (a.code, a.status_code, str(a)) == ("ResourceNotFound", 404,
                                               "ResourceNotFound (404): no task")
    assert b.reason == "file-missing-on-worker" and sleeps.delays == []


def test_connection_refused(sleeps):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()

    async def main():
        async with AsyncQueue(rootUrl=f"http://127.0.0.1:{port}", maxRetries=2,
                              sleep=sleeps.asleep) as q:
            await q.ping()
    with pytest.raises(TaskclusterConnectionError, match="mock queue"):
        run(main())
    assert len(sleeps.delays) == 2


def test_pagination(server, make_async):
    def answer(rec):
        token = rec.query.get("continuationToken", [None])[0]
        if token is None:
            return Answer(200, {"tasks": ["a", "b"], "continuationToken": "t1"})
        return Answer(200, {"tasks": ["c"]})
    server.fallback = answer

    async def main():
        async with make_async() as q:
            items = [t async for t in q.iterTaskGroup(TASK, limit=2)]
            pages = [p async for p in q.paginate("listTaskGroup", TASK)]
            handled = []
            await q.listTaskGroup(TASK, paginationHandler=handled.append)
            return items, pages, handled
    items, pages, handled = run(main())
    assert items == ["a", "b", "c"]
    assert [p["tasks"] for p in pages] == [["a", "b"], ["c"]] == [p["tasks"] for p in handled]
    assert server.requests[1].query == {"limit": ["2"], "continuationToken": ["t1"]}


def test_download_follows_redirect(server, make_async, tmp_path):
    data = b"x" * 100_000

    def answer(rec):
        if rec.path == "/blob":
            return Answer(200, data)
        return Answer(303, {"url": server.url + "/blob"}, {"Location": server.url + "/blob"})
    server.fallback = answer
    calls = []

    async def main():
        async with make_async() as q:
            got = await q.downloadLatestArtifact(TASK, "public/big", chunk_size=30000,
                                                 progress=lambda n, t: calls.append((n, t)))
            n = await q.downloadArtifact(TASK, 0, "public/big", file=tmp_path / "big")
            return got, n
    got, n = run(main())
    assert got == data and n == len(data) and (tmp_path / "big").read_bytes() == data
    assert server.requests[0].hawk == "bewit-ok"
    assert calls[0] == (0, len(data)) and calls[-1] == (len(data), len(data))
