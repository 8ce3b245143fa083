"""The lessons are committed clean and complete: no outputs, and the parts every lesson has."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def _load(path: pathlib.Path) -> dict:
    return json.loads(path.read_text())


def _markdown(nb: dict) -> str:
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def test_there_are_lessons():
    names = [p.stem for p in NOTEBOOKS]
    assert names[:7] == ["00-welcome", "01-create-task", "02-monitor-status", "03-artifacts",
                         "04-retries-reruns", "05-groups-dependencies", "06-be-a-worker"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = _load(path)
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lesson_has_its_parts(path):
    text = _markdown(_load(path))
    for part in ("**Overview.**", "**Prerequisites**", "**Time**", "**Objectives**",
                 "## Summary", "## Exercise"):
        if part == "## Exercise" and path.stem.startswith("00"):
            continue
        assert part in text, f"{path.name} lacks {part}"
    assert re.search(r"\*\*(Next:|Where next\?)\*\*", text), f"{path.name} links to no next step"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_links_to_other_lessons_exist(path):
    text = _markdown(_load(path))
    for target in re.findall(r"\]\(([0-9]{2}-[a-z-]+\.ipynb)\)", text):
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"
