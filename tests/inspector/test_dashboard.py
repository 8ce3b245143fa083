"""The teacher's dashboard of `tutorial-kit classroom serve`, in a real browser.

The command runs as a teacher would run it; the test reads the dashboard URL it prints, has two
learners create tasks (and one of them make a mistake), and reads the rows. A learner's
credentials, or a URL without the teacher's token, get 403.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import tutorial_kit as tk
from tutorial_kit.client.hawk import authorization_header
from tutorial_kit.client.options import Credentials
from tutorial_kit.inspector import inspector_url
from tutorial_kit.mock.web import dashboard

from .conftest import serve_classroom, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture()
def classroom(tmp_path: pathlib.Path) -> Iterator[dict[str, Any]]:
    with serve_classroom(tmp_path, "--claim-wait", "0.5") as served:
        yield served


def _task(learner: str, name: str) -> dict:
    return tk.lessons.tutorial_task(task_queue="built-in/succeed", schedulerId=learner,
                                    name=name, payload={})


def test_dashboard_shows_each_learner_and_refuses_learners(classroom: dict, page: Any) -> None:
    from playwright.sync_api import expect

    alice, bob = classroom["learners"]["alice"], classroom["learners"]["bob"]
    alice_task, bob_task = tk.slugid(), tk.slugid()
    alice.createTask(alice_task, _task("alice", "alice: hello"))
    bob.createTask(bob_task, _task("bob", "bob: hello"))
    with pytest.raises(tk.TaskclusterError):
        alice.createTask(tk.slugid(), _task("bob", "not mine"))  # bob's schedulerId: 403
    tk.lessons.wait_resolved(bob, bob_task)
    bob.listLatestArtifacts(bob_task)

    assert classroom["url"].startswith(classroom["root_url"] + "/mock/v1/dashboard?token=")
    page.goto(classroom["url"])
    row_a = page.locator('tr[data-learner="alice"]')
    row_b = page.locator('tr[data-learner="bob"]')
    expect(row_a.locator("th")).to_have_text("alice")
    expect(row_b.locator("th")).to_have_text("bob")
    expect(row_a.locator("li[data-error]")).to_contain_text("403 createTask (PUT)")
    expect(row_b).to_contain_text("1 completed")
    expect(row_b).to_contain_text("lesson 3: artifacts")
    expect(row_b).to_contain_text("listLatestArtifacts → 200")
    expect(row_b.locator("li[data-error]")).to_have_count(0)
    link = row_a.locator("a", has_text="alice: hello")
    expect(link).to_have_attribute("href", inspector_url(classroom["root_url"], alice_task))
    shoot(page, "dashboard")

    # live: a new task shows without a reload
    bob.createTask(tk.slugid(), _task("bob", "bob: second"))
    expect(row_b.locator("a", has_text="bob: second")).to_have_count(1)

    # a keyboard user's focus survives the refreshes of a quiet class
    expect(row_b).to_contain_text("2 completed")  # quiet: nothing left to change
    link.focus()
    page.wait_for_timeout(4500)  # two refreshes
    assert page.evaluate("() => document.activeElement.textContent") == "alice: hello"

    # the learner's task in the inspector: reads are public; the event stream is the
    # teacher's, so the page polls
    link.click()
    expect(page.locator("#task-state")).to_have_attribute("data-state", "completed")
    expect(page.locator(".live")).to_contain_text("polling")
    assert page.errors == [] and page.dialogs == []

    # learners are refused: a learner's token in the URL, no token, a learner's signature
    base = classroom["root_url"] + "/mock/v1/dashboard"
    alice_row = classroom["rows"]["alice"]
    assert page.goto(f"{base}?token={alice_row['accessToken']}").status == 403
    expect(page.locator("body")).to_contain_text("403 Forbidden")
    assert page.goto(base).status == 403
    data = base + "/data"
    signed = authorization_header(Credentials(alice_row["clientId"], alice_row["accessToken"]),
                                  "GET", data)
    assert httpx.get(data, headers={"authorization": signed}).status_code == 403
    assert httpx.get(data, headers={"x-teacher-token": alice_row["accessToken"]}).status_code == 403
    token = classroom["url"].split("token=", 1)[1]
    reply = httpx.get(data, headers={"x-teacher-token": token})
    assert reply.status_code == 200
    assert [r["learner"] for r in reply.json()["learners"]] == ["alice", "bob"]
    # the token comes from the teacher's access token, so a restart with the same one keeps it
    assert token == dashboard.teacher_token(classroom["teacher_token"])
