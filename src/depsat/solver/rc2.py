"""Exact lexicographic optimisation with PySAT's RC2, one tier after another.

Each tier is solved with RC2 over the hard clauses plus the bounds fixed by earlier tiers;
its optimum then becomes a hard bound (a cardinality constraint when the tier's weights are
uniform). Solving tiers in turn keeps every RC2 call on few, equal weights: one stratified
call with huge lexicographic weights was measured ~50x slower on the same universes.
"""

from __future__ import annotations

from collections.abc import Sequence

from pysat.card import CardEnc, EncType
from pysat.examples.rc2 import RC2, RC2Stratified
from pysat.formula import WCNF, IDPool

from depsat.solver.problem import Optimum, Problem, Refutation
from depsat.solver.sat import GroupSolver

__all__ = ["LexicographicRC2", "StratifiedRC2"]


def _refute(problem: Problem) -> Optimum | Refutation:
    with GroupSolver(problem) as oracle:
        if oracle.satisfiable(range(len(problem.groups))):
            # Only reachable when a backend's optimiser disagrees with plain SAT.
            return Optimum(tuple(oracle.model()), ())
        return Refutation(oracle.core())


def _hard_clauses(problem: Problem) -> list[list[int]] | None:
    """All hard clauses, or None when one is empty: RC2 silently drops empty clauses, so a
    requirement nothing satisfies must go to the refutation path instead."""
    clauses = [list(c) for c in problem.hard]
    for group in problem.groups:
        clauses.extend(list(c) for c in group)
    if any(not clause for clause in clauses):
        return None
    return clauses


class LexicographicRC2:
    """Tier by tier RC2; the default backend."""

    name = "rc2-lex"

    def __init__(self, sat_solver: str = "g3") -> None:
        self.sat_solver = sat_solver

    def solve(self, problem: Problem) -> Optimum | Refutation:
        hard = _hard_clauses(problem)
        if hard is None:
            return _refute(problem)
        pool = IDPool(start_from=problem.top + 1)
        costs: list[int] = []
        model: list[int] | None = None
        tiers = [tier for tier in problem.tiers if tier]
        if not tiers:
            with GroupSolver(problem, self.sat_solver) as oracle:
                if not oracle.satisfiable(range(len(problem.groups))):
                    return Refutation(oracle.core())
                return Optimum(tuple(lit for lit in oracle.model()
                                     if abs(lit) <= problem.top), ())
        for tier in tiers:
            wcnf = WCNF()
            wcnf.extend(hard)
            for literal, weight in tier:
                wcnf.append([literal], weight=weight)
            uniform = len({w for _, w in tier}) == 1
            solver_class = RC2 if uniform else RC2Stratified
            with solver_class(wcnf, solver=self.sat_solver) as rc2:
                found = rc2.compute()
                if found is None:
                    return _refute(problem)
                model = list(found)
                cost = int(rc2.cost)
            costs.append(cost)
            hard.extend(_bound(tier, cost, pool, max(problem.top, wcnf.nv)))
        assert model is not None
        return Optimum(tuple(lit for lit in model if abs(lit) <= problem.top), tuple(costs))


def _bound(tier: Sequence[tuple[int, int]], cost: int, pool: IDPool,
           top: int) -> list[list[int]]:
    """Hard clauses: the tier's violated weight stays at most `cost`."""
    if cost == 0:
        return [[lit] for lit, _ in tier]
    pool.top = max(pool.top, top)
    weights = {w for _, w in tier}
    if weights == {1}:
        card = CardEnc.atmost([-lit for lit, _ in tier], bound=cost, vpool=pool,
                              encoding=EncType.seqcounter)
        return [list(c) for c in card.clauses]
    from pysat.pb import PBEnc  # optional dependency (pypblib) only for weighted tiers

    pb = PBEnc.atmost([-lit for lit, _ in tier], weights=[w for _, w in tier], bound=cost,
                      vpool=pool)
    return [list(c) for c in pb.clauses]


class StratifiedRC2:
    """All tiers in one RC2Stratified call, tier k weighted above everything after it.

    Kept for comparison in benchmarks: exact, but large weights slow RC2 down.
    """

    name = "rc2-stratified"

    def __init__(self, sat_solver: str = "g3") -> None:
        self.sat_solver = sat_solver

    def solve(self, problem: Problem) -> Optimum | Refutation:
        hard = _hard_clauses(problem)
        if hard is None:
            return _refute(problem)
        wcnf = WCNF()
        wcnf.extend(hard)
        scale = 1
        weighted: list[tuple[int, int]] = []
        for tier in reversed([t for t in problem.tiers if t]):
            weighted.extend((lit, w * scale) for lit, w in tier)
            scale *= sum(w for _, w in tier) + 1
        for literal, weight in weighted:
            wcnf.append([literal], weight=weight)
        with RC2Stratified(wcnf, solver=self.sat_solver) as rc2:
            found = rc2.compute()
            if found is None:
                return _refute(problem)
            model = tuple(lit for lit in found if abs(lit) <= problem.top)
        costs = []
        true = set(model)
        for tier in problem.tiers:
            if tier:
                costs.append(sum(w for lit, w in tier if lit not in true))
        return Optimum(model, tuple(costs))
