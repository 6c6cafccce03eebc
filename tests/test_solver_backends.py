"""The solver backends on raw problems: ladders of implied soft literals, random hard clauses.

`Problem.implied` lets a backend hold soft literals back while an assumed one implies them.
These properties check, against brute force over every assignment, that doing so never
changes the optimum, in either backend.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from depsat.solver import LexicographicRC2, Optimum, Problem, StratifiedRC2

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
    expected = _brute_force(problem)
    for backend in (StratifiedRC2(), LexicographicRC2()):
        outcome = backend.solve(problem)
        if expected is None:
            assert not isinstance(outcome, Optimum)
            continue
        assert isinstance(outcome, Optimum), backend.name
        assert outcome.costs == expected, backend.name
        assert _costs(outcome.model, problem) == expected, backend.name
