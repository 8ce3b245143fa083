"""The ``tutorial-kit`` command.

    tutorial-kit mock-queue serve [--host 127.0.0.1] [--port 0] [--db PATH]
                                  [--claim-timeout SECONDS] [--access-token T] [--no-workers]
                                  [--strict] [--prefix /PATH]
    tutorial-kit --version

``mock-queue serve`` prints three ``export TASKCLUSTER_...`` lines first (paste them into another
shell, or read them from a script), then logs to stderr until Ctrl-C. More subcommands (``lab``, ``doctor``) hang off the same
parser: add a function to :data:`COMMANDS`.
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
                 strict=args.strict, prefix=args.prefix, claim_wait=args.claim_wait)


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
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; others need --strict)")
    serve.add_argument("--port", type=_port, default=0, help="port (default 0: a free one)")
    serve.add_argument("--db", metavar="PATH", default=None,
                       help="SQLite file that keeps tasks across restarts (default: in memory)")
    serve.add_argument("--claim-timeout", type=_positive(float), default=1200.0,
                       metavar="SECONDS", help="how long a claim lasts (default 1200)")
    serve.add_argument("--claim-wait", type=float, default=20.0, metavar="SECONDS",
                       help="how long an empty claimWork waits for work (default 20)")
    serve.add_argument("--access-token", metavar="T", default=None,
                       help="access token of the client `tutorial` (default: random)")
    serve.add_argument("--no-workers", action="store_true",
                       help="do not start the simulated cluster's workers")
    serve.add_argument("--strict", action="store_true",
                       help="strict auth: allows listening beyond loopback; the control plane "
                            "then needs the tutorial client's credentials")
    serve.add_argument("--prefix", default="", metavar="/PATH",
                       help="serve under a path prefix (part of the rootUrl)")
    serve.set_defaults(run=_mock_queue_serve)
    mock.set_defaults(run=lambda _args: _usage(mock))
    parser.set_defaults(run=lambda _args: _usage(parser))
    return parser


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    sys.stderr.write(f"{parser.prog}: error: a command is required\n")
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``tutorial-kit``; returns the exit status."""
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
