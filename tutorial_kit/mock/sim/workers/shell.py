"""The shell engine: a worker that really runs task payloads as subprocesses on this machine.

It serves only its configured task queues (by default the ones Taskcluster's tutorials use), so
every other task queue stays free for a learner's own worker. Per claimed run it:

1. opens a live log and points ``public/logs/live.log`` (a ``reference`` artifact) at the mock's
   live-log URL, which streams the log while the run goes on;
2. reads the payload (docker-worker or generic-worker shape, see ``payloads``); a payload it
   cannot run resolves the run ``exception``/``malformed-payload`` with an error artifact saying
   why;
3. runs the command(s) in a fresh directory, output into the log, killing them after
   ``maxRunTime`` (the run then fails, as on a real worker), while a thread reclaims the claim.
   Where they run is the cluster's ``sandbox`` (``sandbox.py``): as this machine's user on a
   learner's own machine; in bubblewrap, confined to that directory, in a classroom; or not at
   all (a classroom without a sandbox: the run resolves ``exception``/``resource-unavailable``);
4. uploads the declared artifacts (read through the sandbox when there is one), then the whole
   log as ``public/logs/live_backing.log``, and
   re-points ``live.log`` at it so the log stays readable after the run;
5. reports ``completed`` (exit 0), ``failed`` (anything else) or an exception.

A crash (``crash(taskId, mode)``) kills the process; with ``claim-expired`` the worker also stops
reclaiming and reports nothing, so the claim lapses on the mock's clock; with ``worker-shutdown``
it reports that exception, as a worker shutting down does.
"""

from __future__ import annotations

import os
import pathlib
import shlex
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from tutorial_kit.api import BY_NAME

from tutorial_kit.worker import uploads
from tutorial_kit.worker.claim import ClaimLoop, HeldClaim, WorkerIdentity, log, status_code
from .context import ClusterContext
from tutorial_kit.worker.payloads import (INJECTED_MALFORMED, MALFORMED_ARTIFACT, ArtifactSpec, MalformedPayload,
                       RunPlan, parse_payload)
from tutorial_kit.worker.run_steps import (MAX_DIRECTORY_FILES, publish_declared, report_resolution, resolution,
                        run_command)

if TYPE_CHECKING:
    from tutorial_kit.mock.sim.faults import TaskFaults

#: The task queues the tutorials send their tasks to.
DEFAULT_TASK_QUEUES = ("aws-provisioner-v1/tutorial", "tutorial/docker-worker")
DEFAULT_CONCURRENCY = 4  # runs at once, per task queue
WORKER_GROUP = "tutorial-kit"
LIVE_LOG = "public/logs/live.log"
LIVE_BACKING_LOG = "public/logs/live_backing.log"
MAX_ARTIFACT_BYTES = 64 * 1024 * 1024  # the mock keeps blobs in SQLite; bigger is refused
WAIT_STEP = 0.02  # real seconds between looks at a running process
PREFIX = "[tutorial-kit]"


