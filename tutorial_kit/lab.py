"""`make lab`: open the tutorial in JupyterLab, on the embedded mock queue or a real deployment.

When ``TASKCLUSTER_ROOT_URL`` is set, JupyterLab simply inherits it (and the credentials) and no
mock is started. Otherwise a mock queue is started in this process, with a file store under
``.mock-queue/`` so tasks survive a restart, and its rootUrl and tutorial credentials are exported
to the Jupyter server, so every kernel and terminal inherits them. Ctrl-C stops both.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import signal
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def jupyter_command(notebook_dir: pathlib.Path, extra: list[str]) -> list[str]:
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={notebook_dir}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI run as root; Jupyter refuses otherwise
    return cmd + extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tutorial-kit lab", description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", default=str(ROOT / "notebooks"), help="folder to open")
    parser.add_argument("--db", default=str(ROOT / ".mock-queue" / "queue.sqlite3"),
                        help="the mock queue's file store (default: .mock-queue/queue.sqlite3)")
    parser.add_argument("--memory", action="store_true", help="keep the mock queue in memory")
    args, extra = parser.parse_known_args(argv)

    env = dict(os.environ)
    mock = None
    if env.get("TASKCLUSTER_ROOT_URL"):
        print(f"Using the deployment at {env['TASKCLUSTER_ROOT_URL']} (TASKCLUSTER_ROOT_URL is set);"
              " no mock queue started.", flush=True)
    else:
        from tutorial_kit.mock import start

        db = None
        if not args.memory:
            pathlib.Path(args.db).parent.mkdir(parents=True, exist_ok=True)
            db = args.db
        mock = start(db=db)
        env.update(mock.env())
        print(f"Mock queue running at {mock.root_url} (store: {db or 'memory'}).", flush=True)

    proc = subprocess.Popen(jupyter_command(pathlib.Path(args.notebooks), extra), env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
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
