"""The task lifecycle as pure logic: no server, no store, no clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutorial_kit.mock.model import lifecycle as lc
from tutorial_kit.mock.model.clock import to_pg
from tutorial_kit.dates import to_json
from tutorial_kit.mock.model.errors import QueueError

UTC = timezone.utc
T0 = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
TID = "aaaaaaaaQaaaaaaaaaaaaA"


def definition(**overrides):
    task = {"provisionerId": "prov", "workerType": "wt", "taskQueueId": "prov/wt",
            "schedulerId": "-", "projectId": "none", "taskGroupId": TID, "dependencies": [],
            "requires": "all-completed", "routes": [], "priority": "lowest", "retries": 5,
            "created": to_json(T0), "deadline": to_json(T0 + timedelta(days=1)),
            "expires": to_json(T0 + timedelta(days=366)), "scopes": [], "payload": {},
            "metadata": {}, "tags": {"k": "v"}, "extra": {}}
    task.update(overrides)
    return task


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fresh(**overrides) -> lc.TaskRecord:
    return lc.new_record(TID, definition(**overrides))


def pending(**overrides) -> lc.TaskRecord:
    return lc.schedule(fresh(**overrides), at(1)).record


def running(**overrides) -> lc.TaskRecord:
    return lc.claim(pending(**overrides), 0, "wg", "w1", at(2), 1200).record


def conflict_of(fn, *args, **kw) -> QueueError:
    with pytest.raises(QueueError) as info:
        fn(*args, **kw)
    return info.value


# -- rendering ------------------------------------------------------------------------------

def test_new_record_is_unscheduled_with_retries():
    rec = fresh(retries=3)
    status = lc.render_status(rec)
    assert list(status) == list(lc.STATUS_KEYS)
    assert status["state"] == "unscheduled" and status["runs"] == []
    assert status["retriesLeft"] == 3


def test_make_run_orders_keys_and_drops_none():
    run = lc.make_run(scheduled="s", runId=0, state="pending", reasonCreated="scheduled",
                      workerId=None)
    assert list(run) == ["runId", "state", "reasonCreated", "scheduled"]


def test_defined_status_is_pre_store_view():
    rec = running()
    status = lc.defined_status(rec)
    assert status["state"] == "unscheduled" and status["runs"] == []


def test_priorities():
    assert lc.priorities_at_least("high") == ["highest", "very-high", "high"]
    assert lc.priorities_at_least("lowest") == list(lc.PRIORITIES)
    assert lc.priority_rank("highest") < lc.priority_rank("lowest")


def test_copy_does_not_share_runs():
    rec = pending()
    clone = rec.copy()
    clone.runs[0]["state"] = "x"
    assert rec.runs[0]["state"] == "pending"


# -- schedule -------------------------------------------------------------------------------

def test_schedule_adds_run_zero_and_pending_intent():
    tr = lc.schedule(fresh(), at(1))
    assert tr.changed and not tr.resolved
    assert tr.record.runs == [{"runId": 0, "state": "pending", "reasonCreated": "scheduled",
                               "scheduled": to_json(at(1))}]
    assert tr.intents == [lc.Intent("task-pending", runId=0)]


def test_schedule_is_a_noop_with_runs_and_does_not_mutate_input():
    rec = pending()
    tr = lc.schedule(rec, at(5), force=True)
    assert not tr.changed and tr.intents == [] and tr.record is rec


def test_schedule_past_deadline():
    rec = fresh()
    assert lc.schedule(rec, at(86400)).changed is False  # dependency path: silently nothing
    err = conflict_of(lc.schedule, rec, at(86400), force=True)
    assert err.status == 409 and "past its deadline" in err.message


# -- claim / reclaim ------------------------------------------------------------------------

def test_claim_sets_worker_and_taken_until():
    tr = lc.claim(pending(), 0, "wg", "w1", at(2), 1200)
    run = tr.record.runs[0]
    assert run["state"] == "running" and tr.record.state == "running"
    assert list(run) == ["runId", "state", "reasonCreated", "workerGroup", "workerId",
                         "takenUntil", "scheduled", "started"]
    assert run["takenUntil"] == to_json(at(1202)) and run["started"] == to_json(at(2))
    (intent,) = tr.intents
    assert intent.exchange == "task-running" and intent.runId == 0
    assert (intent.workerGroup, intent.workerId) == ("wg", "w1")
    assert intent.extra == {"takenUntil": to_pg(at(1202))}


def test_claim_twice_conflicts():
    rec = running()
    assert conflict_of(lc.claim, rec, 0, "wg", "w2", at(3), 1200).status == 409
    assert conflict_of(lc.claim, rec, 0, "wg", "w1", at(3), 1200).status == 409


def test_claim_missing_run_404_and_past_deadline_409():
    assert conflict_of(lc.claim, pending(), 3, "wg", "w", at(2), 1200).status == 404
    assert conflict_of(lc.claim, fresh(), 0, "wg", "w", at(2), 1200).status == 404
    err = conflict_of(lc.claim, pending(), 0, "wg", "w", at(86400), 1200)
    assert err.status == 409


def test_reclaim_moves_taken_until_without_messages():
    tr = lc.reclaim(running(), 0, at(600), 1200)
    assert tr.record.runs[0]["takenUntil"] == to_json(at(1800))
    assert tr.intents == [] and tr.changed


def test_reclaim_conflicts():
    assert conflict_of(lc.reclaim, pending(), 0, at(5), 1200).status == 409
    done = lc.complete(running(), 0, at(5)).record
    assert conflict_of(lc.reclaim, done, 0, at(6), 1200).status == 409
    err = conflict_of(lc.reclaim, running(), 0, at(86400), 1200)
    assert "past its deadline" in err.message
    assert conflict_of(lc.reclaim, running(), 1, at(5), 1200).status == 404


# -- reports --------------------------------------------------------------------------------

@pytest.mark.parametrize("fn,state,exchange", [
    (lc.complete, "completed", "task-completed"),
    (lc.fail, "failed", "task-failed"),
])
def test_complete_and_fail(fn, state, exchange):
    tr = fn(running(), 0, at(10))
    run = tr.record.runs[0]
    assert run["state"] == state and run["reasonResolved"] == state
    assert run["resolved"] == to_json(at(10))
    assert run["takenUntil"] == to_json(at(1202))  # kept after resolution
    assert tr.resolved and tr.changed
    assert tr.intents == [lc.Intent(exchange, runId=0, workerGroup="wg", workerId="w1")]
    # repeat: idempotent, re-announced, unchanged
    again = fn(tr.record, 0, at(20))
    assert not again.changed and again.resolved and again.intents == tr.intents
    assert again.record.runs[0]["resolved"] == to_json(at(10))


def test_resolving_differently_conflicts():
    done = lc.complete(running(), 0, at(10)).record
    assert conflict_of(lc.fail, done, 0, at(11)).status == 409
    assert conflict_of(lc.exception, done, 0, "malformed-payload", at(11)).status == 409
    assert conflict_of(lc.complete, pending(), 0, at(11)).status == 409
    assert conflict_of(lc.complete, running(), 4, at(11)).status == 404


@pytest.mark.parametrize("reason,created", [("worker-shutdown", "retry"),
                                            ("intermittent-task", "task-retry")])
def test_retry_reasons_add_a_run_while_retries_last(reason, created):
    tr = lc.exception(running(retries=1), 0, reason, at(10))
    rec = tr.record
    assert [r["state"] for r in rec.runs] == ["exception", "pending"]
    assert rec.runs[0]["reasonResolved"] == reason
    assert rec.runs[1] == {"runId": 1, "state": "pending", "reasonCreated": created,
                           "scheduled": to_json(at(10))}
    assert rec.retriesLeft == 0 and rec.state == "pending"
    assert not tr.resolved
    assert [i.exchange for i in tr.intents] == ["task-exception", "task-pending"]
    assert tr.intents[0].runId == 0 and tr.intents[0].workerId == "w1"
    assert tr.intents[1] == lc.Intent("task-pending", runId=1)
    # retries exhausted: the second one resolves the task
    rec = lc.claim(rec, 1, "wg", "w1", at(11), 1200).record
    tr2 = lc.exception(rec, 1, reason, at(12))
    assert tr2.resolved and tr2.record.state == "exception" and len(tr2.record.runs) == 2
    assert [i.exchange for i in tr2.intents] == ["task-exception"]


@pytest.mark.parametrize("reason", ["malformed-payload", "resource-unavailable",
                                    "internal-error"])
def test_other_exceptions_never_retry(reason):
    tr = lc.exception(running(), 0, reason, at(10))
    assert tr.record.state == "exception" and len(tr.record.runs) == 1
    assert tr.record.retriesLeft == 5 and tr.resolved


def test_repeat_exception_same_reason_but_retried_run_conflicts():
    tr = lc.exception(running(retries=0), 0, "malformed-payload", at(10))
    assert lc.exception(tr.record, 0, "malformed-payload", at(11)).intents
    retried = lc.exception(running(), 0, "worker-shutdown", at(10)).record
    assert conflict_of(lc.exception, retried, 0, "worker-shutdown", at(11)).status == 409


# -- resolvers ------------------------------------------------------------------------------

def test_claim_expired_retries():
    rec = running()
    assert lc.claim_expired(rec, 0, at(1201)).changed is False  # not yet
    tr = lc.claim_expired(rec, 0, at(1202))
    assert tr.record.runs[0]["reasonResolved"] == "claim-expired"
    assert tr.record.runs[1]["reasonCreated"] == "retry"
    assert tr.record.retriesLeft == 4
    assert [i.exchange for i in tr.intents] == ["task-exception", "task-pending"]
    assert tr.intents[0].workerGroup == "wg"


def test_claim_expired_steps_aside():
    reclaimed = lc.reclaim(running(), 0, at(600), 1200).record
    assert not lc.claim_expired(reclaimed, 0, at(1300)).changed
    done = lc.complete(running(), 0, at(10)).record
    assert not lc.claim_expired(done, 0, at(5000)).changed
    long_claim = lc.claim(pending(), 0, "wg", "w", at(2), 10 * 86400).record
    assert not lc.claim_expired(long_claim, 0, at(86400 + 5)).changed  # deadline resolver's
    assert not lc.claim_expired(running(), 7, at(5000)).changed


def test_deadline_on_pending_running_and_unscheduled():
    late = at(86400)
    tr = lc.deadline(pending(), late)
    assert tr.record.runs[0]["reasonResolved"] == "deadline-exceeded" and tr.resolved
    assert tr.intents == [lc.Intent("task-exception", runId=0)]
    tr = lc.deadline(running(), late)
    run = tr.record.runs[0]
    assert run["workerGroup"] == "wg" and run["state"] == "exception"
    assert tr.intents == [lc.Intent("task-exception", runId=0)]  # no worker words
    tr = lc.deadline(fresh(), late)
    assert tr.record.runs == [{"runId": 0, "state": "exception", "reasonCreated": "exception",
                               "reasonResolved": "deadline-exceeded",
                               "scheduled": to_json(late), "resolved": to_json(late)}]


def test_deadline_noop_before_deadline_or_when_resolved():
    assert not lc.deadline(pending(), at(100)).changed
    done = lc.complete(running(), 0, at(10)).record
    assert not lc.deadline(done, at(90000)).changed


# -- cancel / rerun / priority --------------------------------------------------------------

def test_cancel_pending_running_unscheduled():
    tr = lc.cancel(pending(), at(5))
    assert tr.record.runs[0]["reasonResolved"] == "canceled"
    assert tr.record.runs[0]["reasonCreated"] == "scheduled"
    assert tr.intents == [lc.Intent("task-exception", runId=0)]
    tr = lc.cancel(running(), at(5))
    assert tr.intents == [lc.Intent("task-exception", runId=0, workerGroup="wg", workerId="w1")]
    tr = lc.cancel(fresh(), at(5))
    assert tr.record.runs[0]["reasonCreated"] == "exception"
    assert tr.record.runs[0]["scheduled"] == tr.record.runs[0]["resolved"]


def test_second_cancel_republishes_and_cancel_of_completed_does_nothing():
    once = lc.cancel(pending(), at(5)).record
    again = lc.cancel(once, at(6))
    assert not again.changed and again.resolved
    assert again.intents == [lc.Intent("task-exception", runId=0)]
    done = lc.complete(running(), 0, at(10)).record
    tr = lc.cancel(done, at(11))
    assert tr.intents == [] and not tr.changed and not tr.resolved


def test_cancel_past_deadline():
    assert "canceled past its deadline" in conflict_of(lc.cancel, pending(), at(86400)).message


def test_rerun_after_completion_resets_retries():
    rec = lc.exception(running(retries=2), 0, "worker-shutdown", at(5)).record
    rec = lc.claim(rec, 1, "wg", "w", at(6), 1200).record
    rec = lc.complete(rec, 1, at(7)).record
    assert rec.retriesLeft == 1
    tr = lc.rerun(rec, at(8))
    assert tr.record.runs[2] == {"runId": 2, "state": "pending", "reasonCreated": "rerun",
                                 "scheduled": to_json(at(8))}
    assert tr.record.retriesLeft == 2
    assert tr.intents == [lc.Intent("task-pending", runId=2)]


def test_rerun_while_pending_republishes_and_while_running_is_silent():
    rec = pending()
    tr = lc.rerun(rec, at(3))
    assert not tr.changed and tr.intents == [lc.Intent("task-pending", runId=0)]
    assert lc.rerun(running(), at(3)).intents == []


def test_rerun_unscheduled_creates_run_zero_rerun():
    tr = lc.rerun(fresh(), at(3))
    assert tr.record.runs[0]["reasonCreated"] == "rerun"


def test_rerun_limit_and_retries_cap():
    rec = running(retries=49)
    for run_id in range(49):
        rec = lc.exception(rec, run_id, "intermittent-task", at(10 + run_id)).record
        rec = lc.claim(rec, run_id + 1, "wg", "w", at(10 + run_id), 1200).record
    rec = lc.exception(rec, 49, "intermittent-task", at(100)).record
    assert len(rec.runs) == 50 and rec.state == "exception" and rec.retriesLeft == 0
    err = conflict_of(lc.rerun, rec, at(101))
    assert err.status == 409 and "Maximum number of runs reached (50)" in err.message
    # the reset retries never let the total pass 50 runs
    few = rec.copy()
    few.runs = few.runs[:45]
    assert lc.rerun(few, at(101)).record.retriesLeft == 4


def test_rerun_past_deadline():
    done = lc.complete(running(), 0, at(10)).record
    assert "rescheduled past its deadline" in conflict_of(lc.rerun, done, at(86400)).message


def test_change_priority():
    tr = lc.change_priority(pending(priority="low"), "high", at(3))
    assert tr.record.task["priority"] == "high"
    assert lc.render_status(tr.record)["priority"] == "high"
    (intent,) = tr.intents
    assert intent.exchange == "task-priority-changed" and intent.runId is None
    assert intent.extra == {"oldPriority": "low", "newPriority": "high"}
    assert conflict_of(lc.change_priority, tr.record, "high", at(4)).status == 409
    done = lc.complete(running(), 0, at(10)).record
    assert "already resolved" in conflict_of(lc.change_priority, done, "high", at(11)).message
    assert conflict_of(lc.change_priority, pending(), "high", at(86400)).status == 409
    assert conflict_of(lc.change_priority, pending(), "normal", at(3)).status == 400


def test_apply_dispatches_by_name():
    tr = lc.apply(fresh(), "schedule", at(1))
    tr = lc.apply(tr.record, "claim", at(2), runId=0, workerGroup="g", workerId="w",
                  claim_timeout=60)
    tr = lc.apply(tr.record, "exception", at(3), runId=0, reason="worker-shutdown")
    assert tr.record.state == "pending"
    with pytest.raises(ValueError):
        lc.apply(fresh(), "explode", at(1))


def test_inputs_are_never_mutated():
    rec = running()
    snapshot = rec.copy()
    for fn in (lambda r: lc.complete(r, 0, at(5)), lambda r: lc.cancel(r, at(5)),
               lambda r: lc.exception(r, 0, "worker-shutdown", at(5)),
               lambda r: lc.reclaim(r, 0, at(5), 60), lambda r: lc.deadline(r, at(90000))):
        fn(rec)
        assert rec == snapshot


# -- invariants under any sequence of events (property-based) ---------------------------------

EVENT = st.one_of(
    st.tuples(st.just("schedule")),
    st.tuples(st.just("claim"), st.integers(0, 3)),
    st.tuples(st.just("reclaim"), st.integers(0, 3)),
    st.tuples(st.just("complete"), st.integers(0, 3)),
    st.tuples(st.just("fail"), st.integers(0, 3)),
    st.tuples(st.just("exception"), st.integers(0, 3),
              st.sampled_from(["worker-shutdown", "intermittent-task", "malformed-payload"])),
    st.tuples(st.just("claim-expired"), st.integers(0, 3)),
    st.tuples(st.just("cancel")),
    st.tuples(st.just("rerun")),
    st.tuples(st.just("deadline")),
    st.tuples(st.just("change-priority"), st.sampled_from(lc.PRIORITIES)),
    st.tuples(st.just("advance"), st.integers(1, 40000)),
)


def run_event(rec, event, now):
    name, *args = event
    kwargs = {
        "claim": lambda: dict(runId=args[0], workerGroup="g", workerId="w", claim_timeout=600),
        "reclaim": lambda: dict(runId=args[0], claim_timeout=600),
        "complete": lambda: dict(runId=args[0]),
        "fail": lambda: dict(runId=args[0]),
        "exception": lambda: dict(runId=args[0], reason=args[1]),
        "claim-expired": lambda: dict(runId=args[0]),
        "change-priority": lambda: dict(new_priority=args[0]),
    }.get(name, dict)()
    return lc.apply(rec, name, now, **kwargs)


@settings(max_examples=300, deadline=None)
@given(retries=st.integers(0, 3), events=st.lists(EVENT, max_size=40))
def test_invariants_hold_for_any_event_sequence(retries, events):
    rec = lc.new_record(TID, definition(retries=retries))
    now = T0
    for event in events:
        if event[0] == "advance":
            now += timedelta(seconds=event[1])
            continue
        before = rec.copy()
        try:
            tr = run_event(rec, event, now)
        except QueueError as err:
            assert err.status in (400, 404, 409)
            assert rec == before  # a refusal changes nothing
            continue
        assert rec == before  # inputs are never mutated
        new = tr.record
        # runs are numbered 0.. and only the last one may be unresolved
        assert [r["runId"] for r in new.runs] == list(range(len(new.runs)))
        assert all(r["state"] in lc.RESOLVED_STATES for r in new.runs[:-1])
        # resolved runs never change
        for old_run, new_run in zip(before.runs, new.runs):
            if old_run["state"] in lc.RESOLVED_STATES:
                assert new_run == old_run
        assert len(new.runs) <= lc.MAX_RUNS
        assert 0 <= new.retriesLeft <= retries
        status = lc.render_status(new)
        assert status["state"] == (new.runs[-1]["state"] if new.runs else "unscheduled")
        assert all(v is not None for run in new.runs for v in run.values())
        for intent in tr.intents:
            assert intent.exchange in ("task-pending", "task-running", "task-completed",
                                       "task-failed", "task-exception", "task-priority-changed")
            if intent.runId is not None:
                assert 0 <= intent.runId < len(new.runs)
        if tr.resolved:
            assert new.state in lc.RESOLVED_STATES
        rec = new
