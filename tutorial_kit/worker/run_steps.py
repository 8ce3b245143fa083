"""Steps of a shell payload's run that the mock's shell engine (`shell.ShellRun`) and the
standalone worker (`tutorial_kit.worker.run.Run`) take alike: running a command until it ends,
runs out of time or is stopped, killing it with all it started, and turning one declared
artifact (a file or a directory) into uploads or error artifacts. Each caller keeps its own
log, queue and upload path and passes them in."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import time
from typing import TYPE_CHECKING, Any, Callable

from .payloads import ArtifactSpec, RunPlan

if TYPE_CHECKING:
    from .claim import HeldClaim

#: A directory artifact uploads at most this many files (the first, in path order).
MAX_DIRECTORY_FILES = 1000


def kill_session(process: subprocess.Popen) -> None:
    """Kill the command and everything it started (it leads its own session)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def run_command(command: list[str], *, cwd: Any, env: dict[str, str], log_fd: int,
                name: str, kill_at: float, step: float, say: Callable[[str], None],
                stop: Callable[[float], bool], preexec_fn: Callable[[], Any] | None = None,
                ) -> tuple[int | None, bool]:
    """Run `command` in a session of its own, its output into `log_fd`; (exit code, timed out).

    Every `step` seconds `stop(now)` is asked (``time.monotonic()``): True ends the run without
    an exit code; at `kill_at` it has run out of time. Either way the command and all it
    started are killed. A command that cannot start is said (`say`) and exits 127, as in a
    shell."""
    try:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                   stdout=log_fd, stderr=subprocess.STDOUT,
                                   start_new_session=True, preexec_fn=preexec_fn)
    except OSError as error:
        say(f"cannot start {name!r}: {error.strerror or error}")
        return 127, False
    try:
        while True:
            try:
                return process.wait(timeout=step), False
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if stop(now):
                return None, False
            if now >= kill_at:
                return None, True
    finally:
        if process.poll() is None:
            kill_session(process)


def publish_declared(spec: ArtifactSpec, path: pathlib.Path, expires: str, *,
                     file: Callable[[str, pathlib.Path, str | None, str], bool],
                     error: Callable[[str, str, str, str], None],
                     note: Callable[[str], None] | None = None) -> bool:
    """Upload the artifact `spec` declares, read from `path`; False when it is missing, of the
    wrong kind or (one of its files) unreadable.

    `file(name, path, content_type, expires)` uploads one file, `error(name, reason, message,
    expires)` creates an error artifact in its place; `note(text)`, when given, is told that a
    directory holds more than `MAX_DIRECTORY_FILES` files (only the first are uploaded)."""
    if not path.exists():
        error(spec.name, "file-missing-on-worker", f"{spec.path} does not exist on the worker",
              expires)
        return False
    if spec.type == "file":
        if not path.is_file():
            error(spec.name, "invalid-resource-on-worker", f"{spec.path} is not a regular file",
                  expires)
            return False
        return file(spec.name, path, spec.content_type, expires)
    if not path.is_dir():
        error(spec.name, "invalid-resource-on-worker", f"{spec.path} is not a directory",
              expires)
        return False
    files = sorted(p for p in path.rglob("*") if p.is_file())
    if len(files) > MAX_DIRECTORY_FILES and note is not None:
        note(f"artifact {spec.name}: {len(files)} files; uploading the first "
             f"{MAX_DIRECTORY_FILES}")
    ok = True
    for one in files[:MAX_DIRECTORY_FILES]:
        name = f"{spec.name.rstrip('/')}/{one.relative_to(path).as_posix()}"
        ok &= file(name, one, None, expires)
    return ok


def resolution(plan: RunPlan, code: int | None, timed_out: bool,
               artifacts_ok: bool) -> tuple[str, str | None]:
    """How a run that went its course resolves, as (state, reason): failed when it ran out of
    time, exception/intermittent-task on one of the payload's retry exit codes, completed on
    exit code 0 with every artifact uploaded, else failed."""
    if timed_out:
        return "failed", None
    if code in plan.retry_exit_codes:
        return "exception", "intermittent-task"
    if code == 0 and artifacts_ok:
        return "completed", None
    return "failed", None


def report_resolution(held: "HeldClaim", state: str, reason: str | None) -> None:
    """Tell the queue how the claimed run ended: completed, failed, or an exception with its
    reason. The queue's refusal (e.g. 409, cancelled meanwhile) is raised to the caller, which
    says what it makes of it."""
    if state == "completed":
        held.queue.reportCompleted(held.task_id, held.run_id)
    elif state == "failed":
        held.queue.reportFailed(held.task_id, held.run_id)
    else:
        held.queue.reportException(held.task_id, held.run_id, {"reason": reason})
