"""Exercises: one module per lesson, each exercise with ``check()``, ``hint()`` and ``solution()``.

A check inspects the queue itself (task states, runs, artifacts) and, on the mock, its request log,
rather than the learner's variables, so any way of solving the exercise counts. Like Kaggle's
learntools it judges the learner's **latest attempt** (the newest task they created since the
exercise appeared, or the taskId they pass), never counts its own calls as the learner's, and
answers *Correct*, *Incorrect* (with a hint), *Unattempted* or *Check could not run*.
"""

from .base import Exercise, Outcome, Result

__all__ = ["Exercise", "Outcome", "Result"]
