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

Both run `_FastRC2Stratified` (RC2Stratified holding implied soft literals back, exhausting
a new sum only when the next call needs search, and minimising cores by unit propagation)
with the oracle's decision phases set to the soft literals and the problem's hints
(`_hint`). At 3000 x 20, conflict 0.2, solving went from 32 s to 7 s with the phases and
minimisation, and to 2.3 s with the other two changes.

Soft literals are units throughout (see docs/objectives.md): RC2 appends selectors to
non-unit soft clauses, and unit softs keep each stratum's weights equal.

`StratifiedRC2` reports the cores it processed (`CoreLog`, as `Optimum.reusable`), and
replays those of an earlier problem (`Problem.reuse`: the last lazy round) that unit
propagation shows are still cores, before each main call. At 3000 x 10 over HTTP (16 lazy
rounds) RC2's search went from 0.59 to 0.48 s.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
from pysat.examples.rc2 import RC2, RC2Stratified
from pysat.formula import WCNF

from depsat.solver.problem import Clause, Optimum, Problem, Refutation, Unfinished
from depsat.solver.sat import GroupSolver
from depsat.solver.tie_break import best_optimal_model

__all__ = ["CoreLog", "LexicographicRC2", "StratifiedRC2"]


def _refute(problem: Problem) -> Optimum | Refutation:
    with GroupSolver(problem) as oracle:
        if oracle.satisfiable(range(len(problem.groups))):
            # Only reachable when a backend's optimiser disagrees with plain SAT.
            return Optimum(tuple(oracle.model()), ())
        return Refutation(oracle.core())


def _satisfy(problem: Problem, sat_solver: str) -> Optimum | Refutation:
    """No soft tiers at all: one plain SAT call (RC2 returns no model without softs), then
    the tie-break among all models."""
    with GroupSolver(problem, sat_solver) as oracle:
        if not oracle.satisfiable(range(len(problem.groups))):
            return Refutation(oracle.core())
        model = _tie_broken(oracle.solver, oracle.selectors, oracle.model(), problem)
        return Optimum(tuple(lit for lit in model if abs(lit) <= problem.top), ())


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


def _lexicographic_weights(tiers: Sequence[Sequence[tuple[int, int]]]) -> list[tuple[int, int]]:
    """Every tier's soft literals in one list, tier k weighted above all later tiers together."""
    scale = 1
    weighted: list[tuple[int, int]] = []
    for tier in reversed(tiers):
        weighted.extend((lit, w * scale) for lit, w in tier)
        scale *= sum(w for _, w in tier) + 1
    return weighted


_RC2_OPTIONS = {"adapt": True, "exhaust": True, "minz": True, "trim": 5}

_Core = tuple[tuple[int, int], ...]
"""A core as `_FastRC2Stratified._atoms` writes it down."""


@attrs.frozen(slots=True)
class CoreLog:
    """The cores `StratifiedRC2` processed, in order (its `Optimum.reusable`): a later lazy
    round replays those that still hold instead of finding them with SAT calls again."""

    cores: tuple[_Core, ...]


_EXACT_MINIMISATION_LIMIT = 100
"""Cores up to this size are shrunk until no single literal can go; larger ones only until
no chunk of 8 can (0.6 ms a test, and the few cores of 300-400 literals shrank by a tenth
for a fifth of all solving time at 3000 x 20)."""


_STEERING_BUDGET: int | None = 2
"""Propagations per variable a main call may use before it counts as needing search: a call
refuted by unit propagation assigns each variable about once. None exhausts every new sum
before the next call, as RC2 itself does (for comparison, and for tests of that path).
A budget of 1 looked better on seed 1 (2.3-2.5 -> 1.7-2.1 s) and lost 2.5x on seed 2 (3.4 ->
8.7 s); 0.5 and 4 were no better than 2."""


