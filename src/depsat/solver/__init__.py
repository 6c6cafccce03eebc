"""Solvers: clauses in, a model or a core out. No I/O, no knowledge of packages."""

from depsat.solver.backend import SolverBackend
from depsat.solver.problem import Optimum, Problem, Refutation, Unfinished
from depsat.solver.rc2 import LexicographicRC2, StratifiedRC2
from depsat.solver.sat import GroupSolver

__all__ = [
    "GroupSolver",
    "LexicographicRC2",
    "Optimum",
    "Problem",
    "Refutation",
    "SolverBackend",
    "StratifiedRC2",
    "Unfinished",
]
