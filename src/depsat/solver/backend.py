"""The solver seam: a backend takes a `Problem` and returns an `Optimum` or a `Refutation`."""

from __future__ import annotations

from typing import Protocol

from depsat.solver.problem import Optimum, Problem, Refutation

__all__ = ["SolverBackend"]


class SolverBackend(Protocol):
    """Anything that can optimise a `Problem` exactly (RC2 by default)."""

    name: str

    def solve(self, problem: Problem) -> Optimum | Refutation: ...
