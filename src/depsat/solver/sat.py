"""Plain SAT with one selector literal per group: feasibility and cores under assumptions."""

from __future__ import annotations

from collections.abc import Sequence

from pysat.solvers import Solver

from depsat.solver.problem import Problem

__all__ = ["GroupSolver"]


class GroupSolver:
    """One incremental SAT solver in which group i is enabled by assuming its selector.

    Reused across questions (feasibility, cores, MUS and MCS checks) instead of rebuilding.
    """

    def __init__(self, problem: Problem, solver_name: str = "cd19") -> None:
        self.problem = problem
        self.selectors = list(range(problem.top + 1, problem.top + 1 + len(problem.groups)))
        self.group_of = {s: i for i, s in enumerate(self.selectors)}
        self.solver = Solver(name=solver_name, bootstrap_with=[list(c) for c in problem.hard])
        for selector, clauses in zip(self.selectors, problem.groups, strict=True):
            for clause in clauses:
                self.solver.add_clause([-selector, *clause])
        self.top = problem.top + len(problem.groups)

    def satisfiable(self, groups: Sequence[int]) -> bool:
        """Whether the hard clauses and the given groups hold together."""
        return bool(self.solver.solve(assumptions=[self.selectors[i] for i in groups]))

    def model(self) -> list[int]:
        return list(self.solver.get_model() or [])

    def core(self) -> tuple[int, ...]:
        """Groups in the last unsatisfiable call's core (valid after `satisfiable` is False)."""
        return tuple(sorted(self.group_of[s] for s in self.solver.get_core() or ()
                            if s in self.group_of))

    def close(self) -> None:
        self.solver.delete()

    def __enter__(self) -> GroupSolver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
