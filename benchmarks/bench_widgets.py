"""Widgets and pandas views: what a live view costs on the Python side.

Figures, each beside a baseline measured in the same run:

* one ``StatusWidget`` refresh (render only, and fetch + render) vs the bare ``queue.status()``
  call it shows;
* memory after 10,000 refreshes vs after 1,000 (flat means no growth per refresh);
* rendering a ``SchemaTable`` of ``create-task-request.json`` (cold: fetching every file it
  refers to; warm: cached) vs one schema GET on a pooled connection;
* the DataFrame of a 10,000-task group vs ``pandas.json_normalize`` of the same entries.

Run: ``python -m benchmarks.bench_widgets``.
"""

from __future__ import annotations

import copy
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable

import httpx


def _ms(fn: Callable[[], object], repeat: int) -> float:
    """Median milliseconds of ``fn`` over ``repeat`` calls (after one warm-up)."""
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _paired(a: Callable[[], object], b: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median ms of ``a`` and of ``b``, measured alternately so machine load hits both alike."""
    a(), b()
    times_a, times_b = [], []
    for _ in range(repeat):
        for fn, samples in ((a, times_a), (b, times_b)):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(times_a), statistics.median(times_b)


def _task(queue, task_queue: str, group: str | None = None) -> str:
    from tutorial_kit import fromNowJSON, slugid

    task_id = slugid()
    definition = {"taskQueueId": task_queue, "created": fromNowJSON("0 seconds"),
                  "deadline": fromNowJSON("1 hour"), "payload": {},
                  "metadata": {"name": "bench", "description": "A *benchmark* task.",
                               "owner": "bench@example.com", "source": "https://example.com/b"}}
    if group:
        definition["taskGroupId"] = group
    queue.createTask(task_id, definition)
    return task_id


def bench_status(queue) -> None:
    from tutorial_kit.widgets import StatusWidget

    task_id = _task(queue, "bench/widgets")
    claimed = queue.claimWork("bench/widgets", {"workerGroup": "b", "workerId": "b1", "tasks": 1})
    run_id = claimed["tasks"][0]["runId"]
    running = queue.status(task_id)
    queue.reportException(task_id, run_id, {"reason": "worker-shutdown"})
    retried = queue.status(task_id)
    widget = StatusWidget(queue, task_id, start=False)
    widget.refresh()
    states = [running, retried]
    flip = iter(range(10**9))

    def render() -> None:  # alternate two statuses so every call really re-renders
        widget.update(states[next(flip) % 2])

    call_ms, refresh_ms = _paired(lambda: queue.status(task_id), widget.refresh, 300)
    render_ms = _ms(render, 500)
    print(f"queue.status() call (baseline)      {call_ms:8.3f} ms")
    print(f"StatusWidget render of a new status {render_ms:8.3f} ms  "
          f"({render_ms / call_ms:5.2f}x the call)")
    print(f"StatusWidget.refresh() (fetch+show) {refresh_ms:8.3f} ms  "
          f"({refresh_ms / call_ms:5.2f}x the call; target < 2x)")

    gc.collect()
    tracemalloc.start()
    for _ in range(1_000):
        render()
    gc.collect()
    after_1k = tracemalloc.get_traced_memory()[0]
    for _ in range(9_000):
        render()
    gc.collect()
    after_10k = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    growth = after_10k - after_1k
    print(f"memory after 1,000 refreshes        {after_1k / 1024:8.1f} KiB (traced since start)")
    print(f"memory after 10,000 refreshes       {after_10k / 1024:8.1f} KiB  "
          f"(growth {growth / 1024:+.1f} KiB over 9,000 more: "
          f"{growth / 9_000:+.1f} B/refresh; target ~0, flat)")


def bench_schema_table(root_url: str) -> None:
    from tutorial_kit.client.transport import sync_transport
    from tutorial_kit.widgets import SchemaTable
    from tutorial_kit.widgets import _schemas

    url = f"{root_url}/schemas/queue/v1/create-task-request.json"
    with httpx.Client(transport=sync_transport()) as http:  # pooled, as the widgets' own GETs
        http.get(url)
        get_ms = _ms(lambda: http.get(url).json(), 50)

    def cold() -> None:
        _schemas.clear_cache()
        SchemaTable("create-task-request.json", root_url=root_url)

    cold_ms = _ms(cold, 20)
    warm_ms = _ms(lambda: SchemaTable("create-task-request.json", root_url=root_url), 50)
    table = SchemaTable("create-task-request.json", root_url=root_url)
    print(f"one schema GET (baseline)           {get_ms:8.3f} ms")
    print(f"SchemaTable create-task-request     {cold_ms:8.3f} ms cold ({cold_ms / get_ms:5.2f}x)"
          f", {warm_ms:.3f} ms cached ({warm_ms / get_ms:5.2f}x); {len(table.rows)} rows")


def bench_task_group(queue) -> None:
    import pandas as pd

    from tutorial_kit import slugid
    from tutorial_kit.frames import tasks_frame

    group = slugid()
    _task(queue, "bench/group", group)
    template = queue.listTaskGroup(group)["tasks"][0]  # the real shape of one entry
    entries = []
    for _ in range(10_000):
        entry = copy.deepcopy(template)
        entry["status"]["taskId"] = slugid()
        entries.append(entry)
    naive_ms = _ms(lambda: pd.json_normalize(entries), 5)
    frame_ms = _ms(lambda: tasks_frame(entries), 5)
    print(f"json_normalize of 10,000 (baseline) {naive_ms:8.1f} ms (untyped)")
    print(f"tasks_frame of 10,000 tasks         {frame_ms:8.1f} ms  "
          f"({frame_ms / naive_ms:5.2f}x; typed: datetimes, timedeltas, categoricals)")


def main() -> None:
    from tutorial_kit import Queue
    from tutorial_kit.mock.server import start

    service = start(workers=False)
    queue = Queue({"rootUrl": service.root_url, "credentials": service.credentials})
    try:
        bench_status(queue)
        bench_schema_table(service.root_url)
        bench_task_group(queue)
    finally:
        queue.close()
        service.stop()


if __name__ == "__main__":
    main()
