"""Lazy reading's rounds on a generated universe, in process, round by round.

    .venv/bin/python -m benchmarks.lazy_rounds --packages 3000 --versions 10 --conflict 0.2
    .venv/bin/python -m benchmarks.lazy_rounds --universe benchmarks/results/universes/X.json \\
        --no-reuse --limit 120

An index source reads metadata lazily (`ResolveOptions.lazy`): each round solves a relaxation
in which unread releases require nothing, and reads what its optimum took. This runs that
loop on a universe file, with no HTTP in the way, so the solver's share can be studied alone:
per round, the solving time, the costs reached, the problem's size and how many of the last
round's cores the backend was handed (`Problem.reuse`); then the same request solved eagerly
(everything read, one round) for comparison. `--no-reuse` hands the backend no earlier cores.

The backend is wrapped, not patched: solver backends are pluggable (`SolverBackend`), and the
wrapper records each call on its way through. The run is cut after ``--limit`` seconds (the
rounds so far are still printed; the limit is checked between Python steps, so a long SAT call
finishes first).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

import attrs

from benchmarks.generate import GeneratorConfig, generate
from depsat.solver import SolverBackend, StratifiedRC2
from depsat.solver.problem import Optimum, Problem, Refutation, Unfinished
from depsat.solver.rc2 import CoreLog


@attrs.define
class RoundRecord:
    seconds: float
    costs: tuple[int, ...] | None
    variables: int
    hard_clauses: int
    cores_handed: int
    conflicts: int
    gave_up: bool = False


@attrs.define
class RecordingBackend:
    """A backend that times each solve of the backend it wraps (and may withhold reuse)."""

    inner: SolverBackend
    reuse: bool = True
    rounds: list[RoundRecord] = attrs.field(factory=list)
    name: str = "recording"

    def solve(self, problem: Problem) -> Optimum | Refutation | Unfinished:
        if not self.reuse:
            problem = attrs.evolve(problem, reuse=None)
        handed = len(problem.reuse.cores) if isinstance(problem.reuse, CoreLog) else 0
        start = time.perf_counter()
        outcome = self.inner.solve(problem)
        self.rounds.append(RoundRecord(
            time.perf_counter() - start,
            outcome.costs if isinstance(outcome, Optimum) else None,
            problem.top, len(problem.hard), handed,
            0 if isinstance(outcome, Refutation) else outcome.effort,
            isinstance(outcome, Unfinished)))
        return outcome


class _Limit(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _Limit


@attrs.define
class Run:
    backend: RecordingBackend
    seconds: float
    status: str
    costs: dict[str, int] | None = None
    """The plan's cost per objective (offsets included, unlike a round's)."""


def _solve(data: dict[str, Any], source_name: str, *, lazy: bool, reuse: bool,
           limit: int) -> Run:
    from depsat.api import ResolveOptions, request_from_universe_file, resolve, target_for
    from depsat.sources.universe_file import parse_universe

    world = parse_universe(data, source_name)
    backend = RecordingBackend(StratifiedRC2(), reuse=reuse)
    options = ResolveOptions(backend=backend, lazy=lazy)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit)
    start = time.perf_counter()
    run = Run(backend, 0.0, "solved")
    try:
        resolution = resolve(request_from_universe_file(world), [world.source],
                             target_for(world), options)
        if resolution.plan is None:
            run.status = "unsat"
        else:
            run.costs = dict(resolution.plan.costs)
    except _Limit:
        run.status = f"cut at {limit} s"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    run.seconds = time.perf_counter() - start
    return run


def format_rounds(rounds: list[RoundRecord]) -> str:
    lines = [f"{'round':>5}  {'solve s':>8}  {'variables':>9}  {'hard':>7}  "
             f"{'cores handed':>12}  {'conflicts':>9}  costs"]
    for number, record in enumerate(rounds, 1):
        costs = ("gave up" if record.gave_up else "-" if record.costs is None
                 else ", ".join(map(str, record.costs)))
        lines.append(f"{number:>5}  {record.seconds:>8.2f}  {record.variables:>9}  "
                     f"{record.hard_clauses:>7}  {record.cores_handed:>12}  "
                     f"{record.conflicts:>9}  {costs}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="lazy reading's rounds, solved one by one")
    parser.add_argument("--universe", type=Path, help="a universe file (else generate one)")
    parser.add_argument("--packages", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--conflict", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-reuse", action="store_true",
                        help="hand the backend no cores of the round before")
    parser.add_argument("--limit", type=int, default=300, help="seconds per resolve")
    args = parser.parse_args(argv)
    if args.universe is not None:
        data = json.loads(args.universe.read_text(encoding="utf-8"))
        name = str(args.universe)
    else:
        config = GeneratorConfig(packages=args.packages, versions=args.versions,
                                 conflict=args.conflict, seed=args.seed)
        data = generate(config)
        name = "generated"
    lazy = _solve(data, name, lazy=True, reuse=not args.no_reuse, limit=args.limit)
    print(format_rounds(lazy.backend.rounds))
    print(f"lazy:  {lazy.status}, {lazy.seconds:.2f} s in all, "
          f"{sum(r.seconds for r in lazy.backend.rounds):.2f} s solving, "
          f"{len(lazy.backend.rounds)} rounds, costs {lazy.costs}")
    eager = _solve(data, name, lazy=False, reuse=True, limit=args.limit)
    print(f"eager: {eager.status}, {eager.seconds:.2f} s in all, "
          f"{sum(r.seconds for r in eager.backend.rounds):.2f} s solving, costs {eager.costs}")
    if lazy.costs is not None and eager.costs is not None and lazy.costs != eager.costs:
        print("lazy and eager optima differ: a bug", file=sys.stderr)
        return 1
    return 0

if __name__ == "__main__":
    sys.exit(main())
