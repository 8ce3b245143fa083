"""A Binder launch, reproduced without Docker.

Binder (repo2docker) builds an image in three steps, and so does this module: a fresh virtualenv
with the Python of ``binder/runtime.txt`` and ``pip install -r binder/requirements.txt``, then
``binder/postBuild`` in the repository, then every session runs ``binder/start <command>``. The
command here is nbval over the notebooks instead of the notebook server. The repository is
copied first, because postBuild builds in the source tree and start keeps its state under $HOME,
which on Binder is the repository.

The pip cache is shared with the rest of the machine, so only the first run downloads. Everything
``binder/start`` launches lives in its own process group, killed when each launch is done.
"""

from __future__ import annotations

import importlib.metadata
import os
import pathlib
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
from packaging.requirements import Requirement

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
# Not part of what Binder sees: virtualenvs, caches, build output, other tests' installs.
COPY_IGNORES = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "__pycache__", "build", "dist", "*.egg-info",
    ".pytest_cache", ".hypothesis", ".mock-queue", "test-output", ".ipynb_checkpoints",
    "*.sqlite3", ".coverage")
PIP_TIMEOUT = 600
LAUNCH_TIMEOUT = 300
STOP_WAIT = 10.0
ENV_NAMES = ("TASKCLUSTER_ROOT_URL", "TASKCLUSTER_CLIENT_ID", "TASKCLUSTER_ACCESS_TOKEN")


def _unavailable(reason: str) -> None:
    """Skip on a developer's machine; CI must be able to build the Binder environment."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " (CI must be able to reproduce the Binder launch)")
    pytest.skip(reason)


def _requirements() -> list[Requirement]:
    lines = (BINDER / "requirements.txt").read_text().splitlines()
    return [Requirement(line.split("#", 1)[0].strip()) for line in lines
            if line.split("#", 1)[0].strip()]


def _runtime() -> str:
    """'3.11' from runtime.txt's 'python-3.11'."""
    text = (BINDER / "runtime.txt").read_text().strip()
    found = re.fullmatch(r"python-(\d+\.\d+)", text)
    assert found, f"binder/runtime.txt must read python-X.Y, not {text!r}"
    return found.group(1)


# --- the files themselves (fast) ------------------------------------------------------------

def test_requirements_are_pinned_and_cover_the_package() -> None:
    pins = {req.name.lower().replace("_", "-"): req for req in _requirements()}
    for req in pins.values():
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{req} is not pinned with =="
    # Every runtime dependency of tutorial-kit is pinned, to a version its range admits, so
    # postBuild (which installs the package without dependencies) leaves nothing missing.
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        dep = Requirement(line)
        name = dep.name.lower().replace("_", "-")
        assert name in pins, f"binder/requirements.txt does not pin {dep.name}"
        pinned = next(iter(pins[name].specifier)).version
        assert dep.specifier.contains(pinned, prereleases=True), \
            f"binder pins {dep.name}=={pinned}, outside pyproject's {dep.specifier}"


def test_scripts_are_executable_and_strict() -> None:
    assert re.fullmatch(r"python-\d+\.\d+", (BINDER / "runtime.txt").read_text().strip())
    for name in ("postBuild", "start"):
        script = BINDER / name
        assert os.access(script, os.X_OK), f"binder/{name} is not executable"
        text = script.read_text()
        assert text.startswith("#!"), f"binder/{name} has no shebang"
        assert re.search(r"^set -e", text, re.M), f"binder/{name} does not stop on errors"
    lines = [line.strip() for line in (BINDER / "start").read_text().splitlines()
             if line.strip() and not line.strip().startswith("#")]
    assert lines[-1] == 'exec "$@"', "binder/start must end by handing over to its command"


# --- the launch (slow) ----------------------------------------------------------------------

