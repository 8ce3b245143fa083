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


#: (value, format) pairs, a valid and an invalid one for each format whose package is deferred
_FORMAT_CASES = [("example.com", "hostname"), ("-bad-.com..", "hostname"),
                 ("https://a.b/c", "uri"), ("not a uri", "uri"),
                 ("a/b?c", "uri-reference"), ("\\\\", "uri-reference"),
                 ("2026-01-01T00:00:00Z", "date-time"), ("2026-13-01T00:00:00Z", "date-time"),
                 ("red", "color"), ("notacolor", "color"),
                 ("http://x/{a}", "uri-template"), ("http://x/{a", "uri-template"),
                 ("https://a.example/ü", "iri"), ("not an iri", "iri")]


@pytest.mark.skipif(
    not all(importlib.util.find_spec(name) for name in ("fqdn", "rfc3986_validator",
                                                          "rfc3339_validator", "webcolors",
                                                          "uri_template", "rfc3987_syntax")),
    reason="jsonschema's format-nongpl packages are not all installed")
def test_deferred_format_packages_check_as_jsonschema_alone_does() -> None:
    """The stand-ins load nothing as jsonschema imports, and every format checks as without
    them; later imports of those packages get the real modules."""
    code = f"""
        import json, sys
        deferred = {{}}
        if MODE == "deferred":
            import tutorial_kit._jsonschema as J
            deferred = {{name: name in sys.modules for name in J.DEFERRED}}
        import jsonschema
        checker = jsonschema.FormatChecker()
        results = [checker.conforms(value, name) for value, name in {_FORMAT_CASES!r}]
        import fqdn, rfc3986_validator, webcolors
        print(json.dumps({{"deferred": deferred, "results": results,
                          "real": all(hasattr(m, "__file__")
                                      for m in (fqdn, rfc3986_validator, webcolors))}}))
    """
    alone = _run('MODE = "alone"\n' + textwrap.dedent(code))
    ours = _run('MODE = "deferred"\n' + textwrap.dedent(code))
    assert ours["deferred"] and not any(ours["deferred"].values()), ours["deferred"]
    assert ours["results"] == alone["results"]
    assert alone["results"] == [True, False] * (len(_FORMAT_CASES) // 2)
    assert ours["real"] is True


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


#: What no lesson's first cell needs: the validators (jsonschema, referencing), the markdown
#: renderer, pandas, and httpx's command line client (httpx._main, with rich and click).
_NOT_FOR_A_FIRST_CELL = ["jsonschema", "referencing", "markdown_it", "pandas", "httpx._main",
                         "rich", "click"]


def test_importing_the_widgets_loads_no_validator_renderer_pandas_or_cli() -> None:
    out = _run(f"""
        import json, sys
        import tutorial_kit, tutorial_kit.widgets
        from tutorial_kit.widgets import SchemaTable, StatusWidget
        print(json.dumps({{name: name in sys.modules for name in {_NOT_FOR_A_FIRST_CELL!r}}}))
    """)
    assert not any(out.values()), out


def test_a_first_cell_loads_no_pandas_no_iri_grammar_and_no_certificates() -> None:
    """A lesson's first cell: widgets imported, embedded mock, a task created and read. The
    mock validates the task (so jsonschema is loaded by then), without the IRI grammar; on
    plain http the TLS context never reads its certificates."""
    out = _run("""
        import json, sys
        import tutorial_kit as tk
        from tutorial_kit.widgets import SchemaTable, StatusWidget
        queue = tk.connect(quiet=True)
        task_id = tk.slugid()
        state = queue.createTask(task_id, tk.lessons.tutorial_task())["status"]["state"]
        from tutorial_kit.client.tls import ssl_context
        print(json.dumps({"state": state,
                          "read": queue.status(task_id)["status"]["taskId"] == task_id,
                          "loaded": {name: name in sys.modules for name in (
                              "pandas", "rfc3987_syntax", "markdown_it", "httpx._main", "rich")},
                          "certificates": ssl_context()._trust_loaded}))
    """)
    assert out["state"] in ("pending", "running")
    assert out["read"] is True
    assert not any(out["loaded"].values()), out["loaded"]
    assert out["certificates"] is False


def test_connect_starts_the_mock_without_its_validator_or_side_routes() -> None:
    """The embedded mock answers Queue calls without Starlette's router or the routes beside
    the Queue API (control plane, scenarios, inspector, dashboard): they come with the first
    request for one of them. (Its validator it loads at once: the built-in workers' first
    claimWork is validated.)"""
    out = _run("""
        import json, sys
        import httpx
        import tutorial_kit as tk
        from tutorial_kit.connection import embedded_mock
        queue = tk.connect(quiet=True)
        queue.ping()
        # (mock.web.dashboard is not among them: its history takes every call from the start)
        heavy = ("starlette.routing", "yaml", "tutorial_kit.mock.web.control",
                 "tutorial_kit.mock.web.inspector_routes")
        before = {name: name in sys.modules for name in heavy}
        schema = httpx.get(queue.options["rootUrl"] + "/schemas/queue/v1/task.json").json()
        print(json.dumps({"before": before, "schema": schema["$id"],
                          "routes": "starlette.routing" in sys.modules,
                          "built": embedded_mock().app._starlette is not None,
                          "yaml": "yaml" in sys.modules}))
    """)
    assert not any(out["before"].values()), out["before"]
    assert out["schema"].endswith("/schemas/queue/v1/task.json#")
    assert out["routes"] is True and out["built"] is True
    assert out["yaml"] is False, "the side routes loaded yaml before any YAML scenario was read"


def test_httpx_command_line_client_is_loaded_when_called() -> None:
    out = _run("""
        import contextlib, io, json, sys
        import tutorial_kit._httpx
        import httpx
        before = "httpx._main" in sys.modules
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            try:
                httpx.main(["--help"])
            except SystemExit as done:
                code = done.code
        import httpx._main
        print(json.dumps({"before": before, "code": code, "usage": "Usage:" in printed.getvalue(),
                          "real": hasattr(httpx._main, "print_response")}))
    """)
    assert out == {"before": False, "code": 0, "usage": True, "real": True}


def test_every_module_that_imports_httpx_imports_it_through_the_shim_first() -> None:
    """A module importing httpx directly, if it is the first to load, brings httpx's command
    line (rich, click, pygments) back into every kernel: tutorial_kit._httpx must come first."""
    import ast
    import pathlib

    package = pathlib.Path(__file__).resolve().parent.parent / "tutorial_kit"
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "_httpx.py":
            continue
        shim_seen = False
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "tutorial_kit._httpx" for n in names):
                shim_seen = True
            elif any(n == "httpx" or n.startswith("httpx.") for n in names) and not shim_seen:
                offenders.append(f"{path.relative_to(package.parent)}:{node.lineno}")
    assert offenders == [], f"import tutorial_kit._httpx before httpx in: {offenders}"


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
