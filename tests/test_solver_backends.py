"""The solver backends on raw problems: ladders of implied soft literals, random hard clauses.

`Problem.implied` lets a backend hold soft literals back while an assumed one implies them.
These properties check, against brute force over every assignment, that doing so never
changes the optimum, in either backend.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pysat.examples.rc2 import RC2Stratified

from benchmarks.generate import GeneratorConfig, generate
from depsat.api import request_from_universe_file, resolve, target_for
from depsat.solver import LexicographicRC2, Optimum, Problem, StratifiedRC2, rc2
from depsat.sources.universe_file import parse_universe

Clause = list[int]


@st.composite
def ladder_problems(draw: st.DrawFn) -> Problem:
    """Two tiers over at most 10 variables: ladders ge[1] ⇐ ge[2] ⇐ … (soft ¬ge[j], weight 1)
    as in the staleness objective, a tier of plain soft literals, and random hard clauses."""
    ladders: list[list[int]] = []
    top = 0
    for length in draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)):
        ladders.append(list(range(top + 1, top + length + 1)))
        top += length
    extra = draw(st.integers(0, 10 - top)) if top < 10 else 0
    variables = top + extra
    hard: list[Clause] = [[-ladder[j + 1], ladder[j]] for ladder in ladders
                          for j in range(len(ladder) - 1)]
    literal = st.integers(1, variables).flatmap(lambda v: st.sampled_from([v, -v]))
    hard += draw(st.lists(st.lists(literal, min_size=1, max_size=3), max_size=12))
    newest = [(-var, 1) for ladder in ladders for var in ladder]
    others = draw(st.lists(literal, max_size=4, unique_by=abs))
    implied = [(-ladder[j], -ladder[j + 1]) for ladder in ladders for j in range(len(ladder) - 1)]
    tiers = [tier for tier in (newest, [(lit, 1) for lit in others]) if tier]
    return Problem(hard=hard, groups=(), tiers=tiers, top=variables, implied=implied)


def _brute_force(problem: Problem) -> tuple[int, ...] | None:
    """The lexicographically smallest tier costs over every assignment, or None."""
    best: tuple[int, ...] | None = None
    for values in itertools.product((False, True), repeat=problem.top):
        true = {v if values[v - 1] else -v for v in range(1, problem.top + 1)}
        if all(any(lit in true for lit in clause) for clause in problem.hard):
            costs = tuple(sum(w for lit, w in tier if lit not in true) for tier in problem.tiers)
            best = costs if best is None or costs < best else best
    return best


def _costs(model: Sequence[int], problem: Problem) -> tuple[int, ...]:
    true = set(model)
    assert all(any(lit in true for lit in clause) for clause in problem.hard)
    return tuple(sum(w for lit, w in tier if lit not in true) for tier in problem.tiers)


@settings(max_examples=300, deadline=None)
@given(ladder_problems())
def test_holding_back_implied_softs_keeps_the_optimum(problem: Problem) -> None:
    _check_backends(problem)


@settings(max_examples=300, deadline=None)
@given(ladder_problems())
def test_exhausting_every_sum_after_the_fact_keeps_the_optimum(problem: Problem) -> None:
    """Every new sum exhausted after the fact, as if each next call needed search, including
    the raises of a bound that RC2 would have made at once (unminimised cores need them)."""
    raw_cores = {**rc2._RC2_OPTIONS, "minz": False, "trim": 0}
    with mock.patch.object(rc2, "_STEERING_BUDGET", None), \
            mock.patch.object(rc2, "_RC2_OPTIONS", raw_cores):
        _check_backends(problem)


def _check_backends(problem: Problem) -> None:
    expected = _brute_force(problem)
    for backend in (StratifiedRC2(), LexicographicRC2()):
        outcome = backend.solve(problem)
        if expected is None:
            assert not isinstance(outcome, Optimum)
            continue
        assert isinstance(outcome, Optimum), backend.name
        assert outcome.costs == expected, backend.name
        assert _costs(outcome.model, problem) == expected, backend.name


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("conflict", [0.2, 0.4])
def test_our_rc2_matches_pysats_on_generated_universes(seed: int, conflict: float) -> None:
    """Against PySAT's own RC2Stratified on the same weighted formula, with every sum
    exhausted after the fact and unminimised cores (seed 2 at 0.2 raises a bound late)."""
    world = parse_universe(generate(GeneratorConfig(packages=60, versions=6,
                                                    conflict=conflict, seed=seed)))
    encoding = resolve(request_from_universe_file(world), [world.source],
                       target_for(world)).encoding
    problem = Problem(hard=encoding.hard, groups=[c for _, c in encoding.groups],
                      tiers=[t for _, t in encoding.tiers if t], top=encoding.pool.top,
                      phases=encoding.phase_hints(), implied=encoding.implied_softs())
    weighted = rc2._lexicographic_weights(problem.tiers)
    hard = [list(c) for c in problem.hard] + [list(c) for g in problem.groups for c in g]
    with RC2Stratified(rc2._wcnf(hard, weighted, problem.top)) as reference:
        assert reference.compute() is not None
        expected = reference.cost
    raw_cores = {**rc2._RC2_OPTIONS, "minz": False, "trim": 0}
    for steering, options in ((rc2._STEERING_BUDGET, rc2._RC2_OPTIONS), (None, raw_cores)):
        with mock.patch.object(rc2, "_STEERING_BUDGET", steering), \
                mock.patch.object(rc2, "_RC2_OPTIONS", options):
            outcome = StratifiedRC2().solve(problem)
        assert isinstance(outcome, Optimum)
        true = set(outcome.model)
        assert sum(w for lit, w in weighted if lit not in true) == expected
