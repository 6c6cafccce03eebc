"""The solver seam: a backend takes a `Problem` and returns an `Optimum` or a `Refutation`
(or `Unfinished`, only when the problem sets an effort limit)."""

from __future__ import annotations

from typing import Protocol

from depsat.solver.problem import Optimum, Problem, Refutation, Unfinished

__all__ = ["SolverBackend"]


class SolverBackend(Protocol):
    """Anything that can optimise a `Problem` exactly (RC2 by default)."""

    name: str

    def solve(self, problem: Problem) -> Optimum | Refutation | Unfinished: ...
