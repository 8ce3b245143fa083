"""docs/teaching.md's recipes, executed as written: add a lesson from the template (store its
checked outputs, pass the lesson checks and nbval), and apply a scenario from a notebook and from
a terminal under ``make lab``'s setup (the mock in another process, its variables exported)."""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys

import httpx
import pytest

import test_notebooks_clean as clean
from lessons_support import NOTEBOOKS, ROOT, ServedMock, run_nbval

TEACHING = ROOT / "docs" / "teaching.md"
TEMPLATE = ROOT / "docs" / "lesson-template.ipynb"


def section(title: str) -> str:
    text = TEACHING.read_text()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def embedded_env() -> dict[str, str]:
    """No TASKCLUSTER_* variables: connect() starts an embedded mock (a fresh clone's setup)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TASKCLUSTER_")}


def new_lesson_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(NOTEBOOKS / "sanitize.cfg", notebooks)
    for linked in ("00-welcome.ipynb", "01-create-task.ipynb"):  # the template links to them
        shutil.copy(NOTEBOOKS / linked, notebooks)
    return notebooks


def lesson_checks(path: pathlib.Path) -> None:
    """What tests/test_notebooks_clean.py asks of every lesson in notebooks/."""
    clean.test_committed_without_stray_outputs(path)
    clean.test_golden_outputs_are_sanitized(path)
    clean.test_lesson_has_its_parts(path)
    clean.test_links_to_other_lessons_exist(path)


def test_the_recipe_names_every_step():
    steps = section("Adding or adapting a lesson")
    assert "tools/golden_outputs.py notebooks/NN-your-topic.ipynb" in steps
    assert "**Next:**" in steps and "make test" in steps


def test_the_template_as_copied_passes_the_lesson_checks(tmp_path):
    lesson = new_lesson_dir(tmp_path) / "07-your-topic.ipynb"
    shutil.copy(TEMPLATE, lesson)  # step 1
    lesson_checks(lesson)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_lesson_added_from_the_template_gets_through(tmp_path):
    lesson = new_lesson_dir(tmp_path) / "07-your-topic.ipynb"
    shutil.copy(TEMPLATE, lesson)  # step 1
    # step 5, as the recipe writes it
    command = re.search(r"`\.venv/bin/python (tools/golden_outputs\.py) notebooks/NN-your-topic"
                        r"\.ipynb`", section("Adding or adapting a lesson"))
    assert command, "the recipe no longer shows the golden_outputs command"
    refreshed = subprocess.run([sys.executable, str(ROOT / command.group(1)), str(lesson)],
                               env=embedded_env(), capture_output=True, text=True, timeout=300)
    assert refreshed.returncode == 0, refreshed.stderr[-3000:]
    assert "1 golden cell(s) kept" in refreshed.stdout
    lesson_checks(lesson)
    # step 7: nbval, as make test runs it
    result = run_nbval(embedded_env(), [lesson])
    assert result.returncode == 0, result.stdout[-4000:]


@pytest.fixture
def lab_mock(tmp_path):
    """make lab's setup: the mock in another process, its variables in the environment, so
    tutorial_kit.embedded_mock() is None in the kernel."""
    mock = ServedMock(tmp_path / "queue.sqlite3").start()
    try:
        yield mock
    finally:
        mock.stop()


def armed(mock: ServedMock) -> tuple[dict, dict]:
    faults = httpx.get(f"{mock.root_url}/mock/v1/faults", timeout=10).json()
    clock = httpx.get(f"{mock.root_url}/mock/v1/clock", timeout=10).json()
    return faults, clock


def check_flaky_queue_is_armed(mock: ServedMock) -> None:
    faults, clock = armed(mock)
    assert clock["speed"] == 60
    requests = {(f["method"], f.get("status"), f.get("latency")) for f in faults["requests"]}
    assert ("status", 500, None) in requests and ("claimWork", None, 0.5) in requests
    assert [(t.get("taskQueueId"), t["crash"]["mode"]) for t in faults["tasks"]] == \
        [("tutorial/docker-worker", "claim-expired")]


def write_scenario(cwd: pathlib.Path) -> None:
    (yaml,) = code_blocks(section("Scripting a lesson's faults"), "yaml")
    (cwd / "flaky.yaml").write_text(yaml)


def test_the_scenario_recipe_works_from_a_notebook_under_make_lab(lab_mock, tmp_path):
    write_scenario(tmp_path)
    (python,) = code_blocks(section("Scripting a lesson's faults"), "python")
    check = "\nimport tutorial_kit\nassert tutorial_kit.embedded_mock() is None\n"
    result = subprocess.run([sys.executable, "-c", python + check], cwd=tmp_path,
                            env=lab_mock.child_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "flaky-queue" in result.stdout
    check_flaky_queue_is_armed(lab_mock)


def test_the_scenario_recipe_works_from_a_terminal(lab_mock, tmp_path):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    write_scenario(tmp_path)
    (bash,) = code_blocks(section("Scripting a lesson's faults"), "bash")
    result = subprocess.run(["bash", "-c", bash], cwd=tmp_path, env=lab_mock.child_env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "flaky-queue" in result.stdout, result.stderr
    check_flaky_queue_is_armed(lab_mock)


def test_a_wrong_scenario_changes_nothing_and_says_why(lab_mock, tmp_path):
    from tutorial_kit.mockctl import MockControl, MockOnlyError

    with MockControl(lab_mock.root_url) as control:
        with pytest.raises(MockOnlyError, match=r"faults\[0\]: unknown Queue method 'nope'"):
            control.apply_scenario("name: broken\nfaults:\n  - {method: nope, status: 500}\n")
    faults, clock = armed(lab_mock)
    assert faults == {"requests": [], "tasks": []} and clock["speed"] == 1