class _FastRC2Stratified(RC2Stratified):  # type: ignore[misc]
    """PySAT's RC2Stratified with three changes that keep it exact. Against plain RC2 with
    PySAT's exhaustion and our minimisation, solving 8 generated universes (3000 x 20 and
    3000 x 10 at conflict 0 and 0.2) took 9.8-10.6 s instead of 35 s, and each got faster:

    * **Implied soft literals are held back.** A ladder's "not two steps stale" follows from
      "not one step stale", so it is assumed only once the latter has been relaxed in a core
      (`Problem.implied`). At 3000 x 20 that is about 1,500 assumptions instead of 26,000 per
      SAT call, and RC2's per-core bookkeeping shrinks with them. The optimum is the same: a
      held-back literal is implied by an assumed one, so every model RC2 accepts satisfies it
      (and once its implier leaves the assumptions, it is assumed itself with its own weight).
    * **Exhaustion only when the next call needs search.** RC2 follows each new sum with a
      SAT call without soft assumptions ("exhaustion"). It seldom raises the bound (3 of 239
      cores), but the model it leaves behind steers the next main call, which otherwise
      searches for up to 0.2 s. Most next calls need no steering: unit propagation refutes
      their assumptions. So the next call runs first on a propagation budget (twice the
      variables; a refuted call assigns each about once), and only when that runs out is
      the pending sum exhausted and the call repeated: 5-10 exhaustions instead of 250.
    * **Core minimisation by unit propagation.** RC2's `minimize_core` tests each core literal
      with a SAT call that rebuilds a whole model (9 ms each). Our cores come from propagation
      (a newest release needs something another forbids), so chunks of the core are dropped
      while propagation still conflicts (0.1 ms a test). Cores propagation cannot refute get
      RC2's deletion, keeping the refined core each "unsatisfiable" answer carries.

    Tried and dropped (same 8 universes): exhaustion skipped when propagation refutes the next
    call's assumptions, checked before it (20-23 s: the check repeats the call's propagation);
    a conflict budget instead of a propagation budget (lost 2-4x on one universe: its aborted
    searches left poor phases); disjoint cores before relaxing (31 s on one universe alone).
    Later (3000 x 20, conflict 0.2, seeds 1-3, solving times): not asking RC2's exhaustion
    its first question twice (the repeat is answered from learned clauses: within noise);
    a conflict budget of 500 on exhaustion, skipping it when spent (3.65 -> 4.86 s).
    """

    # RC2's state that we read and write (PySAT is untyped): the current core (assumption
    # literals), its weight and the relaxation literals of the newest sum.
    core: list[int]
    minw: int
    rels: list[int]

    def __init__(self, formula: WCNF, implied: Sequence[tuple[int, int]] = (),
                 reuse: object = None, effort_limit: int | None = None,
                 **options: object) -> None:
        self._effort_limit = effort_limit
        self._held_back: dict[int, list[int]] = {}  # assumed literal -> what it implies
        self._held: set[int] = set()  # held back now: their level does not activate them
        self._early: set[int] = set()  # released before their level: it skips them once
        self._hardening = False
        self._pending: tuple[Any, int] | None = None
        # Cores kept for a later problem, and an earlier problem's cores to try first.
        self._top: int = formula.nv
        self.cores_found: list[_Core] = []
        self._recording = True
        self._sum_core: dict[Any, int] = {}  # sum -> the core in `cores_found` behind it
        self._new_sum: Any = None
        self._earlier: list[tuple[int, _Core]] = (
            list(enumerate(reuse.cores)) if isinstance(reuse, CoreLog) else [])
        self._earlier_sums: dict[int, Any] = {}  # earlier core -> the sum its replay made
        self._replaying: int | None = None
        super().__init__(formula, **options)
        self.added: list[list[int]] = []
        """Every clause added to the oracle after the formula's own (sums over cores, their
        bounds, hardened literals): with the final assumptions, what makes a model optimal
        (`optimal_models`)."""
        add = self.oracle.add_clause

        def recording(clause: Iterable[int], no_return: bool = True) -> Any:
            self.added.append(list(clause))
            return add(self.added[-1], no_return)

        self.oracle.add_clause = recording  # (shadows the method on this instance only)
        for a, b in implied:
            # Only behind a literal whose level comes no later (weights as RC2 merged them).
            if b not in self._held and a in self.wght and b in self.wght \
                    and self.wght[a] >= self.wght[b]:
                self._held_back.setdefault(a, []).append(b)
                self._held.add(b)

    # -- held-back soft literals --------------------------------------------------
    # Invariant: a held-back literal is implied by one that is assumed. So whenever a literal
    # leaves the assumptions (relaxed in a core, split and moved to a later level, or taken
    # into an at-most-one group), what it held back is assumed from then on. Releasing early
    # is always sound; only hardening (the literal becomes a hard fact) releases nothing.
    # Once released, a literal is RC2's like any other: split in a core, its remaining weight
    # waits for that weight's level (until session 12 the held-back mark stayed and that
    # level skipped it, so the remaining weight was lost).

    def activate_clauses(self, beg: int) -> int:
        """RC2Stratified's, leaving out the held-back literals of each new level, and the
        released ones it finds at their own level (assumed already, or relaxed since). A
        released literal split later is found again at its remaining weight's level and
        activated there, as RC2Stratified activates any split literal."""
        end: int = min(self.levl + 1, len(self.blop))
        for level in range(beg, end):
            for selector in self.wstr[self.blop[level]]:
                if selector in self._held:
                    continue
                if selector in self._early:
                    self._early.discard(selector)
                    continue
                if selector in self.bckp_set:
                    self.sels.append(selector)
                else:
                    self.sums.append(selector)
        self.sels_set = set(self.sels)
        return end

    def delete(self) -> None:
        """RC2's, and the two reference cycles it leaves are broken: the oracle holds
        `recording` (which holds this RC2 and the oracle's own method), and PySAT's `IDPool`
        numbers through a lambda that holds the pool. Under the paused collector
        (`depsat.api.collector_paused`) a cycle lives until a full pass, with everything it
        reaches: every lazy round's RC2, its formula and its cores (a universal lock of
        transformers[torch], 37 resolves, peaked at 600-610 MB instead of 410-430 MB; a
        cold 1000 x 10 resolve over HTTP, 8 rounds, at 97 MB instead of 81 MB)."""
        if self.oracle is not None:
            self.oracle.__dict__.pop("add_clause", None)
        super().delete()
        self.pool.obj2id.default_factory = None

    def finish_level(self) -> None:
        self._hardening = True
        try:
            super().finish_level()
        finally:
            self._hardening = False

    def filter_assumps(self) -> None:
        """RC2's, then release what the relaxed literals (RC2's garbage) held back."""
        leaving = [] if self._hardening else [a for a in self.garbage if a in self.sels_set]
        super().filter_assumps()
        self._release(leaving)

    def process_sels(self) -> None:
        """RC2Stratified's; a split literal may move to a later level, so release now."""
        super().process_sels()
        self._release([a for a in self.core_sels if a not in self.garbage])

    def process_am1(self, am1: list[int]) -> None:
        members = list(am1)
        super().process_am1(am1)
        self._release(members)

    def _release(self, literals: Iterable[int]) -> None:
        for a in literals:
            released = self._held_back.pop(a, None)
            if released:
                self._held.difference_update(released)
                level_weight = self.blop[self.levl]
                self._early.update(b for b in released if self.wght[b] < level_weight)
                self.sels.extend(released)
                self.sels_set.update(released)

    # -- exhaustion ----------------------------------------------------------------
    def exhaust_core(self, tobj: Any) -> int:
        """Defer: `compute_` exhausts this sum only if the next main call needs search."""
        self._pending = (tobj, self.minw)
        return 1

    def compute(self, expect_interrupt: bool = False) -> list[int] | None:
        """RC2Stratified's, returning the oracle's model as it is: every variable in order,
        ours and RC2's (the callers cut it at the problem's last variable).

        RC2 maps each literal of the model through Python lambdas and sorts it, which was 13%
        of a lazy round's solving at 3000 x 10; with no renaming (our variables are RC2's)
        there is nothing to map, so RC2 is handed an empty model to map instead."""
        oracle = self.oracle
        oracle.get_model = list  # (an empty list) shadows the method for RC2's own extraction
        try:
            found: list[int] | None = super().compute(expect_interrupt)
        finally:
            del oracle.get_model
        return None if found is None else list(oracle.get_model())

    def compute_(self) -> bool:
        """RC2's main loop, with the main call in `_main_call` (no interruption support),
        and an earlier problem's cores tried before each main call (`_replay`)."""
        if self.adapt:
            self._recording = False  # (its unit cores are found again just as cheaply)
            try:
                self.adapt_am1()
            finally:
                self._recording = True
        self.interrupted = False
        while True:
            if self._effort_limit is not None and self.effort() > self._effort_limit:
                raise _OutOfEffort  # (checked between SAT calls: one call can run past it)
            if self._replay():
                self.process_core()
                continue
            if self._main_call():
                return True
            self.get_core()
            if not self.core:
                return False  # the hard part alone is unsatisfiable
            self.process_core()

    def optimal_models(self) -> tuple[list[list[int]], int]:
        """Hard clauses that hold exactly in this problem's optimal models, once `compute`
        has found one, and the largest variable they use: the clauses RC2 added and its final
        assumptions as units (the tie-break's starting point too)."""
        units = [[literal] for literal in self.sels + self.sums]
        return self.added + units, self.pool.top

    def effort(self) -> int:
        """SAT conflicts so far, over every call of the oracle."""
        return int(self.oracle.accum_stats().get("conflicts", 0))

    # -- cores of an earlier problem ------------------------------------------------
    # A lazy round's problem is the last round's with more hard clauses, so most of the
    # last round's cores are cores again. Each is replayed only when every literal it names
    # is assumed now and unit propagation refutes them together: then it is a core of this
    # problem, whatever changed, and RC2 stays exact (any sequence of cores does).

    def process_core(self) -> None:
        atoms = self._atoms(self.core) if self._recording else None
        replayed, self._replaying = self._replaying, None
        self._new_sum = None
        super().process_core()
        if atoms is not None:
            self.cores_found.append(atoms)
            if self._new_sum is not None:
                self._sum_core[self._new_sum] = len(self.cores_found) - 1
        if replayed is not None and self._new_sum is not None:
            self._earlier_sums[replayed] = self._new_sum

    def create_sum(self, bound: int = 1) -> Any:
        self._new_sum = super().create_sum(bound)
        return self._new_sum

    def _atoms(self, core: Sequence[int]) -> _Core | None:
        """`core` in terms that outlive this solver: a soft literal of the problem as is, a
        sum as (1 + the core that made it, its bound); None if it names anything else."""
        atoms = []
        for literal in core:
            if abs(literal) <= self._top:
                atoms.append((0, literal))
                continue
            made_by = self._sum_core.get(self.tobj.get(literal))
            if made_by is None:
                return None  # (an at-most-one selector)
            atoms.append((made_by + 1, self.bnds[literal]))
        return tuple(atoms)

    def _replay(self) -> bool:
        """Set up the first earlier core that is a core now, as `get_core` would; False
        when none is (those that name what is not assumed yet wait for a later call)."""
        if not self._earlier:
            return False
        assumed = self.sels_set
        sums = set(self.sums)
        while True:
            found = next(((position, index, core)
                          for position, (index, atoms) in enumerate(self._earlier)
                          if (core := self._literals(atoms, assumed, sums)) is not None),
                         None)
            if found is None:
                return False
            position, index, core = found
            del self._earlier[position]
            if self._propagation_conflict(core):
                break  # else no longer a core: try the next one
        if len(core) > 1:
            core = self._shrink_by_propagation(sorted(core, key=lambda lit: self.wght[lit]))
        self.core = core
        self.minw = min(self.wght[lit] for lit in core)
        self.core_sels = [lit for lit in core if lit in assumed]
        self.core_sums = [lit for lit in core if lit not in assumed]
        self._replaying = index
        return True

    def _literals(self, atoms: _Core, assumed: set[int], sums: set[int]) -> list[int] | None:
        """The literals the atoms name now, if every one is assumed; else None."""
        core = []
        for kind, value in atoms:
            if kind == 0:
                if value not in assumed:
                    return None
                core.append(value)
                continue
            total = self._earlier_sums.get(kind - 1)
            if total is None or value >= len(total.rhs):
                return None
            literal = -total.rhs[value]
            if literal not in sums or self.bnds.get(literal) != value:
                return None
            core.append(literal)
        return core

    def _main_call(self) -> bool:
        assumptions = self.sels + self.sums
        if self._pending is None:
            return bool(self.oracle.solve(assumptions=assumptions))
        status = None
        if _STEERING_BUDGET is not None:
            # (PySAT reads a budget of 0 as none at all: hence the max)
            self.oracle.prop_budget(max(1, _STEERING_BUDGET * self.oracle.nof_vars()))
            status = self.oracle.solve_limited(assumptions=assumptions)
            self.oracle.prop_budget(-1)
        if status is None:  # it needs search: steer it with the pending exhaustion
            self._exhaust_pending()
            status = self.oracle.solve(assumptions=self.sels + self.sums)
        self._pending = None
        return bool(status)

    def _exhaust_pending(self) -> None:
        """RC2's exhaustion of the last new sum, after the fact: a model with the sum at
        most one steers the next call; when there is none, raise the bound as RC2 would."""
        assert self._pending is not None
        tobj, weight = self._pending
        bound_one = -tobj.rhs[1]
        if bound_one not in self.sums:
            return
        if self.oracle.solve(assumptions=[bound_one]):
            return
        saved = self.minw, self.rels
        self.minw, self.rels = weight, tobj.lits  # what RC2's exhaustion reads
        bound: int | None = RC2.exhaust_core(self, tobj)  # adds weight per raise to the cost
        self.minw, self.rels = saved
        self.garbage.add(bound_one)
        if bound:
            self.set_bound(tobj, bound, weight)
        else:  # no bound holds: every relaxed literal is violated
            for relaxed in tobj.lits:
                self.oracle.add_clause([relaxed])
        self.filter_assumps()

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


