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

Then where the reads went (`Reads`): the plan's releases, other releases of its projects newer
and older than the ones it installs, releases of projects it leaves out, and the pages read;
against the floor any exact lazy reading of this relaxation must reach (`reads_floor`).

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
from packaging.utils import NormalizedName, canonicalize_name

from benchmarks.generate import GeneratorConfig, generate
from depsat.api import Resolution
from depsat.model import Candidate, CandidateKey
from depsat.solver import SolverBackend, StratifiedRC2
from depsat.solver.problem import Optimum, Problem, Refutation, Unfinished
from depsat.solver.rc2 import CoreLog
from depsat.universe import Dependency


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
    resolution: Resolution | None = None


@attrs.frozen
class Reads:
    """Where a lazy resolve's reads went: releases whose metadata was read, by how they stand
    to the plan, and project pages."""

    releases: int
    chosen: int
    """The plan's own releases."""
    newer: int
    """Releases of the plan's projects newer than the one it installs."""
    older: int
    """Releases of the plan's projects older than the one it installs."""
    elsewhere: int
    """Releases of projects the plan leaves out."""
    pages: int


def _installed(resolution: Resolution) -> dict[NormalizedName, Candidate]:
    """The release the plan installs, per project."""
    assert resolution.plan is not None
    return {step.name: step.candidate for step in resolution.plan.steps if step.candidate}


def reads_of(resolution: Resolution) -> Reads:
    universe = resolution.universe
    plan = _installed(resolution)
    chosen = newer = older = elsewhere = 0
    for key in universe.dependencies:
        installed = plan.get(key.name)
        if installed is None:
            elsewhere += 1
        elif key == installed.key:
            chosen += 1
        elif key.version > installed.version:
            newer += 1
        else:
            older += 1
    return Reads(len(universe.dependencies), chosen, newer, older, elsewhere,
                 len(universe.projects))


def reads_floor(resolution: Resolution) -> tuple[list[Candidate], int]:
    """(releases, pages) that any exact lazy reading of this relaxation must read to answer
    this plan, for a request with nothing installed (staleness then decides between two
    releases of a project): the plan's releases and pages, and every usable release of a
    plan's project newer than the one it installs that all of the plan's requirements on
    that project (and the request's constraints) allow. Left unread, such a release would
    require nothing, and the plan with it instead would be a better plan of the relaxation,
    so the rounds could not have ended with this plan."""
    universe = resolution.universe
    assert resolution.plan is not None
    plan = _installed(resolution)
    requirements: list[Dependency] = list(universe.root)
    for step in resolution.plan.steps:
        if step.candidate is not None:
            key = step.candidate.key
            requirements.extend(universe.dependencies.get(key, ()))
            for extra in step.extras:
                requirements.extend(universe.extra_dependencies.get((key, extra), ()))
    allowed: dict[str, list[set[CandidateKey]]] = {}
    for dependency in requirements:
        allowed.setdefault(dependency.name, []).append({c.key for c in dependency.matches})
    releases: list[Candidate] = []
    for name, installed in plan.items():
        releases.append(installed)
        constraints = [c.specifier for c in universe.request.constraints
                       if canonicalize_name(c.name) == name]
        for release in universe.projects[name].candidates:  # (best first)
            if release.key == installed.key:
                break
            if (universe.choosable(release)
                    and all(release.key in keys for keys in allowed.get(name, ()))
                    and all(s.contains(release.version, prereleases=True)
                            for s in constraints)):
                releases.append(release)
    return releases, len(plan)


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
        run.resolution = resolution
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


def format_reads(reads: Reads, floor: tuple[list[Candidate], int]) -> str:
    return (f"reads: {reads.releases:,} releases ({reads.chosen:,} in the plan, "
            f"{reads.newer:,} newer and {reads.older:,} older of its projects, "
            f"{reads.elsewhere:,} of projects it leaves out) and {reads.pages:,} pages\n"
            f"floor: {len(floor[0]):,} releases and {floor[1]:,} pages (what any exact lazy "
            "reading must read for this plan)")


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
    if lazy.resolution is not None and lazy.resolution.plan is not None:
        print(format_reads(reads_of(lazy.resolution), reads_floor(lazy.resolution)))
    eager = _solve(data, name, lazy=False, reuse=True, limit=args.limit)
    print(f"eager: {eager.status}, {eager.seconds:.2f} s in all, "
          f"{sum(r.seconds for r in eager.backend.rounds):.2f} s solving, costs {eager.costs}")
    if lazy.costs is not None and eager.costs is not None and lazy.costs != eager.costs:
        print("lazy and eager optima differ: a bug", file=sys.stderr)
        return 1
    return 0

if __name__ == "__main__":
    sys.exit(main())
