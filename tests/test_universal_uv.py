"""Universal resolution side by side with ``uv pip compile --universal``, on packse's universal
scenarios as real indexes: depsat over HTTP on 127.0.0.1, uv over ``file://``. The two locks
are compared environment by environment (every class of environments the markers of either
lock tell apart): the same pins, or, where uv prefers a version another fork took
(`NEWER_THAN_UV`), depsat's pins are newer: no package older than uv's, some newer. With
``--fork-strategy fewest`` those agree with uv, and where they do not (`FEWER_THAN_UV`),
depsat pins no package in more versions than uv, some in fewer."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import indexbuild
import pytest
from conftest import PACKSE, clean_env
from packaging.requirements import Requirement
from packaging.version import Version
from test_cli import _uv, depsat

from depsat.api import request_from_universe_file
from depsat.environments import told_apart
from depsat.sources.http import HttpClient
from depsat.sources.index import IndexSource
from depsat.sources.universe_file import UniverseFile, load_universe_file
from depsat.target import Target
from depsat.universal import FORK_STRATEGIES, resolve_universal

SCENARIOS = sorted(p for p in PACKSE.glob("*/*.toml") if load_universe_file(p).universal)
UV_FAILS = frozenset({  # uv forks on sibling requirements only (see test_packse)
    "non-local-fork-marker-direct", "non-local-fork-marker-transitive"})
NEITHER = frozenset({"conflict-in-fork", "conflict-unsatisfiable", "marker-disjoint"})
FEWER_THAN_UV = frozenset({
    # with fewest: bar 1.0 everywhere, where uv takes bar 2.0 on linux and 1.0 elsewhere
    "preferences-dependent-forking", "preferences-dependent-forking-tristable"})
NEWER_THAN_UV = frozenset({
    # uv takes, in one fork, a version another fork took (a 1.0.0 on linux too, as on
    # darwin); each fork here takes its own best plan (a 2.0.0 on linux)
    "allows-non-conflicting-non-overlapping-dependencies", "marker-selection", "marker-track",
    "preferences-dependent-forking", "preferences-dependent-forking-tristable"})


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("universal-indexes")
    for path in SCENARIOS:
        indexbuild.build_index(indexbuild.load_scenario_packages(path), root / path.stem)
    with indexbuild.serve(root) as base:
        yield root, str(base)


def _floor(world: UniverseFile) -> str:
    return str(world.requires_python or f">={world.python}").removeprefix(">=")


def _uv_lock(world: UniverseFile, root: Path, stem: str, tmp_path: Path,
             ) -> list[Requirement] | None:
    """uv's pins, or None when uv finds no resolution."""
    (tmp_path / "requirements.in").write_text(
        "".join(f"{r}\n" for r in world.root_requires))
    run = subprocess.run(
        [_uv(), "pip", "compile", "--universal", str(tmp_path / "requirements.in"),
         "--index-url", (root / stem / "simple").as_uri(), "--python-version", _floor(world),
         "--no-header", "--no-annotate", "--cache-dir", str(tmp_path / "uv-cache"),
         "--python", sys.executable, "--offline"],
        capture_output=True, text=True, timeout=120, check=False, env=clean_env())
    if run.returncode != 0:
        return None
    return [Requirement(line) for line in run.stdout.splitlines() if "==" in line]


def _environments(locks: list[list[Requirement]], floor: str) -> Iterator[dict[str, str]]:
    """One environment per class the locks' markers tell apart, that a machine can have."""
    low = Target.for_python(floor)
    return told_apart([r.marker for lock in locks for r in lock], low.python_version,
                      low.markers)


def _holding(lock: list[Requirement], environment: dict[str, str]) -> list[str]:
    return sorted(f"{r.name}{r.specifier}" for r in lock
                  if r.marker is None or r.marker.evaluate(environment))


@pytest.mark.parametrize("strategy", FORK_STRATEGIES)
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_the_universal_lock_agrees_with_uvs(path: Path, strategy: str,
                                            served: tuple[Path, str], tmp_path: Path) -> None:
    root, base = served
    world = load_universe_file(path)
    theirs = _uv_lock(world, root, path.stem, tmp_path)
    with IndexSource(f"{base}{path.stem}/simple/", "packse",
                     client=HttpClient(cache_dir=tmp_path / "cache")) as index:
        universal = resolve_universal(request_from_universe_file(world), [index],
                                      f">={_floor(world)}", fork_strategy=strategy)
        assert all(c.origin.kind == "index" for pin in universal.pins for c in [pin.candidate])
        if path.stem in NEITHER:
            assert not universal.ok and theirs is None
            return
        assert universal.ok
        assert (theirs is not None) is (path.stem not in UV_FAILS)
        ours = [Requirement(f"{p.candidate.name}=={p.candidate.version}"
                            + (f" ; {p.marker}" if p.marker else "")) for p in universal.pins]
        differing = 0
        for environment in _environments([ours, theirs or []], _floor(world)):
            mine = _holding(ours, environment)
            if theirs is None or mine == _holding(theirs, environment):
                continue
            differing += 1
            if strategy == "requires-python":
                ours_there = _versions(mine)
                theirs_there = _versions(_holding(theirs, environment))
                shared = set(ours_there) & set(theirs_there)
                assert all(ours_there[n] >= theirs_there[n] for n in shared), environment
                assert any(ours_there[n] > theirs_there[n] for n in shared), environment
        if differing and strategy == "fewest":  # (then no package has more versions)
            mine_count, theirs_count = _version_counts(ours), _version_counts(theirs or [])
            assert all(mine_count[n] <= theirs_count.get(n, 0) for n in mine_count)
            assert any(mine_count[n] < theirs_count.get(n, 0) for n in mine_count)
    expected = NEWER_THAN_UV if strategy == "requires-python" else FEWER_THAN_UV
    assert bool(differing) is (path.stem in expected)


def _version_counts(lock: list[Requirement]) -> dict[str, int]:
    found: dict[str, set[str]] = {}
    for requirement in lock:
        found.setdefault(requirement.name, set()).add(str(requirement.specifier))
    return {name: len(versions) for name, versions in found.items()}


def _versions(pins: list[str]) -> dict[str, Version]:
    return {name: Version(version) for name, _, version in
            (pin.partition("==") for pin in pins)}


def test_the_command_line_writes_markers_as_uv_does(served: tuple[Path, str],
                                                   tmp_path: Path) -> None:
    """``depsat resolve --universal`` against ``uv pip compile --universal``, line for line."""
    root, base = served
    path = PACKSE / "wheels" / "specific-architecture.toml"
    world = load_universe_file(path)
    (tmp_path / "requirements.in").write_text("".join(f"{r}\n" for r in world.root_requires))
    ours = depsat("resolve", "--universal", "-r", str(tmp_path / "requirements.in"),
                  "--index-url", f"{base}{path.stem}/simple/", "--python-version",
                  _floor(world), "--no-config", "--cache-dir", str(tmp_path / "cache"),
                  "--format", "requirements", env=clean_env())
    assert ours.returncode == 0, ours.stderr
    theirs = subprocess.run(
        [_uv(), "pip", "compile", "--universal", str(tmp_path / "requirements.in"),
         "--index-url", (root / path.stem / "simple").as_uri(), "--python-version",
         _floor(world), "--no-header", "--cache-dir", str(tmp_path / "uv-cache"),
         "--python", sys.executable, "--offline"],
        capture_output=True, text=True, timeout=120, check=False, env=clean_env())
    assert theirs.returncode == 0, theirs.stderr
    assert ours.stdout == theirs.stdout
