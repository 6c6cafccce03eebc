"""Exact lexicographic optimisation with PySAT's RC2.

Two strategies, both exact:

* `StratifiedRC2` (the default): every tier in one ``RC2Stratified`` call, tier k weighted
  above everything after it, so Boolean lexicographic optimisation (BLO) stratification
  solves the tiers in order inside one incremental oracle, hardening each finished level.
  With at-most-one detection, core exhaustion and minimisation (``adapt``, ``exhaust``,
  ``minz``) it was the fastest measured (adapt: another 1.5x at 1000 x 20):
  on a generated 200 x 10 universe 0.03 s against 4-8 s tier by tier, and 12x faster than
  the same call without exhaustion/minimisation at 1000 x 10.
* `LexicographicRC2`: one RC2 call per tier, each optimum then fixed as a hard cardinality
  bound (a k-modulo totaliser: 2x smaller and faster than the sequential counter here).
  Kept as a comparison point and for objectives whose tiers must be inspected one by one.

Both run `_FastRC2Stratified` (RC2Stratified with core minimisation by unit propagation,
trimmed cores) with the oracle's decision phases set to the soft literals and the problem's
hints (`_hint`): at 3000 x 20 these took solving from 12 s to 2.4 s (conflict 0) and from
32 s to 7 s (conflict 0.2).

Soft literals are units throughout (see docs/objectives.md): RC2 appends selectors to
non-unit soft clauses, and unit softs keep each stratum's weights equal.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from pysat.card import CardEnc, EncType
from pysat.examples.rc2 import RC2Stratified
from pysat.formula import WCNF, IDPool

from depsat.solver.problem import Clause, Optimum, Problem, Refutation
from depsat.solver.sat import GroupSolver

__all__ = ["LexicographicRC2", "StratifiedRC2"]


def _refute(problem: Problem) -> Optimum | Refutation:
    with GroupSolver(problem) as oracle:
        if oracle.satisfiable(range(len(problem.groups))):
            # Only reachable when a backend's optimiser disagrees with plain SAT.
            return Optimum(tuple(oracle.model()), ())
        return Refutation(oracle.core())


def _satisfy(problem: Problem, sat_solver: str) -> Optimum | Refutation:
    """No preferences at all: one plain SAT call (RC2 returns no model without softs)."""
    with GroupSolver(problem, sat_solver) as oracle:
        if not oracle.satisfiable(range(len(problem.groups))):
            return Refutation(oracle.core())
        return Optimum(tuple(lit for lit in oracle.model() if abs(lit) <= problem.top), ())


def _hard_clauses(problem: Problem) -> list[Clause] | None:
    """All hard clauses, or None when one is empty: RC2 silently drops empty clauses, so a
    requirement nothing satisfies must go to the refutation path instead."""
    clauses = list(problem.hard)
    for group in problem.groups:
        clauses.extend(group)
    if not all(clauses):
        return None
    return clauses


def _wcnf(hard: list[Clause], soft: Sequence[tuple[int, int]], top: int) -> WCNF:
    """A WCNF holding `hard` as is and unit `soft` literals.

    Filled field by field because `WCNF.append` copies each clause and rescans it for the
    largest variable: 0.6 s for 240k clauses, while the encoder already knows `top`."""
    wcnf = WCNF()
    wcnf.hard = hard
    wcnf.soft = [[literal] for literal, _ in soft]
    wcnf.wght = [weight for _, weight in soft]
    wcnf.topw = sum(wcnf.wght) + 1
    wcnf.nv = top
    return wcnf


_RC2_OPTIONS = {"adapt": True, "exhaust": True, "minz": True, "trim": 5}

_EXACT_MINIMISATION_LIMIT = 100
"""Cores up to this size are shrunk until no single literal can go; larger ones only until
no chunk of 8 can (0.6 ms a test, and the few cores of 300-400 literals shrank by a tenth
for a fifth of all solving time at 3000 x 20)."""


class _FastRC2Stratified(RC2Stratified):  # type: ignore[misc]
    """PySAT's RC2Stratified with three changes that keep it exact and make it 1.6-2.4x
    faster on generated 3000 x 20 universes (8 universes, 35 s -> 20 s in all):

    * **Implied soft literals are held back.** A ladder's "not two steps stale" follows from
      "not one step stale", so it is assumed only once the latter has been relaxed in a core
      (`Problem.implied`). At 3000 x 20 that is about 1,500 assumptions instead of 26,000 per
      SAT call, and RC2's per-core bookkeeping shrinks with them. The optimum is the same: a
      held-back literal is implied by an assumed one, so every model RC2 accepts satisfies it.
    * **Exhaustion only where it pays.** RC2 follows each new core with a SAT call without
      soft assumptions; it almost never raises the bound (3 of 239 cores), but the model it
      leaves behind steers the next main call, which otherwise searches for up to 0.2 s.
      When unit propagation already refutes the next call's assumptions, that call needs no
      search, so the 15 ms exhaustion call is skipped.
    * **Core minimisation by unit propagation.** RC2's `minimize_core` tests each core literal
      with a SAT call that rebuilds a whole model (9 ms each). Our cores come from propagation
      (a newest release needs something another forbids), so chunks of the core are dropped
      while propagation still conflicts (0.1 ms a test). Cores propagation cannot refute get
      RC2's deletion, keeping the refined core each "unsatisfiable" answer carries.
    """

    core: list[int]  # RC2's current core (assumption literals); PySAT is untyped

    def __init__(self, formula: WCNF, implied: Sequence[tuple[int, int]] = (),
                 **options: object) -> None:
        weights = dict(zip((clause[0] for clause in formula.soft), formula.wght, strict=True))
        self._held_back: dict[int, list[int]] = {}
        held: set[int] = set()
        for a, b in implied:
            if b not in held and a in weights and weights.get(b) == weights[a]:
                self._held_back.setdefault(a, []).append(b)
                held.add(b)
        self._held = held
        self._hardening = False
        super().__init__(formula, **options)

    # -- held-back soft literals --------------------------------------------------
    def activate_clauses(self, beg: int) -> int:
        """RC2Stratified's, leaving out the held-back literals of each new level."""
        end: int = min(self.levl + 1, len(self.blop))
        for level in range(beg, end):
            for selector in self.wstr[self.blop[level]]:
                if selector in self._held:
                    continue
                if selector in self.bckp_set:
                    self.sels.append(selector)
                else:
                    self.sums.append(selector)
        self.sels_set = set(self.sels)
        return end

    def finish_level(self) -> None:
        # Hardened literals stay true, and with them what they imply: release nothing.
        self._hardening = True
        try:
            super().finish_level()
        finally:
            self._hardening = False

    def filter_assumps(self) -> None:
        """RC2's, then assume what the literals leaving the assumptions held back."""
        released = [] if self._hardening else self._released()
        super().filter_assumps()
        if released:
            self.sels.extend(released)
            self.sels_set.update(released)

    def _released(self) -> list[int]:
        """What the selectors now leaving the assumptions (RC2's garbage) held back."""
        return [b for a in self.garbage if a in self.sels_set for b in self._held_back.get(a, ())]

    # -- exhaustion ----------------------------------------------------------------
    def exhaust_core(self, tobj: object) -> int | None:
        following = [lit for lit in self.sels + self.sums if lit not in self.garbage]
        following += self._released()
        following.append(-tobj.rhs[1])  # type: ignore[attr-defined]
        if self._propagation_conflict(following):
            return 1  # the next main call is refuted by propagation: no search to steer
        bound: int | None = super().exhaust_core(tobj)
        return bound

    # -- minimisation ----------------------------------------------------------------
    def minimize_core(self) -> None:
        if not self.minz or len(self.core) < 2:
            return
        core: list[int] = sorted(self.core, key=lambda lit: self.wght[lit])
        if self._propagation_conflict(core):
            self.core = self._shrink_by_propagation(core)
            return
        self.oracle.conf_budget(1000)
        i = 0
        while i < len(core):
            rest = core[:i] + core[i + 1:]
            if self.oracle.solve_limited(assumptions=rest) is False:
                refined = set(self.oracle.get_core())
                core = [lit for lit in rest if lit in refined]
            elif self.oracle.get_status() is True:
                i += 1
            else:
                break  # budget spent: keep what we have
        self.oracle.conf_budget(budget=-1)
        self.core = core

    def _propagation_conflict(self, assumptions: list[int]) -> bool:
        status, _ = self.oracle.propagate(assumptions=assumptions)
        return not status

    def _shrink_by_propagation(self, core: list[int]) -> list[int]:
        """Drop chunks (halving their size) while propagation still refutes the rest: few
        tests when most of a core is noise, as it usually is."""
        finest = 1 if len(core) <= _EXACT_MINIMISATION_LIMIT else 8
        size = max(1, len(core) // 2)
        while True:
            i = 0
            while i < len(core):
                rest = core[:i] + core[i + size:]
                if rest and self._propagation_conflict(rest):
                    core = rest
                else:
                    i += size
            if size <= finest:
                return core
            size = max(1, size // 2)


def _hint(rc2: RC2Stratified, problem: Problem,
          tiers: Sequence[Sequence[tuple[int, int]]]) -> None:
    """Point the oracle's decisions at the soft literals and the problem's hints.

    Core exhaustion and minimisation call the oracle without most soft assumptions; left to
    its default phases it then searches blindly (single calls of 3 s at 3000 x 20, conflict
    0.2). With the preferred polarities it decides like a greedy resolver and finds models
    quickly: solving 12 s -> 7 s there."""
    rc2.oracle.set_phases(literals=[lit for tier in tiers for lit, _ in tier]
                          + list(problem.phases))


class _RC2Backend:
    """What both strategies share: the empty-clause and no-preference shortcuts."""

    name = ""

    def __init__(self, sat_solver: str = "g3") -> None:
        self.sat_solver = sat_solver

    def solve(self, problem: Problem) -> Optimum | Refutation:
        hard = _hard_clauses(problem)
        if hard is None:
            return _refute(problem)
        tiers = [tier for tier in problem.tiers if tier]
        if not tiers:
            return _satisfy(problem, self.sat_solver)
        return self._optimise(problem, hard, tiers)

    def _optimise(self, problem: Problem, hard: list[Clause],
                  tiers: list[Sequence[tuple[int, int]]]) -> Optimum | Refutation:
        raise NotImplementedError


class LexicographicRC2(_RC2Backend):
    """Tier by tier RC2, each optimum fixed as a hard bound before the next tier."""

    name = "rc2-lex"

    def _optimise(self, problem: Problem, hard: list[Clause],
                  tiers: list[Sequence[tuple[int, int]]]) -> Optimum | Refutation:
        pool = IDPool(start_from=problem.top + 1)
        costs: list[int] = []
        model: list[int] = []
        for tier in tiers:
            wcnf = _wcnf(list(hard), tier, max(problem.top, pool.top))
            with _FastRC2Stratified(wcnf, problem.implied, solver=self.sat_solver,
                                    **_RC2_OPTIONS) as rc2:
                _hint(rc2, problem, [tier])
                found = rc2.compute()
                if found is None:
                    return _refute(problem)
                model = list(found)
                cost = int(rc2.cost)
            costs.append(cost)
            hard.extend(_bound(tier, cost, pool, max(problem.top, wcnf.nv)))
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
                              encoding=EncType.kmtotalizer)
        return [list(c) for c in card.clauses]
    from pysat.pb import PBEnc  # optional dependency (pypblib) only for weighted tiers

    pb = PBEnc.atmost([-lit for lit, _ in tier], weights=[w for _, w in tier], bound=cost,
                      vpool=pool)
    return [list(c) for c in pb.clauses]


class StratifiedRC2(_RC2Backend):
    """All tiers in one RC2Stratified (BLO) call, tier k weighted above everything after it;
    the default backend."""

    name = "rc2-stratified"

    def _optimise(self, problem: Problem, hard: list[Clause],
                  tiers: list[Sequence[tuple[int, int]]]) -> Optimum | Refutation:
        scale = 1
        weighted: list[tuple[int, int]] = []
        for tier in reversed(tiers):
            weighted.extend((lit, w * scale) for lit, w in tier)
            scale *= sum(w for _, w in tier) + 1
        wcnf = _wcnf(hard, weighted, problem.top)
        with _FastRC2Stratified(wcnf, problem.implied, solver=self.sat_solver,
                                **_RC2_OPTIONS) as rc2:
            _hint(rc2, problem, tiers)
            found = rc2.compute()
            if found is None:
                return _refute(problem)
            # RC2 returns the model sorted by variable: cut it at our last one.
            model = tuple(found[:bisect.bisect_right(found, problem.top, key=abs)])
        true = set(model)
        costs = tuple(sum(w for lit, w in tier if lit not in true) for tier in tiers)
        return Optimum(model, costs)
