"""Installed environments: reading a large mixed-format site-packages, and resolving over one.

Part 1 writes a real venv whose site-packages holds N distributions in mixed formats (about
60 % .dist-info, 15 % .egg-info directories, 5 % .egg-info files, 10 % .egg directories and
10 % zipped eggs, the eggs listed in easy-install.pth) and times, in the same run:
depsat's reader, ``importlib.metadata.distributions()`` (name, version, requirements of each)
inside that interpreter, and ``uv pip list``. Each tool's count of distributions it saw is
printed too: the formats differ in who sees them.

Part 2 takes a generated universe, resolves it once, writes the plan into a real
site-packages as .dist-info directories (the "installed" environment), then resolves a new
request against universe + installed, timing reading, discovery, encoding and solving.

Part 3 runs the command line over part 1's venv (``depsat resolve --universe U --python
VENV``, U part 2's universe): once to fill the cache, then `--repeat` times answered from the
remembered resolution (`depsat.cli.memo`: the interpreter is asked again, every layer and
metadata file checked) and `--repeat` times with ``--no-memo``; best of each, whole process.

    .venv/bin/python -m benchmarks.bench_installed --distributions 600 --installed 300
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import envbuild as eb

from benchmarks.generate import GeneratorConfig, generate
from depsat.api import request_from_universe_file, resolve, target_for
from depsat.model import Request
from depsat.sources.installed import InstalledSource
from depsat.sources.universe_file import parse_universe

RESULTS = Path(__file__).resolve().parent / "results"
IMPORTLIB_READ = (
    "import importlib.metadata as m, sys, time\n"
    "t = time.perf_counter()\n"
    "seen = [(d.metadata['Name'], d.version, d.requires)\n"
    "        for d in m.distributions(path=[sys.argv[1]])]\n"
    "print(len(seen), time.perf_counter() - t)\n"
)


def populate(site: Path, count: int) -> None:
    """`count` distributions in mixed formats, each requiring one earlier one."""
    for i in range(count):
        name, version = f"pkg{i:04d}", f"1.{i % 7}.0"
        requires = [f"pkg{i - 1:04d}>=1"] if i else []
        kind = i % 20
        if kind < 12:
            eb.write_dist_info(site, name, version, requires=requires)
        elif kind < 15:
            eb.write_egg_info_dir(site, name, version, requires_txt="\n".join(requires) + "\n")
        elif kind < 16:
            eb.write_egg_info_file(site, name, version)
        elif kind < 18:
            eb.write_egg_dir(site, name, version, requires_txt="\n".join(requires) + "\n")
        else:
            eb.write_egg_zip(site, name, version, requires_txt="\n".join(requires) + "\n")


@dataclass(frozen=True)
class ReadRow:
    """One reader's best time on part 1; `tool` names its colour in the plot."""

    tool: str
    label: str
    seconds: float
    seen: int


@dataclass(frozen=True)
class Resolved:
    """Part 2's phases in seconds, kept for the plot as well as the table."""

    installed: int
    candidates: int
    phases: dict[str, float]
    status: str
    kept: int

    @property
    def total(self) -> float:
        return sum(self.phases.values())


def best_of(repeat: int, run: object) -> tuple[float, int]:
    assert callable(run)
    results = [run() for _ in range(repeat)]
    return min(r[0] for r in results), results[0][1]


def reading(distributions: int, repeat: int, work: Path) -> list[ReadRow]:
    venv = eb.make_venv(Path(sys.executable), work / "venv")
    site = eb.site_packages(venv)
    populate(site, distributions)
    env = eb.clean_env()

    def depsat_read() -> tuple[float, int]:
        start = time.perf_counter()
        source = InstalledSource.from_paths([site])
        seen = len(source.distributions())
        return time.perf_counter() - start, seen

    def importlib_read() -> tuple[float, int]:
        out = subprocess.run([str(venv), "-c", IMPORTLIB_READ, str(site)], env=env,
                             capture_output=True, text=True, check=True).stdout.split()
        return float(out[1]), int(out[0])

    rows = [ReadRow("depsat", "depsat (in process)", *best_of(repeat, depsat_read)),
            ReadRow("importlib.metadata", "importlib.metadata (in the venv)",
                    *best_of(repeat, importlib_read))]
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv:
        def uv_list() -> tuple[float, int]:
            start = time.perf_counter()
            out = subprocess.run([uv, "pip", "list", "--python", str(venv), "--offline",
                                  "--format", "freeze"], env={**env, "UV_NO_CONFIG": "1"},
                                 capture_output=True, text=True, check=True).stdout
            return time.perf_counter() - start, len(out.splitlines())
        rows.append(ReadRow("uv", "uv pip list (process, wall)", *best_of(repeat, uv_list)))
    base = rows[0].seconds
    print(f"\nReading {distributions} distributions in mixed formats (best of {repeat})")
    print(f"{'tool':34} {'seconds':>9} {'seen':>6} {'vs depsat':>10}")
    for row in rows:
        print(f"{row.label:34} {row.seconds:9.4f} {row.seen:6d} {row.seconds / base:9.2f}x")
    return rows


