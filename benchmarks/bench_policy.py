"""Source-policy overhead: one generated universe spread over 1, 3 and 10 named indexes.

    .venv/bin/python -m benchmarks.bench_policy --quick      # 1000 x 10, conflict 0 and 0.2
    .venv/bin/python -m benchmarks.bench_policy              # + 3000 x 10
    .venv/bin/python -m benchmarks.bench_policy --sizes 500x10 --conflicts 0 --indexes 1,3

Each universe (`benchmarks.generate`) is spread over N `MemorySource` indexes named
``idx0..idx{N-1}`` (priority in that order) by `spread`: every release is on at least one
index, and some projects are on several indexes with different version subsets (stale
mirrors, and histories split between two indexes), so the index strategies choose differently.
With N = 1 it is the plain universe on one index. Every (universe, N) is resolved under each
strategy with ``SourceRules(indexes=names, strategy=...)``, and for N > 1 once more with a few
pins (projects whose first index lacks their newest release, pinned to the index that has
it). A row ``none`` resolves the plain universe with no policy at all (``AdmitAll``).

Each run is a fresh process (``--worker``), killed after ``--timeout`` seconds. The ratios
(``x...`` columns) divide a run's number by the single-index run of the same universe under
the same strategy. See benchmarks/README.md, "Source policy overhead".
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name

from benchmarks.generate import (
    GeneratorConfig,
    generate,
    parse_sizes,
    universe_name,
    write_universe,
)

__all__ = ["PolicyRecord", "Spread", "choose_pins", "main", "run_policy", "spread"]

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
QUICK = [(1000, 10)]
FULL = [(1000, 10), (3000, 10)]
CONFLICTS = [0.0, 0.2]
INDEX_COUNTS = [1, 3, 10]
STRATEGIES = ("first-index", "unsafe-first-match", "unsafe-best-match")
NO_POLICY = "none"
FINISHED = ("solved", "unsat")

SPLIT_RATE = 0.10
"""Fraction of projects (N > 1) whose history is split: older releases on one index, newer on
another (in either priority order)."""
MIRROR_RATE = 0.30
"""Fraction of projects (N > 1) that, besides their home index with every release, have a
random subset of their releases on one or two more indexes (in either priority order)."""
PIN_COUNT = 5


# -- spreading a universe over indexes -------------------------------------------------------
@dataclass
class Spread:
    """Which releases each index holds: project -> index name -> version strings."""

    count: int
    holdings: dict[str, dict[str, list[str]]]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f"idx{i}" for i in range(self.count))

    def stats(self) -> dict[str, int]:
        """Projects on several indexes, releases on several indexes, and index copies."""
        multi = sum(1 for per in self.holdings.values() if len(per) > 1)
        copies = sum(len(v) for per in self.holdings.values() for v in per.values())
        releases = {(p, v) for p, per in self.holdings.items() for vs in per.values()
                    for v in vs}
        counts: dict[tuple[str, str], int] = {}
        for p, per in self.holdings.items():
            for vs in per.values():
                for v in vs:
                    counts[(p, v)] = counts.get((p, v), 0) + 1
        return {"projects": len(self.holdings), "multi_index_projects": multi,
                "releases": len(releases), "release_copies": copies,
                "multi_index_releases": sum(1 for n in counts.values() if n > 1)}


def spread(data: Mapping[str, Any], count: int, seed: int = 1) -> Spread:
    """Deterministically put every release of the generated universe on 1..3 of `count`
    indexes (see `SPLIT_RATE`, `MIRROR_RATE`). Version lists keep the universe's order
    (oldest first)."""
    holdings: dict[str, dict[str, list[str]]] = {}
    names = [f"idx{i}" for i in range(count)]
    for project, package in data["packages"].items():
        versions = list(package["versions"])
        if count == 1:
            holdings[project] = {names[0]: versions}
            continue
        rng = random.Random(f"depsat-policy:{seed}:{count}:{project}")
        home = rng.randrange(count)
        others = [i for i in range(count) if i != home]
        roll = rng.random()
        per: dict[str, list[str]] = {}
        if roll < SPLIT_RATE and len(versions) > 1:
            cut = rng.randint(1, len(versions) - 1)
            per[names[home]] = versions[:cut]
            per[names[rng.choice(others)]] = versions[cut:]
        else:
            per[names[home]] = versions
            if roll < SPLIT_RATE + MIRROR_RATE:
                for extra in rng.sample(others, min(len(others), rng.randint(1, 2))):
                    subset = set(rng.sample(versions, rng.randint(1, len(versions))))
                    per[names[extra]] = [v for v in versions if v in subset]
        holdings[project] = dict(sorted(per.items(), key=lambda kv: int(kv[0][3:])))
    return Spread(count, holdings)


def _reachable(data: Mapping[str, Any]) -> set[str]:
    """Project names reachable from the roots through any release's requirements."""
    from packaging.requirements import Requirement

    packages = data["packages"]
    by_canonical = {canonicalize_name(p): p for p in packages}
    seen: set[str] = set()
    todo = [by_canonical[canonicalize_name(Requirement(r).name)]
            for r in data["root"]["requires"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for meta in packages[name]["versions"].values():
            texts = [*meta.get("requires", []),
                     *(r for rs in meta.get("extras", {}).values() for r in rs)]
            for text in texts:
                target = by_canonical.get(canonicalize_name(Requirement(text).name))
                if target is not None and target not in seen:
                    todo.append(target)
    return seen


def choose_pins(data: Mapping[str, Any], layout: Spread, count: int = PIN_COUNT,
                seed: int = 1) -> dict[str, str]:
    """A few targeted pins: reachable projects on several indexes whose first index lacks
    their newest release, pinned to the first index that has it (the fix an explanation
    suggests); topped up with other multi-index projects if there are too few."""
    reachable = _reachable(data)
    rng = random.Random(f"depsat-policy-pins:{seed}:{layout.count}")
    hidden: list[tuple[str, str]] = []
    other: list[tuple[str, str]] = []
    for project in sorted(reachable):
        per = layout.holdings[project]
        if len(per) < 2:
            continue
        newest = list(data["packages"][project]["versions"])[-1]
        holder = next(i for i, vs in per.items() if newest in vs)
        (hidden if holder != next(iter(per)) else other).append((project, holder))
    rng.shuffle(hidden)
    rng.shuffle(other)
    return dict(sorted([*hidden, *other][:count]))


# -- one run (in the worker process) ---------------------------------------------------------
@dataclass
class PolicyRecord:
    """One (universe, index count, strategy, pins) run."""

    universe: str
    indexes: int
    """0 for the no-policy run of the plain universe."""
    strategy: str
    pins: dict[str, str] = field(default_factory=dict)
    pinned: bool = False
    """The pinned variant (`pins` may still be empty: a tiny universe, or a failed run)."""
    status: str = "error"
    """solved, unsat, timeout, memout, error"""
    candidates: int | None = None
    variables: int | None = None
    clauses: int | None = None
    phases: dict[str, float] = field(default_factory=dict)
    """discovery, encoding, solving (seconds, `resolution.timings`)."""
    total: float | None = None
    setup: float | None = None
    """Seconds to parse the universe and build the index sources (not in `total`)."""
    exclusions: int | None = None
    """SOURCE_POLICY exclusions over the discovered projects."""
    packages: int | None = None
    staleness: int | None = None
    """Version steps below the newest release in the whole universe (any index), summed."""
    staleness_admitted: int | None = None
    """Version steps below the newest version the policy admits, summed (what the
    objective sees)."""
    from_non_first: int | None = None
    """Chosen candidates whose index is not the first index holding the project."""
    verified: bool | None = None
    problems: list[str] = field(default_factory=list)
    peak_mb: float | None = None
    wall: float | None = None
    detail: str = ""
    ratios: dict[str, float | None] = field(default_factory=dict)
    """Over the single-index run of the same universe and strategy (see `add_ratios`)."""
    same_status: bool | None = None
    """Whether that reference run ended the same way (time ratios between a plan and an
    unsat proof compare different work)."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PolicyRecord:
        return cls(**data)


def run_policy(universe_path: Path, indexes: int, strategy: str,
               pinned: bool) -> PolicyRecord:
    """Parse the universe, spread it, resolve under the strategy, measure the answer."""
    import attrs
    from packaging.version import Version

    from depsat.api import ResolveOptions, request_from_universe_file, resolve, target_for
    from depsat.model import Candidate, ExclusionKind, Origin
    from depsat.source_rules import IndexStrategy, SourceRules
    from depsat.sources.base import Source
    from depsat.sources.memory import MemorySource
    from depsat.sources.universe_file import parse_universe
    from depsat.universe import AdmitAll, SourcePolicy
    from depsat.verify import verify

    data = json.loads(universe_path.read_text(encoding="utf-8"))
    name = str(data.get("name", universe_path.stem))
    start = time.perf_counter()
    world = parse_universe(data, str(universe_path))
    request = request_from_universe_file(world)
    target = target_for(world)
    seed = int(data.get("benchmark", {}).get("seed", 1))
    record = PolicyRecord(universe=name, indexes=indexes, strategy=strategy)
    all_versions = {p: sorted({c.version for c in world.source.candidates(p)}, reverse=True)
                    for p in world.source.projects()}
    sources: list[Source]
    policy: SourcePolicy
    offered: dict[str, list[Candidate]] = {}
    first_holder: dict[NormalizedName, str] = {}
    rules: SourceRules | None = None
    if indexes == 0:
        sources, policy = [world.source], AdmitAll()
    else:
        layout = spread(data, indexes, seed)
        pins = choose_pins(data, layout, seed=seed) if pinned else {}
        record.pins = pins
        by_key = {(c.name, c.version): c for p in world.source.projects()
                  for c in world.source.candidates(p)}
        for index in layout.names:
            origin = Origin("index", index, f"bench://{index}")
            offered[index] = [attrs.evolve(by_key[(_canon(p), Version(v))], origin=origin)
                              for p, per in layout.holdings.items() for v in per.get(index, [])]
        first_holder = {_canon(p): next(iter(per)) for p, per in layout.holdings.items()}
        sources = [MemorySource(offered[i], name=i) for i in layout.names]
        rules = SourceRules(indexes=layout.names, strategy=IndexStrategy.parse(strategy),
                            pins={_canon(p): i for p, i in pins.items()})
        policy = rules
    record.setup = time.perf_counter() - start

    resolution = resolve(request, sources, target,
                         ResolveOptions(source_policy=policy, lazy=False))
    universe = resolution.universe
    record.phases = {k: resolution.timings[k] for k in ("discovery", "encoding", "solving")}
    record.total = sum(record.phases.values())
    record.candidates = universe.candidate_count()
    record.variables = resolution.encoding.pool.top
    record.clauses = resolution.encoding.clause_count()
    record.exclusions = sum(1 for project in universe.projects.values()
                            for e in project.exclusions if e.kind is ExclusionKind.SOURCE_POLICY)
    if resolution.plan is None:
        record.status = "unsat"
        return record
    record.status = "solved"
    chosen = resolution.plan.chosen
    extras = {s.name: set(s.extras) for s in resolution.plan.steps if s.extras}
    record.packages = len(chosen)
    stale = admitted = non_first = 0
    for candidate in chosen:
        stale += all_versions[candidate.name].index(candidate.version)
        usable = sorted({c.version for c in universe.projects[candidate.name].candidates},
                        reverse=True)
        admitted += usable.index(candidate.version)
        if first_holder and candidate.origin.name != first_holder[candidate.name]:
            non_first += 1
    record.staleness, record.staleness_admitted = stale, admitted
    record.from_non_first = non_first if indexes else None
    names = {c.name for c in chosen}
    problems = verify(universe, chosen, extras, rules=rules,
                      offered={i: [c for c in cs if c.name in names]
                               for i, cs in offered.items()})
    record.verified = not problems
    record.problems = problems[:5]
    return record


def _canon(name: str) -> NormalizedName:
    return canonicalize_name(name)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(spec: dict[str, Any]) -> PolicyRecord:
    limit = int(spec.get("memory_limit_mb", 0)) * 1024 * 1024
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    path = Path(spec["universe"])
    try:
        record = run_policy(path, int(spec["indexes"]), str(spec["strategy"]),
                            bool(spec["pinned"]))
    except MemoryError:
        record = PolicyRecord(universe=path.stem, indexes=int(spec["indexes"]),
                              strategy=str(spec["strategy"]), status="memout")
    except Exception as exc:  # a crash is a result too
        record = PolicyRecord(universe=path.stem, indexes=int(spec["indexes"]),
                              strategy=str(spec["strategy"]), status="error",
                              detail=f"{type(exc).__name__}: {exc}",
                              problems=traceback.format_exc().splitlines()[-8:])
    record.peak_mb = _rss_mb()
    return record


# -- the suite (parent process) --------------------------------------------------------------
def run_isolated(universe: Path, indexes: int, strategy: str, pinned: bool, timeout: float,
                 memory_limit_mb: int) -> PolicyRecord:
    spec = {"universe": str(universe), "indexes": indexes, "strategy": strategy,
            "pinned": pinned, "memory_limit_mb": memory_limit_mb}
    command = [sys.executable, "-m", "benchmarks.bench_policy", "--worker", json.dumps(spec)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return PolicyRecord(universe=universe.stem, indexes=indexes, strategy=strategy,
                            status="timeout", wall=time.perf_counter() - start,
                            detail=f"killed after {timeout:g} s")
    wall = time.perf_counter() - start
    try:
        record = PolicyRecord.from_json(json.loads(done.stdout.strip().splitlines()[-1]))
    except (IndexError, ValueError, TypeError):
        status = "memout" if done.returncode in (-9, 137) else "error"
        return PolicyRecord(universe=universe.stem, indexes=indexes, strategy=strategy,
                            status=status, wall=wall,
                            detail=f"exit {done.returncode}: {done.stderr.strip()[-300:]}")
    record.wall = wall
    return record


@dataclass
class Cell:
    config: GeneratorConfig
    path: Path
    spreads: dict[int, dict[str, int]]
    records: list[PolicyRecord]

    @property
    def label(self) -> str:
        return f"{self.config.packages}x{self.config.versions}, {self.config.conflict:g}"


RATIO_FIELDS = ("candidates", "variables", "clauses", "discovery", "encoding", "solving",
                "total", "exclusions", "staleness")


def _value(record: PolicyRecord, key: str) -> float | None:
    if key in ("discovery", "encoding", "solving"):
        return record.phases.get(key)
    value = getattr(record, key)
    return None if value is None else float(value)


def add_ratios(records: list[PolicyRecord]) -> None:
    """Each record's numbers over the single-index run under the same strategy (the
    no-policy row: over the single-index first-index run)."""
    base = {r.strategy: r for r in records if r.indexes == 1 and not r.pinned}
    for record in records:
        reference = base.get(record.strategy if record.indexes else STRATEGIES[0])
        record.ratios = {}
        record.same_status = None if reference is None else record.status == reference.status
        if reference is None or record.status not in FINISHED \
                or reference.status not in FINISHED:
            continue
        for key in RATIO_FIELDS:
            mine, theirs = _value(record, key), _value(reference, key)
            if mine is None or theirs is None:
                record.ratios[key] = None
            elif theirs == 0:
                record.ratios[key] = None if mine else 1.0
            else:
                record.ratios[key] = mine / theirs


def _median(runs: list[PolicyRecord]) -> PolicyRecord:
    finished = sorted((r for r in runs if r.status in FINISHED and r.total is not None),
                      key=lambda r: r.total or 0.0)
    if not finished:
        return runs[-1]
    chosen = finished[(len(finished) - 1) // 2]
    if len(finished) > 1:
        chosen.phases = {k: statistics.median(r.phases[k] for r in finished)
                         for k in chosen.phases}
        chosen.total = sum(chosen.phases.values())
    return chosen


def suite(configs: Sequence[GeneratorConfig], index_counts: Sequence[int],
          strategies: Sequence[str], *, pins: bool = True, repeat: int = 1,
          timeout: float = 120.0, memory_limit_mb: int = 8192,
          universe_dir: Path = RESULTS / "universes", log: bool = True) -> list[Cell]:
    cells: list[Cell] = []
    counts = sorted(set(index_counts) | {1})
    for config in configs:
        data = generate(config)
        path = write_universe(data, universe_dir / f"{universe_name(config)}.json")
        plan: list[tuple[int, str, bool]] = [(0, NO_POLICY, False)]
        for count in counts:
            plan.extend((count, s, False) for s in strategies)
            if pins and count > 1:
                plan.extend((count, s, True) for s in strategies)
        records: list[PolicyRecord] = []
        for count, strategy, pinned in plan:
            runs: list[PolicyRecord] = []
            for _ in range(repeat):
                record = run_isolated(path, count, strategy, pinned, timeout, memory_limit_mb)
                runs.append(record)
                if record.status not in FINISHED:
                    break
            record = _median(runs)
            record.pinned = pinned
            records.append(record)
            if log:
                total = f"{record.total:.3f} s" if record.total is not None else "-"
                print(f"  {universe_name(config):24} idx={count:<2} {strategy:18} "
                      f"{'pins' if pinned else '    '} {record.status:8} {total}",
                      file=sys.stderr, flush=True)
        add_ratios(records)
        spreads = {c: spread(data, c, config.seed).stats() for c in counts}
        cells.append(Cell(config, path, spreads, records))
    return cells


# -- the table -------------------------------------------------------------------------------
def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _int(value: int | None) -> str:
    return "-" if value is None else str(value)


HEADER = ("universe", "idx", "strategy", "pins", "status", "cands", "vars", "clauses",
          "disc", "encode", "solve", "total", "excl", "stale", "stale/adm", "non-first",
          "ok", "xcands", "xvars", "xclauses", "xdisc", "xencode", "xsolve", "xtotal")
LEFT = {0, 2, 4, 16}


def table_rows(cells: Sequence[Cell], timeout: float) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for cell in cells:
        for r in cell.records:
            total = _seconds(r.total) if r.status in FINISHED else (
                f">{timeout:g}" if r.status == "timeout" else "-")
            ok = "-" if r.verified is None else ("yes" if r.verified else "NO")
            x = r.ratios
            rows.append((
                cell.label, str(r.indexes) if r.indexes else "-", r.strategy,
                str(len(r.pins)) if r.pins else "-", r.status, _int(r.candidates),
                _int(r.variables), _int(r.clauses), _seconds(r.phases.get("discovery")),
                _seconds(r.phases.get("encoding")), _seconds(r.phases.get("solving")), total,
                _int(r.exclusions), _int(r.staleness),
                _int(r.staleness_admitted), _int(r.from_non_first), ok,
                *(_ratio(x.get(k)) for k in ("candidates", "variables", "clauses",
                                             "discovery", "encoding", "solving", "total")),
            ))
    return rows


def format_table(cells: Sequence[Cell], timeout: float) -> str:
    rows = [HEADER, *table_rows(cells, timeout)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(c.ljust(widths[i]) if i in LEFT else c.rjust(widths[i])
                               for i, c in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_spreads(cells: Sequence[Cell]) -> str:
    lines = ["universe        idx  multi-index projects  release copies / releases"]
    for cell in cells:
        for count, s in cell.spreads.items():
            lines.append(f"{cell.label:15} {count:>3}  {s['multi_index_projects']:>6} of "
                         f"{s['projects']:<6}       {s['release_copies']} / {s['releases']} "
                         f"({s['release_copies'] / max(s['releases'], 1):.2f}x)")
    return "\n".join(lines)


def summary(cells: Sequence[Cell]) -> str:
    """Geometric-mean ratios per (index count, strategy, pins) over the runs that ended like
    their single-index reference (solved and solved, unsat and unsat)."""
    groups: dict[tuple[int, str, bool], list[dict[str, float | None]]] = {}
    for cell in cells:
        for r in cell.records:
            if r.indexes > 1 and r.ratios and r.same_status:
                groups.setdefault((r.indexes, r.strategy, r.pinned), []).append(r.ratios)
    keys = ("candidates", "clauses", "encoding", "solving", "total")
    lines = [f"{'idx':>3}  {'strategy':18} pins  "
             + "  ".join(f"x{k}".rjust(11) for k in keys) + "  runs"]
    for (count, strategy, pinned), ratios in sorted(groups.items()):
        means = []
        for k in keys:
            values = [v for r in ratios if (v := r.get(k)) is not None and v > 0]
            means.append(statistics.geometric_mean(values) if values else None)
        lines.append(f"{count:>3}  {strategy:18} {'yes ' if pinned else 'no  '}  "
                     + "  ".join(f"{_ratio(m):>11}" for m in means) + f"  {len(ratios):>4}")
    return "\n".join(lines)


def to_json(cells: Sequence[Cell], argv: Sequence[str], timeout: float) -> dict[str, Any]:
    return {
        "schema": "depsat.bench-policy/1",
        "argv": list(argv),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "timeout": timeout,
        "split_rate": SPLIT_RATE,
        "mirror_rate": MIRROR_RATE,
        "cells": [{
            "config": asdict(cell.config),
            "universe": str(cell.path.relative_to(ROOT)) if cell.path.is_relative_to(ROOT)
            else str(cell.path),
            "spreads": {str(k): v for k, v in cell.spreads.items()},
            "records": [asdict(r) for r in cell.records],
        } for cell in cells],
    }


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description="depsat source-policy overhead.")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="1000 x 10 only")
    parser.add_argument("--sizes", help="override: e.g. 500x10,2000x10")
    parser.add_argument("--conflicts", default=",".join(f"{c:g}" for c in CONFLICTS))
    parser.add_argument("--indexes", default=",".join(map(str, INDEX_COUNTS)),
                        help="index counts (1 is always run: it is the reference)")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--no-pins", action="store_true", help="skip the pinned variant")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell; the median")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run")
    parser.add_argument("--memory-limit-mb", type=int, default=8192)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--roots", type=int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for the JSON")
    parser.add_argument("--plot", type=Path, metavar="FILE.png",
                        help="write a PNG: total seconds (log) against the index count, a "
                             "panel per universe, a line per strategy (pinned dashed, 'none' "
                             "= no policy), a cross on the timeout line for an unfinished run")
    args = parser.parse_args(argv)
    if args.worker:
        sys.stdout.write(json.dumps(asdict(worker(json.loads(args.worker)))) + "\n")
        return 0

    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        parser.error(f"unknown strateg(ies) {', '.join(unknown)}; known: {', '.join(STRATEGIES)}")
    sizes = parse_sizes(args.sizes) if args.sizes else (QUICK if args.quick else FULL)
    conflicts = [float(c) for c in args.conflicts.split(",")]
    configs = [GeneratorConfig(packages=p, versions=v, conflict=c, seed=args.seed,
                               roots=args.roots) for p, v in sizes for c in conflicts]
    counts = [int(n) for n in args.indexes.split(",")]
    cells = suite(configs, counts, strategies, pins=not args.no_pins, repeat=args.repeat,
                  timeout=args.timeout, memory_limit_mb=args.memory_limit_mb)
    print(format_spreads(cells))
    print()
    print(format_table(cells, args.timeout))
    print()
    print("geometric mean ratios vs 1 index, same strategy (runs that ended like it):")
    print(summary(cells))
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"bench-policy-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(to_json(cells, argv, args.timeout), indent=1), encoding="utf-8")
    print(f"\nJSON: {out}", file=sys.stderr)
    if args.plot:
        plot(cells, args.timeout, args.plot)
        print(f"plot: {args.plot}", file=sys.stderr)
    return 0


def plot(cells: Sequence[Cell], timeout: float, path: Path) -> None:
    """The table's `total` against the index count, so the policy's cost per extra index
    shows as a slope: a panel per universe, a line per strategy (pinned dashed), the plain
    universe without a policy at "none"; a run that did not finish is a cross at the timeout."""
    from benchmarks.plotting import Panel, Series, colour_for, save_plot, style_for

    counts = sorted({r.indexes for cell in cells for r in cell.records})
    order = [NO_POLICY, *STRATEGIES]
    panels = []
    for cell in cells:
        lines: dict[tuple[str, bool], tuple[list[tuple[float, float]], list[float]]] = {}
        for record in cell.records:
            points, failed = lines.setdefault((record.strategy, record.pinned), ([], []))
            x = counts.index(record.indexes)
            if record.status in FINISHED and record.total is not None:
                points.append((x, record.total))
            else:
                failed.append(x)
        if 1 in counts:  # pins are moot on one index: start the pinned line at its reference
            one = counts.index(1)
            for (strategy, pinned), (points, failed) in lines.items():
                plain = lines.get((strategy, False), ([], []))
                if pinned:
                    points.extend(p for p in plain[0] if p[0] == one)
                    failed.extend(x for x in plain[1] if x == one)
        series = [Series(f"{strategy}{', pinned' if pinned else ''}"
                         + (" (no policy)" if strategy == NO_POLICY else ""),
                         points, failed, colour_for(strategy, order.index(strategy)),
                         style_for(int(pinned)))
                  for (strategy, pinned), (points, failed) in lines.items()]
        config = cell.config
        panels.append(Panel(f"{config.packages}x{config.versions}, conflict {config.conflict:g}",
                            series, xlabel="named indexes (none = plain universe, one source)",
                            ylabel="seconds (discover+encode+solve; x = did not finish)",
                            categories=[str(n) if n else "none" for n in counts],
                            limit=timeout))
    save_plot(path, panels, title="depsat source-policy overhead: one universe over N indexes")


if __name__ == "__main__":
    raise SystemExit(main())
