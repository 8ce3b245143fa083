"""The task group page and the index in a real browser: every task of a 3-task group with its
state, counts per state, a filter, and the index's form and recent tasks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tutorial_kit import Queue, fromNowJSON, slugid
from tutorial_kit.inspector import group_url, index_url, inspector_url
from tutorial_kit.lessons import wait_resolved

from .conftest import shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOBODY = "tk-inspector/nobody"  # no worker serves it: its task stays pending


@pytest.fixture(scope="module")
def mock() -> Iterator[Any]:
    from tutorial_kit.mock.server import start

    with start(shell_queues=[]) as running:
        yield running


def _task(group: str, task_queue: str, name: str) -> dict:
    return {"taskQueueId": task_queue, "taskGroupId": group, "created": fromNowJSON(""),
            "deadline": fromNowJSON("1 hour"), "payload": {},
            "metadata": {"name": name, "description": "", "owner": "tests@example.com",
                         "source": "https://example.com/tutorial-kit"}}


def test_group_page_lists_every_task_with_its_state(mock: Any, page: Any) -> None:
    from playwright.sync_api import expect

    queue = Queue({"rootUrl": mock.root_url, "credentials": mock.credentials})
    group = slugid()
    ids = {"build": slugid(), "test": slugid(), "deploy": slugid()}
    queue.createTask(ids["build"], _task(group, "built-in/succeed", "build"))
    queue.createTask(ids["test"], _task(group, "built-in/fail", "test"))
    wait_resolved(queue, ids["build"])
    wait_resolved(queue, ids["test"])

    page.goto(group_url(mock.root_url, group))
    rows = page.locator("tr[data-task]")
    expect(rows).to_have_count(2)
    # a third task appears live, without a reload
    queue.createTask(ids["deploy"], {**_task(group, NOBODY, "deploy"),
                                     "dependencies": [ids["build"]]})
    expect(rows).to_have_count(3)
    expected = {"build": "completed", "test": "failed", "deploy": "pending"}
    for name, state in expected.items():
        row = page.locator(f'tr[data-task="{ids[name]}"]')
        expect(row.locator(".badge")).to_have_attribute("data-state", state)
        expect(row.locator("a")).to_have_text(name)
        expect(row.locator("a")).to_have_attribute("href", inspector_url(mock.root_url, ids[name]))
    expect(page.get_by_role("status").filter(has_text="3 task(s)")).to_contain_text(
        "1 pending, 1 completed, 1 failed")
    expect(page.locator("dl.facts")).to_contain_text("sealed")
    shoot(page, "group")

    # listTaskGroup is followed through its continuationTokens (here one task per page)
    listed = page.evaluate("id => TKInspector.listAll(`/task-group/${id}/list?limit=1`, 'tasks')"
                           ".then(ts => ts.map(t => t.status.taskId))", group)
    assert sorted(listed) == sorted(ids.values())

    # the filter: by keyboard, as a screen-reader user would
    failed = page.locator('button[data-filter="failed"]')
    expect(failed).to_have_text("failed (1)")
    failed.focus()
    page.keyboard.press("Enter")
    expect(failed).to_have_attribute("aria-pressed", "true")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-task", ids["test"])
    page.locator('button[data-filter="all"]').click()
    expect(rows).to_have_count(3)

    # a task's link opens its page; the index then lists it as opened in this browser
    page.locator(f'tr[data-task="{ids["deploy"]}"] a').click()
    expect(page.locator("#task-state")).to_have_attribute("data-state", "pending")
    expect(page.locator(f'dd a[href="{group_url(mock.root_url, group)}"]')).to_have_count(1)
    dependency = page.locator(f'dd a[href="{inspector_url(mock.root_url, ids["build"])}"]')
    expect(dependency).to_have_text(ids["build"])
    queue.cancelTask(ids["deploy"])  # remembered as pending: the index shows today's state
    page.goto(index_url(mock.root_url))
    opened = page.locator("main ul").first
    expect(opened).to_contain_text("deploy")
    expect(opened.locator(".badge").first).to_have_attribute("data-state", "exception")
    # the event stream names the tasks of this queue
    seen_build = page.locator(f'a[href="{inspector_url(mock.root_url, ids["build"])}"]')
    expect(seen_build.first).to_have_text("build")  # its name, fetched from the API
    shoot(page, "index")

    # the form opens a group
    page.get_by_label("A taskId or taskGroupId").fill(group)
    page.get_by_role("button", name="Open group").click()
    expect(page).to_have_url(group_url(mock.root_url, group))
    expect(rows).to_have_count(3)
    assert page.errors == [] and page.dialogs == []
