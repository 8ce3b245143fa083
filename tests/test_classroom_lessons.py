"""Every lesson, run under nbval as a classroom learner against `classroom serve` (default flags).

The teacher starts `tutorial-kit classroom serve --roster roster.txt` with no other flag (so
learners' commands run in the bubblewrap sandbox); a learner sets what docs/teaching.md tells
them to: the three TASKCLUSTER_* variables from their credentials line, and
TUTORIAL_KIT_SCHEDULER_ID. Each lesson then runs top to bottom under nbval as in `make test`,
in a pytest subprocess with that environment (a kernel inherits it).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

from hardening.classroom import ClassroomServer
from lessons_support import as_learner_sees_it

ROOT = pathlib.Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    from tutorial_kit.mock.security.sandbox import find_bwrap

    if find_bwrap() is None:
        reason = "bubblewrap is not installed: `make test` installs it when root"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; CI must have it")
        pytest.skip(reason)
    with ClassroomServer(tmp_path_factory.mktemp("classroom") / "teacher",
                         roster=("alice",)) as server:
        assert "run in a sandbox: bubblewrap" in server.stderr, server.stderr
        yield server


def sanitize_for(learner: str, cwd: pathlib.Path) -> pathlib.Path:
    """notebooks/sanitize.cfg as it is, plus one rule: a learner's own schedulerId reads as the
    default ``-`` the checked outputs were stored with (lesson 1 prints it; in a classroom it is
    the learner's name by design, the one output that differs per learner)."""
    combined = cwd / "sanitize.cfg"
    combined.write_text((ROOT / "notebooks" / "sanitize.cfg").read_text() + f"""
[classroom-scheduler-id]
regex: 'schedulerId': '{learner}'
replace: 'schedulerId': '-'
""")
    return combined


def run_lesson_as(server: ClassroomServer, learner: str, lesson: pathlib.Path,
                  cwd: pathlib.Path) -> subprocess.CompletedProcess:
    """nbval on one lesson, in a learner's environment (nothing of the teacher's)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TASKCLUSTER_", "TUTORIAL_KIT_"))}
    env.update(server.env(learner))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbval-lax",
         "--nbval-sanitize-with", str(sanitize_for(learner, cwd)), str(lesson)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_a_learner_passes_the_lesson_in_a_classroom(classroom, lesson, tmp_path):
    copy, guarded = as_learner_sees_it(lesson, tmp_path)
    done = run_lesson_as(classroom, "alice", copy, tmp_path)
    assert done.returncode == 0, (done.stdout[-6000:] + done.stderr[-2000:])
