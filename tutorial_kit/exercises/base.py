"""The exercise machinery shared by every lesson: outcomes, hints and solutions, and how they show.

A check judges the learner's **latest attempt** (as Kaggle's learntools does), so an earlier wrong
attempt never poisons a later right one, and the check's own calls to the Queue never count as
the learner's (see :meth:`Context.checking`).
"""

from __future__ import annotations

import enum
import html
import re
from dataclasses import dataclass, field
from typing import Any, Callable


class Outcome(enum.Enum):
    """The four distinct outcomes of a check."""

    UNATTEMPTED = "unattempted"  # nothing the exercise looks for exists yet
    PASSED = "passed"
    FAILED = "failed"  # attempted, but something is not as asked
    ERRORED = "errored"  # the check itself could not run (queue unreachable, ...)

    @property
    def label(self) -> str:
        """What the learner reads: learntools' words (Correct / Incorrect / Unattempted)."""
        return _LABELS[self]


_LABELS = {
    Outcome.UNATTEMPTED: "Unattempted",
    Outcome.PASSED: "Correct",
    Outcome.FAILED: "Incorrect",
    Outcome.ERRORED: "Check could not run",
}
_ICONS = {
    Outcome.UNATTEMPTED: "○",
    Outcome.PASSED: "✔",
    Outcome.FAILED: "✘",
    Outcome.ERRORED: "⚠",
}
# Colours readable on JupyterLab's light and dark themes (inline: a notebook loads no stylesheet).
_COLOURS = {
    Outcome.UNATTEMPTED: "#b07d00",
    Outcome.PASSED: "#2e8b2e",
    Outcome.FAILED: "#c62828",
    Outcome.ERRORED: "#8a5a00",
}
_HINT_COLOUR = "#3366cc"
_BACKTICKS = re.compile(r"`([^`]+)`")
_SOLUTION_COLOUR = "#2a8a7a"


def _inline(text: str) -> str:
    """Escape text for HTML, showing `backticked` names as code (the plain text keeps them)."""
    return _BACKTICKS.sub(r"<code>\1</code>", html.escape(text))


@dataclass
class Result:
    """The outcome of one ``check()``: a label, one message, optional details and a hint."""

    outcome: Outcome
    message: str
    details: list[str] = field(default_factory=list)
    hint: str | None = None

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED

    def __str__(self) -> str:
        lines = [f"{_ICONS[self.outcome]} {self.outcome.label}: {self.message}"]
        lines += [f"  - {d}" for d in self.details]
        if self.hint:
            lines.append(f"  Hint: {self.hint}")
        return "\n".join(lines)

    def __repr__(self) -> str:  # the plain-text form (a terminal, nbval)
        return str(self)

    def _repr_html_(self) -> str:
        colour = _COLOURS[self.outcome]
        items = "".join(f"<li>{_inline(d)}</li>" for d in self.details)
        hint = (f'<div><span style="color:{_HINT_COLOUR};font-weight:bold">Hint:</span> '
                f"{_inline(self.hint)}</div>" if self.hint else "")
        return (
            f'<div class="tk-exercise tk-exercise-{self.outcome.value}" role="status">'
            f'<span style="color:{colour};font-weight:bold">{_ICONS[self.outcome]} '
            f"{html.escape(self.outcome.label)}:</span> {_inline(self.message)}"
            f"{f'<ul>{items}</ul>' if items else ''}{hint}</div>"
        )


class Attempt(Exception):
    """Raised inside a check to end it with an outcome and a message."""

    def __init__(self, outcome: Outcome, message: str, details: list[str] | None = None,
                 hint: str | None = None):
        super().__init__(message)
        self.result = Result(outcome, message, list(details or []), hint)


def unattempted(message: str, *, hint: str | None = None) -> Attempt:
    """End a check as *unattempted*: nothing it looks for exists yet."""
    return Attempt(Outcome.UNATTEMPTED, message, hint=hint)


