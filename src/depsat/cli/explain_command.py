"""`depsat explain` and `depsat why PACKAGE`: the reasons behind a failure or a plan.

Both take the same input options as `depsat resolve` (shared through
`resolve_command.add_input_arguments`), resolve, and print the explanation.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from depsat.cli import EXIT_OK, EXIT_UNSATISFIABLE
from depsat.cli.resolve_command import (
    add_input_arguments,
    print_diagnostics,
    resolution_from_args,
)
from depsat.errors import ConfigurationError

__all__ = ["add_explain_parser", "add_why_parser"]


def _common(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument("--json", action="store_true",
                        help="print the explanation as JSON (docs/json.md)")
    parser.add_argument("--budget", type=float, default=5.0, metavar="SECONDS",
                        help="time for minimising the core; past it a plain core is shown, "
                             "marked as not minimal (default: 5)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no warnings on stderr")
    parser.add_argument("-o", "--output-file", metavar="FILE",
                        help="the file `depsat resolve -o FILE` writes: its pins are kept "
                             "while they fit, as there (read, never written here)")


def add_explain_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain", help="explain why requirements cannot be resolved",
        description="Explain why no plan exists: a minimal set of facts as a chain from "
                    "your request to the contradiction, and the smallest changes that fix it.")
    _common(parser)
    parser.add_argument("--smallest", action="store_true",
                        help="find a smallest explanation (slower) instead of any minimal one")
    parser.set_defaults(handler=run_explain)


def add_why_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "why", help="explain why a package is in the plan at its version",
        usage="depsat why PACKAGE [REQUIREMENT ...] [options]",
        description="Why PACKAGE is in the plan: who requires it, and which constraint "
                    "blocks each newer version. The first positional argument is PACKAGE; "
                    "any further ones are requirements, as for `depsat resolve`.")
    _common(parser)
    parser.set_defaults(handler=run_why)


def run_explain(args: argparse.Namespace) -> int:
    from depsat.api import explain
    from depsat.explain import explanation_to_json

    resolution = resolution_from_args(args, "depsat explain")
    if not args.quiet and not args.json:
        print_diagnostics(resolution)
    explanation = explain(resolution, smallest=args.smallest, budget_seconds=args.budget)
    if explanation is None:
        if args.json:
            print(json.dumps({"schema": "depsat.explanation/1", "status": "solved"}, indent=2))
        else:
            print("The requirements resolve; nothing to explain (see `depsat why PACKAGE`).")
        return EXIT_OK
    if args.json:
        print(json.dumps(explanation_to_json(explanation), indent=2))
    else:
        print(explanation.text())
    return EXIT_UNSATISFIABLE


def run_why(args: argparse.Namespace) -> int:
    from depsat.api import explain, why
    from depsat.explain import why_to_json

    if not args.requirements:
        raise ConfigurationError("which package? give PACKAGE first", "depsat why")
    package, *args.requirements = args.requirements
    resolution = resolution_from_args(args, "depsat why")
    if not args.quiet and not args.json:
        print_diagnostics(resolution)
    if resolution.plan is None:
        explanation = explain(resolution, budget_seconds=args.budget)
        text = explanation.text() if explanation is not None else ""
        print(f"depsat: no solution, so no plan to ask about.\n{text}", file=sys.stderr)
        return EXIT_UNSATISFIABLE
    report = why(resolution, package, budget_seconds=args.budget)
    if args.json:
        print(json.dumps(why_to_json(report), indent=2))
    else:
        print(report.text())
    return EXIT_OK
