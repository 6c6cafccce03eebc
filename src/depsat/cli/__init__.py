"""The command line: a thin layer over `depsat.api`. The only package that prints.

Exit codes: 0 solved, 1 no solution, 2 bad input (one line naming the culprit, no traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from depsat import __version__
from depsat.errors import DepsatError

__all__ = ["main"]

EXIT_OK = 0
EXIT_UNSATISFIABLE = 1
EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; keep its one-line style."""


def build_parser() -> argparse.ArgumentParser:
    from depsat.cli import env_command, explain_command, resolve_command

    parser = _Parser(prog="depsat", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"depsat {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    resolve_command.add_parser(subparsers)
    env_command.add_env_parser(subparsers)
    explain_command.add_explain_parser(subparsers)
    explain_command.add_why_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except DepsatError as exc:
        print(f"depsat: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    except BrokenPipeError:  # the reader (``| head``) went away: not an error of ours
        sys.stderr.close()
        return EXIT_OK
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
