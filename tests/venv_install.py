"""``pip install`` into the fresh virtualenvs of the install tests (the wheel and `tutorial-kit
lab`, the declared minimum versions, the Binder image): through uv when the test tools brought it,
else through the virtualenv's own pip.

pip keeps no cache these machines can reuse, so each of those tests downloaded its few hundred MB
again on every run; uv keeps a wheel cache of its own (``~/.cache/uv``) and installs from it in
seconds. Nothing else changes: the virtualenvs are still made by ``python -m venv`` and keep
their own pip, which runs the checks (``pip check``, ``pip freeze``) and whatever a user's pip
does there (Binder's postBuild, a build from a source tree); the requirements are the same and
both resolvers take the highest versions they allow. ``TUTORIAL_KIT_TEST_PIP=1`` uses pip for
everything, as before.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess


def uv_binary() -> str | None:
    """The uv executable, or None (absent, or ``TUTORIAL_KIT_TEST_PIP=1``)."""
    if os.environ.get("TUTORIAL_KIT_TEST_PIP") == "1":
        return None
    try:
        from uv import find_uv_bin
    except ImportError:
        return shutil.which("uv")
    try:
        return find_uv_bin()
    except FileNotFoundError:
        return shutil.which("uv")


@functools.cache
def _uv_cache(uv: str) -> str:
    """This user's uv cache, named explicitly: a test may run the install with another $HOME
    (the Binder image's is the repository), which would start an empty cache there."""
    return subprocess.run([uv, "cache", "dir"], capture_output=True, text=True,
                          check=True).stdout.strip()


def pip_install(python: object, *args: str) -> list[str]:
    """The command that runs ``pip install *args`` for the virtualenv of ``python``.

    ``args`` are pip's (``--quiet``, ``--no-deps``, ``-r FILE``, requirements, a wheel file with
    extras); uv's ``pip install`` takes the same ones. Not for a source tree: uv reuses a build
    of a local directory until its pyproject.toml or setup.py changes, whatever else changed.
    """
    uv = uv_binary()
    if uv is not None:
        # --system-certs: the machine's CA store (where a TLS-inspecting proxy's CA lives, and
        # what pip is pointed at), also under an environment without SSL_CERT_FILE
        return [uv, "pip", "install", "--python", str(python), "--system-certs",
                "--cache-dir", _uv_cache(uv), *args]
    return [str(python), "-m", "pip", "install", *args]
