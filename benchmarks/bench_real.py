"""depsat against uv on a real index (PyPI by default): the same requirements, cold and warm.

    .venv/bin/python -m benchmarks.bench_real                       # three request sets on PyPI
    .venv/bin/python -m benchmarks.bench_real -r jupyterlab -r "pandas matplotlib" --repeat 3
    .venv/bin/python -m benchmarks.bench_real --index-url https://mirror.example/simple
    .venv/bin/python -m benchmarks.bench_real --universal --python-version 3.9   # locks

The generated indexes of `bench_index.py` have small pages and small wheels; real ones have
pages of thousands of files, wheels of megabytes and, on mirrors and private indexes, no
PEP 658 files. This runs each tool as `bench_index.py` does (the same commands and clean
environment: `command_for`, `env_for`), each cold run on a fresh cache directory and the warm
run on it next, and reports wall and CPU seconds, the packages pinned and depsat's time over
uv's. The network is in every figure, so the ratio is only worth what the run's neighbours
are: the tools alternate, and `--repeat` keeps medians.

With ``--universal`` both tools write one lock for every platform and every Python from
``--python-version`` on (``uv pip compile --universal``, ``depsat resolve --universal``); the
table then counts pin lines (a package may be pinned twice, under two markers) and, for
depsat, the classes of environments both locks' markers tell apart on which they install the
same pins (`lock_agreement`).

Needs the network (this is a benchmark, not a test; the smoke test serves a local index).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.bench_index import (
    VENV_BIN,
    Finished,
    command_for,
    env_for,
    parse_pins,
    run_process,
)

__all__ = ["RealRun", "main"]

DEFAULT_REQUESTS = ("jupyterlab", "pandas matplotlib scikit-learn",
                    "django djangorestframework celery requests")
TOOLS = ("uv", "depsat", "depsat-urllib3")
KNOWN_TOOLS = (*TOOLS, "depsat-no-memo")
"""What ``--tools`` accepts: ``depsat-no-memo`` is the warm run a changed requirement set
makes, since the memo answers only the same command against an unchanged cache."""
CACHE_STATES = ("cold", "warm")
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class RealRun:
    """One (request set, tool, cache state) measurement: medians over the repeats."""

    request: str
    tool: str
    cache: str
    status: str
    seconds: float | None = None
    cpu: float | None = None
    repeats: list[float] = field(default_factory=list)
    pins: int | None = None
    ratio: float | None = None
    """seconds / uv's seconds for the same request set and cache state."""
    detail: str = ""
    agreement: tuple[int, int] | None = None
    """(environments where the locks agree, environments compared), universal runs only."""


