"""What importing the package loads, each checked in a fresh interpreter (issue 16).

A kernel pays for every module a cell imports, at every start and restart; these tests keep
the package from loading what a cell does not use. Speed itself is measured in
``benchmarks/bench_first_cell.py``, never here.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap

import pytest


def _run(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line, returned parsed."""
    env_code = ("import os\nfor _n in ('TASKCLUSTER_ROOT_URL', 'TASKCLUSTER_CLIENT_ID', "
                "'TASKCLUSTER_ACCESS_TOKEN'):\n    os.environ.pop(_n, None)\n")
    done = subprocess.run([sys.executable, "-c", env_code + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


needs_rfc3987_syntax = pytest.mark.skipif(
    importlib.util.find_spec("rfc3987_syntax") is None,
    reason="rfc3987_syntax is not installed (jsonschema then has no IRI grammar to defer)")


@needs_rfc3987_syntax
def test_validation_defers_the_iri_grammar_until_an_iri_is_checked() -> None:
    out = _run("""
        import json, sys
        from tutorial_kit.mock.web.validation import Validator
        body = Validator().validate_input("create-task-request.json", {
            "taskQueueId": "a/b", "created": "2026-01-01T00:00:00.000Z",
            "deadline": "2026-01-01T01:00:00.000Z", "payload": {},
            "metadata": {"name": "n", "description": "d", "owner": "o@example.com",
                         "source": "https://example.com/x"}})
        loaded_after_validation = "rfc3987_syntax" in sys.modules
        import jsonschema
        checker = jsonschema.FormatChecker()
        good = checker.conforms("https://example.com/ü", "iri")
        bad = checker.conforms("not an iri", "iri")
        print(json.dumps({"priority": body["priority"], "loaded": loaded_after_validation,
                          "good": good, "bad": bad,
                          "real": hasattr(sys.modules["rfc3987_syntax"], "__file__")}))
    """)
    # the validator works and filled in its defaults, without building the IRI grammar
    assert out["priority"] == "lowest"
    assert out["loaded"] is False
    # jsonschema's own checker still checks IRIs, with the real package loaded on first use
    assert out["good"] is True and out["bad"] is False
    assert out["real"] is True


@needs_rfc3987_syntax
def test_a_later_import_of_rfc3987_syntax_gets_the_real_module() -> None:
    out = _run("""
        import json
        import tutorial_kit.mock.web.validation
        import rfc3987_syntax
        print(json.dumps({"file": getattr(rfc3987_syntax, "__file__", None),
                          "valid": rfc3987_syntax.is_valid_syntax("iri", "https://a.example/")}))
    """)
    assert out["file"] and out["file"].endswith(".py")
    assert out["valid"] is True


def test_importing_tutorial_kit_loads_neither_server_nor_pandas() -> None:
    out = _run("""
        import json, sys
        import tutorial_kit as tk
        tk.slugid()
        heavy = ["pandas", "uvicorn", "starlette", "jsonschema", "ipywidgets",
                 "tutorial_kit.mock.server", "tutorial_kit.mock.web.validation"]
        print(json.dumps({name: name in sys.modules for name in heavy}))
    """)
    assert not any(out.values()), out


def test_a_first_cell_loads_no_pandas_and_no_iri_grammar() -> None:
    """A lesson's first cell: widgets imported, embedded mock, a task created and read."""
    out = _run("""
        import json, sys
        import tutorial_kit as tk
        from tutorial_kit.widgets import SchemaTable, StatusWidget
        queue = tk.connect(quiet=True)
        task_id = tk.slugid()
        state = queue.createTask(task_id, tk.lessons.tutorial_task())["status"]["state"]
        print(json.dumps({"state": state,
                          "read": queue.status(task_id)["status"]["taskId"] == task_id,
                          "pandas": "pandas" in sys.modules,
                          "grammar": "rfc3987_syntax" in sys.modules}))
    """)
    assert out["state"] in ("pending", "running")
    assert out["read"] is True
    assert out["pandas"] is False
    assert out["grammar"] is False


def test_the_schema_registry_is_built_on_first_use() -> None:
    from tutorial_kit.mock.web import schema_registry, validation

    schema_registry._package_documents.cache_clear()
    validator = validation.Validator()
    assert schema_registry._package_documents.cache_info().currsize == 0
    assert "_registry" not in vars(validator)
    with pytest.raises(validation.InputValidationError) as refused:
        validator.validate_input("create-task-request.json", {"taskQueueId": "a/b"})
    assert "must have required property" in str(refused.value)
    assert "_registry" in vars(validator)
    assert "queue/v1/create-task-request.json" in validator.schema_names()


def test_frames_import_pandas_only_when_a_frame_is_made() -> None:
    out = _run("""
        import json, sys
        from tutorial_kit import frames
        before = "pandas" in sys.modules
        frame = frames.runs_frame({"status": {"runs": [
            {"runId": 0, "state": "completed", "reasonCreated": "scheduled",
             "reasonResolved": "completed", "scheduled": "2026-01-01T00:00:00.000Z",
             "started": "2026-01-01T00:00:01.000Z", "resolved": "2026-01-01T00:00:03.000Z"}]}})
        print(json.dumps({"before": before, "after": "pandas" in sys.modules,
                          "type": type(frame).__name__, "ran": str(frame["ran"][0]),
                          "real": frames.pd is sys.modules.get("pandas")}))
    """)
    assert out["before"] is False and out["after"] is True
    assert out["type"] == "DataFrame" and out["ran"] == "0 days 00:00:02"
    assert out["real"] is True  # the stand-in gave way to pandas itself
