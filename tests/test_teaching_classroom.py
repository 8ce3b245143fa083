"""docs/teaching.md's classroom recipe, executed as written.

The three ``bash`` blocks marked ``<!-- recipe: classroom-... -->`` run in a shell: the teacher's
(in a fresh directory, in the background, as a teacher leaves it running), then, as learner
alice, the export lines with the placeholders a teacher fills in (the machine's address, the
token from the credentials file) and the "try it as a learner" block (doctor, then a lesson
under nbval). Two substitutions only, both of the test's environment: port 8080 becomes a free
port (other servers run on this machine), and ``.venv/bin/`` this interpreter's directory.
"""

from __future__ import annotations

import csv
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEACHING = ROOT / "docs" / "teaching.md"


def recipe(name: str) -> str:
    """The bash block right after ``<!-- recipe: <name> -->``."""
    found = re.search(rf"<!-- recipe: {re.escape(name)} -->\s*```bash\n(.*?)```",
                      TEACHING.read_text(), re.S)
    assert found, f"docs/teaching.md has no recipe {name!r}"
    return found.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def adapt(script: str, port: int) -> str:
    bindir = pathlib.Path(sys.executable).parent
    return script.replace(":8080", f":{port}").replace("--port 8080", f"--port {port}") \
        .replace(".venv/bin/", f"{bindir}/")


@pytest.mark.slow
def test_the_classroom_recipe_works_as_written(tmp_path):
    from tutorial_kit.mock.security.sandbox import find_bwrap

    if find_bwrap() is None:
        pytest.skip("bubblewrap is not installed (`make test` installs it when root)")
    teacher_dir = tmp_path / "teacher"
    teacher_dir.mkdir()
    port = free_port()
    log = (tmp_path / "server.log").open("w")  # a file: a pipe nobody reads would fill up
    server = subprocess.Popen(["bash", "-c", adapt(recipe("classroom-teacher"), port)],
                              cwd=teacher_dir, stdout=subprocess.PIPE, stderr=log,
                              text=True, start_new_session=True)
    try:
        credentials = teacher_dir / "classroom-credentials.csv"
        give_up = time.monotonic() + 60
        while True:
            line = server.stdout.readline()
            if line.startswith("export TASKCLUSTER_ACCESS_TOKEN"):
                break
            assert line and time.monotonic() < give_up, (line, server.poll())
        rows = {r["learner"]: r for r in csv.DictReader(credentials.open())}
        assert sorted(rows) == ["alice", "bob"]
        learner = adapt(recipe("classroom-learner"), port) \
            .replace("<teacher-machine>", "127.0.0.1") \
            .replace("<from the file>", rows["alice"]["accessToken"])
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TASKCLUSTER_", "TUTORIAL_KIT_"))}
        done = subprocess.run(
            ["bash", "-ec", learner + "\n" + adapt(recipe("classroom-try"), port)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
        assert "a classroom's shared mock queue" in done.stdout
        assert "✘" not in done.stdout  # doctor lists no problem
        assert re.search(r"\d+ passed", done.stdout)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
    assert "run in a sandbox: bubblewrap" in (tmp_path / "server.log").read_text()
    assert (teacher_dir / "classroom.sqlite3.credentials.json").exists()
