"""Run depsat and its peers on generated universes; print a table, write JSON and a plot.

    .venv/bin/python -m benchmarks.run --quick                 # about a minute
    .venv/bin/python -m benchmarks.run --plot results/time.png # the full suite
    .venv/bin/python -m benchmarks.run --huge --tools depsat,libsolv

Each (tool, universe) run is its own process (`benchmarks.worker`), killed after
``--timeout`` seconds (reported as ``timeout``), so peak RSS is clean and a hang cannot stop
the suite. See benchmarks/README.md for the columns.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.generate import (
    GeneratorConfig,
    generate,
    parse_sizes,
    universe_name,
    write_universe,
)
from benchmarks.worker import Record

__all__ = ["Cell", "Suite", "aggregate", "format_table", "main", "run_isolated", "suite"]

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TOOLS = ("depsat", "resolvelib", "libsolv")
PEERS = ("libsolv", "resolvelib")
FINISHED = ("solved", "unsat")

QUICK = [(200, 10), (1000, 10)]
FULL = [(200, 10), (1000, 10), (3000, 10), (1000, 20), (3000, 20)]
HUGE = [(10_000, 20)]
CONFLICTS = [0.0, 0.2]


@dataclass
class Cell:
    """One universe's configuration and, per tool, the median record of its repeats."""

    config: GeneratorConfig
    path: Path
    records: dict[str, Record]
    repeats: dict[str, list[float]]

    @property
    def label(self) -> str:
        return f"{self.config.packages}x{self.config.versions}, {self.config.conflict:g}"


@dataclass
class Suite:
    cells: list[Cell]
    timeout: float
    tools: Sequence[str]


def run_isolated(tool: str, universe: Path, timeout: float, *,
                 memory_limit_mb: int = 8192, keep_versions: bool = False) -> Record:
    """Run one tool on one universe file in a fresh worker process."""
    command = [sys.executable, "-m", "benchmarks.worker", "--tool", tool,
               "--universe", str(universe), "--memory-limit-mb", str(memory_limit_mb)]
    if not keep_versions:
        command.append("--no-versions")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return Record(tool=tool, universe=universe.stem, status="timeout",
                      wall=time.perf_counter() - start,
                      detail=f"killed after {timeout:g} s")
    wall = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    try:
        record = Record.from_json(json.loads(lines[-1]))
    except (IndexError, ValueError, TypeError):
        status = "memout" if done.returncode in (-9, 137) else "error"
        return Record(tool=tool, universe=universe.stem, status=status, wall=wall,
                      detail=f"exit {done.returncode}: {done.stderr.strip()[-300:]}")
    record.wall = wall
    return record


