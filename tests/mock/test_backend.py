"""QueueBackend driven through ``handle`` as the HTTP layer drives it.

Time is a paused clock the tests advance; resolvers run through ``tick()``. Scope checks use the
real ``auth.Caller``. ``test_outputs_conform_to_the_oracle`` replays the scenarios with every
reply and message validated against the official schemas.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tutorial_kit.mock.security.auth import Caller
from tutorial_kit.mock.model.backend import QueueBackend
from tutorial_kit.mock.model.clock import to_pg
from tutorial_kit.dates import parse_date, to_json
from tutorial_kit.mock.model.taskdef import DEFINITION_KEYS

from .backend_helpers import ANONYMOUS, ROOT, Harness, Oracle, paused_clock, slug, task_def


def make_harness(oracle: Oracle | None = None, **kw) -> Harness:
    issued = []

    def issuer(client_id, scopes, start, expiry):
        issued.append((client_id, list(scopes), start, expiry))
        return {"clientId": client_id, "accessToken": "tok", "certificate": "{}"}

    backend = QueueBackend(clock=paused_clock(), credential_issuer=issuer, **kw)
    h = Harness(backend, oracle)
    h.issued = issued
    return h


@pytest.fixture
def h():
    harness = make_harness()
    yield harness
    harness.backend.close()


# == createTask ==============================================================================

def scenario_create_and_status(h: Harness):
    taskId, status = h.create()
    assert status["state"] == "pending"
    assert status["runs"] == [{"runId": 0, "state": "pending", "reasonCreated": "scheduled",
                               "scheduled": to_json(h.now())}]
    task = h.body("task", taskId=taskId)
    assert list(task) == list(DEFINITION_KEYS)
    assert (task["provisionerId"], task["workerType"], task["taskQueueId"]) == \
        ("prov", "wt", "prov/wt")
    assert task["priority"] == "lowest" and task["retries"] == 5
    assert task["schedulerId"] == "-" and task["projectId"] == "none"
    assert task["taskGroupId"] == taskId and task["requires"] == "all-completed"
    assert parse_date(task["expires"]) == parse_date(task["deadline"]).replace(year=2027)
    assert h.body("status", taskId=taskId)["status"] == status
    defined, pending = h.messages()
    assert defined.name == "task-defined" and pending.name == "task-pending"
    assert defined.payload["status"]["state"] == "unscheduled"
    assert defined.payload["status"]["runs"] == []
    assert defined.payload["task"] == {"tags": {}}
    assert defined.routing_key == f"primary.{taskId}._._._.prov.wt.-.{taskId}._"
    assert pending.routing_key == f"primary.{taskId}.0._._.prov.wt.-.{taskId}._"
    assert pending.payload["runId"] == 0 and pending.payload["status"] == status


def test_create_and_status(h):
    scenario_create_and_status(h)


def test_create_with_routes_publishes_ccs_and_needs_route_scopes(h):
    taskId, _ = h.create(routes=["index.a", "notify.x"], tags={"k": "v"})
    defined, pending = h.messages()
    assert defined.cc == ["route.index.a", "route.notify.x"] == pending.cc
    assert pending.payload["task"] == {"tags": {"k": "v"}}
    creator = Caller("c", ["queue:create-task:project:none", "queue:scheduler-id:-",
                           "queue:create-task:lowest:prov/wt", "queue:route:index.a"])
    err = h.error("createTask", task_def(h.now(), routes=["index.a", "notify.x"]),
                  taskId=slug(), caller=creator)
    assert err.code == "InsufficientScopes" and "queue:route:notify.x" in err.message


def test_create_scope_for_higher_priority_is_enough(h):
    body = task_def(h.now(), priority="low")
    base = ["queue:create-task:project:none", "queue:scheduler-id:-"]
    ok = Caller("c", base + ["queue:create-task:very-high:prov/wt"])
    assert h.body("createTask", body, taskId=slug(), caller=ok)["status"]["state"] == "pending"
    lower = Caller("c", base + ["queue:create-task:lowest:prov/wt"])
    assert h.error("createTask", body, taskId=slug(), caller=lower).status == 403
    assert h.error("createTask", body, taskId=slug(), caller=ANONYMOUS).status == 403
    needs_task_scopes = task_def(h.now(), scopes=["secret:x"])
    assert h.error("createTask", needs_task_scopes, taskId=slug(), caller=ok).status == 403


def test_legacy_provisioner_and_worker_type(h):
    body = task_def(h.now(), taskQueueId=None, provisionerId="prov", workerType="wt")
    taskId = slug()
    h.body("createTask", body, taskId=taskId)
    task = h.body("task", taskId=taskId)
    assert task["taskQueueId"] == "prov/wt"
    both = task_def(h.now(), provisionerId="prov", workerType="wt")
    h.body("createTask", both, taskId=slug())
    mismatch = task_def(h.now(), provisionerId="prov", workerType="other")
    err = h.error("createTask", mismatch, taskId=slug())
    assert err.code == "InputError" and "taskQueueId must match" in err.message
    none = task_def(h.now(), taskQueueId=None)
    assert h.error("createTask", none, taskId=slug()).code == "InputError"
    counts = h.body("taskQueueCounts", taskQueueId="prov/wt")
    assert counts["pendingTasks"] == 2


@pytest.mark.parametrize("change,phrase", [
    (dict(created=-16 * 60), "`created` cannot be in the past"),
    (dict(created=16 * 60, deadline=86400), "`created` cannot be in the future"),
    (dict(created=-600, deadline=-300), "`deadline` cannot be in the past"),
    (dict(deadline=6 * 86400), "more than 5 days"),
    (dict(expires=3600), "`expires`"),
    (dict(created=0, deadline=-1), "`deadline`"),
])
def test_create_date_rules(h, change, phrase):
    now = h.now()
    fields = {k: to_json(now + timedelta(seconds=v)) for k, v in change.items()}
    taskId = slug()
    err = h.error("createTask", task_def(now, **fields), taskId=taskId)
    assert err.code == "InputError" and phrase in err.message
    assert h.error("status", taskId=taskId).status == 404
    assert h.messages() == []


def test_create_limits_at_the_edges_are_accepted(h):
    now = h.now()
    body = task_def(now, created=to_json(now - timedelta(minutes=15)),
                    deadline=to_json(now + timedelta(days=5, minutes=15)),
                    expires=to_json(now + timedelta(days=5, minutes=15)))
    assert h.body("createTask", body, taskId=slug())["status"]["state"] == "pending"


def test_create_rejects_double_star_scopes_and_bad_dates(h):
    err = h.error("createTask", task_def(h.now(), scopes=["queue:**"]), taskId=slug())
    assert err.code == "InputError"
    err = h.error("createTask", task_def(h.now(), deadline="tomorrow"), taskId=slug())
    assert err.code == "InputError" and "deadline" in err.message
    assert h.error("createTask", None, taskId=slug()).code == "InputError"


def test_create_twice_same_is_idempotent_and_republishes(h):
    now = h.now()
    taskId = slug()
    body = task_def(now)
    first = h.body("createTask", body, taskId=taskId)
    h.messages()
    # the same instants written differently are the same definition
    same = dict(body, created=to_json(now).replace(".000Z", "Z").replace("Z", "+00:00"))
    again = h.body("createTask", same, taskId=taskId)
    assert again == first
    assert [m.name for m in h.messages()] == ["task-defined", "task-pending"]
    # once claimed, a repeat answers the current status and re-sends only task-defined
    h.claim()
    h.messages()
    third = h.body("createTask", body, taskId=taskId)
    assert third["status"]["state"] == "running"
    assert h.exchanges() == ["task-defined"]


def test_create_conflict_with_different_definition(h):
    taskId, _ = h.create()
    h.messages()
    err = h.error("createTask", task_def(h.now(), retries=2), taskId=taskId)
    assert err.code == "RequestConflict" and err.status == 409
    assert h.messages() == []
    assert h.body("task", taskId=taskId)["retries"] == 5


def test_dependencies_must_exist_and_outlive_the_deadline(h):
    now = h.now()
    short, _ = h.create(deadline=to_json(now + timedelta(hours=1)),
                        expires=to_json(now + timedelta(hours=2)))
    ghost = slug()
    taskId = slug()
    err = h.error("createTask", task_def(now, dependencies=[ghost]), taskId=taskId)
    assert err.code == "InputError" and ghost in err.message
    err = h.error("createTask", task_def(now, dependencies=[short],
                                         deadline=to_json(now + timedelta(hours=3))),
                  taskId=taskId)
    assert err.code == "InputError" and short in err.message
    assert h.error("status", taskId=taskId).status == 404
    assert h.error("getTaskGroup", taskGroupId=taskId).status == 404


# == worker interface =======================================================================

def scenario_claim_and_complete(h: Harness):
    taskId, _ = h.create(scopes=["extra:scope"])
    h.messages()
    (item,) = h.claim()
    assert list(item) == ["status", "runId", "workerGroup", "workerId", "takenUntil", "task",
                          "credentials"]
    taken = h.now() + timedelta(seconds=1200)
    assert item["takenUntil"] == to_pg(taken)
    assert item["status"]["runs"][0]["takenUntil"] == to_json(taken)
    assert item["credentials"]["clientId"] == \
        f"task-client/{taskId}/0/on/wg/w1/until/{int(taken.timestamp())}"
    client_id, scopes, start, expiry = h.issued[-1]
    assert scopes == [f"queue:reclaim-task:{taskId}/0", f"queue:resolve-task:{taskId}/0",
                      f"queue:create-artifact:{taskId}/0", "extra:scope"]
    assert expiry == taken
    (running,) = h.messages()
    assert running.name == "task-running"
    assert running.routing_key == f"primary.{taskId}.0.wg.w1.prov.wt.-.{taskId}._"
    assert running.payload["takenUntil"] == to_pg(taken)

    h.clock.advance(60)
    re = h.body("reclaimTask", taskId=taskId, runId=0)
    assert re["takenUntil"] == to_json(h.now() + timedelta(seconds=1200))
    assert list(re) == ["status", "runId", "workerGroup", "workerId", "takenUntil",
                        "credentials"]
    assert h.messages() == []

    done = h.body("reportCompleted", taskId=taskId, runId=0)["status"]
    assert done["state"] == "completed" and done["runs"][0]["takenUntil"] == re["takenUntil"]
    completed, group = h.messages()
    assert completed.name == "task-completed" and completed.payload["workerId"] == "w1"
    assert group.name == "task-group-resolved" and group.routing_key == f"primary.{taskId}.-._"
    assert h.body("reportCompleted", taskId=taskId, runId=0)["status"] == done
    assert h.exchanges() == ["task-completed", "task-group-resolved"]
    assert h.error("reportFailed", taskId=taskId, runId=0).status == 409
    assert h.error("reclaimTask", taskId=taskId, runId=0).status == 409
    assert h.error("reportCompleted", taskId=taskId, runId=3).status == 404
    assert h.error("reportCompleted", taskId=slug(), runId=0).status == 404


def test_claim_and_complete(h):
    scenario_claim_and_complete(h)


def test_claim_order_priority_then_fifo(h):
    low, _ = h.create(priority="low")
    first_lowest, _ = h.create()
    high, _ = h.create(priority="high")
    h.clock.advance(1)
    second_lowest, _ = h.create()
    got = [c["status"]["taskId"] for c in h.claim(n=4)]
    assert got == [high, low, first_lowest, second_lowest]
    assert h.claim() == []


def test_claim_work_only_from_its_queue_and_bad_input(h):
    h.create(queue="prov/other")
    assert h.claim(queue="prov/wt") == []
    err = h.error("claimWork", {"tasks": 0, "workerGroup": "g", "workerId": "w"},
                  taskQueueId="prov/wt")
    assert err.code == "InputError"
    assert h.error("claimWork", {"tasks": 1}, taskQueueId="prov/wt").code == "InputError"


def test_claim_work_checks_worker_scopes(h):
    h.create()
    worker = Caller("worker", ["queue:claim-work:prov/wt", "queue:worker-id:wg/w1"])
    body = {"tasks": 1, "workerGroup": "wg", "workerId": "w2"}
    assert h.error("claimWork", body, taskQueueId="prov/wt", caller=worker).status == 403
    body["workerId"] = "w1"
    assert len(h.body("claimWork", body, taskQueueId="prov/wt", caller=worker)["tasks"]) == 1


def test_claim_task_specific_run(h):
    taskId, _ = h.create()
    item = h.body("claimTask", {"workerGroup": "wg", "workerId": "w9"}, taskId=taskId, runId=0)
    assert item["status"]["state"] == "running" and item["workerId"] == "w9"
    err = h.error("claimTask", {"workerGroup": "wg", "workerId": "w8"}, taskId=taskId, runId=0)
    assert err.status == 409
    assert h.error("claimTask", {"workerGroup": "g", "workerId": "w"}, taskId=taskId,
                   runId=4).status == 404
    limited = Caller("x", ["queue:claim-task:prov/wt"])
    other, _ = h.create()
    assert h.error("claimTask", {"workerGroup": "g", "workerId": "w"}, taskId=other, runId=0,
                   caller=limited).status == 403


def scenario_worker_shutdown_retry(h: Harness):
    taskId, _ = h.create()
    h.claim()
    h.messages()
    status = h.body("reportException", {"reason": "worker-shutdown"}, taskId=taskId,
                    runId=0)["status"]
    assert status["state"] == "pending" and status["retriesLeft"] == 4
    assert status["runs"][1]["reasonCreated"] == "retry"
    exc, pend = h.messages()
    assert exc.name == "task-exception" and exc.payload["runId"] == 0
    assert exc.payload["workerGroup"] == "wg"
    assert exc.payload["status"]["runs"][1]["state"] == "pending"  # already shows the retry
    assert pend.name == "task-pending" and pend.payload["runId"] == 1
    (item,) = h.claim()
    assert item["runId"] == 1
    h.body("reportCompleted", taskId=taskId, runId=1)
    assert h.exchanges() == ["task-running", "task-completed", "task-group-resolved"]


def test_worker_shutdown_retry(h):
    scenario_worker_shutdown_retry(h)


def test_retries_exhausted_and_malformed_payload(h):
    taskId, _ = h.create(retries=0)
    h.claim()
    status = h.body("reportException", {"reason": "worker-shutdown"}, taskId=taskId,
                    runId=0)["status"]
    assert status["state"] == "exception" and len(status["runs"]) == 1
    other, _ = h.create()
    h.claim()
    h.messages()
    status = h.body("reportException", {"reason": "malformed-payload"}, taskId=other,
                    runId=0)["status"]
    assert status["state"] == "exception" and status["retriesLeft"] == 5
    assert h.exchanges() == ["task-exception", "task-group-resolved"]
    assert h.error("reportException", {"reason": "canceled"}, taskId=other,
                   runId=0).code == "InputError"


def test_legacy_report_completed_with_success_false_fails(h):
    taskId, _ = h.create()
    h.claim()
    status = h.body("reportCompleted", {"success": False}, taskId=taskId, runId=0)["status"]
    assert status["state"] == "failed"


def test_report_scope_is_checked_up_front(h):
    taskId, _ = h.create()
    h.claim()
    other_task = Caller("task-client/x", ["queue:resolve-task:someone-else/0"])
    assert h.error("reportCompleted", taskId=taskId, runId=0, caller=other_task).status == 403


# == resolvers ==============================================================================

def scenario_claim_expired(h: Harness):
    taskId, _ = h.create()
    h.claim()
    h.messages()
    h.clock.advance(1199)
    h.backend.tick()
    assert h.messages() == []
    h.clock.advance(1)
    h.backend.tick()
    exc, pend = h.messages()
    assert (exc.name, pend.name) == ("task-exception", "task-pending")
    assert exc.routing_key.split(".")[2:5] == ["0", "wg", "w1"]
    status = h.body("status", taskId=taskId)["status"]
    assert status["runs"][0]["reasonResolved"] == "claim-expired"
    assert status["runs"][1]["reasonCreated"] == "retry" and status["retriesLeft"] == 4
    assert h.error("reportCompleted", taskId=taskId, runId=0).status == 409
    h.backend.tick()
    assert h.messages() == []  # resolved once
    # A refused reclaim of the expired run queues one more claim check, and the resolver then
    # announces the expiry again (at-least-once, as the real queue does).
    assert h.error("reclaimTask", taskId=taskId, runId=0).status == 409
    h.clock.advance(1199)
    h.backend.tick()
    assert h.messages() == []
    h.clock.advance(1)
    h.backend.tick()
    assert [(m.name, m.payload["runId"]) for m in h.messages()] == \
        [("task-exception", 0), ("task-pending", 1)]
    h.backend.tick()
    assert h.messages() == []


def test_refused_reclaim_of_a_completed_run_announces_nothing(h):
    taskId, _ = h.create()
    h.claim()
    h.body("reportCompleted", taskId=taskId, runId=0)
    h.messages()
    assert h.error("reclaimTask", taskId=taskId, runId=0).status == 409
    h.clock.advance(1200)
    h.backend.tick()
    assert h.messages() == []


def test_claim_expired(h):
    scenario_claim_expired(h)


def test_claim_timeout_setting():
    h = make_harness(claim_timeout=5)
    h.create()
    (item,) = h.claim()
    assert parse_date(item["takenUntil"]) == h.now() + timedelta(seconds=5)
    h.clock.advance(5)
    h.backend.tick()
    assert h.body("status", taskId=item["status"]["taskId"])["status"]["state"] == "pending"


def scenario_deadline_exceeded(h: Harness):
    now = h.now()
    short = to_json(now + timedelta(seconds=6))
    a, _ = h.create(slug("a"), deadline=short)
    b, _ = h.create(slug("b"), deadline=short, dependencies=[a])
    c, _ = h.create(slug("c"), deadline=short, priority="high")
    (item,) = h.claim()
    assert item["status"]["taskId"] == c
    h.messages()
    h.clock.advance(5)
    h.backend.tick()
    assert h.messages() == []
    h.clock.advance(1)
    assert h.claim() == []  # from the deadline on nothing is handed out
    h.backend.tick()
    assert h.messages() == []  # ... but resolution comes strictly after it
    h.clock.advance(0.001)
    h.backend.tick()
    msgs = h.messages()
    exceptions = {m.payload["status"]["taskId"]: m for m in msgs if m.name == "task-exception"}
    assert set(exceptions) == {a, b, c}
    assert exceptions[c].routing_key.split(".")[2:5] == ["0", "_", "_"]
    assert "workerId" not in exceptions[c].payload
    assert sum(m.name == "task-group-resolved" for m in msgs) == 3
    sc = h.body("status", taskId=c)["status"]["runs"][0]
    assert sc["workerGroup"] == "wg" and sc["reasonResolved"] == "deadline-exceeded"
    sb = h.body("status", taskId=b)["status"]["runs"]
    assert sb == [{"runId": 0, "state": "exception", "reasonCreated": "exception",
                   "reasonResolved": "deadline-exceeded", "scheduled": to_json(h.now()),
                   "resolved": to_json(h.now())}]
    assert "past its deadline" in h.error("reclaimTask", taskId=c, runId=0).message
    assert h.error("rerunTask", taskId=a).status == 409
    assert h.error("cancelTask", taskId=b).status == 409
    # a report from a worker still holding the run is a 409 too: the run is resolved
    assert h.error("reportCompleted", taskId=c, runId=0).status == 409


def test_deadline_exceeded(h):
    scenario_deadline_exceeded(h)


def test_deadline_delay():
    h = make_harness(deadline_delay=60)
    taskId, _ = h.create(deadline=to_json(h.now() + timedelta(seconds=10)))
    h.clock.advance(30)
    h.backend.tick()
    assert h.body("status", taskId=taskId)["status"]["state"] == "pending"
    assert h.claim() == []
    h.clock.advance(40)  # exactly deadline + delay: not yet
    h.backend.tick()
    assert h.body("status", taskId=taskId)["status"]["state"] == "pending"
    h.clock.advance(0.001)
    h.backend.tick()
    assert h.body("status", taskId=taskId)["status"]["state"] == "exception"


def test_claim_past_deadline_goes_to_deadline_resolver(h):
    taskId, _ = h.create(deadline=to_json(h.now() + timedelta(seconds=100)))
    h.claim()
    h.clock.advance(2000)  # claim expired and deadline passed
    h.backend.tick()
    run = h.body("status", taskId=taskId)["status"]["runs"]
    assert len(run) == 1 and run[0]["reasonResolved"] == "deadline-exceeded"


# == dependencies ===========================================================================

def scenario_dependencies(h: Harness):
    a, _ = h.create(slug("a"))
    b, sb = h.create(slug("b"), dependencies=[a], taskGroupId=a)
    c, sc = h.create(slug("c"), dependencies=[a], taskGroupId=a, requires="all-resolved")
    assert sb["state"] == sc["state"] == "unscheduled"
    assert h.exchanges() == ["task-defined", "task-pending", "task-defined", "task-defined"]
    deps = h.body("listDependentTasks", taskId=a)
    assert deps["taskId"] == a
    assert [t["status"]["taskId"] for t in deps["tasks"]] == [b, c]
    page = h.body("listDependentTasks", taskId=a, query={"limit": "1"})
    assert len(page["tasks"]) == 1 and "continuationToken" in page
    rest = h.body("listDependentTasks", taskId=a,
                  query={"limit": "1", "continuationToken": page["continuationToken"]})
    assert [t["status"]["taskId"] for t in rest["tasks"]] == [c]
    assert "continuationToken" not in rest
    h.claim()
    h.messages()
    h.body("reportFailed", taskId=a, runId=0)
    msgs = h.messages()
    assert [m.name for m in msgs] == ["task-failed", "task-pending"]
    assert msgs[1].payload["status"]["taskId"] == c
    assert h.body("status", taskId=b)["status"]["state"] == "unscheduled"
    # a rerun of a that completes releases the all-completed dependent
    h.body("rerunTask", taskId=a)
    (item,) = h.claim()
    assert item["status"]["taskId"] in (a, c)
    while True:  # bounded: at most two claims remain
        claims = h.claim()
        if not claims:
            break
    h.messages()
    h.body("reportCompleted", taskId=a, runId=1)
    assert [m.name for m in h.messages()] == ["task-completed", "task-pending"]
    assert h.body("status", taskId=b)["status"]["state"] == "pending"


def test_dependencies(h):
    scenario_dependencies(h)


def test_dependency_already_completed_at_creation(h):
    a, _ = h.create()
    h.claim()
    h.body("reportCompleted", taskId=a, runId=0)
    b, status = h.create(dependencies=[a])
    assert status["state"] == "pending"


def test_schedule_task(h):
    a, _ = h.create()
    b, _ = h.create(dependencies=[a])
    h.messages()
    status = h.body("scheduleTask", taskId=b)["status"]
    assert status["state"] == "pending" and status["runs"][0]["reasonCreated"] == "scheduled"
    assert h.exchanges() == ["task-pending"]
    assert h.body("scheduleTask", taskId=b)["status"] == status
    assert h.messages() == []
    assert h.error("scheduleTask", taskId=slug()).status == 404
    limited = Caller("x", ["queue:schedule-task-in-project:other"])
    assert h.error("scheduleTask", taskId=b, caller=limited).status == 403
    project = Caller("x", ["queue:schedule-task-in-project:none"])
    assert h.body("scheduleTask", taskId=b, caller=project)["status"] == status


# == rerun, cancel, priority =================================================================

def test_rerun_after_complete_and_while_pending(h):
    taskId, _ = h.create()
    h.messages()
    assert h.body("rerunTask", taskId=taskId)["status"]["runs"][0]["state"] == "pending"
    assert h.exchanges() == ["task-pending"]
    h.claim()
    h.body("reportCompleted", taskId=taskId, runId=0)
    h.messages()
    status = h.body("rerunTask", taskId=taskId)["status"]
    assert status["runs"][1]["reasonCreated"] == "rerun" and status["state"] == "pending"
    assert h.exchanges() == ["task-pending"]
    h.claim()
    h.body("reportCompleted", taskId=taskId, runId=1)
    assert h.exchanges() == ["task-running", "task-completed", "task-group-resolved"]
    assert h.error("rerunTask", taskId=slug()).status == 404


def test_rerun_limit_through_the_backend(h):
    taskId, _ = h.create(retries=0)
    for run_id in range(50):
        if run_id:
            h.body("rerunTask", taskId=taskId)
        h.claim()
        h.body("reportFailed", taskId=taskId, runId=run_id)
    err = h.error("rerunTask", taskId=taskId)
    assert err.status == 409 and "Maximum number of runs reached (50)" in err.message


def test_cancel_pending_running_resolved(h):
    p, _ = h.create()
    h.messages()
    status = h.body("cancelTask", taskId=p)["status"]
    assert status["runs"][0]["reasonResolved"] == "canceled"
    assert h.exchanges() == ["task-exception", "task-group-resolved"]
    assert h.body("cancelTask", taskId=p)["status"] == status
    assert h.exchanges() == ["task-exception", "task-group-resolved"]  # re-published
    r, _ = h.create()
    h.claim()
    h.messages()
    h.body("cancelTask", taskId=r)
    (exc, _) = h.messages()
    assert exc.routing_key.split(".")[3:5] == ["wg", "w1"]
    assert h.error("reclaimTask", taskId=r, runId=0).status == 409
    assert h.error("reportCompleted", taskId=r, runId=0).status == 409
    done, _ = h.create()
    h.claim()
    h.body("reportCompleted", taskId=done, runId=0)
    h.messages()
    assert h.body("cancelTask", taskId=done)["status"]["state"] == "completed"
    assert h.messages() == []
    unscheduled, _ = h.create(dependencies=[done])
    # (done is completed, so this one is pending; make a blocked one instead)
    blocked, _ = h.create(dependencies=[r])
    assert h.body("cancelTask", taskId=blocked)["status"]["runs"][0]["reasonCreated"] == \
        "exception"


def test_cancel_404_before_scope_check(h):
    assert h.error("cancelTask", taskId=slug(), caller=ANONYMOUS).status == 404
    taskId, _ = h.create()
    assert h.error("cancelTask", taskId=taskId, caller=ANONYMOUS).status == 403
    legacy = Caller("x", ["queue:cancel-task", f"assume:scheduler-id:-/{taskId}"])
    assert h.body("cancelTask", taskId=taskId, caller=legacy)["status"]["state"] == "exception"


def test_change_task_priority(h):
    a, _ = h.create(priority="low")
    b, _ = h.create(priority="medium")
    h.messages()
    status = h.body("changeTaskPriority", {"newPriority": "high"}, taskId=a)["status"]
    assert status["priority"] == "high"
    (msg,) = h.messages()
    assert msg.name == "task-priority-changed"
    assert (msg.payload["oldPriority"], msg.payload["newPriority"]) == ("low", "high")
    assert msg.routing_key == f"primary.{a}._._._.prov.wt.-.{a}._"
    assert h.body("task", taskId=a)["priority"] == "high"
    assert h.error("changeTaskPriority", {"newPriority": "high"}, taskId=a).status == 409
    assert [c["status"]["taskId"] for c in h.claim(n=2)] == [a, b]  # new order applies
    queue_scope = Caller("x", ["queue:change-task-priority-in-queue:prov/wt"])
    assert h.body("changeTaskPriority", {"newPriority": "low"}, taskId=b,
                  caller=queue_scope)["status"]["priority"] == "low"
    assert h.error("changeTaskPriority", {"newPriority": "normal"}, taskId=b).code == \
        "InputError"


# == task groups ============================================================================

def scenario_task_groups(h: Harness):
    group = slug("g")
    ids = [h.create(slug(p), taskGroupId=group)[0] for p in ("a", "b", "c")]
    listing = h.body("listTaskGroup", taskGroupId=group)
    assert [t["status"]["taskId"] for t in listing["tasks"]] == ids
    assert list(listing["tasks"][0]) == ["status", "task"]
    assert "continuationToken" not in listing and "sealed" not in listing
    info = h.body("getTaskGroup", taskGroupId=group)
    expires = h.body("task", taskId=ids[0])["expires"]
    assert info == {"taskGroupId": group, "schedulerId": "-",
                    "expires": to_json(parse_date(expires) + timedelta(hours=1))}
    page = h.body("listTaskGroup", taskGroupId=group, query={"limit": "2"})
    assert len(page["tasks"]) == 2
    rest = h.body("listTaskGroup", taskGroupId=group,
                  query={"limit": "2", "continuationToken": page["continuationToken"]})
    assert [t["status"]["taskId"] for t in rest["tasks"]] == ids[2:]
    assert h.error("listTaskGroup", taskGroupId=slug()).status == 404
    assert h.error("getTaskGroup", taskGroupId=slug()).status == 404

    h.claim()  # ids[0]
    h.body("reportCompleted", taskId=ids[0], runId=0)
    h.messages()
    assert h.error("cancelTaskGroup", taskGroupId=group).status == 409
    sealed = h.body("sealTaskGroup", taskGroupId=group)
    assert sealed["sealed"] == to_json(h.now())
    h.clock.advance(5)
    assert h.body("sealTaskGroup", taskGroupId=group) == sealed
    assert [m.name for m in h.messages()] == ["task-group-sealed"] * 2
    err = h.error("createTask", task_def(h.now(), taskGroupId=group), taskId=slug())
    assert err.status == 409 and "sealed" in err.message
    h.claim()  # ids[1] running
    h.messages()
    result = h.body("cancelTaskGroup", taskGroupId=group)
    assert result == {"taskGroupId": group, "taskGroupSize": 3, "cancelledCount": 2,
                      "taskIds": ids[1:]}
    assert [m.name for m in h.messages()] == ["task-exception", "task-exception",
                                              "task-group-resolved"]
    assert h.body("getTaskGroup", taskGroupId=group)["sealed"] == sealed["sealed"]


def test_task_groups(h):
    scenario_task_groups(h)


def test_group_scheduler_mismatch_and_group_resolution_waits_for_all(h):
    group = slug()
    a, _ = h.create(taskGroupId=group)
    err = h.error("createTask", task_def(h.now(), taskGroupId=group, schedulerId="other"),
                  taskId=slug())
    assert err.status == 409
    b, _ = h.create(taskGroupId=group)
    h.claim()
    h.body("reportCompleted", taskId=a, runId=0)
    assert "task-group-resolved" not in h.exchanges()
    h.claim()
    h.body("reportCompleted", taskId=b, runId=0)
    assert h.exchanges()[-1] == "task-group-resolved"


def test_group_expires_grows_with_later_tasks(h):
    group = slug()
    h.create(taskGroupId=group)
    later = to_json(h.now() + timedelta(days=800))
    h.create(taskGroupId=group, expires=later)
    assert h.body("getTaskGroup", taskGroupId=group)["expires"] == \
        to_json(parse_date(later) + timedelta(hours=1))


def test_change_task_group_priority(h):
    group = slug()
    a, _ = h.create(slug("a"), taskGroupId=group)
    b, _ = h.create(slug("b"), taskGroupId=group, priority="high")
    c, _ = h.create(slug("c"), taskGroupId=group)
    h.claim(n=1)  # b (high) is claimed; still unresolved
    h.body("cancelTask", taskId=c)
    h.messages()
    out = h.body("changeTaskGroupPriority", {"newPriority": "very-high"}, taskGroupId=group)
    assert out == {"taskGroupId": group, "schedulerId": "-", "newPriority": "very-high",
                   "tasksAffected": 2, "taskIds": [a, b]}
    (msg,) = h.messages()
    assert msg.name == "task-group-priority-changed" and msg.payload["tasksAffected"] == 2
    assert msg.routing_key == f"primary.{group}.-._"
    assert h.body("task", taskId=a)["priority"] == "very-high"
    assert h.body("task", taskId=c)["priority"] == "lowest"
    assert h.error("changeTaskGroupPriority", {"newPriority": "x"}, taskGroupId=group).code \
        == "InputError"


# == batch reads, pagination =================================================================

def test_tasks_and_statuses_batch(h):
    ids = [h.create()[0] for _ in range(3)]
    unknown = slug()
    out = h.body("tasks", {"taskIds": [ids[0], unknown, ids[1], ids[2]]}, query={"limit": "2"})
    assert [t["taskId"] for t in out["tasks"]] == ids[:2] and "continuationToken" in out
    rest = h.body("tasks", {"taskIds": [ids[0], unknown, ids[1], ids[2]]},
                  query={"limit": "2", "continuationToken": out["continuationToken"]})
    assert [t["taskId"] for t in rest["tasks"]] == ids[2:] and "continuationToken" not in rest
    statuses = h.body("statuses", {"taskIds": ids})
    assert [s["status"]["state"] for s in statuses["statuses"]] == ["pending"] * 3
    narrow = Caller("x", [f"queue:status:{ids[0]}"])
    assert h.error("statuses", {"taskIds": ids}, caller=narrow).status == 403
    assert h.body("statuses", {"taskIds": ids[:1]}, caller=narrow)["statuses"]


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "x"},
                                   {"continuationToken": "not-a-token"},
                                   {"continuationToken": "eyJvIjotMX0"}])
def test_bad_pagination_is_a_400(h, query):
    group = slug()
    h.create(taskGroupId=group)
    err = h.error("listTaskGroup", taskGroupId=group, query=query)
    assert err.status == 400 and err.code == "InputError"


# == task queues and workers ================================================================

def scenario_task_queues(h: Harness):
    low, _ = h.create(priority="low")
    high, _ = h.create(priority="high")
    assert h.body("pendingTasks", taskQueueId="prov/wt") == {
        "provisionerId": "prov", "workerType": "wt", "taskQueueId": "prov/wt",
        "pendingTasks": 2}
    assert h.error("getTaskQueue", taskQueueId="prov/wt").status == 404
    assert h.body("listTaskQueues")["taskQueues"] == []
    pending = h.body("listPendingTasks", taskQueueId="prov/wt")["tasks"]
    assert [(p["taskId"], p["runId"]) for p in pending] == [(low, 0), (high, 0)]
    h.clock.advance(3)
    (item,) = h.claim()
    assert item["status"]["taskId"] == high
    counts = h.body("taskQueueCounts", taskQueueId="prov/wt")
    assert (counts["pendingTasks"], counts["claimedTasks"]) == (1, 1)
    claimed = h.body("listClaimedTasks", taskQueueId="prov/wt")["tasks"]
    assert [(c["taskId"], c["workerId"], c["claimed"]) for c in claimed] == \
        [(high, "w1", to_json(h.now()))]
    queue = h.body("getTaskQueue", taskQueueId="prov/wt")
    assert queue == {"taskQueueId": "prov/wt", "description": "", "stability": "experimental",
                     "expires": to_json(h.now() + timedelta(days=1)),
                     "lastDateActive": to_json(h.now())}
    assert h.body("listTaskQueues")["taskQueues"] == [queue]
    prov = h.body("getProvisioner", provisionerId="prov")
    assert prov["provisionerId"] == "prov" and prov["expires"] == queue["expires"]
    assert h.body("listProvisioners")["provisioners"] == [prov]
    wt = h.body("getWorkerType", provisionerId="prov", workerType="wt")
    assert wt["taskQueueId"] == "prov/wt"
    assert h.body("listWorkerTypes", provisionerId="prov")["workerTypes"] == [wt]
    assert h.error("getProvisioner", provisionerId="nope").status == 404
    assert h.error("getWorkerType", provisionerId="prov", workerType="nope").status == 404
    workers = h.body("listWorkers", provisionerId="prov", workerType="wt")["workers"]
    assert workers == [{"workerGroup": "wg", "workerId": "w1", "firstClaim": to_json(h.now()),
                        "latestTask": {"taskId": high, "runId": 0},
                        "lastDateActive": to_json(h.now())}]
    worker = h.body("getWorker", provisionerId="prov", workerType="wt", workerGroup="wg",
                    workerId="w1")
    assert worker["recentTasks"] == [{"taskId": high, "runId": 0}]
    until = to_json(h.now() + timedelta(hours=1))
    q = h.body("quarantineWorker", {"quarantineUntil": until, "quarantineInfo": "broken"},
               provisionerId="prov", workerType="wt", workerGroup="wg", workerId="w1")
    assert q["quarantineUntil"] == until and q["quarantineDetails"][0]["quarantineInfo"] == \
        "broken"
    assert h.claim() == []  # quarantined: nothing handed out
    assert h.body("listWorkers", provisionerId="prov", workerType="wt",
                  query={"quarantined": "false"})["workers"] == []
    assert len(h.body("listWorkers", provisionerId="prov", workerType="wt",
                      query={"quarantined": "true"})["workers"]) == 1
    assert len(h.claim(wid="w2")) == 1
    later = to_json(h.now() + timedelta(days=3))
    declared = h.body("declareWorker", {"expires": later}, provisionerId="prov",
                      workerType="wt2", workerGroup="wg", workerId="w5")
    assert declared["expires"] == later
    assert h.error("getWorker", provisionerId="prov", workerType="wt", workerGroup="x",
                   workerId="y").status == 404


def test_task_queues(h):
    scenario_task_queues(h)


def test_task_queues_expire_after_a_day_without_activity(h):
    h.create()
    h.claim()
    h.clock.advance(timedelta(days=1, seconds=1))
    assert h.body("listTaskQueues")["taskQueues"] == []
    assert h.error("getTaskQueue", taskQueueId="prov/wt").status == 404


# == the contract ===========================================================================

def test_contract_members(h):
    backend = h.backend
    from tutorial_kit.api import ENTRIES
    assert [e.name for e in ENTRIES if not backend.implements(e.name)] == []
    # Only API names count: not the facade's other members, nor its concerns.
    assert not backend.implements("nonsense") and not backend.implements("_tasks")
    assert not backend.implements("dump") and not backend.implements("get_status")
    assert h.body("ping")["alive"] is True
    assert h.body("lbheartbeat") == {} and h.body("heartbeat") == {}
    assert set(h.body("version")) == {"source", "version", "commit", "build"}
    taskId, _ = h.create()
    with backend.store.transaction() as conn:
        assert backend.get_task(conn, taskId)["taskQueueId"] == "prov/wt"
        assert backend.get_status(conn, taskId)["state"] == "pending"
        assert backend.get_task(conn, slug()) is None
    dump = backend.dump()
    assert dump["tasks"][0]["taskId"] == taskId and dump["clock"]["paused"] is True
    import json
    json.dumps(dump)
    backend.reset()
    assert backend.dump()["tasks"] == []
    assert h.error("status", taskId=taskId).status == 404
    backend.seed(7)
    first = backend.rng.random()
    backend.seed(7)
    assert backend.rng.random() == first


def test_default_credential_issuer_and_real_clock():
    backend = QueueBackend()
    h = Harness(backend)
    h.create()
    (item,) = h.claim()
    creds = item["credentials"]
    assert set(creds) == {"clientId", "accessToken", "certificate"}
    assert all(isinstance(v, str) and v for v in creds.values())
    backend.close()


def test_clock_listener_can_tick_at_once(h):
    h.backend.clock.add_listener(h.backend.tick)
    taskId, _ = h.create(deadline=to_json(h.now() + timedelta(seconds=30)))
    h.clock.advance(31)  # the listener runs the resolvers
    assert h.body("status", taskId=taskId)["status"]["state"] == "exception"


# == conformance to the official schemas =====================================================

SCENARIOS = [scenario_create_and_status, scenario_claim_and_complete,
             scenario_worker_shutdown_retry, scenario_claim_expired,
             scenario_deadline_exceeded, scenario_dependencies, scenario_task_groups,
             scenario_task_queues]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_outputs_conform_to_the_oracle(oracle_schemas, scenario):
    oracle = Oracle(oracle_schemas)
    h = make_harness(oracle)
    scenario(h)
    assert h.checked > 0
    messages = h.backend.bus.history()
    assert messages
    for message in messages:
        oracle.check_message(message)
        assert len(message.routing_key) <= 255
    h.backend.close()


# == request bodies as the error envelope shows them ==========================================

def test_create_patches_the_body_in_stages_like_the_real_handler(h):
    now = h.now()
    body = task_def(now)
    err = h.error("createTask", body, taskId=slug(), caller=ANONYMOUS)
    assert err.status == 403
    assert (body["provisionerId"], body["workerType"]) == ("prov", "wt")
    assert "taskGroupId" not in body and "expires" not in body
    taskId = slug()
    past = task_def(now, created=to_json(now - timedelta(hours=1)))
    assert h.error("createTask", past, taskId=taskId).status == 400
    assert past["taskGroupId"] == taskId and "expires" not in past
    first = slug()
    h.body("createTask", task_def(now), taskId=first)
    clash = task_def(now, retries=1)
    assert h.error("createTask", clash, taskId=first).status == 409
    assert clash["expires"] == to_json(parse_date(clash["deadline"]).replace(year=2027))


def test_create_copes_with_a_body_that_skipped_validation(h):
    body = task_def(h.now())
    taskId = slug()
    assert h.body("createTask", body, taskId=taskId)["status"]["retriesLeft"] == 5
    for bad in (dict(priority="normal"), dict(retries=50), dict(retries="5"),
                dict(requires="some"), dict(routes="x"), dict(tags=[]),
                dict(dependencies=[1]), dict(schedulerId=5)):
        err = h.error("createTask", task_def(h.now(), **bad), taskId=slug())
        assert err.code == "InputError", bad


def test_cancel_task_group_messages_omit_priority_like_upstream(h):
    group = slug()
    a, _ = h.create(taskGroupId=group)
    h.body("sealTaskGroup", taskGroupId=group)
    h.messages()
    h.body("cancelTaskGroup", taskGroupId=group)
    exc, resolved = h.messages()
    assert "priority" not in exc.payload["status"]
    assert resolved.payload["sealed"]
    assert "priority" in h.body("status", taskId=a)["status"]


def test_expired_tasks_groups_and_queues_are_deleted(h):
    now = h.now()
    a, _ = h.create(deadline=to_json(now + timedelta(hours=1)),
                    expires=to_json(now + timedelta(hours=2)))
    keep, _ = h.create()
    h.claim(n=2)
    h.body("reportCompleted", taskId=a, runId=0)
    h.clock.advance(timedelta(hours=2))
    h.backend.tick()
    assert h.body("status", taskId=a)["status"]["state"] == "completed"  # not yet (< expires)
    h.clock.advance(timedelta(seconds=1))
    h.backend.tick()
    assert h.error("status", taskId=a).status == 404
    assert h.error("task", taskId=a).status == 404
    assert h.body("getTaskGroup", taskGroupId=a)  # the group outlives its task by an hour
    h.clock.advance(timedelta(hours=1))
    h.backend.tick()
    assert h.error("getTaskGroup", taskGroupId=a).status == 404
    # the other task lives on (its claim expired on the way, so it was retried)
    status = h.body("status", taskId=keep)["status"]
    assert status["state"] == "pending" and status["runs"][0]["reasonResolved"] == \
        "claim-expired"
    assert h.body("listTaskQueues")["taskQueues"]
    with h.backend.store.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0] == 1


def test_handle_refuses_unknown_methods(h):
    from tutorial_kit.api import Entry
    from tutorial_kit.mock.model.call import Call
    from tutorial_kit.mock.model.errors import QueueError
    fake = Entry("explode", "get", "/x", (), (), None, None, None, "stable", "x")
    with pytest.raises(QueueError) as info:
        h.backend.handle(Call(fake, {}, {}, None, ROOT, "http://x"))
    assert info.value.status == 501


def test_claim_work_reads_past_many_unclaimable_rows(h):
    """Rows the claim must skip (past their deadline, not yet resolved) may fill several of
    its batches; the claim still finds the claimable ones behind them, in order."""
    short = to_json(h.now() + timedelta(seconds=5))
    for _ in range(25):
        h.create(deadline=short)
    later = [h.create()[0] for _ in range(3)]
    h.clock.advance(6)  # past the short deadlines; no tick, so they are still pending
    first = h.claim(n=2)
    assert [i["status"]["taskId"] for i in first] == later[:2]
    assert [i["status"]["taskId"] for i in h.claim(n=5)] == later[2:]
    assert h.claim() == []


def test_an_idle_workers_repeated_claims_leave_the_store_alone(h):
    # A long poll re-runs an empty claim every 50 ms: those must not write, or every learner's
    # cached status poll would be recomputed and a file store would sync 20 times a second.
    assert h.claim() == []  # first sight: the task queue and the worker are recorded
    before = h.backend.state_version()
    for _ in range(5):
        h.clock.advance(0.05)
        assert h.claim() == []
    assert h.backend.state_version() == before
    seen = h.body("getWorker", provisionerId="prov", workerType="wt", workerGroup="wg",
                  workerId="w1")["lastDateActive"]
    h.clock.advance(61)  # a minute on, activity is recorded again
    assert h.claim() == []
    assert h.backend.state_version() != before
    worker = h.body("getWorker", provisionerId="prov", workerType="wt", workerGroup="wg",
                    workerId="w1")
    assert worker["lastDateActive"] == to_json(h.now()) != seen
    queue = h.body("getTaskQueue", taskQueueId="prov/wt")
    assert queue["lastDateActive"] == to_json(h.now())


def test_a_claim_that_gets_a_task_is_always_recorded(h):
    assert h.claim() == []
    task_id, _ = h.create()
    (item,) = h.claim()
    worker = h.body("getWorker", provisionerId="prov", workerType="wt", workerGroup="wg",
                    workerId="w1")
    assert worker["recentTasks"] == [{"taskId": task_id, "runId": 0}]
    assert item["status"]["taskId"] == task_id
