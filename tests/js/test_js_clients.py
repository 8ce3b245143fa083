"""The official JavaScript clients, unchanged, against the mock queue.

``queue_flow.js`` walks the tutorial's path with a real client: a learner creates a task and reads
it, a worker claims, reclaims, uploads two s3 artifacts and completes it with the claim's temporary
credentials, then the learner downloads (API call, plain URL, signed URL), reruns and cancels, and
asks for a task that does not exist. This module starts the mock, runs the script with the
mock's three ``TASKCLUSTER_*`` variables and judges every result.

The npm packages install into ``tests/js/node_modules`` (git-ignored) from ``package-lock.json``,
once per session; without node/npm or the registry the tests skip (under ``CI=true`` they fail).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
from datetime import datetime, timedelta
from typing import Any

import pytest

from tutorial_kit.mock.server import MockQueue, start

HERE = pathlib.Path(__file__).resolve().parent
SCRIPT = HERE / "queue_flow.js"
TASK_QUEUE_ID = "js-test/worker"  # no built-in worker serves it: the script is the worker
PUBLIC_TEXT = b"hello from the JS client\n"
PRIVATE_BYTES = bytes(range(256))
NPM_TIMEOUT = 300
FLOW_TIMEOUT = 90
SCOPED_CLIENT = "@taskcluster/client"
SLUGID = re.compile(
    r"^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$")
DATE_TO_JSON = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _unavailable(reason: str) -> None:
    """Skip on a developer's machine; a CI run must have node, npm and the registry."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " (CI must be able to run the JS clients)")
    pytest.skip(reason)


def _npm(args: list[str], cwd: pathlib.Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["npm", *args, "--no-audit", "--no-fund"], cwd=cwd,
                              capture_output=True, text=True, timeout=NPM_TIMEOUT)
    except subprocess.TimeoutExpired:
        _unavailable(f"`npm {' '.join(args)}` took over {NPM_TIMEOUT} s")
        raise  # unreachable: _unavailable always raises


def _installed_version(modules: pathlib.Path, package: str) -> str | None:
    manifest = modules / package / "package.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text()).get("version")


@pytest.fixture(scope="session")
def node_modules() -> pathlib.Path:
    """tests/js/node_modules, installed from the lock file unless it already matches it."""
    if not shutil.which("node") or not shutil.which("npm"):
        _unavailable("node and npm are not installed")
    wanted = json.loads((HERE / "package.json").read_text())["dependencies"]
    modules = HERE / "node_modules"
    if any(_installed_version(modules, name) != version for name, version in wanted.items()):
        done = _npm(["ci"], HERE)
        if done.returncode != 0:
            _unavailable(f"`npm ci` in {HERE} failed: {done.stderr.strip()[-800:]}")
    return modules


@pytest.fixture
def mock() -> Any:
    queue = start()
    try:
        yield queue
    finally:
        queue.stop()


