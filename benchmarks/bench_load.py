"""The mock queue under classroom load (issue 7).

Prints, from one run:

* the claim storm at full scale: 32 external workers claiming 5,000 tasks while learners poll
  ``status`` (``tests/hardening/claimstorm.py``), every run claimed exactly once;
* the memory of the mock holding 10,000 and 100,000 tasks (resident set growth, bytes per
  task, and whether the growth is linear);
* ``listTaskGroup`` of a 10,000-task group, all pages, over HTTP (target < 2 s);
* the notebook suite's wall time under nbval against as many empty notebooks (ratio).

``status`` and ``createTask`` throughput and latency at 1, 8 and 32 clients against the bare
endpoint are printed by ``bench_mock.py`` (issue 3's table serves issue 7 too).

Filling a mock with 100,000 tasks over HTTP would take minutes, so the memory and listing
figures use a helper process (this module with ``--fill``) that builds the mock's own backend,
creates the tasks through ``QueueBackend.createTask`` with validated bodies (the same path a
request takes after the HTTP layer), reports its resident set size and, for the listing, serves
that backend over HTTP with the mock's own ``QueueApp``.

Run: ``python -m benchmarks.bench_load``. ``BENCH_LOAD_TASKS`` (5,000) sets the storm's size,
``BENCH_MEMORY_TASKS`` (100,000) the larger memory point.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
STORM_TASKS = int(os.environ.get("BENCH_LOAD_TASKS", "5000"))
MEMORY_TASKS = int(os.environ.get("BENCH_MEMORY_TASKS", "100000"))
GROUP_TASKS = 10_000


# -- the helper process ----------------------------------------------------------------------

def _rss() -> int:
    """Resident set size of this process, in bytes (Linux)."""
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _fill(points: list[int], serve: bool) -> None:
    """Create tasks up to each point, printing ``{"tasks": n, "rss": bytes}`` at each; with
    ``serve``, all tasks share one group and the backend is then served over HTTP."""
    import gc

    from tutorial_kit import api
    from tutorial_kit.client.slugid import slugid
    from tutorial_kit.mock.web.app import QueueApp
    from tutorial_kit.mock.security.auth import Caller
    from tutorial_kit.mock.model.backend import QueueBackend
    from tutorial_kit.mock.model.call import Call
    from tutorial_kit.mock.server import launch
    from tutorial_kit.mock.web.validation import Validator

    backend, validator = QueueBackend(), Validator()
    caller = Caller("bench", ["*"])
    entry = api.BY_NAME["createTask"]
    group = slugid()
    now = time.time()
    created = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now - 1))
    deadline = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now + 86400))

    def create(i: int) -> None:
        body = {"taskQueueId": f"bench/w{i % 10}", "created": created, "deadline": deadline,
                "payload": {"command": ["echo", str(i)]},
                "metadata": {"name": f"task {i}", "description": "benchmark task",
                             "owner": "bench@example.com", "source": "https://example.com/b"}}
        if serve and i >= 0:
            body["taskGroupId"] = group
        body = validator.validate_input("create-task-request.json", body,
                                        root_url="http://127.0.0.1")
        backend.createTask(Call(entry, {"taskId": slugid()}, {}, body, caller,
                                "http://127.0.0.1"))

    create(-1)  # warm every cache before the baseline
    gc.collect()
    print(json.dumps({"tasks": 0, "rss": _rss()}), flush=True)
    done = 0
    for point in points:
        started = time.perf_counter()
        for i in range(done, point):
            create(i)
        seconds = time.perf_counter() - started
        done = point
        gc.collect()
        print(json.dumps({"tasks": done, "rss": _rss(), "seconds": seconds}), flush=True)
    if serve:
        app = QueueApp(backend, validator=validator)
        mock = launch(app)
        print(json.dumps({"root_url": mock.root_url, "group": group}), flush=True)
        sys.stdin.read()  # serve until the parent closes our stdin
        mock.stop()


def _helper(points: list[int], serve: bool) -> subprocess.Popen:
    argv = [sys.executable, "-m", "benchmarks.bench_load", "--fill",
            ",".join(map(str, points))] + (["--serve"] if serve else [])
    return subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


def _lines(proc: subprocess.Popen, count: int) -> list[dict]:
    assert proc.stdout is not None
    out = []
    for _ in range(count):
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the helper process ended early")
        out.append(json.loads(line))
    return out


# -- the figures -----------------------------------------------------------------------------

def storm() -> None:
    from tests.hardening.claimstorm import check_storm, run
    from tests.hardening.support import ServedQueue

    with ServedQueue("--no-workers", "--claim-wait", "0.3") as served:
        result = run(served.root_url, served.credentials, tasks=STORM_TASKS, workers=32,
                     pollers=4, give_up=600)
    check_storm(result)
    print(f"claim storm: {STORM_TASKS} tasks created in {result.create_seconds:.1f} s "
          f"({STORM_TASKS / result.create_seconds:.0f}/s, 8 clients); {len(result.claims)} runs "
          f"claimed by 32 workers in {result.claim_seconds:.1f} s, each exactly once, "
          f"none lost; {sum(result.polls.values())} status polls served meanwhile", flush=True)


def memory() -> None:
    small = GROUP_TASKS
    proc = _helper([small, MEMORY_TASKS], serve=False)
    try:
        base, at_small, at_large = _lines(proc, 3)
    finally:
        proc.kill()
        proc.wait(10)
    per_small = (at_small["rss"] - base["rss"]) / small
    per_large = (at_large["rss"] - base["rss"]) / MEMORY_TASKS
    for point, per in ((at_small, per_small), (at_large, per_large)):
        print(f"memory: {point['tasks']:>7} tasks: RSS +{(point['rss'] - base['rss']) / 2**20:7.1f}"
              f" MiB = {per:6.0f} bytes/task", flush=True)
    # Linear growth: the tasks after the first `small` cost no more each than the first ones
    # (the first also pay for fixed structures such as SQLite's page cache filling up).
    marginal = (at_large["rss"] - at_small["rss"]) / (MEMORY_TASKS - small)
    ratio = marginal / per_small if per_small > 0 else float("nan")
    linear = ratio <= 1.3
    print(f"memory growth {'linear' if linear else 'NOT linear'}: tasks {small + 1}-"
          f"{MEMORY_TASKS} cost {marginal:.0f} bytes each ({ratio:.2f} x the first {small}); "
          f"creating them through the backend took "
          f"{at_large['seconds'] + at_small['seconds']:.0f} s", flush=True)


def list_group() -> None:
    import httpx

    proc = _helper([GROUP_TASKS], serve=True)
    try:
        _lines(proc, 2)
        served = _lines(proc, 1)[0]
        url = f"{served['root_url']}/api/queue/v1/task-group/{served['group']}/list"
        with httpx.Client(timeout=60) as http:
            http.get(url, params={"limit": 1}).raise_for_status()  # warm the connection
            timings = []
            for _ in range(3):
                started = time.perf_counter()
                pages, tasks, token = 0, 0, None
                while True:
                    answer = http.get(url, params={"continuationToken": token} if token else {})
                    answer.raise_for_status()
                    body = answer.json()
                    pages += 1
                    tasks += len(body["tasks"])
                    token = body.get("continuationToken")
                    if not token:
                        break
                timings.append(time.perf_counter() - started)
        assert tasks == GROUP_TASKS, tasks
        best, worst = min(timings), max(timings)
        print(f"listTaskGroup of a {GROUP_TASKS}-task group: {tasks} tasks in {pages} pages, "
              f"{best:.2f} s best / {worst:.2f} s worst of 3 (target < 2 s: "
              f"{'met' if worst < 2 else 'MISSED'})", flush=True)
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(15)


def _nbval_seconds(paths: list[str]) -> tuple[float, str]:
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
            "--nbval-sanitize-with", str(ROOT / "notebooks" / "sanitize.cfg"), *paths]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - started
    summary = (done.stdout.strip().splitlines() or ["?"])[-1]
    return seconds, summary


def notebooks() -> None:
    suite = sorted(str(p) for p in (ROOT / "notebooks").glob("*.ipynb"))
    with tempfile.TemporaryDirectory(prefix="empty-notebooks-") as tmp:
        empties = []
        for i in range(len(suite)):
            path = pathlib.Path(tmp) / f"empty-{i}.ipynb"
            path.write_text(json.dumps({
                "cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}",
                           "metadata": {}, "outputs": [], "source": "1 + 1"}],
                "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                            "name": "python3"}},
                "nbformat": 4, "nbformat_minor": 5}))
            empties.append(str(path))
        empty_seconds, empty_summary = _nbval_seconds(empties)
    suite_seconds, suite_summary = _nbval_seconds(suite)
    print(f"notebooks under nbval: the suite's {len(suite)} notebooks {suite_seconds:.1f} s "
          f"({suite_summary}); {len(suite)} empty notebooks {empty_seconds:.1f} s "
          f"({empty_summary}); ratio {suite_seconds / empty_seconds:.2f}", flush=True)


def main() -> None:
    for figure in (storm, memory, list_group, notebooks):
        try:
            figure()
        except Exception as error:  # one failed figure must not hide the others
            print(f"{figure.__name__} failed: {type(error).__name__}: {error}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--fill":
        _fill([int(n) for n in sys.argv[2].split(",")], serve="--serve" in sys.argv)
    else:
        main()