def _tie_broken(oracle: Any, optimal: Sequence[int], model: list[int],
                problem: Problem) -> list[int]:
    """The best optimal model by `Problem.preferences` (`best_optimal_model`, given the
    assumptions `optimal` that hold exactly in the optimal models); `model` itself when
    there are no preferences or it sets a `Problem.provisional` literal (no answer then)."""
    if not problem.preferences:
        return model
    true = set(model)
    if any(literal in true for literal in problem.provisional):
        return model
    return best_optimal_model(oracle, optimal, model, problem.preferences)


class _OutOfEffort(Exception):
    """The search passed `Problem.effort_limit`."""


class _RC2Backend:
    """What both strategies share: the empty-clause and no-preference shortcuts."""

    name = ""

    def __init__(self, sat_solver: str = "g3") -> None:
        self.sat_solver = sat_solver

    def solve(self, problem: Problem) -> Optimum | Refutation | Unfinished:
        hard = _hard_clauses(problem)
        if hard is None:
            return _refute(problem)
        tiers = [tier for tier in problem.tiers if tier]
        if not tiers:
            return _satisfy(problem, self.sat_solver)
        return self._optimise(problem, hard, tiers)

    def _optimise(self, problem: Problem, hard: list[Clause],
                  tiers: list[Sequence[tuple[int, int]]]) -> Optimum | Refutation | Unfinished:
        raise NotImplementedError


