"""The inspector's browser tests: Debian's Chromium through Playwright, against a real mock.

Screenshots of every page, at 1280 px and at 360 px, land in ``test-output/inspector/``.
"""

from __future__ import annotations

import contextlib
import csv
import os
import pathlib
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import tutorial_kit as tk

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM = pathlib.Path("/usr/bin/chromium")
OUTPUT = ROOT / "test-output" / "inspector"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: The task queue the shell engine serves in these tests (the tutorial's own would do too; a
#: queue of our own keeps other helpers' tasks away).
SHELL_QUEUE = "tk-inspector/shell"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is absent (install Debian's chromium: apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI must provide it")
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page at 1280 px that records script errors and dialogs (an XSS would open one)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.errors = []  # type: ignore[attr-defined]
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.errors.append(str(error)))

    def on_dialog(dialog: Any) -> None:
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        yield page
    finally:
        context.close()


def shoot(page: Any, name: str) -> None:
    """Screenshots at 1280 px and 360 px wide (full page), then back to 1280."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})
    page.wait_for_timeout(400)  # the timeline redraws 150 ms after a resize
    page.screenshot(path=str(OUTPUT / f"{name}-360.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@contextlib.contextmanager
def serve_classroom(tmp_path: pathlib.Path, *options: str) -> Iterator[dict[str, Any]]:
    """`classroom serve` for alice and bob as a teacher runs it, with `options`: its exports,
    the dashboard URL from stderr, a Queue per learner (from the credentials CSV), and
    ``data()``: the dashboard's rows as its page reads them. Stopped with SIGTERM, cleanly."""
    roster = tmp_path / "roster.txt"
    roster.write_text("alice\nbob\n")
    creds = tmp_path / "creds.csv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tutorial_kit.cli", "classroom", "serve", "--roster", str(roster),
         "--credentials", str(creds), *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    errors: list[str] = []
    found = threading.Event()

    def drain() -> None:  # read stderr to the end, so the server never blocks on a full pipe
        for line in proc.stderr:
            errors.append(line)
            if "/mock/v1/dashboard?token=" in line:
                found.set()

    threading.Thread(target=drain, daemon=True).start()
    learners: dict[str, Any] = {}
    try:
        exports = dict(proc.stdout.readline().strip().removeprefix("export ").split("=", 1)
                       for _ in range(3))
        assert found.wait(30), "no dashboard URL on stderr:\n" + "".join(errors)
        url = next(line.strip() for line in errors if "/mock/v1/dashboard?token=" in line)
        rows = list(csv.DictReader(creds.open()))
        for r in rows:
            learners[r["learner"]] = tk.Queue({
                "rootUrl": exports["TASKCLUSTER_ROOT_URL"], "maxRetries": 0,
                "credentials": {"clientId": r["clientId"], "accessToken": r["accessToken"]}})
        yield {"root_url": exports["TASKCLUSTER_ROOT_URL"], "url": url, "learners": learners,
               "rows": {r["learner"]: r for r in rows},
               "teacher_token": exports["TASKCLUSTER_ACCESS_TOKEN"],
               "data": lambda: httpx.get(
                   exports["TASKCLUSTER_ROOT_URL"] + "/mock/v1/dashboard/data",
                   headers={"x-teacher-token": url.split("token=", 1)[1]}).json()}
    finally:
        for learner in learners.values():
            learner.close()
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, "".join(errors)
