"""The ``tutorial-kit`` command.

    tutorial-kit mock-queue serve [--host 127.0.0.1] [--port 0] [--db PATH]
                                  [--claim-timeout SECONDS] [--access-token T] [--no-workers]
                                  [--shell-queue QUEUE ...] [--strict] [--prefix /PATH]
                                  [--verbose]
    tutorial-kit classroom serve --roster FILE [--credentials FILE] [--host ...] [--port ...]
                                 [--db PATH] [--unsafe-no-sandbox] [--verbose]
    tutorial-kit lab [DIR] [--db PATH] [--memory] [JupyterLab options]
    tutorial-kit doctor
    tutorial-kit worker --task-queue PROV/TYPE [--worker-group G] [--worker-id I] [--capacity N]
                        [--work-dir DIR]
    tutorial-kit --version

``mock-queue serve`` prints three ``export TASKCLUSTER_...`` lines first (paste them into another
shell, or read them from a script), then logs to stderr until Ctrl-C. ``classroom serve`` runs
one shared mock queue with strict auth and a client per learner of the roster, learners' task
commands in a bubblewrap sandbox, credentials kept across restarts with ``--db``
(docs/teaching.md). ``lab`` opens the tutorial; ``doctor`` checks the environment.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from tutorial_kit import __version__


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of the usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive(kind: type) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, got {text!r}")
        return value
    return parse


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0-65535 (0 picks a free port), got {text!r}")
    return value


def _mock_queue_serve(args: argparse.Namespace) -> int:
    from tutorial_kit.mock.server import serve

    return serve(host=args.host, port=args.port, db=args.db, claim_timeout=args.claim_timeout,
                 access_token=args.access_token, workers=not args.no_workers,
                 strict=args.strict, prefix=args.prefix, claim_wait=args.claim_wait,
                 shell_queues=args.shell_queue, verbose=args.verbose)


def _classroom_serve(args: argparse.Namespace) -> int:
    from tutorial_kit.mock.security.auth import new_access_token
    from tutorial_kit.mock.security.classroom import Keeper, enroll, read_roster, write_credentials
    from tutorial_kit.mock.server import serve
    from tutorial_kit.mock.security.sandbox import classroom_sandbox

    keeper = Keeper.beside(args.db)
    learners, clients = enroll(read_roster(args.roster), kept=keeper.learners)
    teacher_token = args.access_token or keeper.teacher or new_access_token()
    keeper.save(teacher_token, learners)
    write_credentials(args.credentials, learners)
    sys.stderr.write(f"tutorial-kit: {len(learners)} learner(s) enrolled; their credentials are "
                     f"in {args.credentials}"
                     + (f" (kept across restarts in {keeper.path})" if keeper.path else
                        " (new ones at every start: pass --db to keep them)")
                     + ". The lines below are the teacher's (scope *).\n")
    sandbox = None
    if not args.no_workers:
        sandbox = classroom_sandbox(allow_unsandboxed=args.unsafe_no_sandbox)
        if sandbox.kind == "bwrap":
            sys.stderr.write(f"tutorial-kit: learners' task commands run in a sandbox: "
                             f"{sandbox.description}.\n")
        elif sandbox.kind == "refused":
            sys.stderr.write(f"tutorial-kit: WARNING: {sandbox.why}. Until then learners' tasks "
                             "on tutorial/docker-worker resolve exception (resource-unavailable) "
                             "and run nothing; built-in/* still work. On a throwaway machine "
                             "you may pass --unsafe-no-sandbox instead.\n")
        else:
            sys.stderr.write(f"tutorial-kit: WARNING: {sandbox.description}.\n")
    return serve(host=args.host, port=args.port, db=args.db, claim_timeout=args.claim_timeout,
                 access_token=teacher_token, workers=not args.no_workers, strict=True,
                 claim_wait=args.claim_wait, clients=clients, sandbox=sandbox, mode="classroom",
                 dashboard=True, verbose=args.verbose)


def _lab(args: argparse.Namespace) -> int:
    from tutorial_kit.lab import main as lab_main

    return lab_main(args.lab_args)


def _doctor(_args: argparse.Namespace) -> int:
    from tutorial_kit.selfcheck import doctor

    report = doctor()
    print(repr(report))
    return 0 if report.ok else 1


def _worker(args: argparse.Namespace) -> int:
    from tutorial_kit.worker import main as worker_main

    return worker_main(args.task_queue, worker_group=args.worker_group,
                       worker_id=args.worker_id, capacity=args.capacity, work_dir=args.work_dir)


def _task_queue(text: str) -> str:
    import re

    from tutorial_kit.api import PARAM_PATTERNS

    if not re.match(PARAM_PATTERNS["taskQueueId"], text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a task queue ID "
                                         "(PROVISIONER/WORKERTYPE, e.g. proj-me/my-worker)")
    return text


def _add_server_options(command: argparse.ArgumentParser, *, host_help: str) -> None:
    command.add_argument("--host", default="127.0.0.1", help=host_help)
    command.add_argument("--port", type=_port, default=0, help="port (default 0: a free one)")
    command.add_argument("--db", metavar="PATH", default=None,
                         help="SQLite file that keeps tasks across restarts (default: in memory)")
    command.add_argument("--claim-timeout", type=_positive(float), default=1200.0,
                         metavar="SECONDS", help="how long a claim lasts (default 1200)")
    command.add_argument("--claim-wait", type=float, default=20.0, metavar="SECONDS",
                         help="how long an empty claimWork waits for work (default 20)")
    command.add_argument("--access-token", metavar="T", default=None,
                         help="access token of the client `tutorial` (default: random)")
    command.add_argument("--no-workers", action="store_true",
                         help="do not start the simulated cluster's workers")
    command.add_argument("-v", "--verbose", action="store_true",
                         help="also log every HTTP request the built-in workers make")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tutorial-kit",
                     description="Learn the Taskcluster Queue API hands-on.")
    parser.add_argument("--version", action="version", version=f"tutorial-kit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    mock = commands.add_parser("mock-queue", help="the mock Taskcluster Queue service")
    mock_commands = mock.add_subparsers(dest="mock_command", metavar="COMMAND",
                                        parser_class=_Parser)
    serve = mock_commands.add_parser(
        "serve", help="run a mock queue in the foreground (Ctrl-C stops it)",
        description="Run a mock queue. The first three lines on stdout are shell `export` lines "
                    "for TASKCLUSTER_ROOT_URL, TASKCLUSTER_CLIENT_ID and "
                    "TASKCLUSTER_ACCESS_TOKEN; logs go to stderr.")
    _add_server_options(serve, host_help="address to listen on (default 127.0.0.1; others "
                                         "need --strict)")
    serve.add_argument("--shell-queue", action="append", metavar="QUEUE", default=None,
                       help="a task queue the shell engine serves (repeatable; default: the "
                            "tutorial's aws-provisioner-v1/tutorial and tutorial/docker-worker)")
    serve.add_argument("--strict", action="store_true",
                       help="strict auth: allows listening beyond loopback; the control plane "
                            "then needs the tutorial client's credentials")
    serve.add_argument("--prefix", default="", metavar="/PATH",
                       help="serve under a path prefix (part of the rootUrl)")
    serve.set_defaults(run=_mock_queue_serve)
    mock.set_defaults(run=lambda _args: _usage(mock))

    classroom = commands.add_parser("classroom", help="one shared mock queue for a class")
    classroom_commands = classroom.add_subparsers(dest="classroom_command", metavar="COMMAND",
                                                  parser_class=_Parser)
    room = classroom_commands.add_parser(
        "serve", help="run a strict-auth mock queue with a client per learner",
        description="Enroll every learner of the roster (one name per line), write their "
                    "credentials to a CSV file, and serve a mock queue with strict auth. "
                    "Each learner may change only tasks with their own schedulerId.")
    room.add_argument("--roster", required=True, metavar="FILE", help="learner names")
    room.add_argument("--credentials", default="classroom-credentials.csv", metavar="FILE",
                      help="where to write learner,clientId,accessToken lines")
    _add_server_options(room, host_help="address to listen on, e.g. 0.0.0.0 for the class "
                                        "(default 127.0.0.1)")
    room.add_argument("--unsafe-no-sandbox", action="store_true",
                      help="where no sandbox (bubblewrap) works, run learners' task commands "
                           "anyway, as this machine's user with its rights (a throwaway machine "
                           "only); by default they run in bubblewrap, or are refused")
    room.set_defaults(run=_classroom_serve)
    classroom.set_defaults(run=lambda _args: _usage(classroom))

    # main() hands `lab ...` to tutorial_kit.lab before argparse sees it (JupyterLab's options
    # pass through unchanged); this entry is for the command list.
    lab = commands.add_parser("lab", help="copy the lessons into DIR and open them in JupyterLab",
                              add_help=False)
    lab.add_argument("lab_args", nargs=argparse.REMAINDER)
    lab.set_defaults(run=_lab)
    doctor = commands.add_parser("doctor", help="check the environment and the live queue")
    doctor.set_defaults(run=_doctor)
    worker = commands.add_parser(
        "worker", help="your own worker for a task queue (TASKCLUSTER_* credentials)",
        description="Claim and run tasks of one task queue on this machine, on the mock or a "
                    "real deployment (TASKCLUSTER_ROOT_URL, TASKCLUSTER_CLIENT_ID, "
                    "TASKCLUSTER_ACCESS_TOKEN). Ctrl-C or SIGTERM reports worker-shutdown for "
                    "the runs in flight and exits.")
    worker.add_argument("--task-queue", required=True, type=_task_queue,
                        help="PROVISIONER/WORKERTYPE to claim from")
    worker.add_argument("--worker-group", default="tutorial-kit",
                        help="worker group (default: tutorial-kit)")
    worker.add_argument("--worker-id", default=None,
                        help="worker ID (default: this machine's name)")
    worker.add_argument("--capacity", type=int, default=1,
                        help="runs at once (default: 1)")
    worker.add_argument("--work-dir", default=None,
                        help="where task directories and logs go (default: a new temp dir)")
    worker.set_defaults(run=_worker)
    parser.set_defaults(run=lambda _args: _usage(parser))
    return parser


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    sys.stderr.write(f"{parser.prog}: error: a command is required\n")
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``tutorial-kit``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["lab"]:
        # argparse's REMAINDER after a subcommand rejects a leading option (`lab --no-browser`):
        # the lab command parses its own line and passes the rest to JupyterLab.
        return _lab(argparse.Namespace(lab_args=argv[1:]))
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (ValueError, OSError, RuntimeError) as exc:
        # A bad option value or a port in use: one clear line, not a traceback.
        sys.stderr.write(f"tutorial-kit: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
