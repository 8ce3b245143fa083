"""tutorial_kit.vocabulary against the official Queue v1 schemas' enums (../shared), and the
places that show or check a vocabulary take it from there."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from tutorial_kit import vocabulary as V

#: vocabulary name -> (schema file under schemas/queue/v1, JSON pointer of the enum)
FROM_SCHEMAS = {
    "TASK_STATES": ("task-status.json", "/properties/state"),
    "RUN_STATES": ("task-status.json", "/properties/runs/items/properties/state"),
    "REASONS_CREATED": ("task-status.json", "/properties/runs/items/properties/reasonCreated"),
    "REASONS_RESOLVED": ("task-status.json", "/properties/runs/items/properties/reasonResolved"),
    "EXCEPTION_REASONS": ("task-exception-request.json", "/properties/reason"),
    "PRIORITIES": ("task.json", "/properties/priority"),
    "REQUIRES": ("task.json", "/properties/requires"),
    "STORAGE_TYPES": ("artifact-response.json", "/properties/storageType"),
    "ERROR_ARTIFACT_REASONS": ("post-artifact-request.json", "/oneOf/4/properties/reason"),
}
#: Other schema enums that must equal one of the vocabularies.
ALSO = [
    ("PRIORITIES", "change-task-priority-request.json", "/properties/newPriority"),
    ("PRIORITIES", "task-priority-changed-message.json", "/properties/oldPriority"),
    ("PRIORITIES", "task-group-priority-changed-message.json", "/properties/newPriority"),
]


def enum_at(root: pathlib.Path, file: str, pointer: str) -> list[Any]:
    node: Any = json.loads((root / "schemas" / "queue" / "v1" / file).read_text("utf-8"))
    for part in pointer.strip("/").split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node["enum"]


@pytest.mark.parametrize("name", sorted(FROM_SCHEMAS))
def test_vocabulary_is_the_schema_enum_in_its_order(oracle_schemas, name):
    file, pointer = FROM_SCHEMAS[name]
    assert list(getattr(V, name)) == enum_at(oracle_schemas, file, pointer)


@pytest.mark.parametrize("name, file, pointer", ALSO)
def test_other_schemas_use_the_same_vocabulary(oracle_schemas, name, file, pointer):
    assert list(getattr(V, name)) == enum_at(oracle_schemas, file, pointer)


def test_the_shipped_schemas_agree_too():
    """The mock validates with its own copies of the schemas: same enums as the vocabulary."""
    root = pathlib.Path(__file__).resolve().parents[1] / "tutorial_kit" / "mock"
    for name, (file, pointer) in FROM_SCHEMAS.items():
        assert list(getattr(V, name)) == enum_at(root, file, pointer), name


def test_derived_sets_follow_the_state_machine():
    assert set(V.RESOLVED_STATES) | set(V.UNRESOLVED_STATES) == set(V.TASK_STATES)
    assert not set(V.RESOLVED_STATES) & set(V.UNRESOLVED_STATES)
    assert set(V.RESOLVED_STATES) < set(V.RUN_STATES)
    # a retry follows a resolution reason and is created with a reasonCreated
    assert set(V.RETRY_REASONS) <= set(V.REASONS_RESOLVED)
    assert set(V.RETRY_REASONS.values()) <= set(V.REASONS_CREATED)
    # the mock's crash modes are the reasons the crashed run resolves with
    assert set(V.CRASH_MODES) <= set(V.REASONS_RESOLVED)


def test_users_take_the_vocabulary_from_one_place():
    """The modules that show or check a vocabulary hold the very same objects."""
    from tutorial_kit import frames, lessons, selfcheck
    from tutorial_kit.mock.web import dashboard
    from tutorial_kit.mock.model import lifecycle
    from tutorial_kit.mock.sim import faults
    from tutorial_kit.render import html
    from tutorial_kit.widgets import controls

    assert frames.TASK_STATES is V.TASK_STATES and frames.PRIORITIES is V.PRIORITIES
    assert frames.REASONS_RESOLVED is V.REASONS_RESOLVED
    assert lifecycle.PRIORITIES is V.PRIORITIES and lifecycle.RETRY_REASONS is V.RETRY_REASONS
    assert lifecycle.RESOLVED_STATES is V.RESOLVED_STATES is html.RESOLVED_STATES
    assert lessons.RESOLVED is V.RESOLVED_STATES
    assert faults.CRASH_MODES is V.CRASH_MODES is controls.CRASH_MODES
    assert faults.ERROR_ARTIFACT_REASONS is V.ERROR_ARTIFACT_REASONS
    assert selfcheck.PRIORITIES is V.PRIORITIES and dashboard.TASK_STATES is V.TASK_STATES
    assert set(html.STATE_ICONS) == set(V.TASK_STATES)  # every state has its icon


def test_the_vocabulary_is_a_leaf():
    """Every layer may import it (render, drive, the mock's model): it imports nothing of the
    package, at module level or inside a function."""
    import ast

    tree = ast.parse(pathlib.Path(V.__file__).read_text("utf-8"))
    imported = [node.module or "" if isinstance(node, ast.ImportFrom) else alias.name
                for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names]
    assert imported == ["__future__"]


def test_the_inspectors_javascript_lists_the_same_task_states():
    """inspector.js cannot import Python: its copy of the states must not drift."""
    import re

    from tutorial_kit import inspector

    script = (pathlib.Path(inspector.__file__).parent / "static" / "inspector.js").read_text("utf-8")
    found = re.search(r"const STATES = (\[[^\]]*\]);", script)
    assert found is not None, "inspector.js no longer declares its STATES"
    assert tuple(json.loads(found.group(1))) == V.TASK_STATES