def resolving(installed: int, work: Path) -> Resolved:
    data = generate(GeneratorConfig(packages=installed, versions=10, conflict=0.0, seed=3,
                                    roots=20))
    (work / "universe.json").write_text(json.dumps(data), encoding="utf-8")
    world = parse_universe(data, "generated")
    target = target_for(world)
    first = resolve(request_from_universe_file(world), [world.source], target)
    assert first.plan is not None, "the generated universe should be satisfiable"
    site = work / "installed-site"
    site.mkdir()
    for candidate in first.plan.chosen:
        eb.write_dist_info(site, candidate.name, str(candidate.version),
                           requires=[str(r) for r in candidate.requires])
    start = time.perf_counter()
    source = InstalledSource.from_paths([site])
    current = tuple(c for c in (source.visible(p) for p in source.projects()) if c)
    read_seconds = time.perf_counter() - start
    # Ask for the newest of one root package on top of what is installed.
    ask = Requirement(f"{world.root_requires[0].name}")
    upgrade = frozenset({canonicalize_name(ask.name)})
    request = Request((ask,), installed=current, upgrade=upgrade)
    result = resolve(request, [world.source], target)
    t = result.timings
    print(f"\nResolving over {len(current)} installed packages ({world.source.name}, "
          f"{result.universe.candidate_count()} candidates reached)")
    print(f"{'read env':>9} {'discovery':>10} {'encoding':>9} {'solving':>8} {'total':>8} "
          f"{'status':>8} {'kept':>5}")
    kept = sum(1 for s in result.plan.steps if s.action.value == "keep") if result.plan else 0
    done = Resolved(len(current), result.universe.candidate_count(),
                    {"read env": read_seconds, "discovery": t["discovery"],
                     "encoding": t["encoding"], "solving": t["solving"]},
                    "solved" if result.ok else "unsat", kept)
    print(f"{read_seconds:9.3f} {t['discovery']:10.3f} {t['encoding']:9.3f} "
          f"{t['solving']:8.3f} {done.total:8.3f} {done.status:>8} {kept:5d}")
    return done


def remembering(venv: Path, universe: Path, repeat: int, work: Path) -> dict[str, float]:
    """Part 3: seconds of a remembered answer and of a resolution, from the command line."""
    depsat = Path(sys.executable).parent / "depsat"
    command = [str(depsat), "resolve", "--universe", str(universe), "--python", str(venv),
               "--cache-dir", str(work / "cli-cache"), "--no-config", "--format",
               "requirements"]
    env = eb.clean_env()

    def timed(*extra: str) -> float:
        start = time.perf_counter()
        subprocess.run([*command, *extra], env=env, capture_output=True, check=True, cwd=work)
        return time.perf_counter() - start

    timed()  # fills the cache
    seconds = {"remembered": min(timed() for _ in range(repeat)),
               "resolved (--no-memo)": min(timed("--no-memo") for _ in range(repeat))}
    print(f"\nThe command line over the venv of part 1 (best of {repeat}, whole process)")
    for label, value in seconds.items():
        print(f"{label:34} {value:9.3f} {value / seconds['remembered']:9.2f}x")
    return seconds


def plot(rows: Sequence[ReadRow], resolved: Resolved, distributions: int, path: Path) -> None:
    """One size per run, so x is categorical: part 1 a point per reader, part 2 depsat's
    phases and their total; seconds on a log scale. Nothing here has a timeout (a failing
    tool stops the benchmark), so there is no `limit` and no crosses."""
    from benchmarks.plotting import Panel, Series, colour_for, save_plot, style_for

    readers = [Series(f"{row.label}: saw {row.seen}", [(index, row.seconds)],
                      colour=colour_for(row.tool, index))
               for index, row in enumerate(rows)]
    phases = list(resolved.phases)
    depsat = colour_for("depsat")
    steps = [Series("depsat, per phase", list(enumerate(resolved.phases.values())),
                    colour=depsat, style=style_for(0)),
             Series("depsat, total", [(len(phases), resolved.total)], colour=depsat,
                    style=style_for(1))]
    save_plot(path, [
        Panel(f"Reading {distributions} distributions, mixed formats", readers,
              xlabel="reader", ylabel="seconds (best of repeats)",
              categories=[row.label for row in rows]),
        Panel(f"Resolving over {resolved.installed} installed "
              f"({resolved.candidates} candidates, {resolved.status}, {resolved.kept} kept)",
              steps, xlabel="phase", ylabel="seconds", categories=[*phases, "total"]),
    ], title="depsat on installed environments")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--distributions", type=int, default=600)
    parser.add_argument("--installed", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument("--plot", type=Path,
                        help="write a PNG: seconds (log) per reader in part 1 and per "
                             "resolving phase plus total in part 2, a panel each")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="depsat-bench-") as tmp:
        work = Path(tmp)
        rows = reading(args.distributions, args.repeat, work)
        resolved = resolving(args.installed, work)
        remembered = remembering(work / "venv" / "bin" / "python", work / "universe.json",
                                 args.repeat, work)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = args.out / f"bench-installed-{stamp}.json"
    out.write_text(json.dumps({
        "schema": "depsat.bench-installed/1", "created": stamp,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "distributions": args.distributions, "repeat": args.repeat,
        "reading": [asdict(row) for row in rows],
        "resolving": {**asdict(resolved), "total": resolved.total},
        "command_line": remembered,
    }, indent=1), encoding="utf-8")
    print(f"\nJSON: {out}", file=sys.stderr)
    if args.plot:
        plot(rows, resolved, args.distributions, args.plot)
        print(f"plot: {args.plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.pop("PYTHONPATH", None)
    sys.exit(main())
