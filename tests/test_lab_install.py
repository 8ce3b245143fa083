"""From `pip install` to the lessons: the copy rules of `tutorial-kit lab` (fast), then the real
thing (slow): build the wheel, install it (not editable) with its `lab` extra in a fresh virtualenv,
run `tutorial-kit lab DIR --no-browser --ServerApp.port=... --IdentityProvider.token=...`, and ask
Jupyter's contents API for the lessons. Nothing may land in site-packages."""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tutorial_kit import __version__, lab
from venv_install import pip_install

ROOT = pathlib.Path(__file__).resolve().parent.parent
PIP_TIMEOUT = 900
START_TIMEOUT = 120.0


# -- the copy rules (no server) --------------------------------------------------------------

def _source(tmp_path: pathlib.Path) -> pathlib.Path:
    source = tmp_path / "packaged"
    source.mkdir()
    for name in ("00-welcome.ipynb", "01-create-task.ipynb", "lesson-template.ipynb"):
        (source / name).write_text(json.dumps({"cells": [], "name": name, "v": 1}))
    return source


def test_copy_never_overwrites_and_offers_a_newer_version_beside(tmp_path) -> None:
    source, dest = _source(tmp_path), tmp_path / "mine"
    done = lab.copy_lessons(dest, source)
    assert sorted(p.name for p in dest.glob("*.ipynb")) == [
        "00-welcome.ipynb", "01-create-task.ipynb", "lesson-template.ipynb"]
    assert len(done) == 3
    # the learner edits lesson 1; a second start changes nothing
    mine = dest / "01-create-task.ipynb"
    mine.write_text("my notes")
    assert lab.copy_lessons(dest, source) == []
    assert mine.read_text() == "my notes"
    # a newer package changes lesson 0 and lesson 1: both kept, the new ones beside them
    for name in ("00-welcome.ipynb", "01-create-task.ipynb"):
        (source / name).write_text(json.dumps({"cells": [], "name": name, "v": 2}))
    done = lab.copy_lessons(dest, source)
    assert mine.read_text() == "my notes"
    beside = dest / f"01-create-task.v{__version__}.ipynb"
    assert json.loads(beside.read_text())["v"] == 2 and len(done) == 2
    assert json.loads((dest / "00-welcome.ipynb").read_text())["v"] == 1
    # offered once, not again and again
    assert lab.copy_lessons(dest, source) == []
    # a lesson the learner deleted comes back
    (dest / "00-welcome.ipynb").unlink()
    assert lab.copy_lessons(dest, source) == ["copied 00-welcome.ipynb"]


def test_make_lab_opens_the_checkout_in_place() -> None:
    source = lab.lesson_source()
    folder, done = lab.prepare(str(source))
    assert folder == source.resolve() and done == []


# -- the wheel in a fresh virtualenv (slow) --------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tree(folder: pathlib.Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")
            if "__pycache__" not in p.parts and not p.name.endswith(".pyc")}


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_wheel_install_then_tutorial_kit_lab(tmp_path: pathlib.Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TASKCLUSTER_", "VIRTUAL_ENV", "PYTHONPATH", "JUPYTER"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    dist = tmp_path / "dist"
    source = tmp_path / "src"  # a clean copy: no build/ or egg-info of the checkout
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".mock-queue",
        "test-output", "node_modules", ".pytest_cache", ".hypothesis"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                            "-w", str(dist), str(source)], capture_output=True, text=True,
                           timeout=PIP_TIMEOUT, env=env)
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = dist.glob("tutorial_kit-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    installed = subprocess.run(pip_install(python, "--quiet", f"{wheel}[lab]"),
                               capture_output=True, text=True, timeout=PIP_TIMEOUT, env=env)
    assert installed.returncode == 0, installed.stderr[-3000:]
    site = pathlib.Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip())
    package = site / "tutorial_kit"
    assert (package / "notebooks" / "01-create-task.ipynb").is_file()
    assert not (package / "__init__.py").resolve().is_relative_to(source), "editable install"
    before = _tree(site)

    lessons = tmp_path / "my lessons"
    port, token = _free_port(), secrets.token_hex(16)
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(
        [str(venv / "bin" / "tutorial-kit"), "lab", str(lessons), "--no-browser",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"token {token}"}
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert proc.poll() is None, (tmp_path / "lab.log").read_text()[-3000:]
            try:
                listing = httpx.get(f"{base}/api/contents", headers=headers, timeout=5)
                if listing.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "lab.log").read_text()[-3000:]
            time.sleep(0.5)
        # The server's root is DIR, and it holds the copied lessons and the template.
        names = {item["name"] for item in listing.json()["content"]}
        expected = {p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")}
        assert expected | {"lesson-template.ipynb"} <= names, names
        lesson = httpx.get(f"{base}/api/contents/01-create-task.ipynb", headers=headers,
                           timeout=10).json()
        assert lesson["type"] == "notebook" and lesson["content"]["cells"]
        # The token is JupyterLab's (passed through): without it the API refuses.
        assert httpx.get(f"{base}/api/contents", timeout=5).status_code == 403
        # The mock queue's store is in DIR, and the mock it started answers.
        assert (lessons / ".mock-queue" / "queue.sqlite3").is_file()
        text = (tmp_path / "lab.log").read_text()
        root_url = text.split("Mock queue running at ", 1)[1].split(" ", 1)[0]
        assert httpx.get(f"{root_url}/api/queue/v1/ping", timeout=5).json()["alive"] is True
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()
    # Nothing was written into site-packages, and the lessons were copied, not moved.
    assert _tree(site) == before, sorted(_tree(site) ^ before)[:20]
    assert not list(site.rglob(".mock-queue"))
    assert (lessons / "01-create-task.ipynb").read_bytes() == \
        (package / "notebooks" / "01-create-task.ipynb").read_bytes()