def run_flow(mock: MockQueue, module: str, node_path: pathlib.Path | None = None) -> dict:
    """Run queue_flow.js with the mock's environment; return its one JSON line."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"),
           **mock.env()}
    if node_path is not None:
        env["NODE_PATH"] = str(node_path)
    done = subprocess.run(["node", str(SCRIPT), module, TASK_QUEUE_ID], cwd=HERE, env=env,
                          capture_output=True, text=True, timeout=FLOW_TIMEOUT)
    lines = done.stdout.strip().splitlines()
    assert lines, f"queue_flow.js printed nothing (exit {done.returncode}): {done.stderr[-2000:]}"
    seen = json.loads(lines[-1])
    assert "failedStep" not in seen, (
        f"{module}: step {seen['failedStep']} failed: {seen['error']}\n{seen.get('stack', '')}")
    assert done.returncode == 0, done.stderr[-2000:]
    return seen


def _when(text: str) -> datetime:
    # The claim reply's top-level takenUntil is PostgreSQL's form (+00:00), as the real Queue's.
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def check_flow(seen: dict, mock: MockQueue) -> None:
    """Every step of queue_flow.js, judged against the Queue's documented behaviour."""
    task_id = seen["taskId"]
    assert SLUGID.match(task_id), task_id

    assert seen["createTask"] == {"state": "pending", "runs": 1, "taskQueueId": TASK_QUEUE_ID}
    assert seen["status"] == {"taskId": task_id, "state": "pending", "reasonCreated": "scheduled"}
    # The defaults the queue fills in, read back through `task`.
    assert seen["task"] == {"taskQueueId": TASK_QUEUE_ID, "priority": "lowest", "retries": 5,
                            "taskGroupId": task_id, "name": "Example task"}

    claim = seen["claimWork"]
    assert {k: v for k, v in claim.items() if k != "takenUntil"} == {
        "count": 1, "taskId": task_id, "runId": 0, "state": "running", "workerId": "js-worker",
        "credentialKeys": ["accessToken", "certificate", "clientId"]}
    reclaim = seen["reclaimTask"]
    assert {k: v for k, v in reclaim.items() if k != "takenUntil"} == {
        "state": "running", "runId": 0,
        "credentialKeys": ["accessToken", "certificate", "clientId"]}
    assert DATE_TO_JSON.match(reclaim["takenUntil"]), reclaim["takenUntil"]
    # Reclaiming moves the claim's expiry forward (the default claim lasts 20 minutes).
    assert _when(reclaim["takenUntil"]) >= _when(claim["takenUntil"])
    assert _when(reclaim["takenUntil"]) - _when(claim["takenUntil"]) < timedelta(minutes=1)

    assert seen["createArtifact"] == {"storageType": "s3", "contentType": "text/plain",
                                      "hasPutUrl": True}
    assert seen["upload"] == {"public": 200, "private": 200}
    assert seen["reportCompleted"] == {"state": "completed", "reasonResolved": "completed"}
    assert seen["listLatestArtifacts"] == [
        {"name": "private/js/secret.bin", "storageType": "s3",
         "contentType": "application/octet-stream"},
        {"name": "public/js/hello.txt", "storageType": "s3", "contentType": "text/plain"}]

    # getLatestArtifact: the client hands back the 303's JSON body; its url serves the bytes.
    located = seen["getLatestArtifact"]
    assert located["storageType"] == "s3"
    assert located["url"].startswith(mock.root_url.rstrip("/") + "/")
    assert located["download"]["status"] == 200
    assert bytes.fromhex(located["download"]["hex"]) == PUBLIC_TEXT
    assert located["download"]["contentType"].startswith("text/plain")

    # buildUrl: a plain URL; following the 303 gives the public bytes, a private name is refused.
    public = seen["buildUrl"]["public"]
    assert (public["status"], public["redirected"]) == (200, True)
    assert bytes.fromhex(public["hex"]) == PUBLIC_TEXT
    private = seen["buildUrl"]["private"]
    assert private["status"] == 403
    assert json.loads(bytes.fromhex(private["hex"]))["code"] == "InsufficientScopes"

    # buildSignedUrl: the bewit lets a plain fetch read the private artifact, every byte intact.
    signed = seen["buildSignedUrl"]
    assert signed["hasBewit"] is True
    assert (signed["download"]["status"], signed["download"]["redirected"]) == (200, True)
    assert signed["download"]["contentType"] == "application/octet-stream"
    assert bytes.fromhex(signed["download"]["hex"]) == PRIVATE_BYTES

    assert seen["rerunTask"] == {"state": "pending", "runs": 2, "reasonCreated": "rerun"}
    assert seen["cancelTask"] == {"state": "exception", "runs": 2, "reasonResolved": "canceled",
                                  "firstRun": "completed"}

    unknown = seen["unknownTask"]
    assert (unknown["code"], unknown["statusCode"]) == ("ResourceNotFound", 404)
    assert "does not correspond to a task that exists" in unknown["message"]

    # Who the mock saw: the tutorial client for the learner's calls, the claim's temporary
    # credentials (a certificate in Hawk's ext) for the worker's, the bewit's signer for the
    # signed download.
    callers = {}
    for record in mock.request_log.since(0):
        if record.method and task_id in record.route:
            callers.setdefault(record.method, set()).add((record.client_id, record.status))
    temp_client = f"task-client/{task_id}/0/on/js-group/js-worker/until/"
    for method in ("reclaimTask", "createArtifact", "reportCompleted"):
        assert len(callers[method]) == 1, callers[method]
        (client_id, status), = callers[method]
        assert client_id.startswith(temp_client) and status == 200, (method, client_id, status)
    assert callers["createTask"] == {("tutorial", 200)}
    assert callers["cancelTask"] == {("tutorial", 200)}
    assert ("tutorial", 303) in callers["getLatestArtifact"]  # the signed URL
    assert (None, 403) in callers["getLatestArtifact"]  # the unsigned private URL


def test_taskcluster_client(node_modules: pathlib.Path, mock: MockQueue) -> None:
    """taskcluster-client (55.3.2, the newest with a Node range that includes Node 20)."""
    seen = run_flow(mock, "taskcluster-client")
    assert seen["client"] == "taskcluster-client"
    check_flow(seen, mock)


