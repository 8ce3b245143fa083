"""The task page in a real browser: a tutorial task goes from pending to completed without a
reload, its log's output shows, and its artifacts download as the same bytes (a private one
through a link the page signs with pasted credentials)."""

from __future__ import annotations

import pathlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tutorial_kit import Queue, fromNowJSON, slugid
from tutorial_kit.inspector import inspector_url
from tutorial_kit.lessons import tutorial_task

from .conftest import SHELL_QUEUE, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

COMMAND = "echo inspector-says-hello; echo the secret is 42 > secret.txt; sleep 1; echo bye"


@pytest.fixture(scope="module")
def mock() -> Iterator[Any]:
    from tutorial_kit.mock.server import start

    # claim_wait short: a claimWork parked before a fault is armed would still take the task
    with start(shell_queues=[SHELL_QUEUE], claim_wait=0.5) as running:
        yield running


def test_task_page_goes_live_from_pending_to_completed(mock: Any, page: Any) -> None:
    from playwright.sync_api import expect

    queue = Queue({"rootUrl": mock.root_url, "credentials": mock.credentials})
    # Hold the task pending until the page has shown it: the engine's claims fail meanwhile.
    mock.faults.arm({"method": "claimWork", "status": 409, "count": 1_000_000})
    time.sleep(1.0)  # the claimWork calls already parked end (claim_wait 0.5 s)
    task_id = slugid()
    task = tutorial_task(COMMAND, task_queue=SHELL_QUEUE, name="inspector: first task",
                         artifacts={
                             "public/passwd.txt": {"type": "file", "path": "/etc/passwd",
                                                   "expires": fromNowJSON("1 day")},
                             "private/secret.txt": {"type": "file", "path": "secret.txt",
                                                    "expires": fromNowJSON("1 day")}})
    task["metadata"]["description"] = "Lists **/etc/passwd**; see [the tutorial](https://example.com/t)."
    queue.createTask(task_id, task)

    page.goto(inspector_url(mock.root_url, task_id))
    state = page.locator("#task-state")
    expect(state).to_have_attribute("data-state", "pending")
    expect(page.locator("h1")).to_have_text("inspector: first task")
    expect(page.locator(".desc strong")).to_have_text("/etc/passwd")
    expect(page.locator(".desc a")).to_have_attribute("href", "https://example.com/t")
    expect(page.locator(".live")).to_contain_text("events")  # the mock's stream, not polling
    shoot(page, "task-pending")
    marker = page.evaluate("() => (window.__noReload = 'same page')")

    mock.faults.clear()  # let the shell engine claim and run it
    expect(state).to_have_attribute("data-state", "completed", timeout=60_000)
    assert page.evaluate("() => window.__noReload") == marker  # no reload happened
    expect(page.locator("pre.log")).to_contain_text("inspector-says-hello", timeout=30_000)
    expect(page.locator("pre.log")).to_contain_text("bye")
    runs = page.locator("table tr[data-run]")
    expect(runs).to_have_count(1)
    expect(runs.first).to_contain_text("completed")
    expect(page.locator(".timeline svg rect").first).to_be_visible()

    # the public artifact: a working link, the same bytes
    link = page.locator('tr[data-artifact="public/passwd.txt"] a')
    with page.expect_download() as info:
        link.click()
    assert pathlib.Path(info.value.path()).read_bytes() == pathlib.Path("/etc/passwd").read_bytes()

    # the private one: marked private, then signed with pasted credentials
    private = page.locator('tr[data-artifact="private/secret.txt"]')
    expect(private.locator('.badge[data-state="private"]')).to_have_text("private")
    expect(private.locator("a")).to_have_count(0)
    page.locator("details.creds summary").click()
    page.get_by_label("clientId").fill(mock.credentials["clientId"])
    page.get_by_label("accessToken").fill(mock.credentials["accessToken"])
    page.get_by_role("button", name="Use for links").click()
    signed = private.locator("a")
    expect(signed).to_have_count(1)
    assert "bewit=" in (signed.get_attribute("href") or "")
    with page.expect_download() as info:
        signed.click()
    assert pathlib.Path(info.value.path()).read_bytes() == b"the secret is 42\n"
    expect(page.locator("details:not(.creds) summary")).to_have_text("Task definition (JSON)")
    page.locator("details:not(.creds) summary").click()
    expect(page.locator("pre.json")).to_contain_text('"taskQueueId": "tk-inspector/shell"')
    shoot(page, "task-completed")
    assert page.errors == [] and page.dialogs == []


def test_an_unknown_task_says_so(mock: Any, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(inspector_url(mock.root_url, slugid()))
    expect(page.locator("h1")).to_have_text("No such task")
    expect(page.locator(".error")).to_contain_text("404")
    assert page.errors == []


def test_a_running_runs_log_is_followed_as_it_grows(mock: Any, page: Any) -> None:
    from playwright.sync_api import expect

    from tutorial_kit.lessons import wait_for_run

    queue = Queue({"rootUrl": mock.root_url, "credentials": mock.credentials})
    task_id = slugid()
    # the second line waits for a file the test writes, so "still running" is no race
    gate = pathlib.Path(f"/tmp/tk-inspector-gate-{task_id}")
    queue.createTask(task_id, tutorial_task(
        f"echo first-line; while [ ! -e {gate} ]; do sleep 0.1; done; echo last-$((40 + 2))",
        task_queue=SHELL_QUEUE, artifacts={}))
    wait_for_run(queue, task_id, 0, "running")
    try:
        page.goto(inspector_url(mock.root_url, task_id))
        log = page.locator("pre.log")
        expect(page.locator("#log-title")).to_have_text("Log of run 0 (live, following)")
        expect(log).to_contain_text("first-line")
        expect(log).not_to_contain_text("last-42")  # (the command line shows the unexpanded text)
        shoot(page, "task-running")
        gate.write_text("go")
        expect(log).to_contain_text("last-42")  # the same page, the log grew
        expect(page.locator("#task-state")).to_have_attribute("data-state", "completed")
        expect(page.locator("#log-title")).to_have_text("Log of run 0")
        expect(log).to_contain_text("first-line")
        expect(log).to_contain_text("exit code 0")
    finally:
        gate.unlink(missing_ok=True)
    assert page.errors == []


def test_a_malformed_id_is_explained(mock: Any, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(f"{mock.root_url}/tasks/<not-an-id>")
    expect(page.locator("h1")).to_have_text("Not a taskId")
    expect(page.get_by_role("alert")).to_contain_text("<not-an-id> is not a taskId")
    page.goto(f"{mock.root_url}/tasks/groups/short")
    expect(page.locator("h1")).to_have_text("Not a taskGroupId")
    assert page.errors == []
