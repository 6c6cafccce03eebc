"""The tie-break among optimal models (`Problem.preferences`): one answer per problem.

An optimiser returns the first optimal model it meets, and which one that is depends on the
order the variables were numbered in and on what the search learnt on the way. A cold
resolve (lazy rounds), a warm one (metadata on hand, read at once) and an eager one pose the
same problem with other releases read and another numbering, and at 1000 x 10 their plans
differed in 8 of 170 pins, all of equal cost. Fixing, list by list, the best alternative
that still has an optimal model gives the lexicographically best optimal model: a function of
the problem alone (`depsat.api` argues why it is also the full problem's, for lazy rounds).

It is cheap because the optimiser is done: the assumptions that held its optimum become unit
clauses, and so does each alternative once fixed, so a test assumes only the alternative
tried, and unit propagation refutes almost all of them (3000 x 20, conflict 0.2: 453 tests,
5 SAT calls, 16 ms, against 2 s of optimising).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["best_optimal_model"]


def best_optimal_model(oracle: Any, optimal: Sequence[int], model: Sequence[int],
                       preferences: Sequence[Sequence[Sequence[int]]]) -> list[int]:
    """The best model by `preferences` among those of `oracle` (a PySAT solver with
    `propagate`) in which every literal of `optimal` holds; `model` is one of them. The
    oracle is left with the answer's choices as unit clauses: use it for nothing else."""
    for literal in optimal:
        oracle.add_clause([literal])
    true = set(model)
    best = list(model)
    for alternatives in preferences:
        chosen: Sequence[int] = ()
        for alternative in alternatives:
            chosen = alternative
            if all(literal in true for literal in alternative):
                break  # the current model's: nothing better was possible
            trial = list(alternative)
            if oracle.propagate(assumptions=trial)[0] and oracle.solve(assumptions=trial):
                best = list(oracle.get_model())
                true = set(best)
                break
        for literal in chosen:
            oracle.add_clause([literal])
    return best
