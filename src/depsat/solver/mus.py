"""Group MUSes and minimal correction sets over a `Problem`: integers in, group indices out.

Every group becomes one soft unit: a selector literal ``s_i`` is a unit soft clause and the
group's clauses become hard clauses guarded by ``¬s_i``; the structural clauses stay hard.
PySAT's algorithms do the search (`MUSX` deletion, `OptUx` implicit hitting sets, `LBX`
correction sets); this module only builds their formulas, bounds their time and maps their
answers back to group indices.

A time budget is enforced between the algorithms' SAT calls (each oracle is wrapped so that a
call after the deadline raises); when it runs out the answer falls back to the plain core
from `GroupSolver`, which is still a proof of unsatisfiability but may not be minimal.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
from pysat.examples.lbx import LBX
from pysat.examples.musx import MUSX
from pysat.examples.optux import OptUx
from pysat.formula import WCNF

from depsat.solver.problem import Problem
from depsat.solver.sat import GroupSolver

__all__ = ["BudgetExceeded", "Core", "correction_sets", "minimal_core"]

# Above this many groups, OptUx works inside the first core only: its disjoint-MCS phase
# over thousands of selectors costs more than a person waits for.
SMALLEST_SCOPE_LIMIT = 400


class BudgetExceeded(Exception):
    """Raised inside a PySAT algorithm when its next SAT call would pass the deadline."""


class _DeadlineOracle:
    """Wraps a PySAT solver: every `solve` first checks the deadline. Everything else passes
    through, so the library's algorithm runs unchanged."""

    def __init__(self, oracle: Any, deadline: float) -> None:
        self._oracle = oracle
        self._deadline = deadline

    def solve(self, *args: Any, **kwargs: Any) -> Any:
        if time.perf_counter() > self._deadline:
            raise BudgetExceeded
        return self._oracle.solve(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._oracle, name)


@attrs.frozen(slots=True)
class Core:
    """Groups that cannot hold together, and how much is known about the set.

    `minimal`: removing any one group makes the rest satisfiable (MUSX or OptUx finished).
    `smallest`: no unsatisfiable set of groups is smaller (OptUx finished over `scope`).
    `method`: "optux", "musx" or "core" (the plain, possibly non-minimal core).
    """

    groups: tuple[int, ...]
    minimal: bool
    smallest: bool
    method: str
    seconds: float


def _wcnf(problem: Problem, soft: Sequence[int], hard_groups: Iterable[int] = ()) -> tuple[
        WCNF, list[int]]:
    """Hard clauses, `hard_groups` unguarded, `soft` groups guarded by unit soft selectors.

    Returns the formula and the selector of each soft group (in `soft`'s order)."""
    wcnf = WCNF()
    for clause in problem.hard:
        wcnf.append(list(clause))
    for index in hard_groups:
        for clause in problem.groups[index]:
            wcnf.append(list(clause))
    top = max(problem.top, wcnf.nv)
    selectors: list[int] = []
    for index in soft:
        top += 1
        selectors.append(top)
        for clause in problem.groups[index]:
            wcnf.append([-top, *clause])
    for selector in selectors:
        wcnf.append([selector], weight=1)
    return wcnf, selectors


def minimal_core(
    problem: Problem,
    *,
    smallest: bool = False,
    budget_seconds: float = 5.0,
    solver: GroupSolver | None = None,
) -> Core | None:
    """A minimal (or, with `smallest`, a smallest) unsatisfiable set of groups; None when all
    groups hold together.

    `solver` is an existing `GroupSolver` over the same problem, reused for the first core.
    """
    start = time.perf_counter()
    deadline = start + budget_seconds
    owned = solver is None
    oracle = solver if solver is not None else GroupSolver(problem)
    try:
        if oracle.satisfiable(range(len(problem.groups))):
            return None
        first = oracle.core()
    finally:
        if owned:
            oracle.close()
    fallback = Core(first, minimal=len(first) <= 1, smallest=len(first) <= 1, method="core",
                    seconds=time.perf_counter() - start)
    if len(first) <= 1:
        return attrs.evolve(fallback, method="musx")
    try:
        found = _musx(problem, first, deadline)
    except BudgetExceeded:
        return attrs.evolve(fallback, seconds=time.perf_counter() - start)
    best = Core(found, minimal=True, smallest=len(found) <= 1, method="musx",
                seconds=time.perf_counter() - start)
    if not smallest or best.smallest:
        return best
    scope = (tuple(range(len(problem.groups))) if len(problem.groups) <= SMALLEST_SCOPE_LIMIT
             else first)
    try:
        optimal = _optux(problem, scope, deadline)
    except BudgetExceeded:
        return attrs.evolve(best, seconds=time.perf_counter() - start)
    if optimal is None or len(optimal) > len(found):  # pragma: no cover - OptUx is exact
        return attrs.evolve(best, seconds=time.perf_counter() - start)
    return Core(optimal, minimal=True, smallest=True, method="optux",
                seconds=time.perf_counter() - start)


