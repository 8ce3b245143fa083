"""The widgets in a real JupyterLab, in Debian's Chromium, driven by Playwright.

The test starts the mock queue and JupyterLab (with the mock's rootUrl and credentials in the
kernel's environment), writes a notebook that creates a task and shows StatusWidget,
SchemaTable and ArtifactBrowser, runs it with Run → Run All Cells, and reads the rendered DOM:
the state badge goes from pending to completed, the schema table shows ``reasonResolved``, and
an artifact preview shows ``root:``. Screenshots land in ``test-output/browser/``.
"""

from __future__ import annotations

import json
import re

import pytest

from .lab_support import CHROMIUM_ARGS, OUTPUT, open_and_run_all, running_lab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TASK_QUEUE = "tk-browser/notebook"  # the notebook plays the worker itself on this queue

CELLS = [
    # 1: a task, created with the client from the environment (the mock's rootUrl + credentials),
    # connected as a lesson connects: fromNow() and the widgets follow the mock's clock
    """import asyncio, os, pathlib
from tutorial_kit import connect, fromNowJSON, slugid
from tutorial_kit.widgets import ArtifactBrowser, SchemaTable, StatusWidget
queue = connect(quiet=True)
taskId = slugid()
queue.createTask(taskId, {
    "taskQueueId": "%s", "created": fromNowJSON("0 seconds"), "deadline": fromNowJSON("1 hour"),
    "payload": {}, "metadata": {"name": "browser test", "description": "Lists **/etc/passwd**.",
    "owner": "tests@example.com", "source": "https://example.com/tutorial-kit"}})""" % TASK_QUEUE,
    # 2: the live status
    "status = StatusWidget(queue, taskId, interval=0.5)\nstatus",
    # 3: the schema of what status() returns, opened deep enough to show the runs' fields
    'SchemaTable("task-status-response.json", queue=queue, expand=5)',
    # 4: wait for the test's go-ahead without blocking the kernel's loop, then act as the worker
    """for _ in range(1200):  # at most 2 minutes
    if pathlib.Path("go").exists():
        break
    await asyncio.sleep(0.1)
import httpx
claim = queue.claimWork("%s", {"workerGroup": "nb", "workerId": "nb1", "tasks": 1})["tasks"][0]
runId = claim["runId"]
data = pathlib.Path("/etc/passwd").read_bytes()
put = queue.createArtifact(taskId, runId, "public/passwd.txt", {"storageType": "s3",
    "expires": fromNowJSON("1 day"), "contentType": "text/plain; charset=utf-8",
    "contentLength": len(data)})
httpx.put(put["putUrl"], content=data, headers={"Content-Type": "text/plain; charset=utf-8"})
queue.reportCompleted(taskId, runId)["status"]["state"]""" % TASK_QUEUE,
    # 5: the artifacts of the finished run
    "artifacts = ArtifactBrowser(queue, taskId)\nartifacts",
    # 6: leave nothing running after the notebook ends
    "(await status.until_resolved(timeout=60))[\"state\"]",
]


#: What a learner sees, for the layout test: lesson 1's schema table as it opens, lesson 2's
#: table of a live status, and the artifact browser of a finished task with long names.
LAYOUT_CELLS = [
    """import httpx
from tutorial_kit import Queue, fromNowJSON, slugid
from tutorial_kit.widgets import ArtifactBrowser, SchemaTable
queue = Queue.fromEnv()
taskId = slugid()
queue.createTask(taskId, {
    "taskQueueId": "%s", "created": fromNowJSON("0 seconds"), "deadline": fromNowJSON("1 hour"),
    "payload": {}, "metadata": {"name": "layout test", "description": "Looks.",
    "owner": "tests@example.com", "source": "https://example.com/tutorial-kit"}})
runId = queue.claimWork("%s", {"workerGroup": "nb", "workerId": "nb1", "tasks": 1})["tasks"][0]["runId"]
for name in ("public/logs/live.log", "public/a-rather-long-directory-name/and-a-long-file-name.json"):
    put = queue.createArtifact(taskId, runId, name, {"storageType": "s3",
        "expires": fromNowJSON("1 day"), "contentType": "text/plain", "contentLength": 3})
    httpx.put(put["putUrl"], content=b"ok\\n", headers={"Content-Type": "text/plain"})
queue.reportCompleted(taskId, runId)["status"]["state"]""" % (TASK_QUEUE, TASK_QUEUE),
    'SchemaTable("create-task-request.json", root_url=queue.options["rootUrl"])',
    'SchemaTable("task-status-response.json", root_url=queue.options["rootUrl"],\n'
    '            instance={"status": queue.status(taskId)["status"]})',
    "ArtifactBrowser(queue, taskId)",
]


