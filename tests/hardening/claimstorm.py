"""A claim storm: many external workers claim a task queue's tasks while learners poll.

:func:`run_storm` creates ``tasks`` tasks (8 creators at once), then lets ``workers`` coroutines
long-poll ``claimWork`` for 1-4 tasks each and resolve every run they get; one first run in ten
is reported ``exception``/``worker-shutdown``, so the queue adds a retry run that must be
claimed in turn. ``pollers`` learners call ``status`` on random tasks throughout. Clients never
retry: a 5xx is an error, not a hiccup. :func:`check_storm` asserts that every run was claimed
exactly once and that the workers' records, ``listTaskGroup`` and ``taskQueueCounts`` agree.
Used by ``test_concurrency.py`` (CI scale) and ``benchmarks/bench_load.py`` (5,000 tasks).
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from dataclasses import dataclass, field

from tutorial_kit import AsyncQueue, TaskclusterError

from .support import new_task_id, task_definition, unique_queue

CREATORS = 8


@dataclass
class Storm:
    """What one storm did."""

    task_ids: list[str]
    exception_for: set[str]
    claims: list[tuple[str, int, str]] = field(default_factory=list)  # taskId, runId, worker
    resolved: set[str] = field(default_factory=set)
    polls: collections.Counter = field(default_factory=collections.Counter)
    errors: list[str] = field(default_factory=list)
    listed: list[dict] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    create_seconds: float = 0.0
    claim_seconds: float = 0.0


async def run_storm(root_url: str, credentials: dict[str, str], *, tasks: int,
                    workers: int = 32, pollers: int = 4, seed: int = 7,
                    give_up: float = 150.0) -> Storm:
    """Run one storm against the mock at ``root_url``; bounded by ``give_up`` seconds."""
    task_queue = unique_queue("storm")
    group = new_task_id()
    rng = random.Random(seed)
    task_ids = [new_task_id() for _ in range(tasks)]
    storm = Storm(task_ids, set(rng.sample(task_ids, tasks // 10)))
    options = {"rootUrl": root_url, "credentials": credentials, "maxRetries": 0, "timeout": 30}
    deadline = time.monotonic() + give_up
    done = asyncio.Event()

    async with AsyncQueue(options) as queue:
        async def create(part: list[str]) -> None:
            for task_id in part:
                try:
                    await queue.createTask(task_id, task_definition(task_queue,
                                                                    task_group_id=group))
                except TaskclusterError as exc:
                    storm.errors.append(f"createTask {task_id}: {exc}")
                    return

        async def worker(n: int) -> None:
            my_rng = random.Random(seed * 1000 + n)
            while not done.is_set() and time.monotonic() < deadline:
                try:
                    got = await queue.claimWork(task_queue, {
                        "workerGroup": "wg", "workerId": f"w{n}", "tasks": my_rng.randint(1, 4)})
                except TaskclusterError as exc:
                    storm.errors.append(f"claimWork: {exc}")
                    return
                for item in got["tasks"]:
                    task_id, run_id = item["status"]["taskId"], item["runId"]
                    storm.claims.append((task_id, run_id, f"w{n}"))
                    try:
                        if run_id == 0 and task_id in storm.exception_for:
                            await queue.reportException(task_id, run_id,
                                                        {"reason": "worker-shutdown"})
                        else:
                            await queue.reportCompleted(task_id, run_id)
                            storm.resolved.add(task_id)
                    except TaskclusterError as exc:
                        storm.errors.append(f"report {task_id}/{run_id}: {exc}")
                if len(storm.resolved) >= tasks:
                    done.set()

        async def poller(n: int) -> None:
            my_rng = random.Random(seed * 2000 + n)
            while not done.is_set() and time.monotonic() < deadline:
                try:
                    status = await queue.status(my_rng.choice(task_ids))
                    storm.polls[status["status"]["state"]] += 1
                except TaskclusterError as exc:
                    storm.errors.append(f"status: {exc}")
                    return
                await asyncio.sleep(0.005)

        started = time.monotonic()
        await asyncio.gather(*(create(task_ids[i::CREATORS]) for i in range(CREATORS)))
        storm.create_seconds = time.monotonic() - started
        started = time.monotonic()
        await asyncio.gather(*(worker(n) for n in range(workers)),
                             *(poller(n) for n in range(pollers)))
        storm.claim_seconds = time.monotonic() - started
        async for page in queue.paginate("listTaskGroup", group):
            storm.listed.extend(page["tasks"])
        storm.counts = await queue.taskQueueCounts(task_queue)
    return storm


def check_storm(storm: Storm) -> None:
    """Every run claimed exactly once; nothing lost, duplicated or left over; counts agree."""
    assert storm.errors == [], storm.errors[:5]
    tasks = len(storm.task_ids)
    runs = collections.Counter((t, r) for t, r, _ in storm.claims)
    duplicates = [run for run, n in runs.items() if n > 1]
    assert duplicates == [], f"runs claimed twice: {duplicates[:5]}"
    expected = {(t, 0) for t in storm.task_ids} | {(t, 1) for t in storm.exception_for}
    assert set(runs) == expected, (f"{len(expected - set(runs))} runs never claimed, "
                                   f"{len(set(runs) - expected)} unexpected")
    assert len(storm.claims) == tasks + len(storm.exception_for)
    assert storm.resolved == set(storm.task_ids)
    listed_ids = [t["status"]["taskId"] for t in storm.listed]
    assert len(listed_ids) == len(set(listed_ids)) == tasks, "listTaskGroup lost or repeated"
    assert set(listed_ids) == set(storm.task_ids)
    states = collections.Counter(t["status"]["state"] for t in storm.listed)
    assert states == {"completed": tasks}, states
    for entry in storm.listed:
        status = entry["status"]
        retried = status["taskId"] in storm.exception_for
        assert len(status["runs"]) == (2 if retried else 1), status
        assert status["runs"][-1]["state"] == "completed"
        if retried:
            assert status["runs"][0]["reasonResolved"] == "worker-shutdown"
            assert status["runs"][1]["reasonCreated"] == "retry"
    assert storm.counts["pendingTasks"] == 0 and storm.counts["claimedTasks"] == 0
    assert sum(storm.polls.values()) > 0, "the learners' polls were never served"


def run(root_url: str, credentials: dict[str, str], **kwargs) -> Storm:
    return asyncio.run(run_storm(root_url, credentials, **kwargs))