def failed(message: str, *details: str, hint: str | None = None) -> Attempt:
    """End a check as *incorrect*, saying what is not as asked (and, best, what to do)."""
    return Attempt(Outcome.FAILED, message, list(details), hint)


class Exercise:
    """An exercise: a task statement, a check, layered hints and a hidden solution.

    ``checker(context, *args)`` inspects the learner's latest attempt and returns a success
    message, or raises :func:`unattempted` / :func:`failed`; any other exception becomes an
    *errored* outcome with its message, so a broken connection never looks like a wrong answer.
    ``args`` are what the learner passes to :meth:`check` (a taskId, where the queue cannot be
    searched).
    """

    def __init__(self, title: str, statement: str, checker: Callable[..., str],
                 hints: list[str], solution: str, *, context: Any = None):
        self.title = title
        self.statement = statement
        self._checker = checker
        self._hints = list(hints)
        self._solution = solution
        self._hints_shown = 0
        self.context = context

    def check(self, *args: Any) -> Result:
        """Judge the latest attempt; calling it again gives the same answer."""
        checking = getattr(self.context, "checking", None)
        try:
            if checking is None:
                message = self._checker(self.context, *args)
            else:
                with checking():
                    message = self._checker(self.context, *args)
        except Attempt as attempt:
            return attempt.result
        except Exception as error:  # a check that cannot run is not a wrong answer
            return Result(Outcome.ERRORED, f"the check could not run: {error}")
        return Result(Outcome.PASSED, message)

    def hint(self) -> "Text":
        """The next hint; each call reveals one more layer, then repeats the last."""
        if not self._hints:
            return Text("No hints for this one.")
        self._hints_shown = min(self._hints_shown + 1, len(self._hints))
        shown = self._hints[: self._hints_shown]
        return Text("\n".join(f"Hint {i + 1}/{len(self._hints)}: {h}"
                              for i, h in enumerate(shown)), colour=_HINT_COLOUR)

    def solution(self) -> "Code":
        """The solution, only when asked for, syntax-highlighted in a notebook."""
        return Code(self._solution)

    def __repr__(self) -> str:
        return f"Exercise: {self.title}\n{self.statement}\n(check() when done; hint() for help)"

    def _repr_markdown_(self) -> str:
        return (f"**Exercise: {self.title}**\n\n{self.statement}\n\n"
                "_Run `.check()` when you are done, `.hint()` for a hint, `.solution()` to see one._")


class Text(str):
    """A string that shows as plain text (not a quoted repr), coloured in a notebook."""

    def __new__(cls, text: str, *, colour: str = _HINT_COLOUR) -> "Text":
        self = super().__new__(cls, text)
        self._colour = colour
        return self

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        lines = []
        for line in str(self).splitlines():
            label, sep, rest = line.partition(": ")
            if sep and label.startswith("Hint"):
                lines.append(f'<span style="color:{self._colour};font-weight:bold">'
                             f"{html.escape(label)}:</span> {_inline(rest)}")
            else:
                lines.append(_inline(line))
        return f'<div class="tk-exercise-hint">{"<br>".join(lines)}</div>'


class Code(str):
    """Python source that shows as plain text in a terminal and syntax-highlighted in Jupyter."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        label = (f'<span style="color:{_SOLUTION_COLOUR};font-weight:bold">Solution:</span>')
        try:
            from pygments import highlight
            from pygments.formatters import HtmlFormatter
            from pygments.lexers import PythonLexer
        except ImportError:  # pygments is a declared dependency; a plain block is still right
            return f'<div class="tk-exercise-solution">{label}<pre>{html.escape(self)}</pre></div>'
        # inline styles: the notebook loads no pygments stylesheet
        body = highlight(str(self), PythonLexer(), HtmlFormatter(noclasses=True, nobackground=True))
        return f'<div class="tk-exercise-solution">{label}{body}</div>'


# The old private name, kept for anyone who imported it.
_Text = Text
