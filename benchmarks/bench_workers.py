"""How fast the simulated cluster turns a new task into a resolved one.

For 200 tasks each (one at a time, so this is latency, not throughput): the time from calling
``createTask`` to the ``task-completed`` message, for ``built-in/succeed`` and for ``/bin/true`` on
the shell engine. Baselines from the same run: a bare ``createTask`` round trip (a task queue no
worker serves) and a bare ``subprocess.run(["/bin/true"])``. Targets (issue 4): p50 <= 50 ms for
built-in/succeed and <= 200 ms for the shell engine.

Run: ``python -m benchmarks.bench_workers [count]``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from typing import Any, Callable

TASKS = 200
TARGETS_MS = {"built-in/succeed": 50.0, "shell /bin/true": 200.0}


def pct(values: list[float], q: float) -> float:
    data = sorted(values)
    return data[min(len(data) - 1, int(round(q * (len(data) - 1))))]


def task_body(mock: Any, queue_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    from tutorial_kit.dates import to_json

    now = mock.clock.now()
    return {"taskQueueId": queue_id, "created": to_json(now),
            "deadline": to_json(now + timedelta(hours=1)), "payload": payload,
            "metadata": {"name": "bench", "description": "benchmark task",
                         "owner": "bench@example.com", "source": "https://example.com/bench"}}


def time_to_completed(mock: Any, queue: Any, queue_id: str, payload: dict[str, Any],
                      count: int) -> list[float]:
    """Milliseconds from createTask to the task-completed message, per task."""
    from tutorial_kit.client import slugid

    done: dict[str, float] = {}
    waiting: dict[str, threading.Event] = {}
    lock = threading.Lock()

    def on_message(message: Any) -> None:
        if message.name in ("task-completed", "task-failed", "task-exception"):
            task_id = message.routing_key.split(".")[1]
            with lock:
                done[task_id] = time.perf_counter()
                event = waiting.get(task_id)
            if event is not None:
                event.set()

    unsubscribe = mock.bus.subscribe(on_message)
    samples = []
    try:
        for _ in range(count):
            task_id = slugid()
            event = threading.Event()
            with lock:
                waiting[task_id] = event
            started = time.perf_counter()
            queue.createTask(task_id, task_body(mock, queue_id, payload))
            if not event.wait(30):
                raise RuntimeError(f"task {task_id} on {queue_id} did not resolve in 30 s")
            samples.append((done[task_id] - started) * 1000)
    finally:
        unsubscribe()
    return samples


def create_only(mock: Any, queue: Any, count: int) -> list[float]:
    from tutorial_kit.client import slugid

    samples = []
    for _ in range(count):
        started = time.perf_counter()
        queue.createTask(slugid(), task_body(mock, "bench/nobody", {}))
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def bare_subprocess(count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        subprocess.run(["/bin/true"], check=True)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def report(label: str, samples: list[float], baseline: float,
           baseline_label: str) -> None:
    p50, p99 = statistics.median(samples), pct(samples, 0.99)
    target = TARGETS_MS.get(label)
    target_text = f"  target p50 <= {target:.0f} ms" if target else ""
    print(f"{label:<22} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
          f"= {p50 / baseline:5.1f}x {baseline_label}{target_text}", flush=True)


def main(count: int = TASKS) -> None:
    from tutorial_kit.client import Queue
    from tutorial_kit.mock import start

    mock = start(claim_wait=20.0)
    queue = Queue({"rootUrl": mock.root_url, "credentials": mock.credentials})
    try:
        measure: Callable[[str, dict[str, Any]], list[float]] = \
            lambda queue_id, payload: time_to_completed(mock, queue, queue_id, payload, count)
        measure("built-in/succeed", {})  # warm-up: connections, schema caches
        create = create_only(mock, queue, count)
        bare = bare_subprocess(count)
        base = statistics.median(create)
        print(f"{'createTask alone':<22} p50 {base:7.1f} ms  p99 {pct(create, 0.99):7.1f} ms "
              "(baseline)")
        print(f"{'subprocess /bin/true':<22} p50 {statistics.median(bare):7.1f} ms  "
              f"p99 {pct(bare, 0.99):7.1f} ms", flush=True)
        report("built-in/succeed", measure("built-in/succeed", {}), base, "createTask")
        shell = {"command": ["/bin/true"], "maxRunTime": 60}
        report("shell /bin/true", measure("tutorial/docker-worker", shell), base, "createTask")
    finally:
        queue.close()
        mock.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else TASKS)
