"""Exercise outcomes, hints and solutions as a learner sees them: real JupyterLab, Debian's
Chromium, Playwright.

The test writes a notebook that shows an exercise and checks it three times (no attempt, a wrong
task, a right one), then asks for a hint and the solution; it runs all cells and reads the
rendered DOM: each outcome carries its own label and colour, the hint its label, and the
solution is syntax-highlighted (several colours, from pygments' inline styles).
"""

from __future__ import annotations

import pytest

from .lab_support import CHROMIUM_ARGS, OUTPUT, open_and_run_all, running_lab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CELLS = [
    "import tutorial_kit as tk\nfrom tutorial_kit.exercises import lesson1\n"
    "queue = tk.Queue.fromEnv()\ntask = tk.lessons.tutorial_task()\n"
    "exercise = lesson1.high_priority_task(queue)\nexercise",
    "exercise.check()",
    'queue.createTask(tk.slugid(), dict(task, taskQueueId="built-in/succeed", payload={}))\n'
    "exercise.check()",
    'queue.createTask(tk.slugid(), dict(task, taskQueueId="built-in/succeed", priority="high",\n'
    '                                   retries=1, tags={"lesson": "1"}, payload={}))\n'
    "exercise.check()",
    "exercise.hint()",
    "exercise.solution()",
]


@pytest.fixture()
def lab(tmp_path):
    """JupyterLab on a free port with the exercise notebook, its kernel on a fresh mock."""
    # lesson 1's check reads definitions: no worker needed
    with running_lab(tmp_path, {"exercise.ipynb": CELLS}) as running:
        yield running.url("exercise.ipynb")


def test_outcomes_hints_and_solutions_render_styled(lab, chromium_path, request):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        try:
            open_and_run_all(page, lab)

            colours = {}
            for outcome, label in (("unattempted", "Unattempted"), ("failed", "Incorrect"),
                                   ("passed", "Correct")):
                box = page.locator(f".tk-exercise-{outcome}").first
                expect(box).to_contain_text(label)
                colours[outcome] = box.locator("span").first.evaluate(
                    "el => getComputedStyle(el).color")
            assert len(set(colours.values())) == 3, colours  # each outcome its own colour
            assert colours["passed"] == "rgb(46, 139, 46)", colours
            assert colours["failed"] == "rgb(198, 40, 40)", colours
            expect(page.locator(".tk-exercise-failed").first).to_contain_text("Hint:")

            expect(page.locator(".tk-exercise-hint").first).to_contain_text("Hint 1/3")
            solution = page.locator(".tk-exercise-solution").first
            expect(solution).to_contain_text("createTask")
            code_colours = solution.locator(".highlight span").evaluate_all(
                "els => [...new Set(els.map(el => getComputedStyle(el).color))]")
            assert len(code_colours) >= 3, code_colours  # names, strings, numbers, operators
            solution.scroll_into_view_if_needed()
            page.screenshot(path=str(OUTPUT / f"{request.node.name}.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(OUTPUT / f"{request.node.name}-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
