"""depsat's explanations of unsatisfiable requests, against uv's error messages.

    .venv/bin/python -m benchmarks.bench_explain                       # packse + 200/1000/3000
    .venv/bin/python -m benchmarks.bench_explain --sizes 200 --repeat 1
    .venv/bin/python -m benchmarks.bench_explain --sizes "" --examples backtrack-to-missing-package

Two parts:

* **packse**: every unsatisfiable, non-universal scenario. depsat runs in process on the
  universe file (`resolve`, then `explain`: MUSX core and fixes); uv runs as a process,
  ``uv pip compile`` over the scenario served as a real local index (`indexbuild.build_index`
  and `indexbuild.serve` on 127.0.0.1; ``--no-cache``; the scenario's Python, platform,
  ``no_binary``/``no_build`` and prerelease options). Both messages are measured the same
  way: words (whitespace-separated tokens holding a letter or digit), and the package names
  they mention (the scenario's names, found in the text). depsat's words are the chain and
  conclusion, then with the fixes; uv's are its derivation (the ``cause:`` paragraph, the
  "No solution found" header not counted), then with its ``hint:`` paragraphs.
* **generated**: `benchmarks.generate` universes (default 200, 1000, 3000 packages x 10
  versions at conflict 0.8), the first seed (from 1, in order) whose request has no plan;
  depsat only: resolve, then explain with MUSX and with OptUx (``smallest=True``).

The depsat times are in process on in-memory universes; uv's are whole processes over HTTP
(start-up and requests included), so the time columns say what a user waits for, not which
algorithm is faster. JSON goes to ``benchmarks/results/bench-explain-*.json``
(schema ``depsat.bench-explain/1``).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from benchmarks import bench_index
from benchmarks.generate import GeneratorConfig, generate, universe_name
from benchmarks.plotting import Panel, Series, colour_for, save_plot, style_for
from depsat.api import Resolution, explain, request_from_universe_file, resolve, target_for
from depsat.explain import Explanation, explanation_text
from depsat.sources.universe_file import UniverseFile, load_universe_file, parse_universe

if str(bench_index.ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(bench_index.ROOT / "tests"))

import indexbuild  # tests/indexbuild.py: the index builder and server

__all__ = ["UvMessage", "main", "mentioned_packages", "parse_uv_message", "words"]

SCHEMA = "depsat.bench-explain/1"
ROOT = bench_index.ROOT
RESULTS = bench_index.RESULTS
VENV_BIN = bench_index.VENV_BIN
PACKSE = ROOT.parent / "shared" / "corpora" / "packse" / "scenarios"
SIZES = (200, 1000, 3000)
PLOT_CATEGORIES = 6
"""Up to this many packse scenarios are named on the x axis; more are numbered."""
DEFAULT_EXAMPLES = ("backtrack-to-missing-package",
                    "dependency-excludes-range-of-compatible-versions",
                    "python-greater-than-current")
WORD = re.compile(r"\w")
FANCY_ERROR = "\u00d7"
# After a package name: a specifier, an extra, a version, or a verb/conjunction of a
# sentence about it. Used only for names that are also English words ("a").
_PACKAGE_FOLLOWERS = {"was", "is", "are", "depends", "depend", "cannot", "and", "has",
                      "have", "requires", "require", "were", "does", "do", "only", "but",
                      "can", "to", "or"}
_ENGLISH = {"a", "i", "an", "the", "of", "no", "so", "all", "you"}


# -- measuring messages --------------------------------------------------------------------
def words(text: str) -> int:
    """Whitespace-separated tokens that hold a letter or digit (box glyphs, bullets and lone
    punctuation are not words)."""
    return sum(1 for token in text.split() if WORD.search(token))


def mentioned_packages(text: str, names: Iterable[str]) -> list[str]:
    """The names (normalized) of `names` that `text` mentions: a name as a whole token,
    optionally followed by an extra, a specifier or a version. A name that is also an English
    word (packse's `a`) counts only when what follows reads like a package: a specifier,
    punctuation, the end, a version, or a verb such as "depends"."""
    found: list[str] = []
    for name in sorted({canonicalize_name(n) for n in names}, key=lambda n: (-len(n), n)):
        pattern = re.compile(rf"(?<![\w.\-`]){re.escape(name)}(?![\w\-])", re.IGNORECASE)
        for match in pattern.finditer(text):
            if name in _ENGLISH:
                after = text[match.end():].lstrip(" `")
                nxt = after.split(" ", 1)[0].rstrip(".,:;") if after else ""
                if nxt and not (after[0] in "[=!<>~,.;:)\n`"
                                or nxt[0].isdigit() or nxt in _PACKAGE_FOLLOWERS):
                    continue
            found.append(name)
            break
    # backticked names (uv's hints: "for `a`")
    for name in {canonicalize_name(n) for n in names}:
        if name not in found and re.search(rf"`{re.escape(name)}(\[[^\]]*\])?[=!<>~`]",
                                           text, re.IGNORECASE):
            found.append(name)
    return sorted(found)


@dataclass
class UvMessage:
    """uv's error output split into its parts (``--color never``)."""

    header: str = ""
    body: str = ""
    hints: list[str] = field(default_factory=list)
    other: str = ""
    """Anything before the error (warnings)."""


def parse_uv_message(stderr: str) -> UvMessage:
    """Split ``error: ...`` / ``cause: ...`` / ``hint: ...`` (plain) or the fancy
    (a multiplication sign, then ``╰─▶``) form into the header, the derivation and the
    hints."""
    message = UvMessage()
    lines = stderr.splitlines()
    start = next((i for i, line in enumerate(lines)
                  if line.lstrip().startswith(("error:", FANCY_ERROR))), None)
    if start is None:
        message.other = stderr.strip()
        return message
    message.other = "\n".join(lines[:start]).strip()
    message.header = re.sub(rf"^\s*(error:|{FANCY_ERROR})\s*", "", lines[start]).rstrip(":")
    body: list[str] = []
    hints: list[list[str]] = []
    for line in lines[start + 1:]:
        stripped = line.strip()
        if stripped.startswith("hint:"):
            hints.append([stripped.removeprefix("hint:").strip()])
        elif hints:
            if stripped:
                hints[-1].append(stripped)
        else:
            body.append(re.sub(r"^\s*(cause:|╰─▶)\s*", "", line).rstrip())
    message.body = "\n".join(body).strip()
    message.hints = [" ".join(h) for h in hints]
    return message


# -- packse --------------------------------------------------------------------------------
@dataclass
class ScenarioRun:
    scenario: str
    folder: str
    python: str
    roots: list[str]
    depsat_status: str = ""
    resolve_ms: float = 0.0
    explain_ms: float = 0.0
    core_ms: float = 0.0
    groups: int = 0
    facts: int = 0
    minimal: bool = False
    fixes: int = 0
    depsat_words: int = 0
    depsat_words_fixes: int = 0
    depsat_text: str = ""
    depsat_packages: list[str] = field(default_factory=list)
    depsat_fact_packages: list[str] = field(default_factory=list)
    uv_status: str = ""
    uv_ms: float = 0.0
    uv_words: int = 0
    uv_words_hints: int = 0
    uv_header_words: int = 0
    uv_hints: int = 0
    uv_text: str = ""
    uv_stdout: str = ""
    uv_packages: list[str] = field(default_factory=list)
    uv_command: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        """depsat's words over uv's (chain+conclusion over the derivation)."""
        if self.uv_status != "unsat" or not self.uv_words:
            return None
        return self.depsat_words / self.uv_words


def unsat_scenarios(root: Path) -> list[Path]:
    return sorted((p for p in root.rglob("*.toml")
                   if (w := load_universe_file(p)).expected_satisfiable is False
                   and not w.universal),
                  key=lambda p: (p.parent.name, p.stem))


def scenario_names(path: Path, world: UniverseFile) -> set[str]:
    """Every package name a message about the scenario could mention: its packages and
    every name any requirement in it names (missing packages included)."""
    packages = indexbuild.load_scenario_packages(path)
    names: set[str] = {canonicalize_name(n) for n in packages}
    texts = [str(r) for r in world.root_requires]
    for versions in packages.values():
        for meta in versions.values():
            texts.extend(meta.get("requires", []))
            for extra in (meta.get("extras") or {}).values():
                texts.extend(extra)
    for text in texts:
        try:
            names.add(canonicalize_name(Requirement(text).name))
        except InvalidRequirement:
            continue
    return names


def _timed_depsat(world: UniverseFile, *, smallest: bool = False,
                  budget: float = 5.0) -> tuple[Resolution, Explanation | None, float, float]:
    start = time.perf_counter()
    resolution = resolve(request_from_universe_file(world), [world.source], target_for(world))
    resolved = time.perf_counter() - start
    start = time.perf_counter()
    explanation = explain(resolution, smallest=smallest, budget_seconds=budget)
    return resolution, explanation, resolved, time.perf_counter() - start


def run_depsat_scenario(run: ScenarioRun, world: UniverseFile, names: set[str],
                        repeat: int) -> None:
    samples: list[tuple[float, float, float]] = []
    explanation: Explanation | None = None
    for _ in range(repeat):
        _, explanation, resolved, explained = _timed_depsat(world)
        if explanation is None:
            run.depsat_status = "solved"
            return
        samples.append((resolved + explained, resolved, explained))
        core_seconds = explanation.seconds
    assert explanation is not None
    samples.sort()
    _, resolved, explained = samples[(len(samples) - 1) // 2]
    run.depsat_status = "unsat"
    run.resolve_ms = resolved * 1000
    run.explain_ms = explained * 1000
    run.core_ms = core_seconds * 1000
    run.groups = len(explanation.core)
    run.facts = len(explanation.facts)
    run.minimal = explanation.minimal
    run.fixes = len(explanation.fixes)
    chain = explanation_text(explanation, fixes=False)
    full = explanation_text(explanation)
    run.depsat_words = words(chain)
    run.depsat_words_fixes = words(full)
    run.depsat_text = full
    run.depsat_packages = mentioned_packages(chain, names)
    run.depsat_fact_packages = sorted({n for f in explanation.facts
                                       for n in (f.package, f.target) if n is not None})


def uv_command(world: UniverseFile, requirements: Path, index_url: str) -> list[str]:
    """``uv pip compile`` for the scenario, with its target and resolver options."""
    command = [str(VENV_BIN / "uv"), "pip", "compile", str(requirements),
               "--index-url", index_url, "--python-version", world.python or "3.12",
               "--no-header", "--no-cache", "--color", "never",
               "--python", str(VENV_BIN / "python")]
    if world.python_platform:
        command += ["--python-platform", world.python_platform]
    if world.prereleases:
        command += ["--prerelease", "allow"]
    for name in sorted(world.no_binary):
        command += ["--no-binary", name]
    for name in sorted(world.no_build):
        command += ["--only-binary", name]
    return command


def run_uv_scenario(run: ScenarioRun, path: Path, world: UniverseFile, names: set[str],
                    work: Path, repeat: int, timeout: float) -> None:
    index_root = work / "index" / path.stem
    indexbuild.build_index(indexbuild.load_scenario_packages(path), index_root)
    requirements = work / f"{path.stem}.in"
    requirements.write_text("".join(f"{r}\n" for r in world.root_requires), encoding="utf-8")
    env = bench_index.clean_env()
    with indexbuild.serve(index_root) as server:
        command = uv_command(world, requirements, server.index_url)
        finished = [bench_index.run_process(command, cwd=work, env=env, timeout=timeout)
                    for _ in range(repeat)]
    finished.sort(key=lambda f: f.seconds)
    done = finished[(len(finished) - 1) // 2]
    run.uv_command = [str(c) for c in command]
    run.uv_ms = done.seconds * 1000
    run.uv_stdout = done.stdout.strip()
    if done.status == "timeout":
        run.uv_status = "timeout"
        return
    if done.returncode == 0:
        run.uv_status = "solved"
        return
    message = parse_uv_message(done.stderr)
    run.uv_status = "unsat" if "no solution" in message.header.lower() else "error"
    run.uv_text = done.stderr.strip()
    run.uv_words = words(message.body)
    run.uv_header_words = words(message.header)
    run.uv_hints = len(message.hints)
    run.uv_words_hints = run.uv_words + sum(words(h) for h in message.hints)
    run.uv_packages = mentioned_packages(
        "\n".join([message.header, message.body, *message.hints]), names)
    if run.uv_status == "error" and not message.body:
        run.uv_words = words(message.header)


def bench_packse(paths: Sequence[Path], work: Path, repeat: int,
                 timeout: float) -> list[ScenarioRun]:
    runs: list[ScenarioRun] = []
    if paths:  # warm up imports and caches so the first scenario is not charged for them
        _timed_depsat(load_universe_file(paths[0]))
    for path in paths:
        world = load_universe_file(path)
        names = scenario_names(path, world)
        run = ScenarioRun(scenario=path.stem, folder=path.parent.name,
                          python=world.python or "3.12",
                          roots=[str(r) for r in world.root_requires])
        run_depsat_scenario(run, world, names, repeat)
        run_uv_scenario(run, path, world, names, work, repeat, timeout)
        _log(f"  {run.folder}/{run.scenario}: depsat {run.depsat_status} "
             f"{run.resolve_ms + run.explain_ms:.1f} ms {run.depsat_words} words; "
             f"uv {run.uv_status} {run.uv_ms:.0f} ms {run.uv_words} words")
        runs.append(run)
    return runs


# -- generated universes -------------------------------------------------------------------
@dataclass
class CoreRun:
    method: str
    explain_s: float
    core_s: float
    groups: int
    facts: int
    minimal: bool
    smallest: bool
    fixes: int
    words: int
    words_fixes: int
    packages: int


@dataclass
class GeneratedRun:
    universe: str
    packages: int
    versions: int
    conflict: float
    seed: int
    seeds_tried: list[int]
    roots: list[str]
    candidates: int
    resolve_s: float
    runs: list[CoreRun] = field(default_factory=list)
    text: str = ""


def _core_run(explanation: Explanation, explained: float) -> CoreRun:
    chain = explanation_text(explanation, fixes=False)
    return CoreRun(
        method=explanation.method, explain_s=explained, core_s=explanation.seconds,
        groups=len(explanation.core), facts=len(explanation.facts),
        minimal=explanation.minimal, smallest=explanation.smallest,
        fixes=len(explanation.fixes), words=words(chain),
        words_fixes=words(explanation_text(explanation)),
        packages=len({n for f in explanation.facts for n in (f.package, f.target)
                      if n is not None}))


def bench_generated(size: int, versions: int, conflict: float, max_seed: int,
                    budget: float) -> GeneratedRun | None:
    """The first seed (1, 2, ...) whose universe has no plan, explained both ways."""
    tried: list[int] = []
    for seed in range(1, max_seed + 1):
        tried.append(seed)
        config = GeneratorConfig(packages=size, versions=versions, conflict=conflict,
                                 seed=seed)
        data = generate(config)
        world = parse_universe(data)
        start = time.perf_counter()
        resolution = resolve(request_from_universe_file(world), [world.source],
                             target_for(world))
        resolved = time.perf_counter() - start
        _log(f"  {universe_name(config)}: {'solved' if resolution.ok else 'unsat'} "
             f"in {resolved:.2f} s")
        if resolution.ok:
            continue
        result = GeneratedRun(
            universe=universe_name(config), packages=size, versions=versions,
            conflict=conflict, seed=seed, seeds_tried=tried,
            roots=list(data["root"]["requires"]),
            candidates=sum(len(p.candidates) for p in resolution.universe.projects.values()),
            resolve_s=resolved)
        for smallest in (False, True):
            start = time.perf_counter()
            explanation = explain(resolution, smallest=smallest, budget_seconds=budget)
            explained = time.perf_counter() - start
            assert explanation is not None
            core = _core_run(explanation, explained)
            result.runs.append(core)
            if not smallest:
                result.text = explanation_text(explanation)
            _log(f"    explain {core.method}: {explained:.2f} s, {core.groups} groups, "
                 f"{core.facts} facts, {core.words} words"
                 f"{'' if core.minimal else ' (not minimal: budget ran out)'}")
        return result
    return None


# -- output --------------------------------------------------------------------------------
def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _align(rows: Sequence[Sequence[str]], numeric: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
                      for i, cell in enumerate(row)).rstrip() for row in rows]


def packse_table(runs: Sequence[ScenarioRun]) -> list[str]:
    header = ("scenario", "depsat words", "uv words", "ratio", "depsat ms", "uv ms",
              "groups", "facts", "pkgs d/uv/both")
    rows: list[list[str]] = [list(header)]
    for r in runs:
        uv_words = (f"{r.uv_words}+{r.uv_words_hints - r.uv_words}h" if r.uv_hints
                    else str(r.uv_words)) if r.uv_status == "unsat" else r.uv_status
        both = set(r.depsat_packages) & set(r.uv_packages)
        rows.append([
            f"{r.folder}/{r.scenario}",
            f"{r.depsat_words}/{r.depsat_words_fixes}",
            uv_words,
            "-" if r.ratio is None else f"{r.ratio:.2f}",
            f"{r.resolve_ms:.1f}+{r.explain_ms:.1f}",
            f"{r.uv_ms:.0f}",
            str(r.groups), str(r.facts),
            f"{len(r.depsat_packages)}/{len(r.uv_packages)}/{len(both)}"])
    both_unsat = [r for r in runs if r.ratio is not None]
    ratios = [r.ratio for r in both_unsat if r.ratio is not None]
    rows.append(["median (all)",
                 f"{_median([r.depsat_words for r in runs]):g}/"
                 f"{_median([r.depsat_words_fixes for r in runs]):g}",
                 f"{_median([r.uv_words for r in both_unsat]):g}",
                 f"{_median(ratios):.2f}",
                 f"{_median([r.resolve_ms + r.explain_ms for r in runs]):.1f}",
                 f"{_median([r.uv_ms for r in runs]):.0f}",
                 f"{_median([r.groups for r in runs]):g}",
                 f"{_median([r.facts for r in runs]):g}", ""])
    rows.append(["total (both unsat)",
                 f"{sum(r.depsat_words for r in both_unsat)}/"
                 f"{sum(r.depsat_words_fixes for r in both_unsat)}",
                 f"{sum(r.uv_words for r in both_unsat)}"
                 f"+{sum(r.uv_words_hints - r.uv_words for r in both_unsat)}h",
                 f"{sum(r.depsat_words for r in both_unsat) / max(1, sum(r.uv_words for r in both_unsat)):.2f}",  # noqa: E501
                 f"{sum(r.resolve_ms + r.explain_ms for r in both_unsat):.0f}",
                 f"{sum(r.uv_ms for r in both_unsat):.0f}",
                 str(sum(r.groups for r in both_unsat)),
                 str(sum(r.facts for r in both_unsat)), ""])
    return _align(rows, {1, 2, 3, 4, 5, 6, 7})


def packse_summary(runs: Sequence[ScenarioRun]) -> dict[str, Any]:
    both = [r for r in runs if r.ratio is not None]
    ratios = [r.ratio for r in both if r.ratio is not None]
    ratios_fixes = [r.depsat_words_fixes / r.uv_words_hints for r in both if r.uv_words_hints]
    same_packages = sum(1 for r in both if set(r.depsat_packages) == set(r.uv_packages))
    return {
        "scenarios": len(runs),
        "depsat_unsat": sum(r.depsat_status == "unsat" for r in runs),
        "uv_status": {s: sum(r.uv_status == s for r in runs)
                      for s in sorted({r.uv_status for r in runs})},
        "both_unsat": len(both),
        "median_depsat_words": _median([r.depsat_words for r in both]),
        "median_depsat_words_with_fixes": _median([r.depsat_words_fixes for r in both]),
        "median_uv_words": _median([r.uv_words for r in both]),
        "median_uv_words_with_hints": _median([r.uv_words_hints for r in both]),
        "median_ratio_words": _median(ratios),
        "median_ratio_words_with_fixes_vs_hints": _median(ratios_fixes),
        "total_ratio_words": (sum(r.depsat_words for r in both)
                              / max(1, sum(r.uv_words for r in both))),
        "depsat_shorter": sum(1 for x in ratios if x < 1),
        "depsat_longer": sum(1 for x in ratios if x > 1),
        "median_depsat_ms": _median([r.resolve_ms + r.explain_ms for r in runs]),
        "median_depsat_resolve_ms": _median([r.resolve_ms for r in runs]),
        "median_depsat_explain_ms": _median([r.explain_ms for r in runs]),
        "median_uv_ms": _median([r.uv_ms for r in runs]),
        "median_groups": _median([r.groups for r in runs]),
        "median_facts": _median([r.facts for r in runs]),
        "max_groups": max((r.groups for r in runs), default=0),
        "same_package_set": same_packages,
        "uv_hints_scenarios": sum(1 for r in both if r.uv_hints),
    }


def generated_table(results: Sequence[GeneratedRun]) -> list[str]:
    header = ("universe", "seed", "cands", "resolve s", "method", "explain s", "core s",
              "groups", "facts", "pkgs", "words", "+fixes", "minimal")
    rows: list[list[str]] = [list(header)]
    for g in results:
        for c in g.runs:
            rows.append([g.universe, str(g.seed), str(g.candidates), f"{g.resolve_s:.2f}",
                         c.method, f"{c.explain_s:.2f}", f"{c.core_s:.2f}", str(c.groups),
                         str(c.facts), str(c.packages), str(c.words), str(c.words_fixes),
                         "yes" if c.minimal else "no"])
    return _align(rows, {1, 2, 3, 5, 6, 7, 8, 9, 10, 11})


def side_by_side(run: ScenarioRun) -> list[str]:
    return [f"### {run.folder}/{run.scenario} (you require {', '.join(run.roots)})", "",
            f"depsat ({run.depsat_words} words, {run.depsat_words_fixes} with fixes; "
            f"core: {run.groups} group(s), {run.facts} fact(s)):", "", "```",
            run.depsat_text, "```", "",
            f"uv ({run.uv_words} words, {run.uv_words_hints} with hints):", "", "```",
            run.uv_text or run.uv_stdout, "```", ""]


# -- plot ----------------------------------------------------------------------------------
UV_FINISHED = ("unsat", "solved")


def packse_panel(runs: Sequence[ScenarioRun], timeout: float) -> Panel:
    """Seconds per scenario, ordered by uv's time so the comparison reads left to right; a
    uv timeout or error, or a depsat run without an explanation, is a cross at `timeout`."""
    order = sorted(runs, key=lambda r: (r.uv_status not in UV_FINISHED,
                                        r.uv_ms if r.uv_status in UV_FINISHED else 0.0,
                                        r.folder, r.scenario))
    named = len(order) <= PLOT_CATEGORIES
    xs = [float(i if named else i + 1) for i in range(len(order))]
    explained = [(x, r) for x, r in zip(xs, order, strict=True) if r.depsat_status == "unsat"]
    no_explanation = [x for x, r in zip(xs, order, strict=True) if r.depsat_status != "unsat"]
    depsat = colour_for("depsat")
    series = [
        Series("depsat resolve+explain (in process)",
               [(x, (r.resolve_ms + r.explain_ms) / 1000) for x, r in explained],
               no_explanation, depsat, style_for(0)),
        Series("depsat explain", [(x, r.explain_ms / 1000) for x, r in explained],
               (), depsat, style_for(1)),
        Series("uv pip compile (process, local HTTP index)",
               [(x, r.uv_ms / 1000) for x, r in zip(xs, order, strict=True)
                if r.uv_status in UV_FINISHED],
               [x for x, r in zip(xs, order, strict=True) if r.uv_status not in UV_FINISHED],
               colour_for("uv"), style_for(0)),
    ]
    failed = any(s.failed for s in series)
    return Panel(f"packse: {len(order)} unsatisfiable scenario(s)", series,
                 xlabel="scenario" if named else "scenario, ordered by uv's time",
                 ylabel="seconds" + (" (x = did not finish: timeout, error)" if failed else ""),
                 categories=[r.scenario for r in order] if named else (), xlog=False,
                 limit=timeout)


def generated_panel(results: Sequence[GeneratedRun], budget: float) -> Panel:
    """depsat's phases against universe size; an explain whose core search ran out of its
    budget returned a weaker core, so it is its own series rather than hidden in the line."""
    depsat = colour_for("depsat")
    series = [Series("depsat resolve (finds no plan)",
                     [(g.packages * g.versions, g.resolve_s) for g in results],
                     colour=depsat, style=style_for(0))]
    for index, label in enumerate(("explain (MUSX: a minimal core)",
                                   "explain, smallest (OptUx: a smallest core)")):
        done: list[tuple[float, float]] = []
        short: list[tuple[float, float]] = []
        for g in results:
            run = g.runs[index]
            reached = run.smallest if index else run.minimal
            (done if reached else short).append((g.packages * g.versions, run.explain_s))
        series.append(Series(f"depsat {label}", done, colour=depsat, style=style_for(index + 1)))
        if short:
            series.append(Series(f"depsat {label.split(' (')[0]}: budget ({budget:g} s) ran out",
                                 short, colour="tab:grey", style=style_for(index + 1)))
    conflicts = ", ".join(sorted({f"{g.conflict:g}" for g in results}))
    return Panel(f"generated unsatisfiable universes, conflict {conflicts} (depsat only)",
                 series,
                 xlabel="universe size (packages x versions)")


def plot(path: Path, packse_runs: Sequence[ScenarioRun], generated: Sequence[GeneratedRun],
         *, timeout: float, budget: float) -> bool:
    """Write the PNG of both parts' times; False when neither part has a result to draw."""
    panels = ([packse_panel(packse_runs, timeout)] if packse_runs else []) + (
        [generated_panel(generated, budget)] if generated else [])
    if not panels:
        return False
    save_plot(path, panels, title="Explaining unsatisfiable requests: depsat vs uv",
              notes={"depsat": "in process, median of --repeat",
                     "uv": "the whole `uv pip compile` process (start-up, HTTP)"})
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="depsat explanations vs uv messages on unsatisfiable requests")
    parser.add_argument("--packse", type=Path, default=PACKSE,
                        help="packse scenarios folder (read in place)")
    parser.add_argument("--match", default="", help="only scenarios whose name contains this")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="generated universe sizes (packages), comma separated; '' for none")
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--conflict", type=float, default=0.8)
    parser.add_argument("--max-seed", type=int, default=30)
    parser.add_argument("--budget", type=float, default=60.0,
                        help="explain's budget on generated universes, seconds")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per packse scenario and tool; the median is kept")
    parser.add_argument("--timeout", type=float, default=60.0, help="per uv run, seconds")
    parser.add_argument("--examples", default=",".join(DEFAULT_EXAMPLES),
                        help="scenarios printed side by side")
    parser.add_argument("--no-packse", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--plot", type=Path, metavar="FILE.png",
                        help="also write a PNG: seconds (log) per packse scenario for depsat "
                             "(resolve+explain, explain) and uv, and against generated "
                             "universe size for depsat's resolve and explain (MUSX, smallest);"
                             " a cross is a run that did not finish (uv timeout or error)")
    args = parser.parse_args(argv)

    packse_runs: list[ScenarioRun] = []
    if not args.no_packse:
        paths = [p for p in unsat_scenarios(args.packse) if args.match in p.stem]
        _log(f"packse: {len(paths)} unsatisfiable, non-universal scenarios")
        with tempfile.TemporaryDirectory(prefix="depsat-bench-explain-") as tmp:
            packse_runs = bench_packse(paths, Path(tmp), max(1, args.repeat), args.timeout)
    generated: list[GeneratedRun] = []
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        _log(f"generated: {size} x {args.versions} at conflict {args.conflict:g}")
        found = bench_generated(size, args.versions, args.conflict, args.max_seed, args.budget)
        if found is None:
            _log(f"  no unsatisfiable seed up to {args.max_seed}")
        else:
            generated.append(found)

    out: list[str] = []
    if packse_runs:
        summary = packse_summary(packse_runs)
        out += ["## packse: depsat explanation vs uv message", "",
                "depsat words: chain+conclusion / with fixes; uv words: derivation (+h: hint "
                "words); ratio: depsat/uv words (both unsat); depsat ms: resolve+explain in "
                "process; uv ms: the `uv pip compile` process over HTTP; pkgs: package names "
                "each text mentions, and how many both mention", ""]
        out += packse_table(packse_runs)
        out += ["", "summary: " + json.dumps(summary, indent=1), ""]
        wanted = [w.strip() for w in args.examples.split(",") if w.strip()]
        for name in wanted:
            out += next((side_by_side(r) for r in packse_runs if r.scenario == name), [])
    if generated:
        out += ["## generated unsatisfiable universes (depsat only)", ""]
        out += generated_table(generated)
        out.append("")
    print("\n".join(out))

    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / f"bench-explain-{time.strftime('%Y%m%d-%H%M%S')}.json"
    target.write_text(json.dumps({
        "schema": SCHEMA,
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine()},
        "uv": _uv_version(),
        "packse": {"summary": packse_summary(packse_runs) if packse_runs else None,
                   "scenarios": [asdict(r) | {"ratio": r.ratio} for r in packse_runs]},
        "generated": [asdict(g) for g in generated],
    }, indent=1), encoding="utf-8")
    _log(f"wrote {target}")
    if args.plot:
        if plot(args.plot, packse_runs, generated, timeout=args.timeout, budget=args.budget):
            _log(f"plot: {args.plot}")
        else:
            _log("plot: nothing to draw (no packse scenario and no generated universe)")
    return 0


def _uv_version() -> str:
    done = bench_index.run_process([str(VENV_BIN / "uv"), "--version"], cwd=ROOT,
                                   env=bench_index.clean_env(), timeout=30)
    return done.stdout.strip()


if __name__ == "__main__":
    raise SystemExit(main())
