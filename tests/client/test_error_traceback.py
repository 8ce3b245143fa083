"""An API error in a notebook shows the learner's own line and the Queue's answer, not frames
of tutorial_kit's or httpx's internals (IPython's ``_render_traceback_`` hook)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("IPython")

SESSION = textwrap.dedent('''
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance(colors="nocolor")
    shell.run_cell("import tutorial_kit as tk\\nqueue = tk.connect(quiet=True)")
    shell.run_cell("def lookup(task_id):\\n    return queue.status(task_id)\\n")
    shell.run_cell("lookup('not-a-task-id')")
    shell.run_cell("queue.createTask(tk.slugid(), dict(tk.lessons.tutorial_task(), priority='normal'))")
''')


@pytest.fixture(scope="module")
def shown() -> str:
    """What an IPython session prints for two uncaught API errors (a real mock queue)."""
    result = subprocess.run([sys.executable, "-c", SESSION], capture_output=True, text=True,
                            timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_learner_s_frames_and_the_error_are_shown(shown):
    assert "lookup('not-a-task-id')" in shown and "return queue.status(task_id)" in shown
    assert "TaskclusterError: InvalidRequestArguments (400): Invalid URL patterns:\n" \
           "URL parameter 'taskId' given as 'not-a-task-id' must match regular expression" in shown
    assert "* data/priority must be equal to one of the allowed values" in shown


def test_no_frame_of_the_package_or_httpx_is_shown(shown):
    assert "tutorial_kit/client" not in shown and "tutorial_kit" + "/" not in shown
    assert "httpx" not in shown and "interactiveshell.py" not in shown
    assert shown.count("Traceback (most recent call last; tutorial_kit's own frames hidden)") == 2


def test_render_traceback_without_ipython_keeps_the_error():
    from tutorial_kit.client.errors import TaskclusterError, render_traceback

    try:
        raise TaskclusterError("no such task\n\n---\n\n* method: status", status_code=404,
                               code="ResourceNotFound")
    except TaskclusterError as error:
        lines = render_traceback(error)
    assert lines[-1] == "TaskclusterError: ResourceNotFound (404): no such task"
    assert any("raise TaskclusterError" in line for line in lines)  # this test is the caller
