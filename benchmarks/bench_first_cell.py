"""A lesson's first cell against the import of its dependencies alone (issue 16).

Each side runs in a fresh Python process, as a kernel start does:

* **floor**: ``import httpx, ipywidgets, pandas`` (the dependencies a lesson uses);
* **first cell**: what the lessons' first cells do: ``import tutorial_kit`` and the widgets,
  ``connect()`` to an embedded mock queue (with its built-in workers), create a task and read its
  status.

The time is taken inside the child, from its first statement to the end of the cell, so the
interpreter's own start (the same for both) and the exit (a kernel does not exit) are left out;
the whole process's wall time is printed too. The two sides alternate, ``BENCH_ROUNDS`` (5)
times each, and the medians are compared. Target: first cell <= 1.5x the floor.

``python -m benchmarks.bench_first_cell --profile`` prints where the first cell's time goes
instead (``-X importtime``, the slowest imports, then cProfile of the cell).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

ROUNDS = max(1, int(os.environ.get("BENCH_ROUNDS", "5")))

_CLOCK = "import time as _t\n_started = _t.perf_counter()\n"
_REPORT = "import json as _j\nprint(_j.dumps({'seconds': _t.perf_counter() - _started}))\n"

FLOOR = _CLOCK + "import httpx, ipywidgets, pandas\n" + _REPORT

FIRST_CELL = _CLOCK + """\
import tutorial_kit as tk
from tutorial_kit.widgets import SchemaTable, StatusWidget

queue = tk.connect(quiet=True)
task_id = tk.slugid()
queue.createTask(task_id, tk.lessons.tutorial_task())["status"]["state"]
queue.status(task_id)["status"]["state"]
""" + _REPORT


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("TASKCLUSTER_ROOT_URL", "TASKCLUSTER_CLIENT_ID", "TASKCLUSTER_ACCESS_TOKEN"):
        env.pop(name, None)  # the first cell starts its embedded mock
    return env


def run(code: str) -> tuple[float, float]:
    """(seconds inside the child, wall seconds of the whole process)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(), timeout=120)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"the child failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["seconds"], wall


def main() -> None:
    run(FLOOR)  # warm the OS's file cache for both, so the first round is not an outlier
    run(FIRST_CELL)
    floors, cells, floor_walls, cell_walls = [], [], [], []
    for _ in range(ROUNDS):  # alternate, so a slow spell of the machine hits both
        seconds, wall = run(FLOOR)
        floors.append(seconds)
        floor_walls.append(wall)
        seconds, wall = run(FIRST_CELL)
        cells.append(seconds)
        cell_walls.append(wall)
    floor, cell = statistics.median(floors), statistics.median(cells)
    ratios = sorted(c / f for c, f in zip(cells, floors))

    def spread(values: list[float]) -> str:
        return f"{min(values):.3f}-{max(values):.3f}"

    print(f"{ROUNDS} alternating rounds, fresh processes, {os.cpu_count()} CPUs")
    print(f"floor (import httpx, ipywidgets, pandas): median {floor:.3f} s "
          f"(range {spread(floors)}; whole process {statistics.median(floor_walls):.3f} s)")
    print(f"first cell (import, widgets, connect() to an embedded mock, createTask, status): "
          f"median {cell:.3f} s (range {spread(cells)}; whole process "
          f"{statistics.median(cell_walls):.3f} s)")
    ratio = cell / floor
    print(f"ratio first cell / floor = {ratio:.2f} (per-round ratios {ratios[0]:.2f}-"
          f"{ratios[-1]:.2f}; target <= 1.5: {'met' if ratio <= 1.5 else 'MISSED'})", flush=True)


def profile() -> None:
    """Where the first cell's time goes: the slowest imports, then the cell's hot spots."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", FIRST_CELL],
                          capture_output=True, text=True, env=_env(), timeout=120)
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = (part.strip() for part in line[12:].split("|"))
            if cumulative.isdigit():
                rows.append((int(cumulative), name))
    print("slowest imports (cumulative, ms):")
    for micros, name in sorted(rows, reverse=True)[:30]:
        print(f"{micros / 1000:8.1f}  {name}")
    code = ("import cProfile, pstats\nprofiler = cProfile.Profile()\nprofiler.enable()\n"
            + FIRST_CELL + "profiler.disable()\n"
            "pstats.Stats(profiler).sort_stats('cumulative').print_stats(40)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(), timeout=120)
    print(done.stdout[-12000:])


if __name__ == "__main__":
    if "--profile" in sys.argv:
        profile()
    else:
        main()