@dataclass
class BinderImage:
    """A repository copy with postBuild done, and the virtualenv Binder would have built."""

    repo: pathlib.Path
    venv: pathlib.Path

    def env(self) -> dict[str, str]:
        """The environment of a Binder session: the image's Python first, $HOME the repository,
        and no Taskcluster variables, so that binder/start has to provide them."""
        return {"PATH": f"{self.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
                "HOME": str(self.repo), "VIRTUAL_ENV": str(self.venv), "LANG": "C.UTF-8",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def _pip_cache() -> str:
    return os.environ.get("PIP_CACHE_DIR") or str(pathlib.Path.home() / ".cache" / "pip")


def _run(args: list[str], *, cwd: pathlib.Path, env: dict[str, str], timeout: float,
         what: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        _unavailable(f"{what} took over {timeout} s")
        raise  # unreachable


@pytest.fixture(scope="session")
def binder_image(tmp_path_factory: pytest.TempPathFactory) -> BinderImage:
    version = _runtime()
    python = shutil.which(f"python{version}")
    if python is None and f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        python = sys.executable
    if python is None:
        _unavailable(f"no python{version} (binder/runtime.txt) on this machine")
    base = tmp_path_factory.mktemp("binder")
    repo = base / "repo"
    shutil.copytree(ROOT, repo, ignore=COPY_IGNORES, symlinks=True)
    venv = base / "venv"
    made = subprocess.run([python, "-m", "venv", str(venv)], capture_output=True, text=True,
                          timeout=120)
    assert made.returncode == 0, f"python -m venv failed: {made.stderr}"
    image = BinderImage(repo, venv)
    env = {**image.env(), "PIP_CACHE_DIR": _pip_cache()}

    # What Binder installs, plus the test tools it does not need, at the versions the suite uses
    # (pytest-timeout so that the repository's pytest settings bound every notebook).
    tools = [f"{name}=={importlib.metadata.version(name)}"
             for name in ("pytest", "pytest-timeout", "nbval")]
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
           "-r", str(repo / "binder" / "requirements.txt"), *tools]
    done = _run(pip, cwd=repo, env=env, timeout=PIP_TIMEOUT, what="pip install -r requirements")
    if done.returncode != 0:
        _unavailable(f"pip install -r binder/requirements.txt failed: {done.stderr[-1500:]}")

    post = _run([str(repo / "binder" / "postBuild")], cwd=repo, env=env, timeout=PIP_TIMEOUT,
                what="binder/postBuild")
    assert post.returncode == 0, (
        f"binder/postBuild failed (exit {post.returncode}):\n{post.stdout[-1500:]}\n"
        f"{post.stderr[-3000:]}")
    # The package now comes from the venv, not from the checkout this test runs in.
    where = _run([str(venv / "bin" / "python"), "-c",
                  "import tutorial_kit, sys; print(tutorial_kit.__file__)"],
                 cwd=base, env=env, timeout=60, what="import tutorial_kit")
    assert where.returncode == 0, where.stderr
    assert where.stdout.strip().startswith(str(venv)), where.stdout
    return image


@dataclass
class Launch:
    result: subprocess.CompletedProcess[str]
    exports: dict[str, str]  # what binder/start exported ($HOME/.mock-queue/env.sh)


def _exports(repo: pathlib.Path) -> dict[str, str]:
    path = repo / ".mock-queue" / "env.sh"
    out = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        if line.startswith("export "):
            name, _, value = line[len("export "):].partition("=")
            out[name] = shlex.split(value)[0] if value else ""
    return out


def _port_open(root_url: str) -> bool:
    parts = urlsplit(root_url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1):
            return True
    except OSError:
        return False


def _stop_group(pgid: int, root_url: str | None) -> None:
    """End everything binder/start left behind: SIGTERM the group, then SIGKILL after a while."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_WAIT
        while time.monotonic() < deadline:
            if root_url is None or not _port_open(root_url):
                return
            time.sleep(0.1)


@contextmanager
def binder_start(image: BinderImage, *command: str) -> Iterator[Launch]:
    """Run ``binder/start <command>`` as a Binder session would; the mock it started stays up
    (for the test to inspect) until the block ends, then its whole process group is stopped."""
    shutil.rmtree(image.repo / ".mock-queue", ignore_errors=True)
    proc = subprocess.Popen([str(image.repo / "binder" / "start"), *command], cwd=image.repo,
                            env=image.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    exports: dict[str, str] = {}
    try:
        try:
            out, err = proc.communicate(timeout=LAUNCH_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"binder/start {' '.join(command)} ran over {LAUNCH_TIMEOUT} s:\n"
                        f"{out[-3000:]}\n{err[-2000:]}")
        exports = _exports(image.repo)
        yield Launch(subprocess.CompletedProcess(proc.args, proc.returncode, out, err), exports)
    finally:
        _stop_group(proc.pid, exports.get("TASKCLUSTER_ROOT_URL"))


def _check_mock(exports: dict[str, str]) -> str:
    """The exported rootUrl is a live mock queue on loopback, and the exported credentials work."""
    assert set(exports) == set(ENV_NAMES), exports
    root_url = exports["TASKCLUSTER_ROOT_URL"]
    assert urlsplit(root_url).hostname == "127.0.0.1", root_url
    from tutorial_kit import Queue, fromNowJSON, slugid

    anonymous = Queue({"rootUrl": root_url})
    assert anonymous.ping()["alive"] is True
    # createTask needs scopes the anonymous role lacks: the exported client has them.
    learner = Queue({"rootUrl": root_url,
                     "credentials": {"clientId": exports["TASKCLUSTER_CLIENT_ID"],
                                     "accessToken": exports["TASKCLUSTER_ACCESS_TOKEN"]}})
    task_id = slugid()
    created = learner.createTask(task_id, {
        "taskQueueId": "binder-test/nobody", "created": fromNowJSON(""),
        "deadline": fromNowJSON("1 hour"), "payload": {},
        "metadata": {"name": "binder check", "description": "binder/start's credentials work",
                     "owner": "binder@example.com", "source": "https://example.com/binder"}})
    assert (created["status"]["taskId"], created["status"]["state"]) == (task_id, "pending")
    return root_url


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_start_exports_a_running_mock(binder_image: BinderImage) -> None:
    with binder_start(binder_image, "env") as launch:
        assert launch.result.returncode == 0, launch.result.stderr[-3000:]
        seen = dict(line.split("=", 1) for line in launch.result.stdout.splitlines()
                    if "=" in line)
        # The command ran with exactly what start exported, and that is a working mock queue.
        assert {name: seen.get(name) for name in ENV_NAMES} == launch.exports
        root_url = _check_mock(launch.exports)
        assert seen["TASKCLUSTER_CLIENT_ID"] == "tutorial"
        # A file store, so the learner's tasks outlive a restart of the mock.
        assert (binder_image.repo / ".mock-queue" / "queue.sqlite3").exists()
    # The process group is gone with the launch: nothing keeps listening.
    assert not _port_open(root_url)


def _notebook_calls(root_url: str) -> list[dict]:
    """The mock's request log (control plane): which API methods the notebooks called."""
    answer = httpx.get(f"{root_url}/mock/v1/requests", params={"limit": 10000}, timeout=10)
    answer.raise_for_status()
    return answer.json()["requests"]


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_welcome_notebook_under_binder_start(binder_image: BinderImage) -> None:
    with binder_start(binder_image, "python", "-m", "pytest", "-p", "no:cacheprovider",
                      "--nbval-lax", "--nbval-sanitize-with", "notebooks/sanitize.cfg",
                      "notebooks/00-welcome.ipynb") as launch:
        result = launch.result
        assert result.returncode == 0, \
            f"nbval failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
        assert re.search(r"\b\d+ passed\b", result.stdout), result.stdout[-2000:]
        # The notebook's kernel used the mock binder/start launched, not an embedded one:
        # its calls are in that mock's request log.
        assert set(launch.exports) == set(ENV_NAMES), launch.exports
        methods = [r["method"] for r in _notebook_calls(launch.exports["TASKCLUSTER_ROOT_URL"])]
        assert "ping" in methods and "status" in methods, methods
        _check_mock(launch.exports)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_every_notebook_under_binder_start(binder_image: BinderImage) -> None:
    """The whole course, in order, against the one mock a Binder session has."""
    notebooks = sorted(p.relative_to(binder_image.repo).as_posix()
                       for p in (binder_image.repo / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    assert len(notebooks) > 1, notebooks
    with binder_start(binder_image, "python", "-m", "pytest", "-p", "no:cacheprovider",
                      "--nbval-lax", "--nbval-sanitize-with", "notebooks/sanitize.cfg",
                      *notebooks) as launch:
        result = launch.result
        assert result.returncode == 0, \
            f"nbval failed:\n{result.stdout[-8000:]}\n{result.stderr[-2000:]}"
        assert re.search(r"\b\d+ passed\b", result.stdout), result.stdout[-2000:]
        methods = {r["method"] for r in _notebook_calls(launch.exports["TASKCLUSTER_ROOT_URL"])}
        # The lessons create, claim and complete tasks and read artifacts on that mock.
        assert {"createTask", "status", "claimWork", "reportCompleted"} <= methods, methods
