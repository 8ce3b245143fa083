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


GOLDEN = "# NBVAL_CHECK_OUTPUT"


def _golden(cell: dict) -> bool:
    return "".join(cell["source"]).startswith(GOLDEN)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_stray_outputs(path):
    """Only golden cells keep outputs (nbval compares them); every other cell is clear."""
    nb = _load(path)
    code = [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
    stray = [i for i, c in code if not _golden(c)
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not stray, (f"{path.name}: cells {stray} carry outputs; clear them "
                       "(tools/golden_outputs.py keeps only the golden ones)")
    missing = [i for i, c in code if _golden(c)
               and (not c.get("outputs") or c.get("execution_count") is None)]
    assert not missing, (f"{path.name}: golden cells {missing} have no stored output, so nbval "
                         "would not compare them; run tools/golden_outputs.py")
    assert "widgets" not in nb["metadata"], f"{path.name} carries saved widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_golden_outputs_are_sanitized(path):
    """No run-specific ids, ports or times in what is committed (outputs or cell metadata)."""
    nb = _load(path)
    text = json.dumps([(c.get("outputs", []), c["metadata"]) for c in nb["cells"]])
    assert not re.search(r"127\.0\.0\.1:\d+", text), f"{path.name}: a local port in outputs"
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", text), f"{path.name}: a time"


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
