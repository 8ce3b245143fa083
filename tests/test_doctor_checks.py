"""The doctor's checks of what a learner trips on: half-set credentials, the widgets' front end in
JupyterLab, the lessons, the mock's workers. Run through the real CLI where the exit matters."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

import tutorial_kit as tk
from tutorial_kit import selfcheck
from tutorial_kit.mock import start


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TASKCLUSTER_")}
    return subprocess.run([sys.executable, "-m", "tutorial_kit", *args], capture_output=True,
                          text=True, timeout=120, env={**base, **env})


@pytest.mark.parametrize("present,absent", [("TASKCLUSTER_CLIENT_ID", "TASKCLUSTER_ACCESS_TOKEN"),
                                            ("TASKCLUSTER_ACCESS_TOKEN", "TASKCLUSTER_CLIENT_ID")])
def test_half_set_credentials_are_a_failed_row_with_the_fix(present: str, absent: str) -> None:
    with start(workers=False) as mock:
        done = _cli("doctor", env={"TASKCLUSTER_ROOT_URL": mock.root_url, present: "tutorial"})
    # Not a usage error (2) nor a traceback: the table, with a failed row, and exit 1.
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    rows = {line.split()[2]: line for line in done.stdout.splitlines()
            if line.startswith(("✔", "✘", "?"))}
    assert rows["environment"].startswith("✘ problem")
    assert f"export {absent}=" in rows["environment"] and f"unset {present}" in rows["environment"]
    # the rest still ran, anonymously, against the live mock
    assert rows["queue"].startswith("✔ ok"), done.stdout


def test_workers_row_on_mocks_with_and_without_workers() -> None:
    with start(workers=False) as bare:
        report = tk.doctor(tk.Queue({"rootUrl": bare.root_url}))
        row = {c.name: c for c in report}["mock workers"]
        assert row.ok is False and "--no-workers" in row.detail
    with start() as full:
        report = tk.doctor(tk.Queue({"rootUrl": full.root_url}))
        row = {c.name: c for c in report}["mock workers"]
        assert row.ok is True and "built-in/succeed" in row.detail


def test_lab_extension_row_reads_the_labextension_jupyterlab_loads(tmp_path, monkeypatch) -> None:
    row = selfcheck._lab_extension()
    assert row.ok is True and selfcheck.WIDGETS_EXTENSION in row.detail
    # A JupyterLab whose data paths hold only an ipywidgets-7 era front end: a failed row.
    old = tmp_path / "labextensions" / selfcheck.WIDGETS_EXTENSION
    old.mkdir(parents=True)
    (old / "package.json").write_text(json.dumps({"version": "3.1.4"}))
    monkeypatch.setattr("jupyter_core.paths.jupyter_path",
                        lambda *parts: [str(tmp_path / "labextensions")])
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "elsewhere"))
    row = selfcheck._lab_extension()
    assert row.ok is False and "3.1.4" in row.detail and "jupyterlab_widgets" in row.detail
    # and one with none at all
    (old / "package.json").unlink()
    row = selfcheck._lab_extension()
    assert row.ok is False and "Fix" in row.detail


def test_lessons_row_counts_the_lessons() -> None:
    row = selfcheck._lessons()
    expected = len(list(selfcheck.pathlib.Path(tk.lab.lesson_source()).glob("[0-9][0-9]-*.ipynb")))
    assert row.ok is True and f"{expected} in" in row.detail and expected >= 7


def test_doctor_on_an_in_process_mock() -> None:
    """Every row works without a socket too: scopes and workers are asked through the same
    transport the client uses."""
    with start(in_process=True) as mock:
        report = tk.doctor(mock.queue())
    rows = {check.name: check for check in report}
    assert rows["credentials"].ok is True and "tutorial" in rows["credentials"].detail
    assert rows["mock workers"].ok is True and rows["queue reachable"].ok is True
