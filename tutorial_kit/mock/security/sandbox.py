"""Where the shell engine runs a learner's commands: a bubblewrap sandbox, or (said so) nowhere.

A classroom runs every learner's task commands on the teacher's machine. They must never run with
the teacher's rights, so :class:`BwrapSandbox` starts each command under bubblewrap (``bwrap``,
Debian's package ``bubblewrap``) in fresh namespaces (mount, PID, network, IPC, UTS, user):

* the filesystem it sees is ``/usr`` (and the ``/bin``, ``/lib``... that lead into it) read-only,
  a handful of harmless files of ``/etc`` read-only (``passwd``, ``group``, the dynamic linker's
  cache, ``alternatives``...), a private ``/proc``, a minimal ``/dev``, an empty ``/tmp``, and its
  own task directory, writable, as ``/task`` (its working directory and ``$HOME``). The teacher's
  home, the server's working directory (credentials file, store) and every other task directory
  do not exist in there;
* it has no network but its own loopback;
* when the server runs as root, the command runs as ``nobody`` (uid 65534), never as root;
* it is limited: processes (``RLIMIT_NPROC``), address space (``RLIMIT_AS``), file size
  (``RLIMIT_FSIZE``), open files, CPU seconds, no core dumps; and the engine kills the whole
  sandbox (PID namespace) at ``maxRunTime``.

Artifacts are read **through the sandbox** too (:meth:`BwrapSandbox.collect`): a path such as
``/root/.ssh/id_rsa``, ``../../classroom-credentials.csv`` or a symlink to them names the same
nothing it named for the command, so the worker cannot be tricked into uploading what the command
could not read.

:class:`Unsandboxed` runs commands as the server's user (a single learner's own machine: the
tutorial's default). :class:`Refusing` runs nothing: a classroom without a sandbox resolves each
run ``exception``/``resource-unavailable`` with an error artifact saying why, unless the teacher
passed ``--unsafe-no-sandbox``.
"""

from __future__ import annotations

import io
import os
import pathlib
import resource
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass

#: Where the task directory appears inside the sandbox (working directory and $HOME).
TASK_DIR = "/task"
#: The user a root server drops learner commands to.
NOBODY = 65534
#: Files of /etc a command may need and that hold nothing private.
ETC_FILES = ("passwd", "group", "nsswitch.conf", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
             "alternatives", "localtime", "os-release", "debian_version", "hostname",
             "mime.types", "bash.bashrc", "profile", "inputrc")
#: Top-level entries that usually lead into /usr (merged /usr): replicated as symlinks or bound.
USR_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
HOW_TO_INSTALL = ("install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; "
                  "Fedora: `sudo dnf install bubblewrap`) and make sure unprivileged user "
                  "namespaces are enabled (`sysctl kernel.unprivileged_userns_clone=1`; on Ubuntu "
                  "24.04 also `sysctl kernel.apparmor_restrict_unprivileged_userns=0`)")


@dataclass(frozen=True)
class Limits:
    """What one sandboxed command may use."""

    processes: int = 256  # per sandbox user: fork bombs stop here
    memory_bytes: int = 2 * 1024 ** 3  # address space of each process
    file_bytes: int = 64 * 1024 ** 2  # largest file it may write (the mock keeps blobs in SQLite)
    open_files: int = 1024
    tmp_bytes: int = 256 * 1024 ** 2  # the private /tmp (a tmpfs)


@dataclass
class Collected:
    """An artifact read through the sandbox: files (name relative to the artifact, bytes), or
    why it could not be read (an error artifact's reason and message)."""

    files: list[tuple[str, bytes]]
    reason: str | None = None
    message: str = ""


class Unsandboxed:
    """Commands run directly, as the server's user (a learner's own machine)."""

    kind = "none"
    description = "no sandbox: commands run as this machine's user"
    #: the uid commands run as, when the sandbox drops to another user (None: this one)
    drop_to: int | None = None

    def prepare(self, task_dir: pathlib.Path) -> None:
        """Nothing to do: the command runs in the task directory as it is."""

    def command(self, argv: list[str], task_dir: pathlib.Path, cpu_seconds: int
                ) -> tuple[list[str], str, Callable[[], None] | None]:
        """(argv to start, its working directory, a preexec function)."""
        return list(argv), str(task_dir), None

    def home(self, task_dir: pathlib.Path) -> str:
        return str(task_dir)


class Refusing(Unsandboxed):
    """No sandbox, and the teacher did not accept running commands without one."""

    kind = "refused"

    def __init__(self, why: str):
        self.why = why
        self.description = f"no sandbox ({why}): learners' commands are refused"


