"""One claimed run of ``tutorial-kit worker``: from the claim to the resolution.

1. keep the claim (``reclaimTask`` before ``takenUntil``, swapping in the fresh credentials);
2. read the payload (docker-worker's or generic-worker's shape); one it cannot run resolves
   ``exception``/``malformed-payload`` with an error artifact saying why;
3. run the command(s) in a fresh directory, output into the log, killed after ``maxRunTime``
   (the run then fails, as on a real worker);
4. upload the declared artifacts (a missing path becomes an ``error`` artifact, as real workers
   do); ``public/logs/live.log`` points at the live view while the run goes on (see
   :mod:`.livelog`), then the whole log is stored as ``public/logs/live_backing.log`` and
   ``live.log`` becomes a link to it;
5. report ``completed`` (exit 0), ``failed`` (anything else; a missing artifact too),
   ``exception``/``intermittent-task`` (an exit code listed in ``onExitStatus.retry``) or, when
   the worker is stopped, ``exception``/``worker-shutdown`` (the queue then schedules a retry).
"""

from __future__ import annotations

import os
import pathlib
import shlex
import threading
import time
from typing import Any, Callable

from .claim import HeldClaim
from .payloads import (MALFORMED_ARTIFACT, ArtifactSpec,
                                                MalformedPayload, RunPlan, parse_payload)
from .run_steps import (publish_declared, report_resolution, resolution,
                                                 run_command)
from .uploads import content_type_for

from . import artifacts

LIVE_LOG = "public/logs/live.log"
LIVE_BACKING_LOG = "public/logs/live_backing.log"
WAIT_STEP = 0.05  # seconds between looks at a running command
PREFIX = "[tutorial-kit worker]"


