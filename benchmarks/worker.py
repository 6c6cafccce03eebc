"""One (tool, universe) run in a fresh process, so its peak RSS is its own.

    .venv/bin/python -m benchmarks.worker --tool depsat --universe U.json

Prints one JSON object (a `Record` as a dict) on the last line of stdout. The parent
(`benchmarks.run.run_isolated`) enforces the wall-clock limit by killing this process.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Record", "run_one"]


@dataclass
class Record:
    """One run's measurements; the unit of the JSON results."""

    tool: str
    universe: str
    status: str
    """solved, unsat, timeout, memout, gave-up, error, skipped"""
    phases: dict[str, float] = field(default_factory=dict)
    """The tool's own phases: discovery/encoding/solving (depsat), load/solving (libsolv),
    solving (resolvelib), and "other": the rest of the call (depsat: decoding the plan, and
    the collector's pass after its pause). Seconds."""
    total: float | None = None
    """Sum of `phases`: the wall time of the tool's call (parsing the universe file is
    excluded: it is the same for all)."""
    parse: float | None = None
    """Seconds to parse the universe data into candidates (`parse_universe`), shared by all."""
    wall: float | None = None
    """Wall time of the whole worker process, imports included (set by the parent)."""
    peak_mb: float | None = None
    """Peak RSS of the worker process, after the tool ran (parsed universe included)."""
    baseline_mb: float | None = None
    """RSS before parsing the universe (interpreter, imports, raw JSON)."""
    packages: int | None = None
    staleness: int | None = None
    """Sum over installed packages of version steps below the newest usable version."""
    staleness_direct: int | None = None
    """The same, over the packages the root requirements name."""
    verified: bool | None = None
    problems: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        return cls(**data)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(tool: str, universe_path: Path, *, keep_versions: bool = True) -> Record:
    """Parse the universe, run `tool` on its root requirements, then measure the answer."""
    from benchmarks.adapters import ADAPTERS, discover_universe, quality
    from depsat.api import request_from_universe_file, target_for
    from depsat.sources.universe_file import parse_universe

    data = json.loads(universe_path.read_text(encoding="utf-8"))
    name = str(data.get("name", universe_path.stem))
    baseline = _rss_mb()
    start = time.perf_counter()
    world = parse_universe(data, str(universe_path))
    parse = time.perf_counter() - start
    del data
    request = request_from_universe_file(world)
    target = target_for(world)
    start = time.perf_counter()
    answer = ADAPTERS[tool](world, request, target)
    called = time.perf_counter() - start
    peak = _rss_mb()
    # The whole call counts, not only the phases a tool times itself: depsat's plan decoding
    # and the collector's passes over what the resolve left (0.18-0.20 s at 3000 x 20 until
    # `api.collector_paused` moved it straight to the oldest generation) are time a caller
    # waits too.
    phases = {**answer.phases, "other": max(0.0, called - sum(answer.phases.values()))}
    record = Record(tool=tool, universe=name, status=answer.status, phases=phases,
                    total=sum(phases.values()), parse=parse, peak_mb=peak,
                    baseline_mb=baseline, detail=answer.detail)
    if answer.status == "solved":
        universe = answer.universe or discover_universe(world, request, target)
        measured = quality(universe, answer)
        record.packages = measured.packages
        record.staleness = measured.staleness
        record.staleness_direct = measured.staleness_direct
        record.verified = measured.verified
        record.problems = measured.problems[:5]
        if keep_versions:
            record.versions = {str(k): str(v) for k, v in sorted(answer.versions.items())}
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one tool on one universe.")
    parser.add_argument("--tool", required=True)
    parser.add_argument("--universe", type=Path, required=True)
    parser.add_argument("--memory-limit-mb", type=int, default=0,
                        help="address-space limit; exceeding it reports 'memout'")
    parser.add_argument("--no-versions", action="store_true",
                        help="leave the chosen versions out of the record")
    args = parser.parse_args(argv)
    if args.memory_limit_mb:
        limit = args.memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        record = run_one(args.tool, args.universe, keep_versions=not args.no_versions)
    except MemoryError:
        record = Record(tool=args.tool, universe=args.universe.stem, status="memout",
                        peak_mb=_rss_mb())
    except Exception as exc:  # a crash is a result too: report it, don't lose the table
        record = Record(tool=args.tool, universe=args.universe.stem, status="error",
                        detail=f"{type(exc).__name__}: {exc}",
                        problems=traceback.format_exc().splitlines()[-8:])
    sys.stdout.write(json.dumps(record.to_json()) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
