"""Every lesson passes every time, on whatever state the queue already holds.

One file-backed mock queue (``tutorial-kit mock-queue serve --db``, as ``make lab`` and a
terminal user start it) serves every notebook twice, then is restarted on the same store, as a
user restarting ``make lab`` does, and serves them once more. Each pass runs the notebooks under
nbval exactly as ``make test`` does; all three must be green.
"""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest

from lessons_support import NOTEBOOKS, ServedMock, run_nbval

pytestmark = [pytest.mark.slow]


def _official_client_still_creates_tasks(mock: ServedMock) -> None:
    """Lessons 4 and 6 move the mock's clock; they put it back, and a terminal's official client
    (counting from real time) is not refused."""
    taskcluster = pytest.importorskip("taskcluster")
    from tutorial_kit.mockctl import MockControl

    with MockControl(mock.root_url) as control:
        drift = (control.now() - dt.datetime.now(dt.timezone.utc)).total_seconds()
    assert abs(drift) < 120, f"the lessons left the mock's clock {drift:.0f} s off real time"
    queue = taskcluster.Queue({"rootUrl": mock.root_url, "credentials": {
        "clientId": mock.env["TASKCLUSTER_CLIENT_ID"],
        "accessToken": mock.env["TASKCLUSTER_ACCESS_TOKEN"]}})
    answer = queue.createTask(taskcluster.slugId(), {
        "taskQueueId": "built-in/succeed", "created": taskcluster.fromNowJSON(""),
        "deadline": taskcluster.fromNowJSON("1 hour"), "payload": {},
        "metadata": {"name": "terminal", "description": "after the lessons",
                     "owner": "me@example.com", "source": "https://example.com/terminal"}})
    assert answer["status"]["state"] == "pending"


def _report(result) -> str:
    tail = "\n".join(result.stdout.splitlines()[-60:])
    return f"nbval exited {result.returncode}:\n{tail}\n{result.stderr[-2000:]}"


@pytest.mark.timeout(2400)
def test_every_lesson_twice_then_after_a_restart(tmp_path: pathlib.Path):
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert len(notebooks) >= 7, "the lessons are missing"
    mock = ServedMock(tmp_path / "queue.sqlite3").start()
    try:
        for attempt in ("first run", "second run on the same queue"):
            result = run_nbval(mock.child_env(), notebooks)
            assert result.returncode == 0, f"{attempt}: {_report(result)}"
            assert " passed" in result.stdout and " failed" not in result.stdout
            _official_client_still_creates_tasks(mock)
        mock.restart()
        result = run_nbval(mock.child_env(), notebooks)
        assert result.returncode == 0, f"after a restart on the same store: {_report(result)}"
    finally:
        mock.stop()