class BwrapSandbox(Unsandboxed):
    """Each command in its own bubblewrap sandbox (see the module's docstring)."""

    kind = "bwrap"

    def __init__(self, bwrap: str, limits: Limits = Limits(), *, drop_to: int | None = None):
        self.bwrap = bwrap
        self.limits = limits
        # A root server must not hand root (even namespaced, it owns root's files) to a learner.
        self.drop_to = drop_to if drop_to is not None else (NOBODY if os.geteuid() == 0 else None)
        self._masked: list[str] | None = None
        who = f"uid {self.drop_to}" if self.drop_to is not None else "this user, namespaced"
        self.description = (f"bubblewrap ({bwrap}): only /usr, a few /etc files and the task's "
                            f"own directory are visible; no network; runs as {who}")

    def prepare(self, task_dir: pathlib.Path) -> None:
        """Give the task directory to the sandbox's user."""
        if self.drop_to is not None:
            os.chown(task_dir, self.drop_to, self.drop_to)

    def home(self, task_dir: pathlib.Path) -> str:
        return TASK_DIR

    def _unreadable(self) -> list[str]:
        """Directories of /usr the sandbox's user may not read (found once, about 0.4 s).

        They appear empty in the sandbox, so that ``du /usr`` (the tutorial's first task)
        succeeds as it does in a container, where it runs as root; their content stays hidden.
        """
        if self._masked is None:
            masked: list[str] = []
            stack = ["/usr"]
            while stack:
                try:
                    entries = os.scandir(stack.pop())
                except OSError:
                    continue
                with entries:
                    for entry in entries:
                        try:
                            if not entry.is_dir(follow_symlinks=False):
                                continue
                            if self.drop_to is not None:
                                mode = entry.stat(follow_symlinks=False).st_mode
                                readable = mode & 0o005 == 0o005  # "others": nobody
                            else:
                                readable = os.access(entry.path, os.R_OK | os.X_OK)
                        except OSError:
                            continue
                        if readable:
                            stack.append(entry.path)
                        else:
                            masked.append(entry.path)
            self._masked = masked
        return self._masked

    def _mounts(self, task_dir: pathlib.Path) -> list[str]:
        args = ["--ro-bind", "/usr", "/usr"]
        for path in self._unreadable():
            args += ["--size", "4096", "--tmpfs", path, "--remount-ro", path]
        for name in USR_LINKS:
            path = pathlib.Path("/") / name
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                args += ["--ro-bind", str(path), str(path)]
        for name in ETC_FILES:
            path = pathlib.Path("/etc") / name
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), str(path)]
            elif path.exists():
                args += ["--ro-bind", str(path), str(path)]
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--size", str(self.limits.tmp_bytes), "--tmpfs", "/tmp",
                 "--bind", str(task_dir), TASK_DIR, "--chdir", TASK_DIR]
        return args

    def command(self, argv: list[str], task_dir: pathlib.Path, cpu_seconds: int
                ) -> tuple[list[str], str, Callable[[], None] | None]:
        wrapped = [self.bwrap, "--unshare-all", "--die-with-parent", "--new-session",
                   "--hostname", "task", *self._mounts(task_dir), "--", *argv]
        return wrapped, str(task_dir), self._preexec(cpu_seconds)

    def _preexec(self, cpu_seconds: int) -> Callable[[], None]:
        limits = self.limits
        drop_to = self.drop_to
        # counted here, before the fork: the child runs only system calls
        own_processes = _processes_of(os.getuid()) if drop_to is None else 0

        def apply() -> None:  # runs in the child, between fork and exec: no locks, no logging
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
            resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
            resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
            cpu = max(1, int(cpu_seconds)) + 5
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
            if drop_to is not None:
                os.setgroups([])
                os.setgid(drop_to)
                os.setuid(drop_to)
                # counted per user: every sandbox of the class shares these
                resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
            else:
                # the teacher's own processes count too: leave room for them
                allowed = own_processes + limits.processes
                resource.setrlimit(resource.RLIMIT_NPROC, (allowed, allowed))
        return apply

    # -- artifacts ---------------------------------------------------------------------------
    def collect(self, path: str, kind: str, task_dir: pathlib.Path, *, max_bytes: int,
                max_files: int, timeout: float = 60.0) -> Collected:
        """Read artifact ``path`` (a file, or a directory's files) as the sandbox sees it."""
        script = (
            'p=$1\n'
            '[ -e "$p" ] || exit 70\n'
            'if [ "$2" = file ]; then\n'
            '  [ -f "$p" ] || exit 71\n'
            '  [ -r "$p" ] || exit 72\n'
            '  exec cat -- "$p"\n'
            'fi\n'
            '[ -d "$p" ] || exit 71\n'
            'cd -- "$p" 2>/dev/null || exit 72\n'
            'exec tar --dereference --format=pax -cf - . 2>/dev/null\n')
        argv, cwd, preexec = self.command(["/bin/sh", "-c", script, "collect", path, kind],
                                          task_dir, int(timeout))
        try:
            process = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                       preexec_fn=preexec, start_new_session=True,
                                       env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        except OSError as error:
            return Collected([], "file-not-readable-on-worker",
                             f"the sandbox could not start: {error.strerror or error}")
        data, too_big = _read_capped(process, max_bytes, timeout)
        code = process.returncode
        if too_big:
            return Collected([], "too-large-file-on-worker",
                             f"{path} has more than {max_bytes} bytes; this engine uploads at most "
                             f"{max_bytes}")
        if code == 70:
            return Collected([], "file-missing-on-worker", f"{path} does not exist on the worker")
        if code == 71:
            what = "a regular file" if kind == "file" else "a directory"
            return Collected([], "invalid-resource-on-worker", f"{path} is not {what}")
        if code == 72:
            return Collected([], "file-not-readable-on-worker",
                             f"{path} cannot be read by the worker")
        if kind == "file":
            if code != 0:
                return Collected([], "file-not-readable-on-worker", f"{path} cannot be read")
            return Collected([("", data)])
        files: list[tuple[str, bytes]] = []
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
                for member in archive:
                    if not member.isfile():
                        continue
                    if len(files) >= max_files:
                        break
                    handle = archive.extractfile(member)
                    if handle is not None:  # read into memory; nothing is written to disk
                        files.append((member.name.removeprefix("./"), handle.read()))
        except tarfile.TarError:
            return Collected(files, "file-not-readable-on-worker",
                             f"{path} could not be read whole")
        files.sort()
        return Collected(files)


