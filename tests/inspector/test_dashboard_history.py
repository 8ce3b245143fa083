"""The dashboard's history starts with the classroom, not with the teacher's first look.

A teacher who opens the dashboard late still sees what learners did since `classroom serve`
started, though the request log keeps only its last 2000 calls; with ``--db``, what they did
before a restart too. Real parts: the command as a teacher runs it, learners' signed calls,
the page in Chromium.
"""

from __future__ import annotations

import pathlib
from typing import Any

import httpx
import pytest

import tutorial_kit as tk
from tutorial_kit.client.hawk import authorization_header
from tutorial_kit.client.options import Credentials

from .conftest import serve_classroom, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def classroom(tmp_path: pathlib.Path, *options: str):
    """`classroom serve` for alice and bob (no workers: only the learners' calls matter)."""
    return serve_classroom(tmp_path, "--no-workers", *options)


def _task(scheduler: str) -> dict:
    return tk.lessons.tutorial_task(task_queue="built-in/succeed", schedulerId=scheduler,
                                    name="history", payload={})


def _rows(data: dict) -> dict[str, dict]:
    return {row["learner"]: row for row in data["learners"]}


def _alice_starts(alice: Any) -> str:
    """Lessons 1 and 2 with one mistake: bob's schedulerId (403), her own task, its status."""
    with pytest.raises(tk.TaskclusterError):
        alice.createTask(tk.slugid(), _task("bob"))
    task_id = tk.slugid()
    alice.createTask(task_id, _task("alice"))
    alice.status(task_id)
    return task_id


def _expect_alice(page: Any, url: str) -> Any:
    from playwright.sync_api import expect

    page.goto(url)
    row = page.locator('tr[data-learner="alice"]')
    expect(row.locator("li[data-error]")).to_contain_text("403 createTask (PUT)")
    expect(row).to_contain_text("lesson 2: monitor status")
    expect(row).to_contain_text("status → 200")
    expect(row).to_contain_text("1 pending")
    return row


def test_a_teacher_who_opens_the_dashboard_late_sees_the_whole_class(tmp_path, page):
    with classroom(tmp_path) as room:
        alice, bob = room["learners"]["alice"], room["learners"]["bob"]
        task_id = _alice_starts(alice)
        # bob polls: 2100 calls push alice's out of the request log's 2000-call ring
        for _ in range(2100):
            bob.status(task_id)
        # the ring itself no longer holds any of alice's calls (read as the teacher, signed)
        requests = room["root_url"] + "/mock/v1/requests?since=0&limit=10000"
        signed = authorization_header(Credentials("tutorial", room["teacher_token"]), "GET",
                                      requests)
        ring = httpx.get(requests, headers={"authorization": signed})
        assert ring.status_code == 200, ring.text
        assert {r["clientId"] for r in ring.json()["requests"]} == {"classroom/bob"}

        # the teacher looks only now
        row = _expect_alice(page, room["url"])
        from playwright.sync_api import expect

        expect(page.locator('tr[data-learner="bob"]')).to_contain_text("lesson 2: monitor status")
        shoot(page, "dashboard-late")
        rows = _rows(room["data"]())
        assert rows["alice"]["calls"] == 3 and rows["bob"]["calls"] == 2100
        assert row.locator("li[data-error]").count() == 1
        assert page.errors == [] and page.dialogs == []


def test_the_dashboard_keeps_its_history_across_a_restart_with_db(tmp_path, page):
    db = str(tmp_path / "class.sqlite")
    with classroom(tmp_path, "--db", db) as room:
        task_id = _alice_starts(room["learners"]["alice"])
        # nobody opens the dashboard before the classroom stops (SIGTERM, as a teacher would)

    with classroom(tmp_path, "--db", db) as room:
        _expect_alice(page, room["url"])
        from playwright.sync_api import expect

        expect(page.locator('tr[data-learner="bob"]')).to_contain_text("no call yet")
        rows = _rows(room["data"]())
        assert rows["alice"]["calls"] == 3 and rows["bob"]["calls"] == 0
        assert [t["taskId"] for t in rows["alice"]["recentTasks"]] == [task_id]
        # the history goes on from where it was
        room["learners"]["alice"].listLatestArtifacts(task_id)
        expect(page.locator('tr[data-learner="alice"]')).to_contain_text(
            "lesson 3: artifacts")
        assert _rows(room["data"]())["alice"]["calls"] == 4
