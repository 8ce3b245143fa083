"""Pagination: following continuationToken across real requests."""

from __future__ import annotations

import pytest

from scripted_server import Answer
from tutorial_kit.client import TaskclusterError

GROUP = "fN1SbArXTPSVFNUvaOlinQ"


def _pages(server, key="tasks"):
    """Three pages keyed by token; the last one has no token."""
    pages = {None: ({key: [1, 2]}, "tok/1"), "tok/1": ({key: [3]}, "tok 2"),
             "tok 2": ({key: []}, None)}

    def answer(rec):
        token = rec.query.get("continuationToken", [None])[0]
        body, nxt = pages[token]
        return Answer(200, {**body, **({"continuationToken": nxt} if nxt else {})})
    server.fallback = answer


def test_paginate_yields_every_page(server, queue):
    _pages(server)
    pages = list(queue.paginate("listTaskGroup", GROUP, query={"limit": 2}))
    assert [p["tasks"] for p in pages] == [[1, 2], [3], []]
    assert [r.query for r in server.requests] == [
        {"limit": ["2"]},
        {"limit": ["2"], "continuationToken": ["tok/1"]},
        {"limit": ["2"], "continuationToken": ["tok 2"]},
    ]
    assert all(r.hawk == "ok" for r in server.requests)


def test_pagination_handler_keyword_of_the_official_client(server, queue):
    _pages(server)
    seen = []
    assert queue.listTaskGroup(GROUP, paginationHandler=seen.append, paginationLimit=7) is None
    assert [p["tasks"] for p in seen] == [[1, 2], [3], []]
    assert server.requests[0].query == {"limit": ["7"]}


def test_without_handler_one_page_is_returned(server, queue):
    _pages(server)
    page = queue.listTaskGroup(GROUP, query={"limit": 2})
    assert page == {"tasks": [1, 2], "continuationToken": "tok/1"}
    assert len(server.requests) == 1


def test_item_iterators(server, queue):
    _pages(server)
    assert list(queue.iterTaskGroup(GROUP, limit=2)) == [1, 2, 3]
    assert server.requests[0].path == f"/api/queue/v1/task-group/{GROUP}/list"
    server.requests.clear()
    _pages(server, key="artifacts")
    assert list(queue.iterArtifacts(GROUP)) == [1, 2, 3]
    assert server.requests[0].path == f"/api/queue/v1/task/{GROUP}/artifacts"
    server.requests.clear()
    assert list(queue.iterArtifacts(GROUP, 2)) == [1, 2, 3]
    assert server.requests[0].path == f"/api/queue/v1/task/{GROUP}/runs/2/artifacts"


def test_errors_mid_way_surface(server, queue):
    server.push(Answer(200, {"tasks": [1], "continuationToken": "x"}),
                Answer(400, {"code": "InputError", "message": "Invalid continuation token"}))
    with pytest.raises(TaskclusterError, match="Invalid continuation token"):
        list(queue.iterTaskGroup(GROUP))


def test_paginate_refuses_unpaginated_methods(queue):
    with pytest.raises(TaskclusterError, match="not paginated"):
        queue.paginate("status", GROUP)
