"""The widgets inside a real ipykernel (as nbval runs notebooks): asyncio refresh, blocking
wait() that steps inline, stable text output, and nothing left running after the last cell."""

from __future__ import annotations

import os
import re

import nbformat
from nbclient import NotebookClient

CELLS = [
    """import asyncio
from tutorial_kit import Queue, fromNowJSON, slugid
from tutorial_kit.widgets import ArtifactBrowser, EventLog, SchemaTable, StatusWidget
queue = Queue.fromEnv()
def new_task():
    taskId = slugid()
    queue.createTask(taskId, {"taskQueueId": "tk-kernel/test", "created": fromNowJSON("0 seconds"),
        "deadline": fromNowJSON("1 hour"), "payload": {}, "metadata": {"name": "k",
        "description": "", "owner": "t@example.com", "source": "https://example.com/k"}})
    return taskId
def work(taskId):
    claim = queue.claimWork("tk-kernel/test", {"workerGroup": "k", "workerId": "k1", "tasks": 1})
    return queue.reportCompleted(taskId, claim["tasks"][0]["runId"])["status"]["state"]
taskId = new_task()""",
    "status = StatusWidget(queue, taskId, interval=0.1)\nstatus",
    "status._refresher.mode, status.running",
    # the worker acts in a thread while this cell blocks in wait(): the steps run inline
    """import threading
threading.Timer(0.5, work, args=(taskId,)).start()
status.wait(timeout=30)["state"], status.running""",
    """second = new_task()
status2 = StatusWidget(queue, second, interval=0.1)
threading.Timer(0.5, work, args=(second,)).start()
(await status2.until_resolved(timeout=30))["state"]""",
    "events = EventLog(queue, taskId=taskId)\nevents.stop()\nevents._refresher.wait(10)",
    "SchemaTable('task-status-response.json', queue=queue, instance=queue.status(taskId))",
    # an AsyncQueue on the kernel's own loop: background refreshes, awaited ones, a button
    """from tutorial_kit import AsyncQueue
aqueue = AsyncQueue.fromEnv()
browser = ArtifactBrowser(aqueue, taskId, interval=0.05)
await asyncio.sleep(0.5)
for _ in range(3):
    await browser.arefresh()
astatus = StatusWidget(aqueue, taskId, interval=0.05)
for _ in range(3):
    await astatus.arefresh()
await browser.until_resolved(10), browser.run_state, browser._banner.value, astatus.error""",
]


def test_widgets_in_a_kernel(mock, tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    env_backup = dict(os.environ)
    os.environ.update(mock.env())  # the kernel inherits the environment
    try:
        client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}})
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(env_backup)

    def text(i: int) -> str:
        outputs = notebook.cells[i].outputs
        assert all(o.output_type != "error" for o in outputs), outputs
        return "".join(o.get("data", {}).get("text/plain", "") for o in outputs
                       if o.output_type == "execute_result")

    assert text(1) == "StatusWidget(state='pending', runs=1)"
    assert text(2) == "('asyncio', True)"
    assert text(3) == "('completed', False)"
    assert text(4) == "'completed'"
    assert re.fullmatch(r"SchemaTable\('[^']+', rows=26, errors=0\)", text(6)), text(6)
    assert text(7) == "(True, 'completed', '', '')"
    # nothing printed from the background into any cell
    for cell in notebook.cells:
        assert not [o for o in cell.outputs if o.output_type == "stream"], cell.outputs
