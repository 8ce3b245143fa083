"""Every lesson under nbval the way a learner runs them against a deployment: the lessons talk to
a queue named by ``TASKCLUSTER_ROOT_URL`` and send their tasks to ``TUTORIAL_KIT_TASK_QUEUE``, a
task queue that only ``tutorial-kit worker`` (a real process) serves; the mock's own workers
never touch it. The worker and the lessons each run as a client holding exactly the scopes the
README lists for them, nothing more."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys

import pytest

import tutorial_kit as tk
from tutorial_kit.mock import start

from lessons_support import as_learner_sees_it, readme_scopes

ROOT = pathlib.Path(__file__).resolve().parent.parent
LESSONS = sorted(p.name for p in (ROOT / "notebooks").glob("0*.ipynb"))
TASK_QUEUE = "proj-learner/own-worker"
GROUP, WORKER_ID = "tutorial-kit", "lessons"
TOKEN = "own-worker-token-for-the-lesson-run-0123456789"
LEARNER_TOKEN = "learner-token-for-the-lesson-run-0123456789ab"
#: The README's scopes for each client (its example task queue is proj-me/tutorial).
WORKER_SCOPES = [s.replace("tutorial-kit/my-laptop", f"{GROUP}/{WORKER_ID}")
                 for s in readme_scopes("The client it runs as needs exactly these scopes",
                                        TASK_QUEUE)]
LEARNER_SCOPES = readme_scopes("The client you run the lessons as needs", TASK_QUEUE)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def deployment():
    clients = {"own-worker": {"accessToken": TOKEN, "scopes": WORKER_SCOPES},
               "learner": {"accessToken": LEARNER_TOKEN, "scopes": LEARNER_SCOPES}}
    with start(clients=clients) as mock:
        env = {**os.environ, "TASKCLUSTER_ROOT_URL": mock.root_url,
               "TASKCLUSTER_CLIENT_ID": "own-worker", "TASKCLUSTER_ACCESS_TOKEN": TOKEN,
               "PYTHONUNBUFFERED": "1"}
        worker = subprocess.Popen(
            [sys.executable, "-m", "tutorial_kit.cli", "worker", "--task-queue", TASK_QUEUE,
             "--worker-group", GROUP, "--worker-id", WORKER_ID, "--capacity", "4"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert worker.stdout.readline().startswith("waiting for tasks")
        try:
            yield mock
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_passes_with_the_learners_own_worker(deployment, lesson, tmp_path):
    copy, _ = as_learner_sees_it(ROOT / "notebooks" / lesson, tmp_path)
    # every kernel is a fresh process: a seeded slugid would repeat the previous lesson's taskIds
    env = {**{k: v for k, v in os.environ.items() if k != "TUTORIAL_KIT_SEED"},
           "TASKCLUSTER_ROOT_URL": deployment.root_url,
           "TASKCLUSTER_CLIENT_ID": "learner", "TASKCLUSTER_ACCESS_TOKEN": LEARNER_TOKEN,
           "TUTORIAL_KIT_TASK_QUEUE": TASK_QUEUE}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
         "--nbval-sanitize-with", str(ROOT / "notebooks" / "sanitize.cfg"), str(copy)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_the_clients_hold_what_the_readme_lists():
    from tutorial_kit.worker import required_scopes

    assert WORKER_SCOPES == required_scopes(TASK_QUEUE, GROUP, WORKER_ID)
    assert f"queue:create-task:highest:{TASK_QUEUE}" in LEARNER_SCOPES
    assert "queue:claim-work:learner/*" in LEARNER_SCOPES  # lesson 5's decision task, lesson 6


def test_the_worker_did_the_lessons_work(deployment):
    """Runs after the lessons (file order): the learner's worker claimed their tasks."""
    queue = tk.Queue(rootUrl=deployment.root_url, credentials=dict(deployment.credentials))
    workers = queue.listWorkers(*TASK_QUEUE.split("/"))["workers"]
    assert [(w["workerGroup"], w["workerId"]) for w in workers] == [(GROUP, WORKER_ID)]
