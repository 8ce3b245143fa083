"""Concurrency: 32 external workers claim a task queue's tasks while learners poll ``status``.

The server runs in its own process (the CLI); the storm itself is ``claimstorm.py``. CI runs
1,000 tasks (``HARDENING_TASKS`` changes it); ``benchmarks/bench_load.py`` runs 5,000.
"""

from __future__ import annotations

import os

import pytest

from .claimstorm import check_storm, run
from .support import ServedQueue

TASKS = int(os.environ.get("HARDENING_TASKS", "1000"))


@pytest.mark.slow
def test_every_run_is_claimed_exactly_once() -> None:
    with ServedQueue("--no-workers", "--claim-wait", "0.3") as served:
        storm = run(served.root_url, served.credentials, tasks=TASKS, workers=32, pollers=4,
                    seed=int(os.environ.get("TUTORIAL_KIT_SEED", "7")))
        check_storm(storm)
        print(f"\n{TASKS} tasks created in {storm.create_seconds:.1f} s; {len(storm.claims)} "
              f"claims by 32 workers in {storm.claim_seconds:.1f} s; polls {dict(storm.polls)}")
