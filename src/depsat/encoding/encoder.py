"""Turn a `Universe` into CNF: structural hard clauses, labelled hard groups, soft tiers.

Variables:
* one per usable candidate ("this candidate is installed");
* one per (candidate, extra) that some requirement asks for ("installed with this extra"),
  which implies its candidate;
* auxiliaries of cardinality encodings and objectives (from the shared `IDPool`).

Clauses:
* structural (never part of an explanation): at most one candidate per project (a PySAT
  cardinality encoding, not O(n²) pairs), extra ⇒ its candidate, objective definitions;
* labelled groups: each root requirement, each dependency of each candidate or extra, each
  constraint. A group's clauses hold together or are dropped together when explaining.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name
from pysat.card import CardEnc, EncType
from pysat.formula import IDPool

from depsat.encoding.dominance import dominated
from depsat.encoding.labels import Label, LabelKind
from depsat.model import Candidate, CandidateKey
from depsat.universe import Dependency, Universe, meets

if TYPE_CHECKING:
    from depsat.encoding.objectives import Objective

__all__ = ["Encoding", "encode", "grow"]

Clause = list[int]

# Below this many candidates pairwise at-most-one is smaller than a sequential counter.
_PAIRWISE_LIMIT = 5


class Encoding:
    """The CNF of one universe, with the maps needed to read models and cores back."""

    def __init__(self, universe: Universe, *, prune: bool = False) -> None:
        self.universe = universe
        self.pruned = dominated(universe) if prune else frozenset()
        """Releases left out because a better one always does at least as well."""
        self.pool = _acyclic_pool()
        self.var_of: dict[CandidateKey, int] = {}
        self.candidate_of: dict[int, Candidate] = {}
        self.extra_var: dict[tuple[CandidateKey, NormalizedName], int] = {}
        self.extra_of: dict[int, tuple[Candidate, NormalizedName]] = {}
        self.hard: list[Clause] = []
        self.groups: list[tuple[Label, list[Clause]]] = []
        self.tiers: list[tuple[str, list[tuple[int, int]]]] = []
        self._literals: dict[int, list[int]] = {}
        self._keep_alive: list[object] = []  # ids in `_literals` stay valid while we live
        self.offsets: dict[str, int] = {}
        """A constant cost per objective that no plan avoids (added to reported costs)."""
        self.installed_var: dict[NormalizedName, int] = {}
        self.ladders: dict[NormalizedName, list[int]] = {}
        self._encoded: dict[NormalizedName, tuple[Candidate, ...]] = {}
        self._preferences: dict[NormalizedName, tuple[Sequence[Candidate],
                                                      list[tuple[int, ...]]]] = {}
        self._names: list[NormalizedName] = []  # `projects_done`, sorted (it only grows)
        self._extras: list[int] = []  # `extra_var`'s variables in order (it only grows)
        self.projects_done: set[NormalizedName] = set()
        self.dependencies_done: set[CandidateKey] = set()
        self.extras_done: set[tuple[CandidateKey, NormalizedName]] = set()
        self.ruled_out: set[CandidateKey] = set()
        """What `grow` has encoded already (lazy reading adds to a universe round by round)."""
        self.required_var: dict[NormalizedName, int] = {}
        """Per project you did not name, a variable that a release of a project you named
        (or an extra of it) forces true by requiring the project (`note_required`)."""
        self._required_ladders: dict[NormalizedName, list[int]] = {}
        self.breakable: list[tuple[Label, int]] = []
        """Installed packages' requirements that may break (``allow_breaking``): each group
        carries a relaxation literal; the `Unbroken` objective counts the true ones."""

    def encoded(self, name: NormalizedName) -> Sequence[Candidate]:
        """The candidates of `name` that can be chosen (discovery read their dependencies);
        memoised until `grow` moves to a newer universe."""
        found = self._encoded.get(name)
        if found is None:
            found = tuple(c for c in self.universe.projects[name].candidates if self.usable(c))
            self._encoded[name] = found
        return found

    def move_to(self, universe: Universe) -> set[CandidateKey]:
        """Read `universe` (a later snapshot of the same discovery) from now on; the keys
        whose standing (read, free, neither) differs between the two.

        Only the projects with such keys, or whose `Project` is another object, forget their
        memoised `encoded` candidates: most of a lazy round's projects did not change, and
        recomputing all of them was a fifth of growing the encoding (3000 x 10)."""
        previous, self.universe = self.universe, universe
        if previous is universe:
            return set()
        moved = set(previous.free.symmetric_difference(universe.free))
        moved.update(k for k in universe.dependencies if k not in previous.dependencies)
        moved.update(k for k in previous.dependencies if k not in universe.dependencies)
        stale = {key.name for key in moved}
        for name in [n for n in self._encoded if n in stale
                     or universe.projects.get(n) is not previous.projects.get(n)]:
            del self._encoded[name]
        return moved

    def usable(self, candidate: Candidate) -> bool:
        """Whether the candidate gets a variable: choosable and not pruned."""
        return self.universe.choosable(candidate) and candidate.key not in self.pruned

    # -- variables ----------------------------------------------------------------
    def candidate_var(self, candidate: Candidate) -> int:
        var = self.var_of.get(candidate.key)
        if var is None:
            var = self.anonymous()
            self.var_of[candidate.key] = var
            self.candidate_of[var] = candidate
        return var

    def extra_literal(self, candidate: Candidate, extra: NormalizedName) -> int:
        """The literal for "candidate installed with extra"; the candidate's own when missing."""
        if (candidate.key, extra) in self.universe.missing_extras:
            return self.candidate_var(candidate)
        key = (candidate.key, extra)
        var = self.extra_var.get(key)
        if var is None:
            var = self.fresh(("x", candidate.key, extra))
            self.extra_var[key] = var
            self.extra_of[var] = (candidate, extra)
            self.hard.append([-var, self.candidate_var(candidate)])
        return var

    def fresh(self, tag: object) -> int:
        """The variable named by `tag` (a new one the first time)."""
        return int(self.pool.id(tag))

    def anonymous(self) -> int:
        """A new variable with no tag, for ones our own maps already name (candidates,
        ladders): tagging them cost a tuple hash per variable."""
        return int(self.pool.id())

    def defined(self, tag: object) -> bool:
        """Whether `fresh(tag)` exists already (its defining clauses were added then)."""
        return tag in self.pool.obj2id

    def project_installed(self, name: NormalizedName) -> int:
        """A variable true exactly when some candidate of `name` is installed."""
        var = self.installed_var.get(name)
        if var is None:
            var = self.fresh(("installed", name))
            self.installed_var[name] = var
            literals = [self.candidate_var(c) for c in self.encoded(name)]
            self.hard.extend([-lit, var] for lit in literals)
            self.hard.append([-var, *literals])
        return var

    def staleness_ladder(self, name: NormalizedName) -> list[int]:
        """Order-encoding variables ``ge[j]``: "the chosen candidate is j or more steps below
        the best usable one" (j = 1 … the largest rank encoded; ranks are the project's
        `ranks`).

        A candidate of rank r implies ge[r] and ¬ge[r+1], and ge[j] implies ge[j-1], so while
        the project is installed the ladder spells out exactly its rank (cost r as r unit
        soft literals ¬ge[j] of equal weight, which RC2 handles well); when it is not, the
        soft literals push every ge[j] to false. The same clauses also make at most one
        rank true (`_at_most_one`), so this is built for every project with a choice.
        """
        ladder = self.ladders.get(name)
        if ladder is not None:
            return ladder
        ranks = self.universe.projects[name].ranks
        releases = self.encoded(name)
        levels = max((ranks[c.key] for c in releases), default=0) + 1
        ladder = [self.anonymous() for _ in range(1, levels)]
        for j in range(1, len(ladder)):
            self.hard.append([-ladder[j], ladder[j - 1]])
        for candidate in releases:
            r = ranks[candidate.key]
            var = self.candidate_var(candidate)
            if r > 0:
                self.hard.append([-var, ladder[r - 1]])
            if r < len(ladder):
                self.hard.append([-var, -ladder[r]])
        self.ladders[name] = ladder
        return ladder

    def note_required(self, dependency: Dependency, guard: int) -> None:
        """`guard` ⇒ "required one step from your requirements" for `dependency`'s project,
        when `dependency` belongs to a release (or extra) of a project you named and asks for
        a project you did not name. Reading more releases only adds such clauses: the
        `NewestRequired` tier can only grow as a lazy read goes on, so an unread release,
        which requires nothing, still makes its relaxation a lower bound."""
        parent = dependency.parent
        direct = self.universe.request.direct_names
        if parent is None or parent.name not in direct or dependency.name in direct:
            return
        var = self.required_var.get(dependency.name)
        if var is None:
            var = self.required_var[dependency.name] = self.fresh(("required",
                                                                   dependency.name))
        self.hard.append([-guard, var])

    def required_ladder(self, name: NormalizedName) -> list[int]:
        """`staleness_ladder`'s rungs while the project is required one step from your
        requirements (`note_required`), else free: rung j, ``r[j]``, holds when ``ge[j]``
        and the project's `required_var` do; ``r[j] ⇒ r[j-1]`` keeps it a ladder."""
        found = self._required_ladders.get(name)
        if found is not None:
            return found
        ladder = self.staleness_ladder(name)
        required = self.required_var[name]
        rungs = [self.anonymous() for _ in ladder]
        for j, (ge, rung) in enumerate(zip(ladder, rungs, strict=True)):
            self.hard.append([-ge, -required, rung])
            if j:
                self.hard.append([-rung, rungs[j - 1]])
        self._required_ladders[name] = rungs
        return rungs

    # -- clauses ------------------------------------------------------------------
    def add_group(self, label: Label, clauses: list[Clause]) -> None:
        self.groups.append((label, clauses))

    def requirement_clauses(self, dependency: Dependency, guard: int | None) -> list[Clause]:
        """`guard ⇒ dependency` (guard None: unconditionally, for root requirements)."""
        prefix = [] if guard is None else [-guard]
        if not dependency.extras:
            # Discovery shares one `matches` tuple between every requirement with the same
            # specifier; build its literals once.
            literals = self._literals.get(id(dependency.matches))
            if literals is None:
                # Every usable release has its variable by now (`grow` makes them first).
                var_of = self.var_of
                literals = [var for c in dependency.matches
                            if (var := var_of.get(c.key)) is not None]
                self._literals[id(dependency.matches)] = literals
                self._keep_alive.append(dependency.matches)
            clauses = [prefix + literals]
        else:
            clauses = [prefix + [self.extra_literal(c, extra) for c in dependency.matches
                                 if c.key in self.var_of]
                       for extra in sorted(dependency.extras)]
        if len(clauses[0]) > len(prefix):
            # Implied, but it lets unit propagation see "the project is installed" without a
            # case split over its versions: cores of package-count objectives become trivial.
            clauses.append([*prefix, self.project_installed(dependency.name)])
        return clauses

    # -- model --------------------------------------------------------------------
    def chosen(self, model: Iterable[int]) -> tuple[list[Candidate], dict[CandidateKey,
                                                                          set[NormalizedName]]]:
        """Candidates and extras true in `model`. Not an extra its release lacks: a lazy
        round may have given one a variable before the release was read (the requirement
        holds with the release alone, as `extra_literal` encodes it once that is known)."""
        true = {lit for lit in model if lit > 0}
        candidates = [self.candidate_of[v] for v in true if v in self.candidate_of]
        extras: dict[CandidateKey, set[NormalizedName]] = {}
        missing = self.universe.missing_extras
        for var in true:
            found = self.extra_of.get(var)
            if found is not None and (found[0].key, found[1]) not in missing:
                extras.setdefault(found[0].key, set()).add(found[1])
        return candidates, extras

    def phase_hints(self) -> list[int]:
        """"Install nothing unless needed": the polarity a solver should try first."""
        return [-var for var in self.candidate_of]

    def preferences(self) -> list[list[tuple[int, ...]]]:
        """`Problem.preferences`: each project by name, "not installed" first, then its
        releases best first (by rank, then origin); then each extra by release, "off" first.
        Runs that pose the same problem pick the same plan among the optimal ones, whatever
        they read or numbered first. A project's list is kept while its `encoded`
        candidates stay the same (most of a lazy round's projects)."""
        if len(self._names) != len(self.projects_done):
            self._names = sorted(self.projects_done)
        found: list[list[tuple[int, ...]]] = []
        for name in self._names:
            releases = self.encoded(name)
            kept = self._preferences.get(name)
            if kept is None or kept[0] is not releases:
                ranks = self.universe.projects[name].ranks
                literals = [self.var_of[c.key] for c in
                            sorted(releases, key=lambda c: (ranks[c.key], *_origin(c.key)))]
                kept = self._preferences[name] = (releases, [
                    tuple(-var for var in literals), *((var,) for var in literals)])
            if releases:
                found.append(kept[1])
        if len(self._extras) != len(self.extra_var):
            self._extras = [var for (key, extra), var in sorted(
                self.extra_var.items(),
                key=lambda item: (item[0][0].name, item[0][0].version, *_origin(item[0][0]),
                                  item[0][1]))]
        found.extend([(-var,), (var,)] for var in self._extras)
        return found

    def implied_softs(self) -> list[tuple[int, int]]:
        """(¬ge[j], ¬ge[j+1]) for every ladder, `required_ladder`s too: the clause
        ge[j+1] ⇒ ge[j] makes the first soft literal imply the second (`Problem.implied`)."""
        ladders = [*self.ladders.values(), *self._required_ladders.values()]
        return [(-ladder[j], -ladder[j + 1]) for ladder in ladders
                for j in range(len(ladder) - 1)]

    def clause_count(self) -> int:
        return len(self.hard) + sum(len(c) for _, c in self.groups)


