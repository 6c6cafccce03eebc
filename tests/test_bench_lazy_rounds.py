"""`benchmarks.lazy_rounds`: lazy reading's rounds against the eager solve of one universe.

Its own check (the lazy loop's optimum equals the eager one) is a real test of the relaxation
argument, on universes with conflicts, with and without the backend reusing cores."""

from __future__ import annotations

import re

import pytest

from benchmarks.generate import GeneratorConfig, generate
from benchmarks.lazy_rounds import main, reads_floor, reads_of
from depsat.api import ResolveOptions, request_from_universe_file, resolve, target_for
from depsat.sources.universe_file import parse_universe


@pytest.mark.parametrize(("seed", "conflict", "reuse"), [
    (1, 0.2, True), (2, 0.2, False), (3, 0.0, True)])
def test_lazy_rounds_reach_the_eager_optimum(seed: int, conflict: float, reuse: bool,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--packages", "200", "--versions", "10", "--conflict", str(conflict),
            "--seed", str(seed)]
    assert main(argv + ([] if reuse else ["--no-reuse"])) == 0
    out = capsys.readouterr().out
    lazy = re.search(r"^lazy:  solved, .* (\d+) rounds, costs (\{.*\})$", out, re.MULTILINE)
    eager = re.search(r"^eager: solved, .* costs (\{.*\})$", out, re.MULTILINE)
    assert lazy and eager, out
    assert lazy.group(2) == eager.group(1)
    rounds = [line for line in out.splitlines() if re.match(r"^\s+\d+\s+\d+\.\d\d\s", line)]
    assert len(rounds) == int(lazy.group(1)) >= 1
    handed = [int(line.split()[4]) for line in rounds]
    assert handed[0] == 0  # nothing to reuse in the first round
    if not reuse:
        assert not any(handed)


@pytest.mark.parametrize(("seed", "conflict"), [(1, 0.2), (4, 0.0)])
def test_reads_never_fall_below_the_floor(seed: int, conflict: float) -> None:
    """Where a lazy resolve's reads went adds up to what it read, and the floor (the plan's
    releases and the newer ones its requirements allow) was read: a lazy loop that stopped
    before reading one would have answered with a plan its relaxation can beat."""
    data = generate(GeneratorConfig(packages=200, versions=10, conflict=conflict, seed=seed))
    world = parse_universe(data, "generated")
    resolution = resolve(request_from_universe_file(world), [world.source], target_for(world),
                         ResolveOptions(lazy=True))
    assert resolution.plan is not None
    reads = reads_of(resolution)
    releases, pages = reads_floor(resolution)
    plan = [step.candidate for step in resolution.plan.steps if step.candidate is not None]
    assert reads.chosen == len(plan) == pages <= reads.pages
    assert reads.chosen + reads.newer + reads.older + reads.elsewhere == reads.releases
    assert set(plan) <= set(releases)
    read = resolution.universe.dependencies
    assert all(release.key in read for release in releases)  # each one was read
    assert len(plan) < len(releases) <= reads.chosen + reads.newer  # (stale picks: newer ones)
