"""The ways in: `python -m tutorial_kit` as the console script, `slugId`, and `tutorial-kit lab`
saying how to install what it launches when it is missing."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys

import pytest

import tutorial_kit as tk
from tutorial_kit import lab


def test_python_m_tutorial_kit_is_the_console_script() -> None:
    by_module = subprocess.run([sys.executable, "-m", "tutorial_kit", "--version"],
                               capture_output=True, text=True, timeout=60)
    assert by_module.returncode == 0
    assert by_module.stdout.strip() == f"tutorial-kit {tk.__version__}"
    script = shutil.which("tutorial-kit", path=os.path.dirname(sys.executable))
    assert script, "the console script is not installed beside this Python"
    by_script = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert by_script.stdout == by_module.stdout
    # and the same errors
    bad = [subprocess.run(cmd + ["mock-queue", "serve", "--port", "x"], capture_output=True,
                          text=True, timeout=60) for cmd in ([sys.executable, "-m", "tutorial_kit"],
                                                              [script])]
    assert bad[0].returncode == bad[1].returncode == 2 and bad[0].stderr == bad[1].stderr


def test_slugId_is_slugid() -> None:
    from tutorial_kit.client import slugId, slugid

    assert tk.slugId is slugid and slugId is slugid
    assert re.fullmatch(r"[A-Za-f][A-Za-z0-9_-]{21}", tk.slugId())
    assert "slugId" in dir(tk)


def test_lab_without_jupyterlab_says_how_to_install(monkeypatch, capsys, tmp_path) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "jupyterlab" else real(name, *a))
    monkeypatch.chdir(tmp_path)
    assert lab.main(["--no-browser"]) == 1
    err = capsys.readouterr().err
    assert "jupyterlab not installed" in err and "pip install 'tutorial-kit[lab]'" in err
    assert not any(tmp_path.iterdir()), "nothing is copied or started before the check"


def test_lab_options_pass_through_unchanged() -> None:
    args, extra = lab.parse(["here", "--no-browser", "--ServerApp.port=8899",
                             "--IdentityProvider.token=abc", "--memory"])
    assert args.dir == "here" and args.memory
    assert extra == ["--no-browser", "--ServerApp.port=8899", "--IdentityProvider.token=abc"]
    cmd = lab.jupyter_command(lab.ROOT, extra)
    assert cmd[-3:] == extra and cmd[1:3] == ["-m", "jupyterlab"]


def test_mohawk_is_not_imported_at_runtime() -> None:
    """mohawk is a test tool (the official client's Hawk, to check ours): importing and using
    the package, the mock included, never loads it."""
    code = ("import sys, tutorial_kit as tk\n"
            "from tutorial_kit.mock import start\n"
            "with start(workers=False) as m:\n"
            "    q = tk.Queue({'rootUrl': m.root_url, 'credentials': m.credentials})\n"
            "    q.ping(); q.listProvisioners()\n"
            "print('mohawk' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
