"""Scenario files: parsing, checking, and applying them to a running mock queue."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from tutorial_kit.mock.model.clock import Clock
from tutorial_kit.mock.sim.faults import Faults
from tutorial_kit.mock.sim.scenario import Scenario, ScenarioError

LESSON = """
name: flaky-queue
description: The queue fails twice, then a worker dies.
clock:
  speed: 60
faults:
  - {method: status, count: 2, status: 500}
  - {method: claimWork, latency: 0.25, count: 1}
tasks:
  - taskQueueId: tutorial/docker-worker
    crash: {mode: claim-expired, after: 1.5}
    count: 1
  - taskId: fN3V4dFHS_qzJVKX0p7oLw
    errorArtifact: {name: public/passwd.txt, message: lost on purpose}
  - {taskId: fN3V4dFHS_qzJVKX0p7oLw, malformed: true}
"""


class Target:
    """A scenario arms faults and sets a clock."""

    def __init__(self) -> None:
        self.faults = Faults()
        self.clock = Clock()


def test_yaml_scenario_arms_faults_and_sets_the_clock():
    target = Target()
    result = Scenario.loads(LESSON).apply(target.faults, target.clock)
    assert result["name"] == "flaky-queue"
    assert result["clock"]["speed"] == 60
    requests = result["faults"]["requests"]
    assert [(f["method"], f.get("status"), f["remaining"]) for f in requests] == \
        [("status", 500, 2), ("claimWork", None, 1)]
    tasks = result["faults"]["tasks"]
    assert tasks[0]["crash"] == {"mode": "claim-expired", "after": 1.5}
    assert tasks[1]["errorArtifact"]["message"] == "lost on purpose"
    assert tasks[2]["malformed"] is True
    run = target.faults.for_run("fN3V4dFHS_qzJVKX0p7oLw", "tutorial/docker-worker")
    assert run.malformed and run.crash.mode == "claim-expired"
    assert run.error_artifacts["public/passwd.txt"].reason == "file-missing-on-worker"


def test_json_scenario_from_a_file_and_replace(tmp_path):
    target = Target()
    target.faults.fail_next("ping", 5)
    path = tmp_path / "lesson.json"
    path.write_text(json.dumps({"faults": [{"method": "task", "count": 1, "status": 503}],
                                "clock": {"paused": True, "advance": "2 days"}}))
    before = target.clock.now()
    result = Scenario.load(path).apply(target.faults, target.clock)
    assert [f["method"] for f in result["faults"]["requests"]] == ["task"]  # ping replaced
    assert result["clock"]["paused"] is True
    assert (target.clock.now() - before).total_seconds() >= 2 * 86400
    kept = Scenario.from_data({"replace": False, "faults": [{"method": "ping", "status": 500}]})
    kept.apply(target.faults, target.clock)
    assert [f["method"] for f in target.faults.describe()["requests"]] == ["task", "ping"]


@pytest.mark.parametrize("text, words", [
    ("- just a list", "must be a mapping"),
    ("{", "neither JSON nor YAML"),
    ("surprise: 1", "unknown key(s) surprise"),
    ("clock: {speed: 0}", "clock.speed must be a positive number"),
    ("clock: {advance: soon}", "not a duration"),
    ("clock: {rewind: 5}", "clock has unknown key(s) rewind"),
    ("faults: [{status: 500}]", "faults[0] needs a method"),
    ("faults: [{method: status, status: 500, latency: 1}]", "exactly one of status"),
    ("faults: [{method: satus, status: 500}]", "unknown Queue method 'satus'"),
    ("faults: [{method: status, status: 500, count: 0}]", "count must be a positive integer"),
    ("tasks: [{crash: claim-expired}]", "tasks[0] needs a taskId or a taskQueueId"),
    ("tasks: [{taskId: abc}]", "tasks[0] arms nothing"),
    ("tasks: [{taskId: abc, crash: {mode: melt}}]", "mode must be one of"),
    ("tasks: [{taskId: abc, errorArtifact: {reason: file-missing-on-worker}}]",
     "errorArtifact must be"),
])
def test_bad_scenarios_say_which_entry_is_wrong(text, words):
    with pytest.raises(ScenarioError) as raised:
        Scenario.loads(text)
    assert words in str(raised.value)


def test_a_bad_scenario_changes_nothing():
    target = Target()
    target.faults.fail_next("ping", 1)
    scenario = Scenario(faults=[{"method": "status", "status": 500},
                                {"method": "nope", "status": 500}])
    with pytest.raises(ScenarioError):
        scenario.apply(target.faults, target.clock)
    assert [f["method"] for f in target.faults.describe()["requests"]] == ["ping"]


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        Scenario.load(tmp_path / "nope.yaml")


# -- on a running mock queue -----------------------------------------------------------------

@pytest.fixture(scope="module")
def mock():
    from tutorial_kit.mock import start

    server = start(claim_wait=0.3)
    try:
        yield server
    finally:
        server.stop()


def test_scenario_drives_a_real_lesson(mock):
    """A scripted lesson: injected 500s the client rides out, and a task made malformed."""
    from tutorial_kit.client import Queue, slugid
    from tutorial_kit.dates import to_json

    task_id = slugid()
    Scenario.loads(f"""
faults:
  - {{method: status, count: 2, status: 500}}
tasks:
  - {{taskId: {task_id}, malformed: true}}
""").apply(mock.faults, mock.clock)
    queue = Queue({"rootUrl": mock.root_url, "credentials": mock.credentials})
    now = mock.clock.now()
    queue.createTask(task_id, {
        "taskQueueId": "built-in/succeed", "created": to_json(now),
        "deadline": to_json(now + timedelta(hours=1)), "payload": {},
        "metadata": {"name": "scenario", "description": "d", "owner": "o@example.com",
                     "source": "https://example.com/"}})
    since = mock.request_log.last_seq
    status = queue.status(task_id)["status"]  # rides out the two 500s
    for _ in range(600):  # bounded: 30 s at most
        if status["state"] in ("completed", "failed", "exception"):
            break
        time.sleep(0.05)
        status = queue.status(task_id)["status"]
    assert status["runs"][0]["reasonResolved"] == "malformed-payload"
    statuses = [r.status for r in mock.request_log.since(since) if r.method == "status"]
    assert statuses[:3] == [500, 500, 200]
    queue.close()
    mock.faults.clear()


def test_post_scenario_endpoint(mock):
    import httpx

    control = httpx.Client(base_url=mock.root_url, timeout=10)
    answer = control.post("/mock/v1/scenario", content=LESSON,
                          headers={"content-type": "application/yaml"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["clock"]["speed"] == 60
    assert len(mock.faults.describe()["tasks"]) == 3
    bad = control.post("/mock/v1/scenario", content="faults: [{method: nope, status: 500}]")
    assert bad.status_code == 400 and "unknown Queue method" in bad.json()["message"]
    empty = control.post("/mock/v1/scenario", content="")
    assert empty.status_code == 400
    mock.faults.clear()
    mock.clock.set_speed(1)
    control.close()
