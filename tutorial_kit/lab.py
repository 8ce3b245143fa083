"""``tutorial-kit lab [DIR]`` (and ``make lab``): open the lessons in JupyterLab.

After ``pip install 'tutorial-kit[lab]'`` the lessons travel inside the package
(``tutorial_kit/notebooks/``, built from the repository's ``notebooks/``). They are copied into DIR
(default ``./tutorial-kit-lessons``) so the learner's edits live in their own folder, never in
site-packages: an existing copy is kept as it is, and when the installed package carries a newer
version of a lesson, that version is written beside it (``01-create-task.v0.2.0.ipynb``). In a
checkout, ``make lab`` opens the repository's ``notebooks/`` itself (no copy).

When ``TASKCLUSTER_ROOT_URL`` is set, JupyterLab simply inherits it (and the credentials) and no
mock is started. Otherwise a mock queue is started in this process, with a file store in
``DIR/.mock-queue/`` so tasks survive a restart, and its rootUrl and tutorial credentials are
exported to the Jupyter server, so every kernel and terminal inherits them. Ctrl-C stops both.

Every option after DIR that is not one of ours goes to JupyterLab unchanged
(``--no-browser``, ``--ServerApp.port=8899``, ``--IdentityProvider.token=...``).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.resources
import importlib.util
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys

from tutorial_kit import __version__

#: The repository root, when this module runs from a checkout (``make lab``, editable installs).
ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_DIR = "tutorial-kit-lessons"
#: What a copy remembers of the packaged files it was made from (to tell a newer one).
MANIFEST = pathlib.Path(".tutorial-kit") / "copied.json"
TEMPLATE = "lesson-template.ipynb"
INSTALL_HINT = "pip install 'tutorial-kit[lab]'"


def lesson_source() -> pathlib.Path:
    """The folder the lessons come from: the package's ``notebooks/`` (a wheel), else the
    checkout's ``notebooks/``. Raises FileNotFoundError when neither is there."""
    packaged = pathlib.Path(str(importlib.resources.files("tutorial_kit") / "notebooks"))
    if any(packaged.glob("[0-9][0-9]-*.ipynb")):
        return packaged
    checkout = ROOT / "notebooks"
    if (ROOT / "pyproject.toml").is_file() and any(checkout.glob("[0-9][0-9]-*.ipynb")):
        return checkout
    raise FileNotFoundError(f"no lessons in {packaged} (the package was built without them)")


def lesson_files(source: pathlib.Path) -> list[pathlib.Path]:
    """The lessons, and the lesson template (beside them in a wheel, in docs/ in a checkout)."""
    files = sorted(source.glob("[0-9][0-9]-*.ipynb"))
    for template in (source / TEMPLATE, source.parent / "docs" / TEMPLATE):
        if template.is_file():
            files.append(template)
            break
    return files