@pytest.fixture()
def lab(tmp_path):
    """JupyterLab on a free port, its kernels talking to a fresh mock queue."""
    with running_lab(tmp_path, {"widgets.ipynb": CELLS, "layout.ipynb": LAYOUT_CELLS}) as running:
        yield {"url": running.url("widgets.ipynb"), "layout_url": running.url("layout.ipynb"),
               "dir": running.dir, "mock": running.mock, "log": running.log}


def test_notebook_widgets_render_live(lab, chromium_path, request):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shot = lambda page, step: page.screenshot(  # noqa: E731
        path=str(OUTPUT / f"{request.node.name}-{step}.png"), full_page=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        try:
            open_and_run_all(page, lab["url"])

            badge = page.locator(".tk-status .tk-badge").first
            expect(badge).to_have_attribute("data-state", "pending")
            expect(badge).to_contain_text("pending")
            schema_row = page.locator('.tk-schema [data-path="/status/runs/[]/reasonResolved"]')
            expect(schema_row.first).to_be_visible()
            expect(schema_row.first).to_contain_text("reasonResolved")
            shot(page, "1-pending")
            schema_row.first.scroll_into_view_if_needed()
            shot(page, "2-schema-table")

            # the timeline's "+…s" label advances while the run is open (no fetch is needed)
            label = page.locator(".tk-timeline text[text-anchor=end]").first
            expect(label).to_have_text(re.compile(r"\+\d+\.\d\ds"))
            before = float(label.text_content().strip("+s"))
            expect(label).not_to_have_text(label.text_content(), timeout=5_000)
            assert float(label.text_content().strip("+s")) > before

            # a lesson moves the mock's clock: the open run's bar and label follow it (the
            # deployment's time), not the browser's or the kernel's wall clock
            lab["mock"].clock.advance(30 * 60)
            expect(label).to_have_text(re.compile(r"\+30m \d\ds"))
            expect(page.locator(".tk-timeline rect.tk-wait title").first).to_have_text(
                re.compile(r"pending 30m \d\ds"))
            label.scroll_into_view_if_needed()
            shot(page, "2b-clock-moved")

            (lab["dir"] / "go").write_text("go")  # let the notebook play the worker
            expect(badge).to_have_attribute("data-state", "completed", timeout=60_000)
            expect(badge).to_contain_text("completed")
            expect(page.locator(".tk-status").first).to_contain_text("browser test")
            badge.scroll_into_view_if_needed()
            shot(page, "3-completed")

            row = page.locator(".widget-hbox", has=page.locator("code", has_text="public/passwd.txt"))
            row.locator("button", has_text="preview").first.click()
            preview = page.locator('pre.tk-preview[data-artifact="public/passwd.txt"]')
            expect(preview).to_contain_text("root:")
            preview.scroll_into_view_if_needed()
            shot(page, "4-artifact-preview")
        except Exception:
            shot(page, "failure")
            raise
        finally:
            browser.close()


#: Every box that shows text in a schema table (each line fragment of it), with the row cell it
#: belongs to. Two boxes intersect when one draws over the other; a box outside its cell spills
#: into the next column (the `$ref` chip over the description, as reported in issue #11).
_OVERLAPS_JS = """(table) => {
  const boxes = [];
  for (const el of table.querySelectorAll('*')) {
    const text = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    // checkVisibility(): the content of a closed <details> keeps boxes but is not drawn
    if (!text || !el.checkVisibility({visibilityProperty: true})) continue;
    const cell = el.closest('.tk-row > div');
    for (const r of el.getClientRects()) {
      if (r.width > 0 && r.height > 0) boxes.push({el, cell, r});
    }
  }
  const slack = 0.5;
  const meets = (a, b) => a.left < b.right - slack && b.left < a.right - slack &&
                          a.top < b.bottom - slack && b.top < a.bottom - slack;
  const label = (b) => (b.el.className || b.el.tagName) + ' "' +
                       b.el.textContent.trim().slice(0, 40) + '"';
  const problems = [];
  for (const b of boxes) {
    if (!b.cell) continue;
    const c = b.cell.getBoundingClientRect();
    if (b.r.left < c.left - slack || b.r.right > c.right + slack)
      problems.push('outside its cell: ' + label(b));
  }
  boxes.sort((a, b) => a.r.top - b.r.top);
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length && boxes[j].r.top < boxes[i].r.bottom; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
      if (meets(a.r, b.r)) problems.push('overlap: ' + label(a) + ' / ' + label(b));
    }
  }
  return {boxes: boxes.length, problems: problems.slice(0, 20)};
}"""

#: Buttons whose label does not fit (ipywidgets cuts it to "dow…").
_SQUEEZED_JS = """(root) => [...root.querySelectorAll('button')]
  .filter(b => b.checkVisibility() && b.scrollWidth > b.clientWidth + 1)
  .map(b => b.textContent.trim() + ' ' + b.clientWidth + '/' + b.scrollWidth)"""


@pytest.mark.parametrize("width", [900, 1400])
def test_what_a_learner_sees(lab, chromium_path, request, width):
    """Lesson 1's schema table opens folded to its first level; at 900 and 1400 px no two boxes
    of a schema table intersect (folded, and with every row unfolded); the artifact browser's
    buttons keep their labels and it says where downloads go."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shot = lambda page, step: page.screenshot(  # noqa: E731
        path=str(OUTPUT / f"{request.node.name}-{step}.png"), full_page=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 1000})
        page.set_default_timeout(60_000)
        try:
            open_and_run_all(page, lab["layout_url"], decline_news=True)
            tables = page.locator(".tk-schema")
            expect(tables).to_have_count(2)
            expect(page.locator(".tk-download-button")).to_have_count(2)
            create, status = tables.nth(0), tables.nth(1)

            # folded to the first level: the root's own properties show, nothing below them
            open_rows = create.evaluate("t => t.querySelectorAll('details[open]').length")
            assert open_rows == 1, open_rows
            for name in ("taskQueueId", "payload", "metadata"):
                expect(create.locator(f'.tk-row[data-path="/{name}"]')).to_be_visible()
            expect(create.locator('.tk-row[data-path="/metadata/name"]')).to_be_hidden()
            height = "t => t.getBoundingClientRect().height"
            folded_height = create.evaluate(height)
            # lesson 2: fields the task has are marked ●, as the lesson says
            state_row = status.locator('.tk-row[data-path="/status/state"]')
            expect(state_row).to_be_visible()
            expect(state_row.locator(".tk-present")).to_have_text("●")
            status.screenshot(path=str(OUTPUT / f"{request.node.name}-status-table.png"))
            create.scroll_into_view_if_needed()
            shot(page, "1-folded")

            for table in (create, status):
                result = table.evaluate(_OVERLAPS_JS)
                assert result["boxes"] > 20 and result["problems"] == [], result
            page.evaluate("() => document.querySelectorAll('.tk-schema details')"
                          ".forEach(d => d.open = true)")
            for table in (create, status):
                result = table.evaluate(_OVERLAPS_JS)
                assert result["boxes"] > 100 and result["problems"] == [], result
            unfolded_height = create.evaluate(height)
            assert folded_height < unfolded_height, (folded_height, unfolded_height)
            (OUTPUT / f"{request.node.name}-heights.json").write_text(json.dumps(
                {"folded": folded_height, "unfolded": unfolded_height}))
            create.locator('.tk-row[data-path="/dependencies"]').scroll_into_view_if_needed()
            page.screenshot(path=str(OUTPUT / f"{request.node.name}-2-unfolded.png"))

            where = page.locator(".tk-where")
            expect(where).to_contain_text("downloaded-artifacts/")
            buttons = page.locator(".tk-download-button, .tk-preview-button")
            buttons.last.scroll_into_view_if_needed()
            expect(buttons).to_have_count(4)
            for button in buttons.all():
                expect(button).to_be_visible()
                assert button.text_content().strip() in ("download", "preview")
            squeezed = page.locator(".jp-Notebook").first.evaluate(_SQUEEZED_JS)
            assert squeezed == [], squeezed
            page.locator(".tk-download-button").first.click()
            expect(page.get_by_text("saved downloaded-artifacts/")).to_be_visible()
            where.scroll_into_view_if_needed()
            page.screenshot(path=str(OUTPUT / f"{request.node.name}-3-artifacts.png"))
            saved = [p for p in (lab["dir"] / "downloaded-artifacts").rglob("*")
                     if p.is_file() and p.name != ".gitignore"]
            assert [p.read_bytes() for p in saved] == [b"ok\n"]
            assert (lab["dir"] / "downloaded-artifacts" / ".gitignore").read_text().endswith("*\n")
        except Exception:
            shot(page, "failure")
            raise
        finally:
            browser.close()
