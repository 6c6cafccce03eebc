"""packse conformance: every published scenario, read in place from ../shared, resolved in memory.

Scenarios that need universal (all-platform) resolution go through `resolve_universal`: in
each fork's environment, the pins whose markers hold must pass the verifier and install
nothing that environment does not need (`conftest.assert_lock_holds`). Three scenarios record
uv's limits, not the problem's: uv reports no resolution where the markers that matter are
not on sibling requirements, and a universal resolution exists (`FOUND_WHERE_UV_FAILS`);
depsat's lock is checked as above. Five prerelease scenarios expect a refusal that uv 0.12+
and pip no longer make: depsat answers as they do (`conftest.PRERELEASE_FALLBACK`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conftest import PACKSE, PACKSE_COUNTS, assert_as_expected, assert_lock_holds

from depsat.api import request_from_universe_file, resolve, target_for
from depsat.sources.universe_file import UniverseFile, load_universe_file
from depsat.universal import UniversalResolution, resolve_universal

SCENARIOS = sorted(p for p in PACKSE.glob("*/*") if p.suffix in (".toml", ".json"))
FOUND_WHERE_UV_FAILS = frozenset({
    "fork-non-local-fork-marker-direct",  # "the forking resolver does not 'detect' it"
    "fork-non-local-fork-marker-transitive",
    "preferences-dependent-forking-conflicting",  # fails "when we don't fork"
})


def test_corpus_is_present() -> None:
    assert len(SCENARIOS) >= 140, f"packse scenarios not found under {PACKSE}"


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.stem}{p.suffix}")
def test_scenario(path: Path) -> None:
    folder = path.parent.name
    counts = PACKSE_COUNTS.setdefault(folder, Counter())
    world = load_universe_file(path)
    counts["failed"] += 1  # corrected below once every check has passed
    if world.universal:
        assert_universal_as_expected(world)
    else:
        result = resolve(request_from_universe_file(world), [world.source], target_for(world))
        assert_as_expected(result, world)
    counts["failed"] -= 1
    counts["passed"] += 1


def universal_resolution(world: UniverseFile) -> UniversalResolution:
    """The scenario resolved for every Python its root supports (packse's default: the
    target Python and newer)."""
    requires_python = world.requires_python or f">={world.python}"
    return resolve_universal(request_from_universe_file(world), [world.source],
                             requires_python)


def assert_universal_as_expected(world: UniverseFile) -> None:
    universal = universal_resolution(world)
    expected = world.expected_satisfiable or world.name in FOUND_WHERE_UV_FAILS
    assert universal.ok == expected, universal.failed and universal.failed.marker
    if universal.failed is not None:
        failure = universal.failed.resolution.failure
        assert failure is not None and failure.core
        return
    assert universal.forks
    for fork in universal.forks:
        assert_lock_holds(universal, universal.request, [world.source], fork.environment)
