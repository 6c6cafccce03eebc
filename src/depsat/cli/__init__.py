"""The command line: a thin layer over `depsat.api`. The only package that prints.

Exit codes: 0 solved, 1 no solution, 2 bad input (one line naming the culprit, no traceback).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from depsat import __version__
from depsat.errors import DepsatError

if TYPE_CHECKING:
    import argparse

__all__ = ["entry", "main", "parse_arguments"]

EXIT_OK = 0
EXIT_UNSATISFIABLE = 1
EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    # argparse is imported here: a remembered answer (`memo`) never parses the command line.
    import argparse

    from depsat.cli import env_command, explain_command, resolve_command

    # argparse exits 2 on usage errors already, in its one-line style.
    parser = argparse.ArgumentParser(prog="depsat",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"depsat {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    resolve_command.add_parser(subparsers)
    env_command.add_env_parser(subparsers)
    explain_command.add_explain_parser(subparsers)
    explain_command.add_why_parser(subparsers)
    return parser


def parse_arguments(arguments: Sequence[str]) -> argparse.Namespace:
    """The command line, its requirements anywhere among the options, as pip and uv take
    them (``depsat resolve a --index-url URL b``; argparse alone takes them in one run)."""
    parser = build_parser()
    args, rest = parser.parse_known_args(list(arguments))
    if rest and (not hasattr(args, "requirements") or any(r.startswith("-") for r in rest)):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if rest:
        args.requirements = [*args.requirements, *rest]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    from depsat.cli import memo

    arguments = list(sys.argv[1:] if argv is None else argv)
    # Before the parser: it loads packaging and the sources (60 ms), the memo's answer
    # takes a few.
    remembered = memo.recall(arguments)
    args = None if remembered is not None else parse_arguments(arguments)
    try:
        if remembered is not None:
            sys.stderr.write(remembered.stderr)
            sys.stdout.write(remembered.stdout)
            return remembered.code
        assert args is not None
        args.argv = arguments
        from depsat.api import collector_paused

        # Through rendering, remembering and closing too, not only resolving: a command ends
        # soon after, and the collector's first passes after a pause rescan everything the
        # resolve allocated (0.26 s of a 3 s cold run at 3000 x 10, conflict 0.2).
        with collector_paused():
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


def entry() -> NoReturn:
    """The `depsat` command: `main`, then leave without tearing the interpreter down.

    A resolution leaves about a million objects behind, and freeing them one by one at exit
    took 30-40 ms of a 0.5 s warm resolve, for a process that is ending anyway. By the time
    `main` returns, every source is closed (thread pools joined, the cache database shut),
    so only the output is left to flush. Programs that embed depsat call `main` or the
    library and keep their normal exit."""
    code = main()
    # A reader that went away (``| head``) is not an error of ours; stderr may be closed
    # already (`main` closes it after a broken pipe).
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
