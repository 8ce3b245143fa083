"""Smoke test: the official JS client (taskcluster-client 55.x) drives the mock queue.

Skips when node/npm are missing or the package cannot be installed (offline); the install goes
to tests/conformance/js/node_modules (git-ignored) and is reused by later runs.
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import shutil
import subprocess

import pytest

JS = pathlib.Path(__file__).parent / "js"


@pytest.fixture(scope="session")
def js_client() -> pathlib.Path:
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node/npm are not installed")
    if not (JS / "node_modules" / "taskcluster-client").is_dir():
        try:
            done = subprocess.run(["npm", "install", "--no-package-lock", "--no-audit", "--no-fund"],
                                  cwd=JS, capture_output=True, text=True, timeout=180)
        except subprocess.TimeoutExpired:
            pytest.skip("npm install taskcluster-client timed out")
        if done.returncode != 0:
            pytest.skip(f"npm install taskcluster-client failed: {done.stderr.strip()[-500:]}")
    return JS


def test_js_client_flow(js_client, mock_queue):
    env = {"PATH": os.environ.get("PATH", ""), **mock_queue.env()}
    task_queue_id = f"conformance-{secrets.token_hex(4)}/js-client"
    done = subprocess.run(["node", "smoke.js", task_queue_id], cwd=js_client, env=env,
                          capture_output=True, text=True, timeout=60)
    lines = done.stdout.strip().splitlines()
    assert lines, f"no output from node (exit {done.returncode}): {done.stderr[-1000:]}"
    seen = json.loads(lines[-1])
    assert "error" not in seen, seen["error"]
    assert seen == {
        "taskId": seen["taskId"],
        "createdState": "pending",
        "statusState": "pending",
        "claimedTaskId": seen["taskId"],
        "putStatus": 200,
        "downloadStatus": 200,
        "downloadText": "hello from js\n",
        "completedState": "completed",
        "unknown": {"statusCode": 404, "code": "ResourceNotFound"},
    }
