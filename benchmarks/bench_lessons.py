"""The lessons under nbval against as many one-cell notebooks (issue 16).

Prints, from one run: the wall time of ``pytest --nbval-lax`` over every lesson in
``notebooks/`` and over as many one-cell notebooks (``1 + 1``: a kernel start, one cell, a
kernel stop), each measured ``BENCH_ROUNDS`` (3) times in alternating rounds, the medians and
their ratio (target <= 1.5), then where the lessons' seconds go: per notebook the kernel start
(nbval's setup of cell 0) and the cells, and the slowest cells, from pytest's durations.

The package's bytecode is compiled first (``compileall``), as a learner's first kernel leaves it:
where ``PYTHONDONTWRITEBYTECODE`` is set (as on the machines it was first run on) nothing would
write it, and every lesson's kernel would compile ``tutorial_kit`` from source, a cost no
learner pays twice and the one-cell notebooks never pay.

Run: ``python -m benchmarks.bench_lessons``; ``BENCH_LESSONS_DIR`` names another folder of
notebooks to time (say, lessons with a change under consideration, beside a copy of
``notebooks/conftest.py`` and ``sanitize.cfg``).
"""

from __future__ import annotations

import compileall
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

ROOT = pathlib.Path(__file__).resolve().parent.parent
ROUNDS = max(1, int(os.environ.get("BENCH_ROUNDS", "3")))
_DURATION = re.compile(r"^([\d.]+)s (setup|call|teardown)\s+(\S+)::Cell (\d+)$")


def nbval(paths: list[str]) -> tuple[float, str, list[tuple[float, str, str, int]]]:
    """(wall seconds, pytest's summary line, [(seconds, phase, notebook, cell)])."""
    # -c: the project's pytest settings for both sides; the one-cell notebooks live outside the
    # checkout, where pytest would otherwise run them with no settings at all.
    argv = [sys.executable, "-m", "pytest", "-q", "-c", str(ROOT / "pyproject.toml"),
            "-p", "no:cacheprovider", "--nbval-lax",
            "--nbval-sanitize-with", str(ROOT / "notebooks" / "sanitize.cfg"),
            "--durations=0", "--durations-min=0", *paths]
    env = {k: v for k, v in os.environ.items()
           if k not in ("TASKCLUSTER_ROOT_URL", "TASKCLUSTER_CLIENT_ID",
                        "TASKCLUSTER_ACCESS_TOKEN")}
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=1800, env=env)
    seconds = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    summary = lines[-1] if lines else "?"
    if done.returncode != 0:
        raise RuntimeError(f"nbval failed: {summary}\n{done.stdout[-3000:]}")
    cells = []
    for line in lines:
        match = _DURATION.match(line.strip())
        if match:
            cells.append((float(match[1]), match[2], pathlib.Path(match[3]).name, int(match[4])))
    return seconds, summary, cells


def one_cell_notebooks(folder: pathlib.Path, count: int) -> list[str]:
    paths = []
    for i in range(count):
        path = folder / f"one-cell-{i}.ipynb"
        path.write_text(json.dumps({
            "cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}",
                       "metadata": {}, "outputs": [], "source": "1 + 1"}],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                        "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}))
        paths.append(str(path))
    return paths


def main() -> None:
    folder = pathlib.Path(os.environ.get("BENCH_LESSONS_DIR") or ROOT / "notebooks")
    lessons = sorted(str(p) for p in folder.glob("*.ipynb"))
    compileall.compile_dir(ROOT / "tutorial_kit", quiet=1)
    lesson_runs, baseline_runs = [], []
    last_cells: list[tuple[float, str, str, int]] = []
    summary = ""
    with tempfile.TemporaryDirectory(prefix="one-cell-notebooks-") as tmp:
        baseline = one_cell_notebooks(pathlib.Path(tmp), len(lessons))
        for _ in range(ROUNDS):  # alternate, so a slow spell of the machine hits both
            seconds, _, _ = nbval(baseline)
            baseline_runs.append(seconds)
            seconds, summary, last_cells = nbval(lessons)
            lesson_runs.append(seconds)
    lesson, base = statistics.median(lesson_runs), statistics.median(baseline_runs)
    ratios = sorted(a / b for a, b in zip(lesson_runs, baseline_runs))
    print(f"{ROUNDS} alternating rounds, {os.cpu_count()} CPUs")
    print(f"{len(lessons)} lessons under nbval: median {lesson:.1f} s (range "
          f"{min(lesson_runs):.1f}-{max(lesson_runs):.1f}; {summary})")
    print(f"{len(lessons)} one-cell notebooks under nbval: median {base:.1f} s (range "
          f"{min(baseline_runs):.1f}-{max(baseline_runs):.1f})")
    print(f"ratio lessons / one-cell notebooks = {lesson / base:.2f} (per-round ratios "
          f"{ratios[0]:.2f}-{ratios[-1]:.2f}; target <= 1.5: "
          f"{'met' if lesson / base <= 1.5 else 'MISSED'})")

    per_notebook: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for seconds, phase, notebook, cell in last_cells:
        key = "kernel start" if phase == "setup" and cell == 0 else phase
        per_notebook[notebook][key] += seconds
    print("\nwhere the last round's seconds went (kernel start = setup of cell 0):")
    for notebook, phases in sorted(per_notebook.items()):
        print(f"  {notebook:<32} kernel start {phases['kernel start']:5.2f} s   cells "
              f"{phases['call']:5.2f} s   other {phases['setup'] + phases['teardown']:5.2f} s")
    print("slowest cells (call):")
    calls = sorted((c for c in last_cells if c[1] == "call"), reverse=True)[:12]
    for seconds, _, notebook, cell in calls:
        print(f"  {seconds:5.2f} s  {notebook} cell {cell}")


if __name__ == "__main__":
    main()