def _acyclic_pool() -> IDPool:
    """A PySAT `IDPool` that its encoding alone keeps alive. IDPool numbers a new object
    through a lambda that holds the pool: a reference cycle, which under the paused collector
    (`depsat.api.collector_paused`) keeps a discarded encoding's every variable name until a
    full pass. Here that lambda holds the pool weakly."""
    pool = IDPool()
    held = weakref.ref(pool)

    def next_id() -> int:
        owner = held()
        assert owner is not None  # (the pool's own map asks: it is alive)
        return int(owner._next())

    pool.obj2id.default_factory = next_id
    return pool


def _origin(key: CandidateKey) -> tuple[str, str, str]:
    return key.origin.kind, key.origin.name, key.origin.location


def _at_most_one(encoding: Encoding, name: NormalizedName) -> None:
    """At most one release of `name`: the staleness ladder already forbids two different
    ranks (rank r implies ¬ge[r+1], rank s > r implies ge[s], hence ge[r+1]), in one binary
    clause per release and no auxiliary variables, against about three clauses and one
    auxiliary per release for a sequential counter; only releases sharing a rank (the
    same version from several files or indexes) need their own at-most-one."""
    releases = encoding.encoded(name)
    if len(releases) <= 1:
        return
    encoding.staleness_ladder(name)
    ranks = encoding.universe.projects[name].ranks
    same_rank: dict[int, list[int]] = {}
    for candidate in releases:
        same_rank.setdefault(ranks[candidate.key], []).append(encoding.candidate_var(candidate))
    for literals in same_rank.values():
        if len(literals) <= _PAIRWISE_LIMIT:
            encoding.hard.extend([-a, -b] for i, a in enumerate(literals)
                                 for b in literals[i + 1:])
        else:
            card = CardEnc.atmost(lits=literals, bound=1, vpool=encoding.pool,
                                  encoding=EncType.seqcounter)
            encoding.hard.extend(card.clauses)


