"""ArtifactBrowser against the mock: listing, previews, downloads, error artifacts, live log."""

from __future__ import annotations

import base64
import pathlib

import ipywidgets as W

from tutorial_kit.widgets import ArtifactBrowser

from .conftest import error_artifact, upload

PASSWD = pathlib.Path("/etc/passwd").read_bytes()
# A 1x1 PNG, spelled out so the test needs no image library.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _running_task_with_artifacts(queue, drive) -> tuple[str, int]:
    task_id = drive.make_task()
    run_id = drive.claim(task_id)
    upload(queue, task_id, run_id, "public/passwd.txt", PASSWD, "text/plain; charset=utf-8")
    upload(queue, task_id, run_id, "public/result.json", b'{"ok": true, "n": [1, 2]}',
           "application/json")
    upload(queue, task_id, run_id, "public/pixel.png", PNG, "image/png")
    upload(queue, task_id, run_id, "public/logs/live.log", b"step 1\nstep 2\n",
           "text/plain; charset=utf-8")
    error_artifact(queue, task_id, run_id, "public/missing.txt", "file-missing-on-worker",
                   "no such file: /out/missing.txt")
    return task_id, run_id


def test_lists_previews_and_downloads(queue, drive, tmp_path):
    task_id, run_id = _running_task_with_artifacts(queue, drive)
    browser = ArtifactBrowser(queue, task_id, start=False, download_dir=tmp_path)
    browser.refresh()
    assert browser.runId == run_id and browser.run_state == "running"
    names = [a["name"] for a in browser.artifacts]
    assert names == sorted(names) and "public/passwd.txt" in names and len(names) == 5
    assert "step 2" in browser.log_text and "(live)" in browser._log.value

    frame = browser.frame()
    assert str(frame["expires"].dtype).startswith("datetime64") and len(frame) == 5
    assert frame.set_index("name").loc["public/missing.txt", "storageType"] == "error"

    # error artifacts show their reason instead of buttons
    rows = {row.children[0].value.split("</code>")[0]: row for row in browser._table.children}
    error_row = next(r for k, r in rows.items() if "public/missing.txt" in k)
    assert "file-missing-on-worker" in error_row.children[1].value
    assert "no such file" in error_row.children[1].value
    assert not any(isinstance(c, W.Button) for c in error_row.children)

    assert browser.preview("public/passwd.txt").startswith("root:")
    assert "root:" in browser._preview.children[1].value
    browser.preview("public/result.json")
    assert "&quot;ok&quot;: true" in browser._preview.children[1].value
    assert browser.preview("public/pixel.png") == ""
    image = browser._preview.children[1]
    assert isinstance(image, W.Image) and image.value == PNG and image.format == "png"
    browser.preview("public/missing.txt")
    assert "file-missing-on-worker" in browser._preview.children[0].value

    progress = W.FloatProgress()
    path = browser.download("public/passwd.txt", progress)
    assert path.read_bytes() == PASSWD and tmp_path in path.parents
    assert progress.value == progress.max == len(PASSWD)

    queue.reportCompleted(task_id, run_id)
    browser.refresh()
    assert browser.run_state == "completed" and "(live)" not in browser._log.value
    assert repr(browser) == "ArtifactBrowser(run_state='completed', artifacts=5)"


def test_follows_a_running_task_then_stops(queue, drive, tmp_path):
    task_id = drive.make_task()
    run_id = drive.claim(task_id)
    browser = ArtifactBrowser(queue, task_id, interval=0.05, download_dir=tmp_path)
    assert browser.running
    upload(queue, task_id, run_id, "public/passwd.txt", PASSWD, "text/plain")
    queue.reportCompleted(task_id, run_id)
    assert browser.wait(timeout=20)
    assert browser.run_state == "completed"
    assert [a["name"] for a in browser.artifacts] == ["public/passwd.txt"]


def test_chosen_run_and_no_runs_yet(queue, drive, tmp_path):
    task_id = drive.make_task(retries=1)
    run0 = drive.claim(task_id)
    upload(queue, task_id, run0, "public/first.txt", b"first", "text/plain")
    queue.reportException(task_id, run0, {"reason": "worker-shutdown"})
    run1 = drive.claim(task_id)
    upload(queue, task_id, run1, "public/second.txt", b"second", "text/plain")
    latest = ArtifactBrowser(queue, task_id, start=False, download_dir=tmp_path)
    latest.refresh()
    assert latest.runId == 1 and [a["name"] for a in latest.artifacts] == ["public/second.txt"]
    assert latest._runs.options == (("run 0", 0), ("run 1", 1))
    first = ArtifactBrowser(queue, task_id, runId=0, start=False, download_dir=tmp_path)
    first.refresh()
    assert first.runId == 0 and [a["name"] for a in first.artifacts] == ["public/first.txt"]
    assert first.run_state == "exception"
    assert first.preview("public/first.txt") == "first"
    queue.reportCompleted(task_id, run1)


def test_downloads_go_to_a_named_git_ignored_folder(queue, drive, tmp_path, monkeypatch):
    import subprocess

    monkeypatch.chdir(tmp_path)  # the notebook's folder
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    task_id, run_id = _running_task_with_artifacts(queue, drive)
    browser = ArtifactBrowser(queue, task_id, start=False)
    browser.refresh()
    assert "Downloads go to <code>downloaded-artifacts/</code>" in browser._where.value
    path = browser.download("public/passwd.txt")
    assert path == (tmp_path / "downloaded-artifacts" / task_id / str(run_id) / "public"
                    / "passwd.txt")
    assert path.read_bytes() == PASSWD
    untracked = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                               cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert untracked == ""  # git sees nothing to add: the folder ignores itself

    # an artifact name is the worker's choice: it cannot write outside the folder
    import pytest

    with pytest.raises(ValueError, match="points outside"):
        browser.download("../../../../escape.txt")
    assert not (tmp_path / "escape.txt").exists()