def _digest(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_lessons(dest: pathlib.Path, source: pathlib.Path | None = None) -> list[str]:
    """Copy the lessons into `dest` without ever overwriting a file there; returns one line per
    thing done. A lesson whose packaged version changed since it was copied is written beside
    the learner's copy as ``NAME.v<version>.ipynb``."""
    source = source or lesson_source()
    dest.mkdir(parents=True, exist_ok=True)
    manifest_path = dest / MANIFEST
    try:
        copied: dict[str, str] = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        copied = {}
    done = []
    for file in lesson_files(source):
        target = dest / file.name
        digest = _digest(file)
        if not target.exists():
            shutil.copyfile(file, target)
            copied[file.name] = digest
            done.append(f"copied {file.name}")
            continue
        if digest in (copied.get(file.name), _digest(target)):
            copied.setdefault(file.name, digest)
            continue  # the learner's copy came from this version (edited or not)
        beside = target.with_name(f"{target.stem}.v{__version__}{target.suffix}")
        if not beside.exists() or _digest(beside) != digest:
            shutil.copyfile(file, beside)
            done.append(f"kept your {file.name}; the installed package's newer version is "
                        f"beside it as {beside.name}")
    manifest_path.parent.mkdir(exist_ok=True)
    manifest_path.write_text(json.dumps(copied, indent=1, sort_keys=True))
    return done


def jupyter_command(notebook_dir: pathlib.Path, extra: list[str]) -> list[str]:
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={notebook_dir}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        cmd.append("--allow-root")  # containers and CI run as root; Jupyter refuses otherwise
    return cmd + extra


def missing_lab() -> list[str]:
    """The packages of the ``lab`` extra that this Python lacks (they are launched, not
    imported, so a plain ``pip install tutorial-kit`` does not bring them)."""
    return [name for name in ("jupyterlab", "ipykernel") if importlib.util.find_spec(name) is None]


def parse(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="tutorial-kit lab", description=__doc__.splitlines()[0],
                                     allow_abbrev=False)
    parser.add_argument("dir", nargs="?", default=None, metavar="DIR",
                        help=f"where the lessons are copied and opened (default ./{DEFAULT_DIR}; "
                             "a checkout's notebooks/ is opened in place)")
    parser.add_argument("--db", default=None,
                        help="the mock queue's file store (default: DIR/.mock-queue/queue.sqlite3)")
    parser.add_argument("--memory", action="store_true", help="keep the mock queue in memory")
    # Options we do not know are JupyterLab's: parse_known_args hands them back untouched.
    return parser.parse_known_args(argv)


def prepare(directory: str | None) -> tuple[pathlib.Path, list[str]]:
    """The folder to open, lessons in place: a copy of the packaged lessons, or the checkout's
    own notebooks/ when DIR names them."""
    source = lesson_source()
    dest = pathlib.Path(directory or DEFAULT_DIR).resolve()
    if dest == source.resolve():
        return dest, []  # `make lab`: the repository's notebooks, edited in place
    return dest, copy_lessons(dest, source)


class _Terminated(KeyboardInterrupt):
    """SIGTERM (a service manager, a test): JupyterLab gets SIGTERM too and stops at once."""


def _interrupt(_signum: int, _frame: object) -> None:
    raise _Terminated


def main(argv: list[str] | None = None) -> int:
    args, extra = parse(argv)
    missing = missing_lab()
    if missing:
        sys.stderr.write(f"tutorial-kit lab: {' and '.join(missing)} not installed in this Python "
                         f"({sys.executable}). Install them with:\n    {INSTALL_HINT}\n")
        return 1
    try:
        notebook_dir, done = prepare(args.dir)
    except OSError as error:
        sys.stderr.write(f"tutorial-kit lab: {error}\n")
        return 1
    for line in done:
        print(line, flush=True)

    env = dict(os.environ)
    mock = None
    if env.get("TASKCLUSTER_ROOT_URL"):
        print(f"Using the deployment at {env['TASKCLUSTER_ROOT_URL']} (TASKCLUSTER_ROOT_URL is set);"
              " no mock queue started.", flush=True)
    else:
        from tutorial_kit.mock import start

        db = None
        if not args.memory:
            db = (pathlib.Path(args.db) if args.db
                  else notebook_dir / ".mock-queue" / "queue.sqlite3")
            db.parent.mkdir(parents=True, exist_ok=True)
        mock = start(db=db)
        env.update(mock.env())
        print(f"Mock queue running at {mock.root_url} (store: {db or 'memory'}).", flush=True)

    print(f"Opening JupyterLab in {notebook_dir}", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # a SIGTERM stops JupyterLab and the mock too
    proc = subprocess.Popen(jupyter_command(notebook_dir, extra), env=env, cwd=notebook_dir)
    try:
        return proc.wait()
    except KeyboardInterrupt as stop:
        # Ctrl-C: a second SIGINT confirms JupyterLab's "Shutdown this Jupyter server?"
        proc.send_signal(signal.SIGTERM if isinstance(stop, _Terminated) else signal.SIGINT)
        try:
            return proc.wait(timeout=15)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            proc.kill()
            return 130
    finally:
        if mock is not None:
            mock.stop()


if __name__ == "__main__":
    sys.exit(main())
