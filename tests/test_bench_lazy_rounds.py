"""`benchmarks.lazy_rounds`: lazy reading's rounds against the eager solve of one universe.

Its own check (the lazy loop's optimum equals the eager one) is a real test of the relaxation
argument, on universes with conflicts, with and without the backend reusing cores."""

from __future__ import annotations

import re

import pytest

from benchmarks.lazy_rounds import main


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
