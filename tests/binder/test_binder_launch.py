"""A Binder launch, reproduced without Docker.

Binder (repo2docker) builds an image in three steps, and so does this module: its base
environment, then ``pip install -r binder/requirements.txt`` on top, then ``binder/postBuild`` in
the repository; every session then runs ``binder/start <command>``. The base is repo2docker's
own: the current ``jupyter-repo2docker`` wheel is downloaded from PyPI and its conda lock for
the Python of ``binder/runtime.txt`` (``environment.py-3.11-linux-64.lock``) is installed into a
fresh virtualenv as the pip equivalents of its Python packages (the C libraries, Python itself
and conda-only metapackages are skipped). The image must then pass ``pip check``, pin everything
it changes beyond that base, start JupyterLab with the widgets' and Notebook's extensions, and
run the lessons under ``binder/start`` (nbval instead of the notebook server). The repository is
copied first, because postBuild builds in the source tree and start keeps its state under $HOME,
which on Binder is the repository.

The installs go through uv where the test tools brought it (tests/venv_install.py), whose wheel
cache is shared with the rest of the machine, so only the first run downloads. Everything
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
from packaging.utils import canonicalize_name

from venv_install import pip_install

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
    # the runtime dependencies and the `lab` extra (what a Binder session launches)
    for line in project["dependencies"] + project["optional-dependencies"]["lab"]:
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
    base: dict[str, str]  # repo2docker's base environment: canonical name -> version
    pip_check: subprocess.CompletedProcess[str]  # pip check right after postBuild
    frozen: dict[str, str]  # what the image holds then: canonical name -> version

    def env(self) -> dict[str, str]:
        """The environment of a Binder session: the image's Python first, $HOME the repository,
        and no Taskcluster variables, so that binder/start has to provide them."""
        return {"PATH": f"{self.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
                "HOME": str(self.repo), "VIRTUAL_ENV": str(self.venv), "LANG": "C.UTF-8",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1"}


#: conda-forge names whose PyPI name differs (the rest are the same).
CONDA_TO_PYPI = {"brotli-python": "brotli", "python-fastjsonschema": "fastjsonschema",
                 "nbconvert-core": "nbconvert", "jupyterhub-base": "jupyterhub",
                 "python-tzdata": "tzdata"}


def conda_lock_to_pip(lock: str) -> list[str]:
    """``name==version`` for the Python packages of an explicit conda lock. A conda-forge
    Python package has a build string starting with ``py`` (``pyhd8ed1ab_0`` for pure Python,
    ``py311h...`` for compiled); C libraries, ``python`` itself and metapackages do not."""
    pins = {}
    for line in lock.splitlines():
        if not line.startswith("https://"):
            continue
        filename = line.split("#", 1)[0].rsplit("/", 1)[1]
        filename = re.sub(r"\.(conda|tar\.bz2)$", "", filename)
        name, version, build = filename.rsplit("-", 2)
        if build.startswith("py") and name != "python":
            pins[canonicalize_name(CONDA_TO_PYPI.get(name, name))] = version
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def repo2docker_base(python_version: str, into: pathlib.Path, env: dict[str, str]) -> list[str]:
    """The base pins of the current repo2docker release, read from its wheel's conda lock."""
    got = _run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(into),
                "jupyter-repo2docker"], cwd=into, env=env, timeout=PIP_TIMEOUT,
               what="pip download jupyter-repo2docker")
    if got.returncode != 0:
        _unavailable(f"pip download jupyter-repo2docker failed: {got.stderr[-1500:]}")
    [wheel] = into.glob("jupyter_repo2docker-*.whl")
    import zipfile

    name = f"repo2docker/buildpacks/conda/environment.py-{python_version}-linux-64.lock"
    with zipfile.ZipFile(wheel) as archive:
        if name not in archive.namelist():
            pytest.fail(f"{wheel.name} has no {name}: repo2docker no longer supports Python "
                        f"{python_version}; change binder/runtime.txt")
        pins = conda_lock_to_pip(archive.read(name).decode())
    (into / "repo2docker-version.txt").write_text(wheel.name)
    return pins


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
    image = BinderImage(repo, venv, {}, subprocess.CompletedProcess([], 0), {})
    env = {**image.env(), "PIP_CACHE_DIR": _pip_cache()}
    vpython = str(venv / "bin" / "python")

    # repo2docker's base environment, as its lock file pins it (no dependency resolution:
    # conda installed exactly these).
    base_pins = repo2docker_base(version, base, env)
    image.base = {canonicalize_name(p.split("==")[0]): p.split("==")[1] for p in base_pins}
    done = _run(pip_install(vpython, "--quiet", "--no-deps", *base_pins), cwd=base,
                env=env, timeout=PIP_TIMEOUT, what="installing repo2docker's base")
    if done.returncode != 0:
        _unavailable(f"installing repo2docker's base pins failed: {done.stderr[-1500:]}")

    # Then what Binder installs on top, as repo2docker runs it.
    pip = pip_install(vpython, "--quiet", "-r", str(repo / "binder" / "requirements.txt"))
    done = _run(pip, cwd=repo, env=env, timeout=PIP_TIMEOUT, what="pip install -r requirements")
    if done.returncode != 0:
        _unavailable(f"pip install -r binder/requirements.txt failed: {done.stderr[-1500:]}")

    post = _run([str(repo / "binder" / "postBuild")], cwd=repo, env=env, timeout=PIP_TIMEOUT,
                what="binder/postBuild")
    assert post.returncode == 0, (
        f"binder/postBuild failed (exit {post.returncode}):\n{post.stdout[-1500:]}\n"
        f"{post.stderr[-3000:]}")
    image.pip_check = _run([vpython, "-m", "pip", "check"], cwd=base, env=env, timeout=120,
                           what="pip check")
    frozen = _run([vpython, "-m", "pip", "list", "--format=freeze"], cwd=base, env=env,
                  timeout=120, what="pip list").stdout
    image.frozen = {canonicalize_name(line.split("==")[0]): line.split("==")[1]
                    for line in frozen.splitlines() if "==" in line}

    # The test tools Binder does not have, at the versions the suite uses (pytest-timeout so
    # that the repository's pytest settings bound every notebook); after the checks above.
    tools = [f"{name}=={importlib.metadata.version(name)}"
             for name in ("pytest", "pytest-timeout", "nbval")]
    done = _run(pip_install(vpython, "--quiet", *tools), cwd=base, env=env,
                timeout=PIP_TIMEOUT, what="pip install test tools")
    assert done.returncode == 0, done.stderr[-1500:]

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
@pytest.mark.timeout(1800)
def test_every_notebook_under_binder_start(binder_image: BinderImage) -> None:
    """The whole course, in order, against the one mock a Binder session has: each lesson's
    kernel uses the mock binder/start launched (its calls are in that mock's request log), not
    an embedded one, and the exported credentials still work afterwards. (Lessons 0 and 1 had
    launches of their own; this one walks the same path and covers them.)"""
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
        assert set(launch.exports) == set(ENV_NAMES), launch.exports
        methods = {r["method"] for r in _notebook_calls(launch.exports["TASKCLUSTER_ROOT_URL"])}
        # The lessons ping, create, claim and complete tasks and read artifacts on that mock.
        assert {"ping", "createTask", "status", "claimWork", "reportCompleted"} <= methods, methods
        _check_mock(launch.exports)