class LexicographicRC2(_RC2Backend):
    """Tier by tier: RC2 on each tier, with the earlier tiers' optima fixed as hard clauses.

    A tier's optimum is fixed as RC2 reformulated it (`optimal_models`: the sums over its
    cores, their bounds and its final assumptions), not as one cardinality bound over all of
    the tier's soft literals: at 1000 x 10, conflict 0.2, a k-modulo totalizer bounding
    3,368 staleness literals at 134 (75,887 clauses) left the next tier's RC2 searching for
    over two minutes; from RC2's own sums the whole solve took 0.1 s. Weighted tiers need no
    pseudo-Boolean encoding either."""

    name = "rc2-lex"

    def _optimise(self, problem: Problem, hard: list[Clause],
                  tiers: list[Sequence[tuple[int, int]]]) -> Optimum | Refutation:
        costs: list[int] = []
        model: list[int] = []
        top = problem.top
        for number, tier in enumerate(tiers, 1):
            wcnf = _wcnf(hard, tier, top)
            with _FastRC2Stratified(wcnf, problem.implied, solver=self.sat_solver,
                                    **_RC2_OPTIONS) as rc2:
                _hint(rc2, problem, [tier])
                found = rc2.compute()
                if found is None:
                    return _refute(problem)
                model = list(found)
                costs.append(int(rc2.cost))
                if number < len(tiers):
                    fixed, top = rc2.optimal_models()
                    hard = [*hard, *fixed]
                else:
                    # The earlier tiers' optima are hard here, and RC2's assumptions hold
                    # exactly in this tier's optimal models.
                    model = _tie_broken(rc2.oracle, rc2.sels + rc2.sums, model, problem)
        return Optimum(tuple(lit for lit in model if abs(lit) <= problem.top), tuple(costs))


