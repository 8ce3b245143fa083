"""What the browser tests share: Debian's Chromium and its flags, a notebook from a list of code
cells, a real JupyterLab whose kernels talk to a fresh mock queue, and opening a notebook there
and running all its cells."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

CHROMIUM = pathlib.Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
OUTPUT = pathlib.Path(__file__).resolve().parents[2] / "test-output" / "browser"


def notebook(cells: list[str]) -> dict:
    """An nbformat 4 notebook of code cells, on the python3 kernel."""
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"cell-{i}",
                   "metadata": {}, "outputs": [], "source": source}
                  for i, source in enumerate(cells)],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                    "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab: where it answers, its token, its notebook folder, the mock its
    kernels use and the server's log file."""

    base: str
    token: str
    dir: pathlib.Path
    mock: Any
    log: pathlib.Path

    def url(self, name: str) -> str:
        """The address that opens notebook `name` in Lab, token included."""
        return f"{self.base}/lab/tree/{name}?token={self.token}"


@contextlib.contextmanager
def running_lab(tmp_path: pathlib.Path, notebooks: dict[str, list[str]]) -> Iterator[Lab]:
    """JupyterLab on a free port with `notebooks` (file name -> code cells), its kernels on a
    fresh mock queue without workers; stopped (server and kernels) on exit."""
    from tutorial_kit.mock.server import start

    mock = start(workers=False)
    token = secrets.token_hex(16)
    port = _free_port()
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name, cells in notebooks.items():
        (folder / name).write_text(json.dumps(notebook(cells)))
    home = tmp_path / "home"
    env = {**os.environ, **mock.env(),
           "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    log_path = tmp_path / "jupyter.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [str(pathlib.Path(sys.executable).parent / "jupyter"), "lab", "--allow-root",
         "--no-browser", f"--ServerApp.token={token}", f"--port={port}", "--ip=127.0.0.1",
         f"--notebook-dir={folder}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # at most 60 s for the server to answer
            if process.poll() is not None:
                raise AssertionError("jupyter lab exited:\n" +
                                     log_path.read_text(errors="replace"))
            try:
                if httpx.get(f"{base}/api/status", params={"token": token}, timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("jupyter lab did not start within 60 s")
        yield Lab(base=base, token=token, dir=folder, mock=mock, log=log_path)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the server and the kernels it started
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()
        mock.stop()


def open_and_run_all(page: Any, url: str, *, decline_news: bool = False) -> None:
    """Open the notebook at `url`, accept the kernel Lab proposes if it asks, wait for the
    kernel to be idle and run all cells from the Run menu; with `decline_news`, also answer
    "No" to Lab's "get notified about news?" toast so it covers nothing."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    page.goto(url)
    page.locator(".jp-NotebookPanel").first.wait_for()
    dialog = page.locator(".jp-Dialog")  # a fresh Lab may ask which kernel to start
    idle = page.get_by_text("Python 3 (ipykernel) | Idle")
    # Whichever comes first: a notebook that names its kernel gets no dialog, and waiting one
    # out (10 s) was most of what each browser test spent before its first check.
    dialog.or_(idle).first.wait_for(state="visible", timeout=60_000)
    if dialog.count():
        dialog.locator("button.jp-mod-accept").click()  # the preferred one (python3)
    expect(idle).to_be_visible()
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()
    if decline_news:
        news = page.locator(".jp-toast-button", has_text="No")
        try:
            news.first.click(timeout=3_000)
        except PlaywrightTimeout:
            pass
