"""Hostile task metadata renders as text: a test that would catch an XSS in the inspector.

The name, description and source of a task are anyone's text. A script tag, an event handler,
a ``javascript:`` or ``data:`` link must show as characters and never run; the page's
Content-Security-Policy would block inline script too, so this test also checks that the
markup never reaches the DOM at all (no <img>, <script> or unsafe href inside the page).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tutorial_kit import Queue, fromNowJSON, slugid
from tutorial_kit.inspector import group_url, index_url, inspector_url

from .conftest import shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NAME = '<script>window.__xss = "name"</script><img src=x onerror="window.__xss=\'img\'">'
DESCRIPTION = "\n".join([
    '# <img src=x onerror="window.__xss=\'heading\'">',
    "[click me](javascript:window.__xss='link') and [data](data:text/html,<script>x</script>)",
    "[spaced](  javascript:alert(1)) and [JS](JaVaScRiPt:alert(2))",
    '<script>window.__xss = "description"</script>',
    "- **<b>not bold</b>** `<i>code</i>`",
    "```",
    "</pre><script>window.__xss='fence'</script>",
    "```",
])
SOURCE = 'https://example.com/"><img src=x onerror="window.__xss=\'source\'">' 


@pytest.fixture(scope="module")
def mock() -> Iterator[Any]:
    from tutorial_kit.mock.server import start

    with start(workers=False) as running:
        yield running


def _no_markup_ran(page: Any) -> None:
    assert page.evaluate("() => window.__xss") is None
    assert page.dialogs == [] and page.errors == []
    assert page.locator("main img, main script, main iframe, main object").count() == 0
    hrefs = page.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert hrefs and all(h.startswith(("http://", "https://", "mailto:")) for h in hrefs), hrefs


def test_hostile_metadata_is_shown_as_text(mock: Any, page: Any) -> None:
    from playwright.sync_api import expect

    queue = Queue({"rootUrl": mock.root_url, "credentials": mock.credentials})
    task_id, group = slugid(), slugid()
    queue.createTask(task_id, {
        "taskQueueId": "tk-inspector/nobody", "taskGroupId": group,
        "created": fromNowJSON(""), "deadline": fromNowJSON("1 hour"), "payload": {},
        "metadata": {"name": NAME, "description": DESCRIPTION, "owner": "mallory@example.com",
                     "source": SOURCE}})

    page.goto(inspector_url(mock.root_url, task_id))
    expect(page.locator("#task-state")).to_have_attribute("data-state", "pending")
    expect(page.locator("h1")).to_have_text(NAME)  # the very characters, not markup
    desc = page.locator(".desc")
    expect(desc.locator("h3")).to_have_text('<img src=x onerror="window.__xss=\'heading\'">')
    expect(desc).to_contain_text("[click me](javascript:window.__xss='link')")
    expect(desc).to_contain_text('<script>window.__xss = "description"</script>')
    expect(desc.locator("strong")).to_have_text("<b>not bold</b>")
    expect(desc.locator("code").first).to_have_text("<i>code</i>")
    expect(desc.locator("pre")).to_contain_text("</pre><script>window.__xss='fence'</script>")
    expect(desc.locator("a")).to_have_count(0)  # every link in it was unsafe
    expect(page.locator("dd a", has_text="example.com")).to_have_text(SOURCE.strip())
    desc.get_by_text("[click me](javascript:").click()  # text, so clicking does nothing
    _no_markup_ran(page)
    shoot(page, "hostile-task")

    page.goto(group_url(mock.root_url, group))
    expect(page.locator(f'tr[data-task="{task_id}"] a')).to_have_text(NAME)
    _no_markup_ran(page)

    page.goto(index_url(mock.root_url))  # the task, remembered under its hostile name
    expect(page.locator("main ul").first.locator("a").first).to_have_text(NAME)
    _no_markup_ran(page)


def test_pages_forbid_inline_script(mock: Any) -> None:
    """Defence in depth: the pages' Content-Security-Policy allows scripts from the mock only."""
    import httpx

    reply = httpx.get(inspector_url(mock.root_url, slugid()))
    policy = reply.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert reply.headers["x-content-type-options"] == "nosniff"
