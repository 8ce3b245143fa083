"""Exercise outcomes, hints and solutions as a learner sees them: real JupyterLab, Debian's
Chromium, Playwright.

The test writes a notebook that shows an exercise and checks it three times (no attempt, a wrong
task, a right one), then asks for a hint and the solution; it runs all cells and reads the
rendered DOM: each outcome carries its own label and colour, the hint its label, and the
solution is syntax-highlighted (several colours, from pygments' inline styles).
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = pathlib.Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
OUTPUT = pathlib.Path(__file__).resolve().parents[2] / "test-output" / "browser"

CELLS = [
    "import tutorial_kit as tk\nfrom tutorial_kit.exercises import lesson1\n"
    "queue = tk.Queue.fromEnv()\ntask = tk.lessons.tutorial_task()\n"
    "exercise = lesson1.high_priority_task(queue)\nexercise",
    "exercise.check()",
    'queue.createTask(tk.slugid(), dict(task, taskQueueId="built-in/succeed", payload={}))\n'
    "exercise.check()",
    'queue.createTask(tk.slugid(), dict(task, taskQueueId="built-in/succeed", priority="high",\n'
    '                                   retries=1, tags={"lesson": "1"}, payload={}))\n'
    "exercise.check()",
    "exercise.hint()",
    "exercise.solution()",
]


def _notebook() -> dict:
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"cell-{i}",
                   "metadata": {}, "outputs": [], "source": source}
                  for i, source in enumerate(CELLS)],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                    "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def chromium_path() -> str:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is absent (install Debian's chromium: apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI must provide it")
        pytest.skip(reason)
    return str(CHROMIUM)


@pytest.fixture()
def lab(tmp_path):
    """JupyterLab on a free port with the exercise notebook, its kernel on a fresh mock."""
    from tutorial_kit.mock.server import start

    mock = start(workers=False)  # lesson 1's check reads definitions: no worker needed
    token = secrets.token_hex(16)
    port = _free_port()
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "exercise.ipynb").write_text(json.dumps(_notebook()))
    home = tmp_path / "home"
    env = {**os.environ, **mock.env(),
           "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = open(tmp_path / "jupyter.log", "wb")
    process = subprocess.Popen(
        [str(pathlib.Path(sys.executable).parent / "jupyter"), "lab", "--allow-root",
         "--no-browser", f"--ServerApp.token={token}", f"--port={port}", "--ip=127.0.0.1",
         f"--notebook-dir={notebooks}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # at most 60 s for the server to answer
            if process.poll() is not None:
                raise AssertionError("jupyter lab exited:\n" +
                                     (tmp_path / "jupyter.log").read_text(errors="replace"))
            try:
                if httpx.get(f"{base}/api/status", params={"token": token}, timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("jupyter lab did not start within 60 s")
        yield f"{base}/lab/tree/exercise.ipynb?token={token}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the server and the kernel it started
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()
        mock.stop()


def test_outcomes_hints_and_solutions_render_styled(lab, chromium_path, request):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        try:
            page.goto(lab)
            page.locator(".jp-NotebookPanel").first.wait_for()
            dialog = page.locator(".jp-Dialog")  # a fresh Lab may ask which kernel to start
            try:
                dialog.wait_for(state="visible", timeout=10_000)
            except PlaywrightTimeout:
                pass
            if dialog.count():
                dialog.locator("button.jp-mod-accept").click()
            expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible()
            page.locator(".lm-MenuBar-item", has_text="Run").first.click()
            page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()

            colours = {}
            for outcome, label in (("unattempted", "Unattempted"), ("failed", "Incorrect"),
                                   ("passed", "Correct")):
                box = page.locator(f".tk-exercise-{outcome}").first
                expect(box).to_contain_text(label)
                colours[outcome] = box.locator("span").first.evaluate(
                    "el => getComputedStyle(el).color")
            assert len(set(colours.values())) == 3, colours  # each outcome its own colour
            assert colours["passed"] == "rgb(46, 139, 46)", colours
            assert colours["failed"] == "rgb(198, 40, 40)", colours
            expect(page.locator(".tk-exercise-failed").first).to_contain_text("Hint:")

            expect(page.locator(".tk-exercise-hint").first).to_contain_text("Hint 1/3")
            solution = page.locator(".tk-exercise-solution").first
            expect(solution).to_contain_text("createTask")
            code_colours = solution.locator(".highlight span").evaluate_all(
                "els => [...new Set(els.map(el => getComputedStyle(el).color))]")
            assert len(code_colours) >= 3, code_colours  # names, strings, numbers, operators
            solution.scroll_into_view_if_needed()
            page.screenshot(path=str(OUTPUT / f"{request.node.name}.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(OUTPUT / f"{request.node.name}-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