def _dependency_group(encoding: Encoding, dependency: Dependency, guard: int) -> None:
    """One labelled group: `guard ⇒ dependency`; breakable when an installed package's
    requirement may be broken on request."""
    parent = dependency.parent
    label = Label(LabelKind.DEPENDENCY, dependency=dependency, candidate=parent,
                  requirement=dependency.requirement, name=dependency.name,
                  relaxable=parent is not None and parent.installed is not None)
    clauses = encoding.requirement_clauses(dependency, guard)
    encoding.note_required(dependency, guard)
    if label.relaxable and encoding.universe.request.allow_breaking:
        broken = encoding.fresh(("broken", len(encoding.breakable)))
        encoding.breakable.append((label, broken))
        clauses = [[*clause, broken] for clause in clauses]
    encoding.add_group(label, clauses)


def encode(universe: Universe, objectives: Sequence[Objective], *,
           prune: bool = False) -> Encoding:
    """Hard clauses for `universe`, then one soft tier per objective, in order.

    `prune` leaves out dominated releases (`depsat.encoding.dominance`): the optimum is the
    same, but cores of a pruned encoding are not facts about the full problem."""
    encoding = Encoding(universe, prune=prune)
    _encode_requests(encoding)
    return grow(encoding, universe, objectives)


def grow(encoding: Encoding, universe: Universe,
         objectives: Sequence[Objective]) -> Encoding:
    """Bring `encoding` up to `universe`, a later snapshot of the same discovery (lazy
    reading), adding only what is new: projects reached since, dependencies read since, and a
    unit clause for each release whose metadata has since ruled it out. Soft tiers are
    rebuilt. Each round of lazy reading then costs what it reads, not the whole universe
    again. An unpruned encoding only: a release pruned before may stop being dominated once
    new requirements are read."""
    if encoding.pruned and universe is not encoding.universe:
        raise ValueError("a pruned encoding cannot grow")
    previous = encoding.universe
    moved = encoding.move_to(universe)
    _add_projects(encoding, previous)
    # In variable order (not the set's, which varies by run): the same clauses every run.
    for var in sorted(v for v in map(encoding.var_of.get, moved) if v is not None):
        candidate = encoding.candidate_of[var]
        if candidate.key not in encoding.ruled_out and not universe.choosable(candidate):
            encoding.ruled_out.add(candidate.key)  # read since, and its metadata excludes it
            encoding.hard.append([-var])
    for key, dependencies in universe.dependencies.items():
        guard = encoding.var_of.get(key)
        if guard is None or key in encoding.dependencies_done:
            continue  # pruned, or encoded in an earlier round
        encoding.dependencies_done.add(key)
        for dependency in dependencies:
            _dependency_group(encoding, dependency, guard)
    for (key, extra), dependencies in universe.extra_dependencies.items():
        if key in encoding.pruned or (key, extra) in encoding.extras_done:
            continue
        encoding.extras_done.add((key, extra))
        for dependency in dependencies:
            assert dependency.parent is not None
            _dependency_group(encoding, dependency, encoding.extra_literal(dependency.parent,
                                                                           extra))
    encoding.tiers = [(objective.name, objective.soft_literals(encoding))
                      for objective in objectives]
    return encoding


