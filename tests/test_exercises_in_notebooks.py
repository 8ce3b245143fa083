"""Each lesson's exercise, solved in its own notebook: the notebook runs in a real kernel up to
the exercise, then a cell holds the exercise's solution verbatim, and the check must pass (twice,
with the same answer). This proves a solution needs nothing the notebook does not define, and
that a check works in ipykernel (lesson 0 watches for uncaught errors through IPython's events).
"""

from __future__ import annotations

import json
import pathlib
import re

import nbformat
import pytest
from nbclient import NotebookClient

import tutorial_kit as tk
from tutorial_kit.exercises import lesson0, lesson1, lesson2, lesson3, lesson4, lesson5, lesson6

pytestmark = pytest.mark.slow

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
EXERCISES = {
    "00": lesson0.unknown_task, "01": lesson1.high_priority_task, "02": lesson2.watch_a_failure,
    "03": lesson3.hello_artifact, "04": lesson4.rerun_after_failure, "05": lesson5.diamond,
    "06": lesson6.fail_honestly,
}
SHOWN = re.compile(r"^exercise = lesson\d\.\w+\(", re.M)

CHECK = """result, again = exercise.check(), exercise.check()
assert result.passed, str(result)
assert str(again) == str(result), (str(result), str(again))
print(result)"""


@pytest.fixture(scope="module")
def solutions():
    """Each exercise's solution text (a constant of the exercise, whatever queue it is for)."""
    from tutorial_kit.mock import start

    with start(workers=False) as mock:
        queue = tk.Queue({"rootUrl": mock.root_url, "credentials": mock.credentials})
        yield {number: str(make(queue).solution()) for number, make in EXERCISES.items()}
        queue.close()


@pytest.mark.parametrize("number", sorted(EXERCISES))
def test_the_solution_passes_in_its_notebook(number, solutions):
    [path] = NOTEBOOKS.glob(f"{number}-*.ipynb")
    notebook = nbformat.reads(path.read_text(), as_version=4)
    shown = next(i for i, cell in enumerate(notebook.cells)
                 if cell.cell_type == "code" and SHOWN.search(cell.source))
    notebook.cells = notebook.cells[: shown + 1] + [
        nbformat.v4.new_code_cell(solutions[number]),
        nbformat.v4.new_code_cell(CHECK),
    ]
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    printed = "".join(out.get("text", "") for out in notebook.cells[-1].outputs)
    assert printed.startswith("✔ Correct:"), json.dumps(notebook.cells[-1].outputs)[:2000]