class ShellEngine:
    """Claim loops for the configured task queues, and the runs they are executing."""

    def __init__(self, context: ClusterContext, task_queues: list[str],
                 concurrency: int = DEFAULT_CONCURRENCY):
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be a positive integer, not {concurrency!r}")
        self.context = context
        self.task_queues = list(task_queues)
        self.concurrency = concurrency
        self.loops: list[ClaimLoop] = []
        self._pool: ThreadPoolExecutor | None = None
        self._active: dict[str, ShellRun] = {}
        self._lock = threading.Lock()
        self.finished = 0

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, self.concurrency * len(self.task_queues)),
                                        thread_name_prefix="shell-run")
        for number, task_queue_id in enumerate(self.task_queues, start=1):
            # one worker per task queue with `concurrency` slots, as a real worker's capacity;
            # one long poll per task queue keeps the load on the queue low
            identity = WorkerIdentity(task_queue_id, WORKER_GROUP, f"shell-{number}")
            slots = threading.Semaphore(self.concurrency)
            loop = ClaimLoop(self.context.queue, identity,
                             lambda claim, slots=slots: self._submit(claim, slots),
                             capacity=self.concurrency, stopping=self.context.stopping,
                             slots=slots)
            self.loops.append(loop)
            loop.start()

    def _submit(self, claim: dict[str, Any], slots: threading.Semaphore) -> None:
        """Run a claimed run in the pool; its slot is free again when it ends."""
        def work() -> None:
            try:
                self._execute(claim)
            except Exception:  # the claim lapses; the worker itself goes on
                log.exception("the shell engine failed on task %s",
                              claim.get("status", {}).get("taskId"))
            finally:
                slots.release()

        self._pool.submit(work)

    def stop(self) -> None:
        """Kill whatever runs (without reporting: the claims lapse like a lost machine's)."""
        with self._lock:
            runs = list(self._active.values())
        for run in runs:
            run.interrupt("stopping")
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def join_runs(self, timeout: float) -> None:
        """Wait (up to `timeout`) for the runs in progress to wind down after stop()."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if not self._active:
                    return
            time.sleep(0.02)

    def _execute(self, claim: dict[str, Any]) -> None:
        run = ShellRun(self.context, claim)
        with self._lock:
            self._active[run.held.task_id] = run
        try:
            run.execute()
        finally:
            with self._lock:
                if self._active.get(run.held.task_id) is run:
                    del self._active[run.held.task_id]
                self.finished += 1

    def crash(self, task_id: str, mode: str) -> dict[str, Any] | None:
        """Crash the worker running `task_id`; None when no run of it is on this engine."""
        with self._lock:
            run = self._active.get(task_id)
        if run is None or not run.interrupt(mode):
            return None
        return {"taskId": task_id, "runId": run.held.run_id, "mode": mode,
                "workerGroup": run.held.worker_group, "workerId": run.held.worker_id}

    def running(self) -> list[dict[str, Any]]:
        with self._lock:
            runs = list(self._active.values())
        return [run.describe() for run in runs if not run.settled]

    def describe(self) -> dict[str, Any]:
        return {"engine": "shell", "taskQueues": list(self.task_queues),
                "concurrency": self.concurrency, "finished": self.finished,
                "running": self.running()}


class ShellRun:
    """One claimed run, from claim to resolution (or crash)."""

    def __init__(self, context: ClusterContext, claim: dict[str, Any]):
        self.context = context
        self.held = HeldClaim(claim, context.root_url, context.clock,
                              on_lost=lambda why: self.interrupt("lost"))
        self.task_queue_id: str = claim["task"]["taskQueueId"]
        self.expires: str = claim["task"]["expires"]
        self.started = time.monotonic()
        self._interrupted = threading.Event()
        self.reason: str | None = None  # claim-expired | worker-shutdown | lost | stopping
        self.log = context.livelogs.open(self.held.task_id, self.held.run_id)
        self.dir: pathlib.Path | None = None
        self.settled = False  # reported, or given up: nothing left to crash

    # -- control -------------------------------------------------------------------------
    def interrupt(self, reason: str) -> bool:
        """Stop the run for `reason`; False when it has already settled."""
        if self.settled:
            return False
        if self.reason is None:
            self.reason = reason
        self._interrupted.set()
        return True

    def describe(self) -> dict[str, Any]:
        return {"taskId": self.held.task_id, "runId": self.held.run_id,
                "taskQueueId": self.task_queue_id, "workerGroup": self.held.worker_group,
                "workerId": self.held.worker_id, "reclaims": self.held.reclaims,
                "seconds": round(time.monotonic() - self.started, 3)}

    # -- the run -------------------------------------------------------------------------
    def execute(self) -> None:
        held = self.held
        faults = self.context.faults.for_run(held.task_id, self.task_queue_id)
        try:
            self._try(lambda q: uploads.reference(
                q, held.task_id, held.run_id, LIVE_LOG, self.context.livelog_url(
                    held.task_id, held.run_id),
                content_type=uploads.LOG_CONTENT_TYPE, expires=self.expires))
            held.start_reclaiming()
            self._header()
            try:
                if faults.malformed:
                    raise MalformedPayload(INJECTED_MALFORMED)
                plan = parse_payload(held.task.get("payload"))
            except MalformedPayload as why:
                self._refuse(str(why))
                return
            self._run(plan, faults)
        finally:
            held.close()
            self.log.finish()
            if self.dir is not None:
                shutil.rmtree(self.dir, ignore_errors=True)

    def _try(self, action: Any) -> bool:
        """Call ``action(queue)`` with the run's client; log (don't raise) what the queue says."""
        try:
            action(self.held.queue)
            return True
        except Exception as error:
            self.log.line(f"{PREFIX} the queue refused a call: {error}")
            log.warning("task %s/%s: %s", self.held.task_id, self.held.run_id, error)
            return False

    def _header(self) -> None:
        held = self.held
        self.log.line(f"{PREFIX} shell engine {held.worker_group}/{held.worker_id} "
                      f"runs task {held.task_id} run {held.run_id} from {self.task_queue_id}")
        self.log.line(f"{PREFIX} started at {self.context.now_json()} (mock clock)")

    def _refuse(self, why: str) -> None:
        held = self.held
        self.log.line(f"{PREFIX} malformed payload: {why}")
        self.log.line(f"{PREFIX} result: exception (malformed-payload); nothing was run")
        self._try(lambda q: uploads.error(q, held.task_id, held.run_id, MALFORMED_ARTIFACT,
                                          reason="invalid-resource-on-worker",
                                          message=f"Malformed payload: {why}",
                                          expires=self.expires))
        self._finish("exception", "malformed-payload")

    def _run(self, plan: RunPlan, faults: "TaskFaults") -> None:
        held = self.held
        if plan.style == "docker-worker":
            image = plan.image if plan.image is not None else "(none given)"
            where = ("in a bubblewrap sandbox" if self.context.sandbox.kind == "bwrap" else
                     "directly on this machine")
            self.log.line(f"{PREFIX} image {image} is ignored: this engine runs the command "
                          f"{where}, in a fresh directory, not in a container")
        for note in plan.notes:
            self.log.line(f"{PREFIX} {note}")
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix=f"{held.task_id}-{held.run_id}-",
                                                 dir=self.context.runs_dir))
        sandbox = self.context.sandbox
        if sandbox.kind == "refused":
            self._no_sandbox(sandbox.why, plan)
            return
        sandbox.prepare(self.dir)
        if sandbox.kind == "bwrap":
            self.log.line(f"{PREFIX} sandbox: {sandbox.description}")
            self.log.line(f"{PREFIX} working directory {sandbox.home(self.dir)}; "
                          f"maxRunTime {plan.max_run_time} s")
        else:
            self.log.line(f"{PREFIX} working directory {self.dir}; "
                          f"maxRunTime {plan.max_run_time} s")
        crash_at = None
        if faults.crash is not None:
            crash_at = self.started + faults.crash.after
        env = self._environment(plan)
        code: int | None = 0
        timed_out = False
        for argv in plan.commands:
            if crash_at is not None and time.monotonic() >= crash_at:
                self.interrupt(faults.crash.mode)
            if self.context.stopping.is_set():
                self.interrupt("stopping")
            if self.reason:
                break
            self.log.line(f"{PREFIX} $ {shlex.join(argv)}")
            code, timed_out = self._command(argv, env, plan.max_run_time, crash_at,
                                            faults.crash.mode if faults.crash else None)
            if code != 0 or timed_out or self.reason:
                break
        if self._gone():
            return
        if self.reason == "lost":
            self.settled = True
            self.log.line(f"{PREFIX} the queue says this run is no longer ours (canceled, "
                          "deadline exceeded or resolved elsewhere): stopped")
            self._publish_log()
            return
        if self.reason == "worker-shutdown":
            self.log.line(f"{PREFIX} the worker is shutting down: reporting worker-shutdown")
            self._publish_log()
            self._finish("exception", "worker-shutdown")
            return
        artifacts_ok = self._artifacts(plan.artifacts, faults)
        if timed_out:
            self.log.line(f"{PREFIX} maxRunTime of {plan.max_run_time} s exceeded: "
                          "the task was killed")
        state, reason = resolution(plan, code, timed_out, artifacts_ok)
        self.log.line(f"{PREFIX} exit code {code}; result: {state}"
                      + (f" ({reason})" if reason else ""))
        self._publish_log()
        self._finish(state, reason)

    def _no_sandbox(self, why: str, plan: RunPlan) -> None:
        """A classroom without a sandbox: run nothing, and say why (the learner can't fix it;
        the teacher can)."""
        message = (f"This classroom's server runs no learner commands: {why}. Ask your teacher; "
                   "built-in/succeed and built-in/fail still work.")
        self.log.line(f"{PREFIX} {message}")
        self.log.line(f"{PREFIX} result: exception (resource-unavailable); nothing was run")
        for spec in plan.artifacts:
            self._error_artifact(spec.name, "invalid-resource-on-worker", message, spec.expires)
        self._publish_log()
        self._finish("exception", "resource-unavailable")

    def _environment(self, plan: RunPlan) -> dict[str, str]:
        path = os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")
        if self.context.sandbox.kind == "bwrap":
            path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"  # the server's may name its home
        env = {"PATH": path,
               "HOME": self.context.sandbox.home(self.dir), "LANG": "C.UTF-8",
               "TASK_ID": self.held.task_id, "RUN_ID": str(self.held.run_id),
               "TASK_GROUP_ID": self.held.task.get("taskGroupId", ""),
               "TASKCLUSTER_ROOT_URL": self.context.root_url}
        env.update(plan.env)
        return env

    def _command(self, argv: list[str], env: dict[str, str], max_run_time: int,
                 crash_at: float | None, crash_mode: str | None) -> tuple[int | None, bool]:
        """Run one command into the log; (exit code, timed out)."""
        command, cwd, preexec = self.context.sandbox.command(argv, self.dir, max_run_time)

        def stop(now: float) -> bool:
            if crash_at is not None and now >= crash_at:
                self.interrupt(crash_mode or "claim-expired")
            if self._interrupted.is_set() or self.context.stopping.is_set():
                self.interrupt("stopping")  # keeps an earlier reason
                return True
            return False

        return run_command(command, cwd=cwd, env=env, log_fd=self.log.fileno(), name=argv[0],
                           kill_at=self.started + max_run_time, step=WAIT_STEP,
                           say=lambda text: self.log.line(f"{PREFIX} {text}"), stop=stop,
                           preexec_fn=preexec)

    def _artifacts(self, specs: list[ArtifactSpec], faults: "TaskFaults") -> bool:
        """Upload the declared artifacts; False when one is missing or unreadable."""
        ok = True
        for spec in specs:
            fault = faults.error_artifacts.get(spec.name)
            if fault is not None:
                self._error_artifact(spec.name, fault.reason, fault.message, spec.expires)
                continue
            ok &= self._artifact(spec)
        declared = {spec.name for spec in specs}
        for name, fault in faults.error_artifacts.items():
            if name not in declared:
                self._error_artifact(name, fault.reason, fault.message, None)
        return ok

    def _error_artifact(self, name: str, reason: str, message: str, expires: str | None) -> None:
        held = self.held
        self.log.line(f"{PREFIX} artifact {name}: error artifact ({reason}): {message}")
        self._try(lambda q: uploads.error(q, held.task_id, held.run_id, name, reason=reason,
                                          message=message, expires=expires or self.expires))

    def _resolve_path(self, spec: ArtifactSpec) -> pathlib.Path:
        assert self.dir is not None
        raw = pathlib.Path(spec.path)
        if raw.is_absolute():
            self.log.line(f"{PREFIX} artifact {spec.name}: reading {raw} from this machine "
                          "(an absolute path, outside the task directory)")
            return raw
        path = (self.dir / raw).resolve()
        if not path.is_relative_to(self.dir.resolve()):
            self.log.line(f"{PREFIX} artifact {spec.name}: note that {spec.path} leads outside "
                          f"the task directory, to {path}")
        return path

    def _artifact(self, spec: ArtifactSpec) -> bool:
        expires = spec.expires or self.expires
        if self.context.sandbox.kind == "bwrap":
            return self._artifact_in_sandbox(spec, expires)
        return publish_declared(spec, self._resolve_path(spec), expires, file=self._file,
                                error=self._error_artifact,
                                note=lambda text: self.log.line(f"{PREFIX} {text}"))

    def _artifact_in_sandbox(self, spec: ArtifactSpec, expires: str) -> bool:
        """Read the artifact as the sandboxed command saw it, never from this machine's own
        filesystem: a path to the teacher's files names nothing in there."""
        assert self.dir is not None
        got = self.context.sandbox.collect(spec.path, spec.type, self.dir,
                                           max_bytes=MAX_ARTIFACT_BYTES,
                                           max_files=MAX_DIRECTORY_FILES)
        if got.reason is not None and not got.files:
            self._error_artifact(spec.name, got.reason, got.message, expires)
            return False
        ok = got.reason is None
        if got.reason is not None:
            self.log.line(f"{PREFIX} artifact {spec.name}: {got.message}")
        for relative, data in got.files:
            if spec.type == "file":
                name, content_type = spec.name, spec.content_type
                own_name = pathlib.PurePosixPath(spec.path).name
            else:
                name, content_type = f"{spec.name.rstrip('/')}/{relative}", None
                own_name = pathlib.PurePosixPath(relative).name
            self.log.line(f"{PREFIX} artifact {name}: uploading {len(data)} bytes")
            ok &= self._try(lambda q, name=name, data=data, content_type=content_type,
                            own_name=own_name:
                            uploads.upload(q, self.context.http, self.held.task_id,
                                           self.held.run_id, name, data,
                                           content_type=content_type or uploads.content_type_for(
                                               name, own_name),
                                           expires=expires))
        return ok

    def _file(self, name: str, path: pathlib.Path, content_type: str | None,
              expires: str) -> bool:
        held = self.held
        try:
            size = path.stat().st_size
            if size > MAX_ARTIFACT_BYTES:
                self._error_artifact(name, "too-large-file-on-worker",
                                     f"{path} has {size} bytes; this engine uploads at most "
                                     f"{MAX_ARTIFACT_BYTES}", expires)
                return False
            data = path.read_bytes()
        except PermissionError:
            self._error_artifact(name, "file-not-readable-on-worker",
                                 f"{path} cannot be read by the worker", expires)
            return False
        except OSError as error:
            self._error_artifact(name, "file-not-readable-on-worker",
                                 f"{path} cannot be read: {error.strerror or error}", expires)
            return False
        self.log.line(f"{PREFIX} artifact {name}: uploading {len(data)} bytes")
        return self._try(lambda q: uploads.upload(
            q, self.context.http, held.task_id, held.run_id, name, data,
            content_type=content_type or uploads.content_type_for(name, path.name),
            expires=expires))

    def _publish_log(self) -> None:
        """Store the whole log and point live.log at the stored copy."""
        held = self.held
        self.log.finish()
        data = self.log.read_all()
        backing = self.context.root_url + "/api/queue/v1" + BY_NAME["getArtifact"].path(
            held.task_id, held.run_id, LIVE_BACKING_LOG)
        if self._try(lambda q: uploads.upload(q, self.context.http, held.task_id, held.run_id,
                                              LIVE_BACKING_LOG, data,
                                              content_type=uploads.LOG_CONTENT_TYPE,
                                              expires=self.expires)):
            self._try(lambda q: uploads.reference(q, held.task_id, held.run_id, LIVE_LOG,
                                                  backing, content_type=uploads.LOG_CONTENT_TYPE,
                                                  expires=self.expires))

    def _gone(self) -> bool:
        """Did the worker 'die'? A dead worker reports nothing: its claim lapses at takenUntil
        on the mock's clock."""
        if self.reason not in ("claim-expired", "stopping"):
            return False
        self.settled = True
        self.log.line(f"{PREFIX} the worker is gone ({self.reason}); the claim will lapse")
        return True

    def _finish(self, state: str, reason: str | None) -> None:
        held = self.held
        if self._gone():  # crashed while uploading
            return
        self.settled = True
        held.release()  # no reclaim may race the resolution
        try:
            report_resolution(held, state, reason)
        except Exception as error:
            # e.g. 409: cancelled while the artifacts uploaded; the queue has the last word
            log.warning("reporting %s for %s/%s failed (%s): %s", state, held.task_id,
                        held.run_id, status_code(error), error)
