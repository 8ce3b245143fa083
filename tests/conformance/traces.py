"""Where the golden traces are, for parametrizing at collection time.

Fixtures (``golden_traces`` in tests/conftest.py) decide skip-or-fail; this only lists names so
that each trace gets its own test id. Without ../shared one placeholder id remains, and the
fixture then skips it (or fails it under CI=true).
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("TUTORIAL_KIT_SHARED", ROOT.parent / "shared"))
TRACES = SHARED / "golden-traces"


def trace_names() -> list[str]:
    names = sorted(p.stem for p in TRACES.glob("*.json"))
    return names or ["<golden-traces absent>"]


def load(folder: pathlib.Path, name: str) -> dict[str, Any]:
    return json.loads((folder / f"{name}.json").read_text())
