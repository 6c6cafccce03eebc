"""packse scenarios through the index path: each scenario becomes a real simple index (wheels
with the scenario's tags, sdists, Requires-Python, yanked files) served over HTTP on
127.0.0.1, and must resolve exactly as its expectation says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import indexbuild
import pytest
from conftest import PACKSE, assert_as_expected

from depsat.api import request_from_universe_file, resolve, target_for
from depsat.sources.http import HttpClient
from depsat.sources.index import IndexSource
from depsat.sources.universe_file import load_universe_file

FOLDERS = ("wheels", "tag_and_markers", "requires_python", "yanked", "prereleases", "local",
           "extras", "backtracking")
SCENARIOS = sorted(p for folder in FOLDERS for p in (PACKSE / folder).glob("*.toml")
                   if not load_universe_file(p).universal)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("packse-indexes")
    for path in SCENARIOS:
        indexbuild.build_index(indexbuild.load_scenario_packages(path), root / path.stem,
                               pep658=hash(path.stem) % 2 == 0)
    with indexbuild.serve(root) as base:
        yield str(base), tmp_path_factory.mktemp("cache")


def test_every_index_folder_is_covered() -> None:
    assert len(SCENARIOS) >= 60


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_scenario_over_http(path: Path, served: tuple[str, Path]) -> None:
    base, cache = served
    world = load_universe_file(path)
    with IndexSource(f"{base}{path.stem}/simple/", "packse",
                     client=HttpClient(cache_dir=cache)) as index:
        result = resolve(request_from_universe_file(world), [index], target_for(world))
    assert_as_expected(result, world)
    if result.plan is not None:
        assert all(c.origin.kind == "index" for c in result.plan.chosen)