def _add_projects(encoding: Encoding, previous: Universe | None = None) -> None:
    """Variables and at-most-one for the projects reached since the last call; for the
    others, the current candidate objects (their metadata may have been read since), unless
    the project is the same object as in `previous`, the universe encoded before."""
    previous_projects = previous.projects if previous is not None else {}
    for name, project in encoding.universe.projects.items():
        if name in encoding.projects_done:
            if previous_projects.get(name) is project:
                continue
            for candidate in project.candidates:
                var = encoding.var_of.get(candidate.key)
                if var is not None:
                    encoding.candidate_of[var] = candidate
            continue
        encoding.projects_done.add(name)
        for candidate in encoding.encoded(name):
            encoding.candidate_var(candidate)
        _at_most_one(encoding, name)


def _encode_requests(encoding: Encoding) -> None:
    """What the request itself says (fixed across lazy rounds): roots, constraints and
    read-only installed packages. Their projects are loaded when discovery starts."""
    universe = encoding.universe
    _add_projects(encoding)
    for dependency in universe.root:
        label = Label(LabelKind.ROOT, dependency=dependency, requirement=dependency.requirement,
                      name=dependency.name)
        encoding.add_group(label, encoding.requirement_clauses(dependency, None))
    for constraint in universe.request.constraints:
        name = canonicalize_name(constraint.name)
        project = universe.projects.get(name)
        outside = [c for c in encoding.encoded(name) if not meets(constraint, c, project)]
        if outside:
            label = Label(LabelKind.CONSTRAINT, requirement=constraint, name=name,
                          detail=f"you constrain {constraint}")
            encoding.add_group(label, [[-encoding.candidate_var(c)] for c in outside])
    for name, installed in universe.installed.items():
        if installed.installed is not None and installed.installed.read_only:
            label = Label(LabelKind.READ_ONLY, candidate=installed, name=name, relaxable=False,
                          detail=f"{installed} is installed in the read-only "
                                 f"{installed.installed.layer} layer, so {name} stays installed")
            encoding.add_group(label, [[encoding.project_installed(name)]])