def _read_capped(process: subprocess.Popen, max_bytes: int, timeout: float
                 ) -> tuple[bytes, bool]:
    """Everything the process writes, up to ``max_bytes``; (data, was there more)."""
    import threading

    chunks: list[bytes] = []
    size = 0
    too_big = False
    timer = threading.Timer(timeout, lambda: _killpg(process))
    timer.start()
    try:
        assert process.stdout is not None
        while True:
            chunk = process.stdout.read(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                too_big = True
                _killpg(process)
                break
            chunks.append(chunk)
    finally:
        timer.cancel()
        process.stdout.close()
        process.wait()
    return b"".join(chunks), too_big


def _killpg(process: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _processes_of(uid: int) -> int:
    """How many processes ``uid`` runs now (from /proc)."""
    count = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for entry in entries:
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


#: Names the bubblewrap binary to use (a path; one that does not exist means "none here").
BWRAP_ENV = "TUTORIAL_KIT_BWRAP"


def find_bwrap() -> str | None:
    """The bubblewrap binary, if installed (``$TUTORIAL_KIT_BWRAP`` overrides the search)."""
    named = os.environ.get(BWRAP_ENV)
    if named is not None:
        return named if os.access(named, os.X_OK) else None
    return shutil.which("bwrap") or (
        "/usr/bin/bwrap" if os.access("/usr/bin/bwrap", os.X_OK) else None)


def work_root(sandbox: Unsandboxed) -> str | None:
    """Where the cluster's run directories may go for ``sandbox`` (None: the default temporary
    directory). bubblewrap opens a task directory as the sandbox's user, so when it drops to
    ``nobody`` every directory above must let others pass (a private ``$TMPDIR`` does not)."""
    import tempfile

    if sandbox.drop_to is None:
        return None
    here = pathlib.Path(tempfile.gettempdir()).resolve()
    if all(part.stat().st_mode & 0o001 for part in [here, *here.parents]):
        return None
    return "/tmp"


def probe(sandbox: BwrapSandbox) -> str | None:
    """Run ``true`` in the sandbox; None when it works, else why not (one line)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tutorial-kit-probe-", dir=work_root(sandbox)) as tmp:
        task_dir = pathlib.Path(tmp)
        try:
            sandbox.prepare(task_dir)
            argv, cwd, preexec = sandbox.command(["/bin/sh", "-c", "echo ok > ok"], task_dir, 10)
            done = subprocess.run(argv, cwd=cwd, preexec_fn=preexec, stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=30, text=True)
        except (OSError, subprocess.SubprocessError) as error:
            return f"{sandbox.bwrap} could not start: {error}"
        if done.returncode != 0 or not (task_dir / "ok").exists():
            detail = (done.stderr or done.stdout).strip().splitlines()
            return (f"{sandbox.bwrap} failed (exit {done.returncode}"
                    + (f": {detail[-1]}" if detail else "") + ")")
    return None


def classroom_sandbox(*, allow_unsandboxed: bool = False) -> Unsandboxed:
    """The sandbox a classroom runs learners' commands in.

    bubblewrap when it is installed and works here; otherwise :class:`Refusing` (with why and how
    to install it), or :class:`Unsandboxed` when the teacher explicitly allowed it.
    """
    bwrap = find_bwrap()
    if bwrap is None:
        why = "bubblewrap (bwrap) is not installed"
    else:
        sandbox = BwrapSandbox(bwrap)
        why = probe(sandbox)
        if why is None:
            return sandbox
    if allow_unsandboxed:
        unsafe = Unsandboxed()
        unsafe.description = (f"NO SANDBOX ({why}): learners' commands run as this machine's "
                              "user, with its rights (--unsafe-no-sandbox)")
        return unsafe
    return Refusing(f"{why}; to run learners' commands, {HOW_TO_INSTALL}")
