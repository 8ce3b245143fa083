"""Refresh the golden outputs of the lessons: run each notebook, keep the outputs of the cells
marked ``# NBVAL_CHECK_OUTPUT`` (sanitized as nbval sanitizes them), clear every other cell.

    .venv/bin/python tools/golden_outputs.py notebooks/*.ipynb

nbval compares only cells that carry an execution count and stored outputs, so this is how a
lesson's expected results get into the notebook; ``tests/test_notebooks_clean.py`` then checks
that nothing else was left behind. Run it after changing a golden cell, and read the diff.
"""

from __future__ import annotations

import configparser
import os
import pathlib
import re
import sys

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
MARK = "# NBVAL_CHECK_OUTPUT"


def sanitizers(path: pathlib.Path = ROOT / "notebooks" / "sanitize.cfg") -> list[tuple[re.Pattern, str]]:
    config = configparser.ConfigParser()
    config.read(path)
    return [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]


def sanitize(value, rules):
    if isinstance(value, str):
        for pattern, replacement in rules:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, list):
        return [sanitize(v, rules) for v in value]
    if isinstance(value, dict):
        return {k: sanitize(v, rules) for k, v in value.items()}
    return value


def coalesce_streams(outputs: list) -> list:
    """One output per stream name (as nbval compares them): how the kernel happened to split
    a cell's prints into messages is noise in a diff."""
    merged: list = []
    for output in outputs:
        if output.output_type == "stream" and merged and merged[-1].output_type == "stream" \
                and merged[-1].name == output.name:
            merged[-1].text += output.text
        else:
            merged.append(output)
    return merged


def refresh(path: pathlib.Path) -> int:
    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault("TUTORIAL_KIT_SEED", "20261128")
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    rules = sanitizers()
    kept = 0
    count = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # nbclient's timings: noise in every diff
        if cell.cell_type != "code":
            continue
        if cell.source.startswith(MARK):
            count += 1
            kept += 1
            cell.execution_count = count
            cell.outputs = coalesce_streams(cell.outputs)
            for output in cell.outputs:
                output.pop("execution_count", None) if output.output_type != "execute_result" \
                    else output.update(execution_count=count)
                for key in ("text", "data"):
                    if key in output:
                        output[key] = sanitize(output[key], rules)
        else:
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)  # widget state is per run, never golden
    nbformat.write(nb, path)
    return kept


def main(argv: list[str]) -> int:
    for name in argv or sorted(str(p) for p in (ROOT / "notebooks").glob("*.ipynb")):
        kept = refresh(pathlib.Path(name))
        print(f"{name}: {kept} golden cell(s) kept", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
