"""Every lesson passes every time, on whatever state the queue already holds.

One file-backed mock queue (``tutorial-kit mock-queue serve --db``, as ``make lab`` and a
terminal user start it) serves every notebook twice, then is restarted on the same store, as a
user restarting ``make lab`` does, and serves them once more. Each pass runs the notebooks under
nbval exactly as ``make test`` does; all three must be green.
"""

from __future__ import annotations

import pathlib

import pytest

from lessons_support import NOTEBOOKS, ServedMock, run_nbval

pytestmark = [pytest.mark.slow]


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
        mock.restart()
        result = run_nbval(mock.child_env(), notebooks)
        assert result.returncode == 0, f"after a restart on the same store: {_report(result)}"
    finally:
        mock.stop()
