"""The exercise machinery shared by every lesson."""

from __future__ import annotations

import enum
import html
from dataclasses import dataclass, field
from typing import Any, Callable


class Outcome(enum.Enum):
    """The four distinct outcomes of a check."""

    UNATTEMPTED = "unattempted"  # nothing the exercise looks for exists yet
    PASSED = "passed"
    FAILED = "failed"  # attempted, but something is not as asked
    ERRORED = "errored"  # the check itself could not run (queue unreachable, ...)


_ICONS = {
    Outcome.UNATTEMPTED: "○",
    Outcome.PASSED: "✔",
    Outcome.FAILED: "✘",
    Outcome.ERRORED: "⚠",
}


@dataclass
class Result:
    outcome: Outcome
    message: str
    details: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED

    def __str__(self) -> str:
        lines = [f"{_ICONS[self.outcome]} {self.outcome.value}: {self.message}"]
        lines += [f"  - {d}" for d in self.details]
        return "\n".join(lines)

    def __repr__(self) -> str:  # stable text for notebooks under nbval
        return str(self)

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(d)}</li>" for d in self.details)
        return (
            f'<div class="tk-exercise tk-exercise-{self.outcome.value}" role="status">'
            f"<strong>{_ICONS[self.outcome]} {html.escape(self.outcome.value)}</strong>: "
            f"{html.escape(self.message)}{f'<ul>{items}</ul>' if items else ''}</div>"
        )


class Attempt(Exception):
    """Raised inside a check to end it with an outcome and a message."""

    def __init__(self, outcome: Outcome, message: str, details: list[str] | None = None):
        super().__init__(message)
        self.result = Result(outcome, message, list(details or []))


def unattempted(message: str) -> Attempt:
    return Attempt(Outcome.UNATTEMPTED, message)


def failed(message: str, *details: str) -> Attempt:
    return Attempt(Outcome.FAILED, message, list(details))


class Exercise:
    """An exercise: a task statement, a check, layered hints and a hidden solution.

    ``checker(context, *args)`` inspects the queue and returns a success message, or raises
    :func:`unattempted` / :func:`failed`; any other exception becomes an ``errored`` outcome
    with its message, so a broken connection never looks like a wrong answer. ``args`` are what
    the learner passes to :meth:`check` (a taskId, where the queue cannot be searched).
    """

    def __init__(self, title: str, statement: str, checker: Callable[[Any], str],
                 hints: list[str], solution: str, *, context: Any = None):
        self.title = title
        self.statement = statement
        self._checker = checker
        self._hints = list(hints)
        self._solution = solution
        self._hints_shown = 0
        self.context = context

    def check(self, *args: Any) -> Result:
        try:
            message = self._checker(self.context, *args)
        except Attempt as attempt:
            return attempt.result
        except Exception as error:  # a check that cannot run is not a wrong answer
            return Result(Outcome.ERRORED, f"the check could not run: {error}")
        return Result(Outcome.PASSED, message)

    def hint(self) -> "_Text":
        """The next hint; each call reveals one more layer, then repeats the last."""
        if not self._hints:
            return "No hints for this one."
        self._hints_shown = min(self._hints_shown + 1, len(self._hints))
        shown = self._hints[: self._hints_shown]
        text = "\n".join(f"Hint {i + 1}/{len(self._hints)}: {h}" for i, h in enumerate(shown))
        return _Text(text)

    def solution(self) -> "_Text":
        """The solution, only when asked for."""
        return _Text(self._solution)

    def __repr__(self) -> str:
        return f"Exercise: {self.title}\n{self.statement}\n(check() when done; hint() for help)"

    def _repr_markdown_(self) -> str:
        return (f"**Exercise: {self.title}**\n\n{self.statement}\n\n"
                "_Run `.check()` when you are done, `.hint()` for a hint, `.solution()` to see one._")


class _Text(str):
    """A string that shows as plain text (not a quoted repr) in a notebook."""

    def __repr__(self) -> str:
        return str(self)