def run_request(request: str, tools: list[str], index_url: str, work: Path, *,
                repeat: int, timeout: float, universal: str | None = None) -> list[RealRun]:
    """Each repeat runs every tool cold then warm, the tools alternating, so that a change
    in the network touches all of them alike. `universal`: the oldest Python of a universal
    lock (None: a resolve for Python 3.12 on this platform)."""
    requirements = work / "requirements.in"
    requirements.write_text("\n".join(request.split()) + "\n", encoding="utf-8")
    found: dict[tuple[str, str], list[tuple[Finished, int | None]]] = {}
    for attempt in range(repeat):
        for tool in tools:
            cache = work / f"cache-{tool}-{attempt}"
            shutil.rmtree(cache, ignore_errors=True)
            for state in CACHE_STATES:
                command = command_for(tool, requirements, index_url, cache)
                if universal is not None:
                    command[command.index("--python-version") + 1] = universal
                    command.append("--universal")
                done = run_process(command, cwd=work, env=env_for(tool), timeout=timeout)
                pins = _pin_count(done.stdout, universal) if done.status == "solved" else None
                found.setdefault((tool, state), []).append((done, pins))
            shutil.rmtree(cache, ignore_errors=True)
    runs = []
    for tool in tools:
        for state in CACHE_STATES:
            attempts = found[(tool, state)]
            solved = sorted((a for a in attempts if a[0].status == "solved"),
                            key=lambda a: a[0].seconds)
            done, pins = solved[(len(solved) - 1) // 2] if solved else attempts[-1]
            detail = "" if solved else (done.stderr or done.stdout).strip()[-400:]
            runs.append(RealRun(request, tool, state, done.status, done.seconds, done.cpu,
                                [a[0].seconds for a in attempts], pins, detail=detail))
            if universal is not None and tool != "uv" and solved and ("uv", state) in found:
                theirs = [a[0] for a in found[("uv", state)] if a[0].status == "solved"]
                if theirs:
                    runs[-1].agreement = lock_agreement(done.stdout, theirs[0].stdout,
                                                        universal)
    for run in runs:
        uv = next((r for r in runs if r.tool == "uv" and r.cache == run.cache), None)
        if run.tool != "uv" and uv is not None and uv.seconds and run.seconds is not None \
                and uv.status == run.status == "solved":
            run.ratio = run.seconds / uv.seconds
    return runs


def _pin_count(text: str, universal: str | None) -> int:
    """Packages pinned; in a universal lock, pin lines (one package may have several)."""
    if universal is None:
        return len(parse_pins(text)[0])
    return sum(1 for line in text.splitlines() if "==" in line and not line[0].isspace()
               and not line.startswith("#"))


def lock_agreement(ours: str, theirs: str, floor: str) -> tuple[int, int]:
    """On how many classes of environments two universal locks install the same pins: the
    classes are those the markers of either lock tell apart (`depsat.environments`), from
    Python `floor` on, leaving out those no machine has (``sys_platform`` win32 with
    ``platform_system`` Darwin: `plausible`)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from depsat.environments import told_apart
    from depsat.target import Target

    locks = [[Requirement(line.split(" #", 1)[0]) for line in text.splitlines()
              if "==" in line and not line[0].isspace() and not line.startswith("#")]
             for text in (ours, theirs)]
    low = Target.for_python(floor)
    same = total = 0
    for environment in told_apart([r.marker for lock in locks for r in lock],
                                  low.python_version, low.markers):
        installed = [sorted(f"{canonicalize_name(r.name)}{r.specifier}" for r in lock
                            if r.marker is None or r.marker.evaluate(environment))
                     for lock in locks]
        total += 1
        same += installed[0] == installed[1]
    return same, total


def format_table(runs: list[RealRun]) -> list[str]:
    header = ("request", "tool", "cache", "status", "seconds", "cpu s", "pins", "x uv",
              "same lock")
    rows = [header]
    for r in runs:
        rows.append((r.request, r.tool, r.cache, r.status,
                     "-" if r.seconds is None else f"{r.seconds:.2f}",
                     "-" if r.cpu is None else f"{r.cpu:.2f}",
                     "-" if r.pins is None else str(r.pins),
                     "" if r.ratio is None else f"{r.ratio:.1f}",
                     "" if r.agreement is None else f"{r.agreement[0]}/{r.agreement[1]}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    numeric = {4, 5, 6, 7, 8}
    return ["  ".join(cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
                      for i, cell in enumerate(row)).rstrip() for row in rows]


def plot(runs: list[RealRun], requests: list[str], path: Path) -> None:
    """Wall time per request set, a line per tool and cache state (cold solid, warm dashed)."""
    from benchmarks.plotting import Panel, Series, colour_for, save_plot, style_for

    series = []
    for number, tool in enumerate(dict.fromkeys(r.tool for r in runs)):
        for index, state in enumerate(CACHE_STATES):
            points = [(requests.index(r.request), r.seconds) for r in runs
                      if (r.tool, r.cache) == (tool, state) and r.status == "solved"
                      and r.seconds is not None]
            series.append(Series(f"{tool}, {state}", points, (), colour_for(tool, number),
                                 style_for(index)))
    save_plot(path, [Panel("end to end", series, xlabel="requirements",
                           ylabel="seconds, whole process", categories=requests)],
              title="depsat vs uv on a real index")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="depsat vs uv on a real index")
    parser.add_argument("-r", "--requirements", action="append",
                        help="one request set, requirements separated by spaces (repeatable; "
                             f"default: {'; '.join(DEFAULT_REQUESTS)})")
    parser.add_argument("--index-url", default="https://pypi.org/simple")
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help=f"any of {', '.join(KNOWN_TOOLS)} (default: {', '.join(TOOLS)})")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument("--plot", type=Path, help="write a PNG: seconds per request set")
    parser.add_argument("--universal", action="store_true",
                        help="universal locks (every platform, every Python from "
                             "--python-version on) instead of resolves for Python 3.12")
    parser.add_argument("--python-version", default="3.9", metavar="X.Y",
                        help="with --universal: the oldest Python of the locks (default 3.9)")
    args = parser.parse_args(argv)
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for tool in tools:
        if tool not in KNOWN_TOOLS:
            parser.error(f"unknown tool {tool!r} (use {', '.join(KNOWN_TOOLS)})")
    needed = {"uv" if tool == "uv" else "depsat" for tool in tools}
    missing = sorted(name for name in needed if not (VENV_BIN / name).is_file())
    if missing:
        parser.error(f"needs {', '.join(f'.venv/bin/{name}' for name in missing)}")
    requests = args.requirements or list(DEFAULT_REQUESTS)
    runs: list[RealRun] = []
    work = Path(tempfile.mkdtemp(prefix="depsat-bench-real-"))
    try:
        for request in requests:
            print(f"{request} ...", file=sys.stderr, flush=True)
            runs.extend(run_request(request, tools, args.index_url, work,
                                    repeat=max(1, args.repeat), timeout=args.timeout,
                                    universal=args.python_version if args.universal
                                    else None))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(format_table(runs)))
    for state in CACHE_STATES:
        ratios = [r.ratio for r in runs if r.tool == "depsat" and r.cache == state
                  and r.ratio is not None]
        if ratios:
            print(f"depsat/uv {state}: median {statistics.median(ratios):.1f}x, "
                  f"worst {max(ratios):.1f}x")
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = args.out / f"bench-real-{stamp}.json"
    out.write_text(json.dumps({
        "schema": "depsat.bench-real/1", "created": stamp, "index_url": args.index_url,
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "repeat": args.repeat, "runs": [asdict(r) for r in runs],
        "universal": args.python_version if args.universal else None,
    }, indent=1))
    print(f"\nJSON: {out}")
    if args.plot:
        plot(runs, requests, args.plot)
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
