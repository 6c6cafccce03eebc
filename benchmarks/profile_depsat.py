"""Profile depsat on one generated universe with pyinstrument, phase by phase.

    .venv/bin/pip install pyinstrument
    .venv/bin/python -m benchmarks.profile_depsat --packages 3000 --versions 20 \\
        --conflict 0.2 --solve-limit 60 --html benchmarks/results/profile.html

Discovery and encoding run to completion; solving is cut after ``--solve-limit`` seconds
(the profile up to then is still printed), so a solver that would run for minutes can
still be profiled. ``--backend stratified`` profiles `StratifiedRC2` instead.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from benchmarks.generate import GeneratorConfig, generate


class _SolveLimit(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _SolveLimit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="pyinstrument profile of depsat's phases")
    parser.add_argument("--packages", type=int, default=3000)
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--conflict", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--solve-limit", type=int, default=60)
    parser.add_argument("--backend", choices=("lexicographic", "stratified"),
                        default="lexicographic")
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML report")
    args = parser.parse_args(argv)
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("needs pyinstrument: .venv/bin/pip install pyinstrument", file=sys.stderr)
        return 2
    from depsat.api import request_from_universe_file, target_for
    from depsat.encoding import DEFAULT_OBJECTIVES, encode
    from depsat.solver import LexicographicRC2, Problem, SolverBackend, StratifiedRC2
    from depsat.sources.universe_file import parse_universe
    from depsat.universe import discover

    config = GeneratorConfig(packages=args.packages, versions=args.versions,
                             conflict=args.conflict, seed=args.seed)
    data = generate(config)
    backend: SolverBackend = (StratifiedRC2() if args.backend == "stratified"
                              else LexicographicRC2())
    profiler = Profiler(interval=0.001)
    timings: dict[str, float] = {}
    facts: dict[str, Any] = {}
    profiler.start()
    try:
        start = time.perf_counter()
        world = parse_universe(data)
        timings["parse"] = time.perf_counter() - start
        request = request_from_universe_file(world)
        target = target_for(world)
        start = time.perf_counter()
        universe = discover(request, [world.source], target)
        timings["discovery"] = time.perf_counter() - start
        start = time.perf_counter()
        encoding = encode(universe, DEFAULT_OBJECTIVES)
        problem = Problem(hard=encoding.hard, groups=[c for _, c in encoding.groups],
                          tiers=[t for _, t in encoding.tiers], top=encoding.pool.top)
        timings["encoding"] = time.perf_counter() - start
        facts = {"candidates": universe.candidate_count(), "projects": len(universe.projects),
                 "variables": encoding.pool.top, "clauses": encoding.clause_count(),
                 "soft literals per tier": {n: len(t) for n, t in encoding.tiers if t}}
        start = time.perf_counter()
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(args.solve_limit)
        try:
            outcome = backend.solve(problem)
            facts["outcome"] = type(outcome).__name__
        except _SolveLimit:
            facts["outcome"] = f"cut after {args.solve_limit} s"
        finally:
            signal.alarm(0)
        timings["solving"] = time.perf_counter() - start
    finally:
        profiler.stop()
    print({k: round(v, 3) for k, v in timings.items()})
    print(facts)
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(profiler.output_html(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