def aggregate(records: list[Record]) -> tuple[Record, list[float]]:
    """The median run (by total time) of the repeats, and every repeat's total."""
    totals = [r.total for r in records if r.total is not None]
    finished = [r for r in records if r.status in FINISHED and r.total is not None]
    if not finished:
        return records[-1], totals
    finished.sort(key=lambda r: r.total or 0.0)
    median = finished[(len(finished) - 1) // 2]
    if len(finished) > 1:
        # Phases as medians of their own, so the split adds up to the reported total.
        median.phases = {k: statistics.median(r.phases.get(k, 0.0) for r in finished)
                         for k in median.phases}
        median.total = sum(median.phases.values())
        median.peak_mb = statistics.median(r.peak_mb or 0.0 for r in finished)
    return median, totals


def suite(configs: Sequence[GeneratorConfig], tools: Sequence[str], *, repeat: int = 1,
          timeout: float = 120.0, memory_limit_mb: int = 8192,
          universe_dir: Path = RESULTS / "universes", log: bool = True) -> Suite:
    """Generate each universe, run each tool `repeat` times on it (a timeout is not
    repeated), and keep the median.

    The tools take turns (one run of each, then the next round), so that a slower stretch of
    the machine falls on all of them alike: run one after another, three runs of each, the
    same universe parse (the same code for every tool) once took 2.63 s in depsat's runs and
    2.46 s in libsolv's, a 7% tilt in a cell whose ratio sits near 1x."""
    cells: list[Cell] = []
    for config in configs:
        path = write_universe(generate(config), universe_dir / f"{universe_name(config)}.json")
        runs: dict[str, list[Record]] = {tool: [] for tool in tools}
        for _ in range(repeat):
            for tool in tools:
                earlier = runs[tool]
                if earlier and earlier[-1].status not in FINISHED:
                    continue
                record = run_isolated(tool, path, timeout, memory_limit_mb=memory_limit_mb)
                earlier.append(record)
                if log:
                    total = f"{record.total:.3f} s" if record.total is not None else "-"
                    print(f"  {universe_name(config):28} {tool:11} {record.status:8} {total}",
                          file=sys.stderr, flush=True)
        aggregated = {tool: aggregate(runs[tool]) for tool in tools}
        cells.append(Cell(config, path, {tool: a[0] for tool, a in aggregated.items()},
                          {tool: a[1] for tool, a in aggregated.items()}))
    return Suite(cells, timeout, list(tools))


# -- the table -------------------------------------------------------------------------------
def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def ratio(cell: Cell, tool: str, peer: str, timeout: float) -> str:
    """tool's total over peer's total; '<x' or '>x' when one side timed out."""
    mine, theirs = cell.records.get(tool), cell.records.get(peer)
    if mine is None or theirs is None or tool == peer:
        return ""
    mine_done = mine.status in FINISHED and mine.total is not None
    theirs_done = theirs.status in FINISHED and theirs.total is not None
    if mine_done and theirs_done:
        assert mine.total is not None and theirs.total is not None
        return f"{mine.total / max(theirs.total, 1e-6):.2g}"
    if mine_done and theirs.status == "timeout":
        assert mine.total is not None
        return f"<{mine.total / timeout:.2g}"
    if mine.status == "timeout" and theirs_done:
        assert theirs.total is not None
        return f">{timeout / max(theirs.total, 1e-6):.2g}"
    return "-"


def _phase_columns(record: Record) -> tuple[str, str, str]:
    """(discovery or load, encoding, solving) in seconds."""
    p = record.phases
    first = p.get("discovery", p.get("load"))
    return _seconds(first), _seconds(p.get("encoding")), _seconds(p.get("solving"))


HEADER = ("universe", "tool", "status", "pkgs", "stale", "verified", "parse",
          "disc/load", "encode", "solve", "total", "peak MB", "xlibsolv", "xresolvelib")


def table_rows(result: Suite) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for cell in result.cells:
        for tool in result.tools:
            r = cell.records[tool]
            verified = "-" if r.verified is None else ("yes" if r.verified else "NO")
            total = _seconds(r.total) if r.status in FINISHED else (
                f">{result.timeout:g}" if r.status == "timeout" else "-")
            rows.append((
                cell.label, tool, r.status,
                "-" if r.packages is None else str(r.packages),
                "-" if r.staleness is None else str(r.staleness),
                verified, _seconds(r.parse), *_phase_columns(r), total,
                "-" if r.peak_mb is None else f"{r.peak_mb:.0f}",
                ratio(cell, tool, "libsolv", result.timeout),
                ratio(cell, tool, "resolvelib", result.timeout),
            ))
    return rows


def format_table(result: Suite) -> str:
    rows = [HEADER, *table_rows(result)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    left = {0, 1, 2, 5}
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) if i in left else cell.rjust(widths[i])
                               for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def to_json(result: Suite, argv: Sequence[str]) -> dict[str, object]:
    return {
        "schema": "depsat.bench/1",
        "argv": list(argv),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "timeout": result.timeout,
        "tools": list(result.tools),
        "cells": [{
            "config": vars(cell.config),
            "universe": str(cell.path.relative_to(ROOT)) if cell.path.is_relative_to(ROOT)
            else str(cell.path),
            "records": {tool: record.to_json() for tool, record in cell.records.items()},
            "repeat_totals": cell.repeats,
            "ratios": {tool: {peer: ratio(cell, tool, peer, result.timeout) for peer in PEERS}
                       for tool in cell.records},
        } for cell in result.cells],
    }


def plot(result: Suite, path: Path) -> None:
    """Total time vs universe size (candidates) per tool and conflict rate, log-log."""
    from benchmarks.plotting import Panel, Series, colour_for, save_plot, style_for

    conflicts = sorted({c.config.conflict for c in result.cells})
    series: list[Series] = []
    for number, tool in enumerate(result.tools):
        for index, conflict in enumerate(conflicts):
            points: list[tuple[float, float]] = []
            failed: list[float] = []
            for cell in result.cells:
                if cell.config.conflict != conflict:
                    continue
                record = cell.records[tool]
                size = cell.config.packages * cell.config.versions
                if record.status in FINISHED and record.total is not None:
                    points.append((size, record.total))
                elif record.status == "timeout":
                    failed.append(size)
            series.append(Series(f"{tool}, conflict {conflict:g}", points, failed,
                                 colour_for(tool, number), style_for(index)))
    save_plot(path, [Panel("depsat vs peers on generated universes", series,
                           xlabel="universe size (packages x versions)",
                           ylabel="seconds (tool phases, parse excluded; x = timeout)",
                           limit=result.timeout)])


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description="depsat vs resolvelib vs libsolv.")
    parser.add_argument("--quick", action="store_true",
                        help="200 and 1000 packages x 10 versions, conflicts 0 and 0.2")
    parser.add_argument("--huge", action="store_true", help="add 10,000 packages x 20")
    parser.add_argument("--sizes", help="override: e.g. 200x10,1000x20")
    parser.add_argument("--conflicts", default=",".join(f"{c:g}" for c in CONFLICTS),
                        help="conflict rates, comma-separated (default 0,0.2)")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the median")
    parser.add_argument("--timeout", type=float,
                        help="seconds per run (default 120; 30 with --quick)")
    parser.add_argument("--memory-limit-mb", type=int, default=8192)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--roots", type=int, default=10)
    parser.add_argument("--plot", type=Path, help="write a PNG of time vs size")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for the JSON")
    args = parser.parse_args(argv)

    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    from benchmarks.adapters import ADAPTERS, solv_available

    unknown = [t for t in tools if t not in ADAPTERS]
    if unknown:
        parser.error(f"unknown tool(s) {', '.join(unknown)}; known: {', '.join(ADAPTERS)}")
    if "libsolv" in tools and not solv_available():
        print("libsolv skipped: the 'solv' bindings are not installed (pip install solv)",
              file=sys.stderr)
        tools.remove("libsolv")
    sizes = parse_sizes(args.sizes) if args.sizes else (QUICK if args.quick else FULL)
    if args.huge:
        sizes = [*sizes, *HUGE]
    conflicts = [float(c) for c in args.conflicts.split(",")]
    configs = [GeneratorConfig(packages=p, versions=v, conflict=c, seed=args.seed,
                               roots=args.roots) for p, v in sizes for c in conflicts]
    timeout = args.timeout or (30.0 if args.quick else 120.0)
    result = suite(configs, tools, repeat=args.repeat, timeout=timeout,
                   memory_limit_mb=args.memory_limit_mb)
    print(format_table(result))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = args.out / f"bench-{stamp}.json"
    out.write_text(json.dumps(to_json(result, argv), indent=1), encoding="utf-8")
    print(f"\nJSON: {out}", file=sys.stderr)
    if args.plot:
        plot(result, args.plot)
        print(f"plot: {args.plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