class Run:
    """One claimed run. ``say`` prints a line of the worker's own output (not the task log)."""

    def __init__(self, claim: dict[str, Any], root_url: str, work_dir: pathlib.Path, *,
                 use_object: bool, say: Callable[[str], None], livelogs: Any = None):
        self.held = HeldClaim(claim, root_url, None, on_lost=lambda why: self.interrupt("lost"))
        self.root_url = root_url
        self.expires: str = claim["task"]["expires"]
        self.use_object = use_object
        self.say = say
        self.dir = work_dir / f"{self.held.task_id}-{self.held.run_id}"
        self.log_path = work_dir / f"{self.held.task_id}-{self.held.run_id}.log"
        self.reason: str | None = None  # worker-shutdown | lost
        self._interrupted = threading.Event()
        self.started = time.monotonic()
        self.livelogs = livelogs
        self._live_done: threading.Event | None = None

    @property
    def name(self) -> str:
        return f"task {self.held.task_id} run {self.held.run_id}"

    def interrupt(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        self._interrupted.set()

    # -- the run ---------------------------------------------------------------------------
    def execute(self) -> str:
        """Run it; returns how it ended (``completed``, ``failed``, ``exception/<reason>``)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.held.start_reclaiming()
        try:
            with open(self.log_path, "w+b") as log:
                self._log = log
                self.line(f"{PREFIX} {self.held.worker_group}/{self.held.worker_id} runs "
                          f"{self.name} in {self.dir}")
                self._live_view()
                try:
                    plan = parse_payload(self.held.task.get("payload"))
                except MalformedPayload as why:
                    return self._refuse(str(why))
                return self._run(plan)
        finally:
            if self._live_done is not None:
                self._live_done.set()
            self.held.close()

    def _live_view(self) -> None:
        """Point live.log at this machine's live view of the log while the run goes on."""
        if self.livelogs is None:
            return
        self._live_done = self.livelogs.add(self.held.task_id, self.held.run_id, self.log_path)
        url = self.livelogs.url(self.held.task_id, self.held.run_id)
        self._try("the live log", lambda q: q.createArtifact(
            self.held.task_id, self.held.run_id, LIVE_LOG, {
                "storageType": "reference", "url": url, "expires": self.expires,
                "contentType": artifacts.LOG_CONTENT_TYPE}))

    def line(self, text: str) -> None:
        self._log.write((text + "\n").encode("utf-8", "replace"))
        self._log.flush()

    def _refuse(self, why: str) -> str:
        self.line(f"{PREFIX} malformed payload: {why}; nothing was run")
        self._error_artifact(MALFORMED_ARTIFACT, "invalid-resource-on-worker",
                             f"Malformed payload: {why}", self.expires)
        return self._finish("exception", "malformed-payload")

    def _run(self, plan: RunPlan) -> str:
        if plan.style == "docker-worker" and plan.image is not None:
            self.line(f"{PREFIX} image {plan.image} is ignored: this worker runs the command "
                      "directly on this machine, in a fresh directory")
        for note in plan.notes:
            self.line(f"{PREFIX} {note}")
        env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
               "HOME": str(self.dir), "LANG": "C.UTF-8", "TASK_ID": self.held.task_id,
               "RUN_ID": str(self.held.run_id), "TASKCLUSTER_ROOT_URL": self.root_url,
               "TASK_GROUP_ID": self.held.task.get("taskGroupId", ""), **plan.env}
        code: int | None = 0
        timed_out = False
        for argv in plan.commands:
            if self.reason:
                break
            self.line(f"{PREFIX} $ {shlex.join(argv)}")
            code, timed_out = self._command(argv, env, plan.max_run_time)
            if code != 0 or timed_out or self.reason:
                break
        if self.reason == "lost":
            self.line(f"{PREFIX} the queue says this run is no longer ours (cancelled, past "
                      "its deadline, or resolved elsewhere): stopped")
            self._publish_log()
            return "lost"
        if self.reason == "worker-shutdown":
            self.line(f"{PREFIX} the worker is shutting down: reporting worker-shutdown")
            self._publish_log()
            return self._finish("exception", "worker-shutdown")
        artifacts_ok = all([self._artifact(spec) for spec in plan.artifacts])
        if timed_out:
            self.line(f"{PREFIX} maxRunTime of {plan.max_run_time} s exceeded: killed")
        state, reason = resolution(plan, code, timed_out, artifacts_ok)
        self.line(f"{PREFIX} exit code {code}; result: {state}" + (f" ({reason})" if reason
                                                                  else ""))
        self._publish_log()
        return self._finish(state, reason)

    def _command(self, argv: list[str], env: dict[str, str],
                 max_run_time: int) -> tuple[int | None, bool]:
        """Run one command into the log; (exit code, timed out)."""
        return run_command(argv, cwd=self.dir, env=env, log_fd=self._log.fileno(), name=argv[0],
                           kill_at=self.started + max_run_time, step=WAIT_STEP,
                           say=lambda text: self.line(f"{PREFIX} {text}"),
                           stop=lambda now: self._interrupted.is_set())

    # -- artifacts -------------------------------------------------------------------------
    def _try(self, what: str, action: Callable[[Any], Any]) -> bool:
        try:
            action(self.held.queue)
            return True
        except Exception as error:  # the queue's answer goes into the log, the run goes on
            self.line(f"{PREFIX} {what} failed: {error}")
            return False

    def _error_artifact(self, name: str, reason: str, message: str, expires: str) -> None:
        self.line(f"{PREFIX} artifact {name}: error artifact ({reason}): {message}")
        self._try(f"error artifact {name}", lambda q: artifacts.error(
            q, self.held.task_id, self.held.run_id, name, reason=reason, message=message,
            expires=expires))

    def _artifact(self, spec: ArtifactSpec) -> bool:
        raw = pathlib.Path(spec.path)
        path = raw if raw.is_absolute() else self.dir / raw
        return publish_declared(spec, path, spec.expires or self.expires,
                                file=self._file, error=self._error_artifact)

    def _file(self, name: str, path: pathlib.Path, content_type: str | None,
              expires: str) -> bool:
        try:
            data = path.read_bytes()
        except OSError as error:
            self._error_artifact(name, "file-not-readable-on-worker",
                                 f"{path} cannot be read: {error.strerror or error}", expires)
            return False
        self.line(f"{PREFIX} artifact {name}: uploading {len(data)} bytes")
        return self._try(f"artifact {name}", lambda q: artifacts.publish(
            q, self.held.task_id, self.held.run_id, name, data,
            content_type=content_type or content_type_for(name, path.name), expires=expires,
            use_object=self.use_object))

    def _publish_log(self) -> None:
        """Store the whole log; live.log becomes a link to the stored copy."""
        self._log.flush()
        if self._live_done is not None:
            self._live_done.set()  # live views end with what is there now
        data = self.log_path.read_bytes()
        if self._try("the log", lambda q: artifacts.publish(
                q, self.held.task_id, self.held.run_id, LIVE_BACKING_LOG, data,
                content_type=artifacts.LOG_CONTENT_TYPE, expires=self.expires,
                use_object=self.use_object)):
            self._try("the live log link", lambda q: q.createArtifact(
                self.held.task_id, self.held.run_id, LIVE_LOG, {
                    "storageType": "link", "artifact": LIVE_BACKING_LOG,
                    "expires": self.expires}))

    def _finish(self, state: str, reason: str | None) -> str:
        self.held.release()  # no reclaim may race the resolution
        held = self.held
        try:
            report_resolution(held, state, reason)
        except Exception as error:  # e.g. 409: cancelled meanwhile; the queue has the last word
            self.say(f"reporting {state} for {self.name} failed: {error}")
        return state + (f"/{reason}" if reason else "")
