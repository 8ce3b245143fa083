"""The generated stubs (``tutorial_kit/client/methods.pyi``): current with the API table, in
step with the methods installed at runtime, and good enough for mypy to catch a typo."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

from tutorial_kit.client import AsyncQueue, Queue
from tutorial_kit.client.objects import AsyncObject, Object

ROOT = pathlib.Path(__file__).resolve().parents[2]
STUBS = ROOT / "tutorial_kit" / "client" / "methods.pyi"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_client_stubs",
                                                  ROOT / "tools" / "gen_client_stubs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checked_in_stubs_are_what_the_generator_writes():
    generated = _generator().render()
    assert STUBS.read_bytes() == generated.encode("utf-8"), (
        "tutorial_kit/client/methods.pyi is stale: run python tools/gen_client_stubs.py")
    assert _generator().main(["--check"]) == 0


def _stub_classes() -> dict[str, dict[str, ast.AsyncFunctionDef | ast.FunctionDef]]:
    tree = ast.parse(STUBS.read_text(encoding="utf-8"))
    return {node.name: {f.name: f for f in node.body
                        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
            for node in tree.body if isinstance(node, ast.ClassDef)}


def _shape(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[tuple[str, str]]:
    args = func.args
    return ([(a.arg, "POSITIONAL_ONLY") for a in args.posonlyargs]
            + [(a.arg, "POSITIONAL_OR_KEYWORD") for a in args.args]
            + [(a.arg, "KEYWORD_ONLY") for a in args.kwonlyargs])


@pytest.mark.parametrize("cls,stub", [(Queue, "QueueMethods"), (AsyncQueue, "AsyncQueueMethods"),
                                      (Object, "ObjectMethods"),
                                      (AsyncObject, "AsyncObjectMethods")])
def test_stubs_match_the_installed_methods(cls, stub):
    """Same names, same parameters and kinds, async where the runtime method is a coroutine."""
    stubs = _stub_classes()[stub]
    assert sorted(stubs) == sorted(cls.funcinfo)
    for name, func in stubs.items():
        runtime = getattr(cls, name)
        expected = [(p.name, p.kind.name) for p in inspect.signature(runtime).parameters.values()]
        assert _shape(func)[1:] == expected[1:], name  # self's kind does not matter
        assert isinstance(func, ast.AsyncFunctionDef) == inspect.iscoroutinefunction(runtime)
        assert ast.get_docstring(func), name
    # a title from the reference prose, not the fallback route line
    assert ast.get_docstring(_stub_classes()["QueueMethods"]["createTask"]) != (
        "PUT /api/queue/v1/task/<taskId>.")


GOOD = '''
from typing import Any
from tutorial_kit.client import AsyncQueue, Queue
from tutorial_kit.client.objects import Object

queue = Queue(rootUrl="http://127.0.0.1:1")
created: dict[str, Any] = queue.createTask("fN1SbArXTPSVFNUvaOlinQ", {"provisionerId": "p"})
artifacts = queue.listArtifacts("fN1SbArXTPSVFNUvaOlinQ", 0, query={"limit": 2})
env_queue = Queue.fromEnv()
env_queue.reportCompleted("fN1SbArXTPSVFNUvaOlinQ", "0")
with Object(rootUrl="http://127.0.0.1:1") as objects:
    started = objects.startDownload("public/x", {"acceptDownloadMethods": {"getUrl": True}})


async def main() -> str:
    async with AsyncQueue(rootUrl="http://127.0.0.1:1") as aqueue:
        status = await aqueue.status("fN1SbArXTPSVFNUvaOlinQ")
    return str(status["status"]["state"]) + str(artifacts["artifacts"]) + str(started["url"])
'''

BAD = '''
from tutorial_kit.client import AsyncQueue, Queue

queue = Queue(rootUrl="http://127.0.0.1:1")
queue.createTsk("fN1SbArXTPSVFNUvaOlinQ", {})
queue.createTask("fN1SbArXTPSVFNUvaOlinQ")
queue.status()
queue.status(taskId="fN1SbArXTPSVFNUvaOlinQ")
Queue.fromEnv().statsu("fN1SbArXTPSVFNUvaOlinQ")


async def main() -> None:
    AsyncQueue(rootUrl="http://127.0.0.1:1").status("fN1SbArXTPSVFNUvaOlinQ")["status"]
'''


def _mypy(tmp_path: pathlib.Path, source: str, *more: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install -e .[test]")
    (tmp_path / "snippet.py").write_text(textwrap.dedent(source), encoding="utf-8")
    # MYPYPATH: an editable install is found through an import hook, which mypy does not run;
    # silent: check the snippet, not tutorial_kit's own modules
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "mypy", "--follow-imports=silent",
                           "--no-incremental", "--cache-dir", os.devnull, "--no-error-summary",
                           "--hide-error-context", "snippet.py", *more],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_mypy_accepts_right_calls(tmp_path):
    """The snippet, and the client package itself (so its annotations stay true)."""
    result = _mypy(tmp_path, GOOD, str(ROOT / "tutorial_kit" / "client"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_reports_wrong_calls(tmp_path):
    result = _mypy(tmp_path, BAD)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = {int(line.split(":")[1]): line for line in result.stdout.splitlines()
              if ": error:" in line}
    assert '"Queue" has no attribute "createTsk"' in errors[5]
    assert 'Missing positional argument "payload" in call to "createTask"' in errors[6]
    assert 'Too few arguments for "status"' in errors[7]  # taskId is positional-only
    assert 'Unexpected keyword argument "taskId" for "status"' in errors[8]  # positional-only
    assert '"Queue" has no attribute "statsu"' in errors[9]
    assert "not indexable" in errors[13]  # forgot the await
    assert sorted(errors) == [5, 6, 7, 8, 9, 13], result.stdout