# --- the image on repo2docker's real base (slow) -----------------------------------------------

def test_conda_lock_lines_become_pip_pins() -> None:
    lock = "\n".join([
        "@EXPLICIT",
        "https://conda.anaconda.org/conda-forge/linux-64/openssl-3.5.4-h26f9b46_0.conda#abc",
        "https://conda.anaconda.org/conda-forge/linux-64/python-3.11.14-hd63d673_1_cpython.conda#a",
        "https://conda.anaconda.org/conda-forge/noarch/jupyterlab-4.4.9-pyhd8ed1ab_0.conda#b",
        "https://conda.anaconda.org/conda-forge/linux-64/pyzmq-27.1.0-py311h2315fbb_0.conda#c",
        "https://conda.anaconda.org/conda-forge/noarch/nbconvert-core-7.16.6-pyh29332c3_0.conda#d",
        "https://conda.anaconda.org/conda-forge/noarch/typing-extensions-4.15.0-h396c80c_0.conda#e",
        "https://conda.anaconda.org/conda-forge/noarch/typing_extensions-4.15.0-pyh_0.conda#f",
        "https://conda.anaconda.org/conda-forge/noarch/_openmp_mutex-4.5-2_gnu.tar.bz2#g"])
    assert conda_lock_to_pip(lock) == ["jupyterlab==4.4.9", "nbconvert==7.16.6",
                                       "pyzmq==27.1.0", "typing-extensions==4.15.0"]


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_image_passes_pip_check(binder_image: BinderImage) -> None:
    check = binder_image.pip_check
    assert check.returncode == 0, f"pip check on the Binder image:\n{check.stdout}{check.stderr}"
    # the base really is repo2docker's (its Jupyter server came from the lock, not from us)
    assert binder_image.base.get("notebook") and binder_image.base.get("jupyter-server")


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_everything_moved_beyond_the_base_is_pinned(binder_image: BinderImage) -> None:
    """A launch must not change from week to week: every package that requirements.txt adds
    or moves beyond repo2docker's (locked) base is pinned there, at the version installed."""
    pins = {canonicalize_name(req.name): str(next(iter(req.specifier)).version)
            for req in _requirements()}
    floating = {name: version for name, version in binder_image.frozen.items()
                if binder_image.base.get(name) != version and name != "tutorial-kit"
                and pins.get(name) != version}
    assert not floating, ("binder/requirements.txt leaves these unpinned (or pinned to another "
                          f"version than pip installed): {sorted(floating.items())}")


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_jupyterlab_starts_with_its_extensions(binder_image: BinderImage) -> None:
    env = {**binder_image.env(), "JUPYTER_PLATFORM_DIRS": "1"}
    listed = _run([str(binder_image.venv / "bin" / "jupyter"), "labextension", "list"],
                  cwd=binder_image.repo, env=env, timeout=120, what="jupyter labextension list")
    text = listed.stdout + listed.stderr
    for name in ("@jupyter-widgets/jupyterlab-manager", "@jupyter-notebook/lab-extension"):
        line = next((line for line in text.splitlines() if name in line), "")
        assert "enabled" in line and "OK" in line, f"{name} is not enabled and OK:\n{text}"
    assert "X " not in text and "incompatible" not in text.lower(), text

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = "binder-test"
    proc = subprocess.Popen(
        [str(binder_image.repo / "binder" / "start"), "jupyter", "lab", "--no-browser",
         "--allow-root", f"--ServerApp.port={port}", f"--IdentityProvider.token={token}"],
        cwd=binder_image.repo, env=binder_image.env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    exports: dict[str, str] = {}
    try:
        deadline = time.monotonic() + LAUNCH_TIMEOUT
        while True:
            assert proc.poll() is None, proc.stdout.read()[-3000:] if proc.stdout else ""
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/lab/api/extensions",
                                   headers={"Authorization": f"token {token}"}, timeout=5)
                if answer.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "JupyterLab did not answer"
            time.sleep(0.5)
        # the server's extension manager names them by their Python distributions
        served = {ext["name"]: ext for ext in answer.json()}
        for name in ("jupyter-widgets-jupyterlab-manager", "jupyter-notebook-lab-extension"):
            assert name in served, sorted(served)
            assert served[name].get("enabled", True) is not False, served[name]
            assert served[name].get("status", "ok") in ("ok", "", None), served[name]
        exports = _exports(binder_image.repo)
        _check_mock(exports)  # the server's sessions inherit a live mock queue
    finally:
        _stop_group(proc.pid, exports.get("TASKCLUSTER_ROOT_URL"))
        try:
            proc.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