def _run(make: Any, problem: Problem, scope: Sequence[int],
         deadline: float) -> tuple[int, ...] | None:
    """Run a PySAT MUS tool (`make(wcnf)`) over `scope` with the deadline on its oracle; the
    groups it keeps, or None when it finds none."""
    wcnf, _ = _wcnf(problem, scope)
    tool = make(wcnf)
    try:
        tool.oracle = _DeadlineOracle(tool.oracle, deadline)
        found = tool.compute()
    finally:
        tool.delete()
    if found is None:
        return None
    return tuple(sorted(scope[i - 1] for i in found))


def _musx(problem: Problem, scope: Sequence[int], deadline: float) -> tuple[int, ...]:
    found = _run(lambda wcnf: MUSX(wcnf, solver="cd19", verbosity=0), problem, scope,
                 deadline)
    assert found is not None, "MUSX was given a satisfiable set of groups"
    return found


def _optux(problem: Problem, scope: Sequence[int], deadline: float) -> tuple[int, ...] | None:
    return _run(lambda wcnf: OptUx(wcnf, solver="g3", verbose=0), problem, scope, deadline)


def correction_sets(
    problem: Problem,
    relaxable: Sequence[int],
    *,
    limit: int = 8,
    budget_seconds: float = 2.0,
) -> list[tuple[int, ...]]:
    """Minimal correction sets over `relaxable` groups: removing one makes everything else
    satisfiable, and no proper subset does. Non-relaxable groups stay hard.

    Enumerated with PySAT's `LBX` (each found set blocked), at most `limit` of them, smaller
    ones are not guaranteed first. Empty when nothing relaxable can help or time runs out
    before the first set.
    """
    relaxable = sorted(set(relaxable))
    fixed = [i for i in range(len(problem.groups)) if i not in set(relaxable)]
    if not relaxable:
        return []
    deadline = time.perf_counter() + budget_seconds
    wcnf, _ = _wcnf(problem, relaxable, fixed)
    found: list[tuple[int, ...]] = []
    lbx = LBX(wcnf, use_cld=True, solver_name="g3")
    try:
        lbx.oracle = _DeadlineOracle(lbx.oracle, deadline)
        while len(found) < limit:
            mcs = lbx.compute()
            if mcs is None:
                break
            if not mcs:  # satisfiable as it stands: nothing to correct
                break
            found.append(tuple(sorted(relaxable[i - 1] for i in mcs)))
            lbx.block(mcs)
    except BudgetExceeded:
        pass
    finally:
        lbx.delete()
    return found


def clause_core(problem: Problem, groups: Sequence[int], *,
                budget_seconds: float = 1.0) -> dict[int, tuple[int, ...]]:
    """The second level: within `groups` (an unsatisfiable set), a minimal set of their
    individual clauses, as group -> indices of its clauses that are needed. A group whose
    clauses are all needed maps to all of them; when the budget runs out, every clause."""
    everything = {g: tuple(range(len(problem.groups[g]))) for g in groups}
    pieces = [(g, i) for g in groups for i in range(len(problem.groups[g]))]
    if len(pieces) == len(groups):
        return everything  # one clause per group: the first level already said it all
    split = Problem(hard=problem.hard, groups=[[problem.groups[g][i]] for g, i in pieces],
                    top=problem.top)
    core = minimal_core(split, budget_seconds=budget_seconds)
    if core is None or not core.minimal:
        return everything
    kept: dict[int, list[int]] = {g: [] for g in groups}
    for piece in core.groups:
        group, clause = pieces[piece]
        kept[group].append(clause)
    return {g: tuple(sorted(found)) for g, found in kept.items()}
