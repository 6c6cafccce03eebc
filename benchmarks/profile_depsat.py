"""Profile depsat on one generated universe with pyinstrument: `depsat.api.resolve` as the
benchmark runs it (`adapters.run_depsat`), so the profile is of the problem the tables time.

    .venv/bin/pip install pyinstrument
    .venv/bin/python -m benchmarks.profile_depsat --packages 3000 --versions 20 \\
        --conflict 0.2 --solve-limit 60 --html benchmarks/results/profile.html

The run is cut after ``--solve-limit`` seconds (the profile up to then is still printed).
The limit is checked between Python steps, so one long SAT call finishes first.
``--backend lexicographic`` profiles `LexicographicRC2` instead of the default
`StratifiedRC2`.
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
                        default="stratified")
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML report")
    args = parser.parse_args(argv)
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("needs pyinstrument: .venv/bin/pip install pyinstrument", file=sys.stderr)
        return 2
    from depsat.api import ResolveOptions, request_from_universe_file, resolve, target_for
    from depsat.solver import LexicographicRC2, SolverBackend, StratifiedRC2
    from depsat.sources.universe_file import parse_universe

    config = GeneratorConfig(packages=args.packages, versions=args.versions,
                             conflict=args.conflict, seed=args.seed)
    data = generate(config)
    backend: SolverBackend = (LexicographicRC2() if args.backend == "lexicographic"
                              else StratifiedRC2())
    profiler = Profiler(interval=0.001)
    timings: dict[str, float] = {}
    facts: dict[str, Any] = {}
    signal.signal(signal.SIGALRM, _alarm)
    profiler.start()
    try:
        start = time.perf_counter()
        world = parse_universe(data)
        timings["parse"] = time.perf_counter() - start
        signal.alarm(args.solve_limit)
        try:
            resolution = resolve(request_from_universe_file(world), [world.source],
                                 target_for(world), ResolveOptions(backend=backend))
        except _SolveLimit:
            facts["outcome"] = f"cut after {args.solve_limit} s"
        else:
            timings.update(resolution.timings)
            encoding = resolution.encoding
            facts = {"outcome": "plan" if resolution.plan is not None else "no plan",
                     "candidates": resolution.universe.candidate_count(),
                     "projects": len(resolution.universe.projects),
                     "variables": encoding.pool.top, "clauses": encoding.clause_count(),
                     "soft literals per tier": {n: len(t) for n, t in encoding.tiers if t}}
        finally:
            signal.alarm(0)
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
