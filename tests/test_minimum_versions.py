"""The declared lower bounds are real: a fresh virtualenv with every runtime dependency at exactly
its minimum (``name==minimum`` from pyproject.toml) passes ``pip check`` and a smoke subset of the
suite (client, mock server, validation, pandas frames, widgets).

It downloads from the package index on first run (the pip cache is shared), then takes a minute
or two; it runs once per `make test` and CI run. A bound raised in pyproject.toml is tested here
at its new value with no other change.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from venv_install import pip_install

ROOT = pathlib.Path(__file__).resolve().parent.parent
PIP_TIMEOUT = 900
#: Tests that exercise each dependency where it is used: httpx (client), starlette and uvicorn
#: (server), jsonschema and referencing (validation), pandas (frames), ipywidgets (widgets),
#: markdown-it-py and pyyaml (scenarios, schema prose); the in-process mock (httpx's ASGI
#: transport).
SMOKE = ["tests/client/test_client_e2e_mock.py", "tests/mock/test_server.py",
         "tests/mock/test_validation.py", "tests/mock/test_scenario.py", "tests/test_frames.py",
         "tests/mock/test_inprocess.py", "tests/widgets/test_schema_table.py"]
#: Test tools, at the versions this suite runs with (they are not what is being tested).
TOOLS = ("pytest", "pytest-timeout", "hypothesis", "mohawk", "taskcluster")


def minimums() -> list[str]:
    """``name==minimum`` for every runtime dependency (each must have a >= bound)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = []
    for line in project["dependencies"]:
        req = Requirement(line)
        lower = [spec.version for spec in req.specifier if spec.operator == ">="]
        assert lower, f"{req.name} has no lower bound in pyproject.toml"
        extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
        pins.append(f"{req.name}{extras}=={lower[0]}")
    return pins


def test_every_dependency_has_both_bounds() -> None:
    """A lower bound (tested below) and an upper one (the next major, which may break us)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        ops = {spec.operator for spec in Requirement(line).specifier}
        assert {">=", "<"} <= ops, f"{line}: needs >=minimum and <next-major"


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_smoke_suite_at_the_declared_minimums(tmp_path: pathlib.Path) -> None:
    python = shutil.which("python3.11") or sys.executable  # requires-python's lowest
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
    vpy = str(venv / "bin" / "python")
    import importlib.metadata

    tools = [f"{name}=={importlib.metadata.version(name)}" for name in TOOLS]
    pins = minimums()
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(pip_install(vpy, "--quiet", *pins, *tools),
                          capture_output=True, text=True, timeout=PIP_TIMEOUT, env=env)
    if done.returncode != 0 and os.environ.get("CI") != "true" and "No matching distribution" in \
            done.stderr and "Could not fetch" in done.stderr:
        pytest.skip(f"the package index is unreachable: {done.stderr[-500:]}")
    assert done.returncode == 0, f"pip install {' '.join(pins)} failed:\n{done.stderr[-3000:]}"
    # The minimums are what got installed (a tool did not drag one up).
    frozen = dict(line.lower().replace("_", "-").split("==", 1) for line in subprocess.run(
        [vpy, "-m", "pip", "freeze"], capture_output=True, text=True, check=True,
        env=env).stdout.splitlines() if "==" in line)
    for pin in pins:
        name, _, version = pin.lower().replace("_", "-").partition("==")
        name = name.split("[")[0]
        got = frozen.get(name, "0")
        assert Version(got) == Version(version), f"{pin} became {got}"
    # tutorial-kit itself, without its dependencies (they are the minimums above).
    built = subprocess.run([vpy, "-m", "pip", "install", "--quiet", "--no-deps", str(ROOT)],
                           capture_output=True, text=True, timeout=PIP_TIMEOUT, env=env)
    assert built.returncode == 0, built.stderr[-3000:]
    check = subprocess.run([vpy, "-m", "pip", "check"], capture_output=True, text=True, env=env)
    assert check.returncode == 0, f"pip check at the minimums:\n{check.stdout}{check.stderr}"

    # Run the repository's tests against the installed package (cwd outside the checkout, so
    # `import tutorial_kit` finds the venv's copy, not the source tree).
    run = subprocess.run(
        [vpy, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
         "-c", str(ROOT / "pyproject.toml"), "-m", "not browser and not slow",
         *[str(ROOT / path) for path in SMOKE]],
        capture_output=True, text=True, timeout=PIP_TIMEOUT, env=env, cwd=tmp_path)
    assert run.returncode == 0, f"smoke tests at the minimums failed:\n{run.stdout[-6000:]}"
    where = subprocess.run([vpy, "-c", "import tutorial_kit; print(tutorial_kit.__file__)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert where.stdout.strip().startswith(str(venv)), where.stdout