class StratifiedRC2(_RC2Backend):
    """All tiers in one RC2Stratified (BLO) call, tier k weighted above everything after it;
    the default backend. It honours `Problem.effort_limit`."""

    name = "rc2-stratified"

    def _optimise(self, problem: Problem, hard: list[Clause],
                  tiers: list[Sequence[tuple[int, int]]]) -> Optimum | Refutation | Unfinished:
        weighted = _lexicographic_weights(tiers)
        wcnf = _wcnf(hard, weighted, problem.top)
        with _FastRC2Stratified(wcnf, problem.implied, problem.reuse, problem.effort_limit,
                                solver=self.sat_solver, **_RC2_OPTIONS) as rc2:
            _hint(rc2, problem, tiers)
            try:
                found = rc2.compute()
            except _OutOfEffort:
                return Unfinished(rc2.effort())
            if found is None:
                return _refute(problem)
            log = CoreLog(tuple(rc2.cores_found))
            effort = rc2.effort()
            # RC2's assumptions hold exactly in the optimal models.
            found = _tie_broken(rc2.oracle, rc2.sels + rc2.sums, found, problem)
            # RC2 returns the model sorted by variable: cut it at our last one.
            model = tuple(found[:bisect.bisect_right(found, problem.top, key=abs)])
        true = set(model)
        costs = tuple(sum(w for lit, w in tier if lit not in true) for tier in tiers)
        return Optimum(model, costs, reusable=log, effort=effort)
