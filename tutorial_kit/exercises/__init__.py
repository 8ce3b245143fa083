"""Exercises: one module per lesson, each exercise with ``check()``, ``hint()`` and ``solution()``.

A check inspects the queue itself (task states, runs, artifacts) and, on the mock, its request log,
rather than the learner's variables, so any way of solving the exercise counts.
"""

from .base import Exercise, Outcome, Result

__all__ = ["Exercise", "Outcome", "Result"]