# --- @taskcluster/client: only if the registry has a release that runs on this Node ---------

def _version_key(version: str) -> tuple:
    core, _, pre = version.partition("-")
    numbers = tuple(int(p) if p.isdigit() else 0 for p in core.split("."))
    return numbers + ((1,) if not pre else (0, pre))


def _satisfies(node: str, expression: str) -> bool:
    """A small npm semver range check for `engines.node`: `||`, spaces (and), >=, >, <=, <, =, ^,
    ~, x-ranges and exact versions, which is all Taskcluster's releases have used."""
    have = _version_key(node.lstrip("v"))[:3]
    for alternative in expression.split("||"):
        comparators = alternative.split()
        if not comparators:
            return True
        ok = True
        for comparator in comparators:
            op, version = re.match(r"^(>=|<=|>|<|=|\^|~)?v?(.*)$", comparator).groups()
            if version in ("*", "x", ""):
                continue
            parts = version.split(".")
            wild = next((i for i, p in enumerate(parts) if p in ("x", "X", "*")), len(parts))
            want = _version_key(".".join(parts[:wild]))[:3] + (0,) * (3 - min(wild, 3))
            if op in (None, "=") and wild < 3:
                op, upper = "^x", wild  # 20 or 20.x: same leading parts
            if op == ">=":
                ok &= have >= want
            elif op == ">":
                ok &= have > want
            elif op == "<=":
                ok &= have <= want
            elif op == "<":
                ok &= have < want
            elif op == "^x":
                ok &= have[:upper] == want[:upper]
            elif op == "^":
                lead = next((i for i, p in enumerate(want) if p), 2)
                ok &= have >= want and have[:lead + 1] == want[:lead + 1]
            elif op == "~":
                ok &= have >= want and have[:2] == want[:2]
            else:
                ok &= have == want
        if ok:
            return True
    return False


@pytest.mark.parametrize(("node", "expression", "expected"), [
    ("v20.20.2", ">=v8.17.0", True),
    ("v20.20.2", "20.16.0", False),
    ("v20.20.2", "22.17.1", False),
    ("v20.20.2", "^20.10.0", True),
    ("v20.20.2", "~20.19.0", False),
    ("v20.20.2", ">=18 <21", True),
    ("v20.20.2", "18 || 20.x", True),
    ("v20.20.2", ">=22", False),
])
def test_engine_range_check(node: str, expression: str, expected: bool) -> None:
    assert _satisfies(node, expression) is expected


@pytest.fixture(scope="session")
def scoped_client(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """node_modules holding the newest @taskcluster/client whose engines admit this Node."""
    if not shutil.which("node") or not shutil.which("npm"):
        _unavailable("node and npm are not installed")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True,
                          timeout=30).stdout.strip()
    view = _npm(["view", f"{SCOPED_CLIENT}@*", "version", "engines", "--json"], HERE)
    if view.returncode != 0:
        if "E404" in view.stdout + view.stderr:
            # A fact about the registry, not a broken machine: skip even under CI.
            pytest.skip(f"the npm registry has no package {SCOPED_CLIENT} "
                        "(npm view: E404 Not Found); the official JS client is published as "
                        "taskcluster-client, tested by test_taskcluster_client")
        _unavailable(f"npm view {SCOPED_CLIENT} failed: {view.stderr.strip()[-500:]}")
    releases = json.loads(view.stdout)
    releases = releases if isinstance(releases, list) else [releases]
    fitting = [r["version"] for r in releases
               if _satisfies(node, (r.get("engines") or {}).get("node", "*"))]
    if not fitting:
        pytest.skip(f"no release of {SCOPED_CLIENT} runs on Node {node}: every one of "
                    f"{len(releases)} pins engines.node outside it")
    version = max(fitting, key=_version_key)
    prefix = tmp_path_factory.mktemp("scoped-client")
    done = _npm(["install", "--no-save", "--prefix", str(prefix), f"{SCOPED_CLIENT}@{version}"],
                prefix)
    if done.returncode != 0:
        _unavailable(f"npm install {SCOPED_CLIENT}@{version} failed: {done.stderr[-800:]}")
    return prefix / "node_modules"


def test_scoped_client(scoped_client: pathlib.Path, mock: MockQueue) -> None:
    """@taskcluster/client, the newest release that runs on this Node."""
    seen = run_flow(mock, SCOPED_CLIENT, node_path=scoped_client)
    assert seen["client"] == SCOPED_CLIENT
    check_flow(seen, mock)
