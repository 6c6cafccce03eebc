"""The tools under test, each behind one function over the same parsed universe.

Every adapter takes the `UniverseFile` that `parse_universe` built (so all tools read the
same candidates, requirements and markers), the request and the target, and returns an
`Answer`: a status, the chosen version (and extras) per package, and its own phase timings.
`quality` then maps any tool's answer back to depsat candidates of the same universe and
measures it: package count, staleness (version steps below the newest usable version, summed
over packages) and whether depsat's independent verifier accepts it.

Adding a tool (uv needs a local index: the seam is `ADAPTERS`) means writing one function
with the `Adapter` signature.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import Specifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from depsat.api import ResolveOptions, resolve
from depsat.model import Candidate, Request
from depsat.solver import LexicographicRC2, StratifiedRC2
from depsat.sources.universe_file import UniverseFile
from depsat.target import Target
from depsat.universe import Universe, discover
from depsat.verify import verify

__all__ = ["ADAPTERS", "Answer", "Quality", "quality", "solv_available"]

SOLVED, UNSAT = "solved", "unsat"


@dataclass
class Answer:
    """What one tool said: status, chosen versions and extras, and its phase timings."""

    status: str
    phases: dict[str, float]
    versions: dict[NormalizedName, Version] = field(default_factory=dict)
    extras: dict[NormalizedName, set[NormalizedName]] = field(default_factory=dict)
    universe: Universe | None = None
    """depsat's own discovered universe (peers leave it None; quality discovers one)."""
    detail: str = ""


Adapter = Callable[[UniverseFile, Request, Target], Answer]


class _Markers:
    """Marker evaluation against the target, cached (peers need the same rules as depsat)."""

    def __init__(self, target: Target) -> None:
        self.environment = dict(target.markers)
        self.cache: dict[tuple[str, str], bool] = {}

    def holds(self, marker: Marker | None, extra: str) -> bool:
        if marker is None:
            return True
        key = (str(marker), extra)
        found = self.cache.get(key)
        if found is None:
            found = marker.evaluate({**self.environment, "extra": extra})
            self.cache[key] = found
        return found

    def base(self, candidate: Candidate) -> list[Requirement]:
        return [r for r in candidate.requires if self.holds(r.marker, "")]

    def extra(self, candidate: Candidate, extra: str) -> list[Requirement]:
        """Requirements an extra adds (a missing extra adds nothing: the release satisfies it)."""
        if extra not in candidate.provides_extras:
            return []
        return [r for r in candidate.requires
                if r.marker is not None and self.holds(r.marker, extra)
                and not self.holds(r.marker, "")]


def _candidates_by_name(world: UniverseFile) -> dict[NormalizedName, list[Candidate]]:
    """Every candidate of the universe per project, newest first."""
    by_name: dict[NormalizedName, list[Candidate]] = {}
    for name in world.source.projects():
        by_name[name] = sorted(world.source.candidates(name), key=lambda c: c.version,
                               reverse=True)
    return by_name


# -- depsat ----------------------------------------------------------------------------------
def run_depsat(world: UniverseFile, request: Request, target: Target,
               options: ResolveOptions | None = None) -> Answer:
    resolution = resolve(request, [world.source], target, options)
    phases = {k: resolution.timings[k] for k in ("discovery", "encoding", "solving")}
    if resolution.plan is None:
        return Answer(UNSAT, phases, universe=resolution.universe)
    versions = {c.name: c.version for c in resolution.plan.chosen}
    extras = {s.name: set(s.extras) for s in resolution.plan.steps if s.extras}
    return Answer(SOLVED, phases, versions, extras, universe=resolution.universe)


def run_depsat_stratified(world: UniverseFile, request: Request, target: Target) -> Answer:
    """depsat with every tier in one RC2Stratified call (`StratifiedRC2`), for comparison."""
    return run_depsat(world, request, target, ResolveOptions(backend=StratifiedRC2()))


def run_depsat_lexicographic(world: UniverseFile, request: Request, target: Target) -> Answer:
    """depsat tier by tier, each optimum fixed before the next (`LexicographicRC2`)."""
    return run_depsat(world, request, target, ResolveOptions(backend=LexicographicRC2()))


# -- resolvelib ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _RLRequirement:
    name: NormalizedName
    extra: NormalizedName | None
    specifier: SpecifierSet

    @property
    def identifier(self) -> str:
        return f"{self.name}[{self.extra}]" if self.extra else self.name


@dataclass(frozen=True)
class _RLCandidate:
    name: NormalizedName
    extra: NormalizedName | None
    candidate: Candidate = field(compare=False)
    version: Version

    @property
    def identifier(self) -> str:
        return f"{self.name}[{self.extra}]" if self.extra else self.name


def _split(requirement: Requirement) -> list[_RLRequirement]:
    """pip's way: ``a[x,y]>=1`` is ``a>=1``, ``a[x]>=1`` and ``a[y]>=1``."""
    name = canonicalize_name(requirement.name)
    spec = requirement.specifier
    return [_RLRequirement(name, None, spec),
            *(_RLRequirement(name, canonicalize_name(e), spec)
              for e in sorted(requirement.extras))]


def _make_provider(world: UniverseFile, target: Target) -> Any:
    from resolvelib import AbstractProvider
    from resolvelib.structs import RequirementInformation

    by_name = _candidates_by_name(world)
    markers = _Markers(target)

    class Provider(AbstractProvider[_RLRequirement, _RLCandidate, str]):
        """A pip-like provider over the in-memory candidates: newest first."""

        def __init__(self) -> None:
            self.keys: dict[str, tuple[NormalizedName, NormalizedName | None]] = {}

        def identify(self, requirement_or_candidate: _RLRequirement | _RLCandidate) -> str:
            ident = requirement_or_candidate.identifier
            self.keys[ident] = (requirement_or_candidate.name, requirement_or_candidate.extra)
            return ident

        def get_preference(
            self,
            identifier: str,
            resolutions: Mapping[str, _RLCandidate],
            candidates: Mapping[str, Iterator[_RLCandidate]],
            information: Mapping[str, Iterator[RequirementInformation[_RLRequirement,
                                                                       _RLCandidate]]],
            backtrack_causes: Sequence[RequirementInformation[_RLRequirement, _RLCandidate]],
        ) -> Any:
            # pip's order, minus what a static universe lacks: pinned first, then
            # upper-bounded, then by name.
            pinned = upper = False
            for info in information[identifier]:
                for spec in info.requirement.specifier:
                    pinned = pinned or spec.operator in ("==", "===")
                    upper = upper or spec.operator in ("<", "<=", "==", "===", "~=")
            return (not pinned, not upper, identifier)

        def find_matches(
            self,
            identifier: str,
            requirements: Mapping[str, Iterator[_RLRequirement]],
            incompatibilities: Mapping[str, Iterator[_RLCandidate]],
        ) -> Iterable[_RLCandidate]:
            name, extra = self.keys[identifier]
            specs = [r.specifier for r in requirements[identifier]]
            bad = {c.version for c in incompatibilities[identifier]}
            return [_RLCandidate(name, extra, c, c.version) for c in by_name.get(name, ())
                    if c.version not in bad
                    and all(s.contains(c.version, prereleases=True) for s in specs)]

        def is_satisfied_by(self, requirement: _RLRequirement, candidate: _RLCandidate) -> bool:
            return requirement.specifier.contains(candidate.version, prereleases=True)

        def get_dependencies(self, candidate: _RLCandidate) -> Iterable[_RLRequirement]:
            if candidate.extra is None:
                requires = markers.base(candidate.candidate)
                return [r for req in requires for r in _split(req)]
            same = _RLRequirement(candidate.name, None, SpecifierSet(f"=={candidate.version}"))
            extra = markers.extra(candidate.candidate, candidate.extra)
            return [same, *(r for req in extra for r in _split(req))]

    return Provider()


def run_resolvelib(world: UniverseFile, request: Request, target: Target) -> Answer:
    from resolvelib import BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver

    start = time.perf_counter()
    provider = _make_provider(world, target)
    markers = _Markers(target)
    roots = [r for req in request.requirements if markers.holds(req.marker, "")
             for r in _split(req)]
    class Counter(BaseReporter[_RLRequirement, _RLCandidate, str]):
        rejected = 0

        def rejecting_candidate(self, criterion: Any, candidate: _RLCandidate) -> None:
            self.rejected += 1

    reporter = Counter()
    resolver: Resolver[_RLRequirement, _RLCandidate, str] = Resolver(provider, reporter)
    try:
        result = resolver.resolve(roots, max_rounds=10_000_000)
    except ResolutionImpossible:
        return Answer(UNSAT, {"solving": time.perf_counter() - start},
                      detail=f"{reporter.rejected} candidates rejected")
    except ResolutionTooDeep:
        return Answer("gave-up", {"solving": time.perf_counter() - start},
                      detail=f"ResolutionTooDeep; {reporter.rejected} candidates rejected")
    phases = {"solving": time.perf_counter() - start}
    versions: dict[NormalizedName, Version] = {}
    extras: dict[NormalizedName, set[NormalizedName]] = {}
    for chosen in result.mapping.values():
        if chosen.extra is None:
            versions[chosen.name] = chosen.version
        elif chosen.extra in chosen.candidate.provides_extras:
            extras.setdefault(chosen.name, set()).add(chosen.extra)
    return Answer(SOLVED, phases, versions, extras,
                  detail=f"{reporter.rejected} candidates rejected")


# -- libsolv ---------------------------------------------------------------------------------
def solv_available() -> bool:
    try:
        import solv  # type: ignore[import-not-found,import-untyped,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


class _EVRMap:
    """PEP 440 order as libsolv EVRs: every distinct version gets its zero-padded rank.

    libsolv compares versions the rpm way, which differs from PEP 440 (``1.0.post1``,
    ``1.0`` == ``1.0.0``, ``1.0a1``), so versions are ranked by `packaging` first. An
    ordered specifier (``>V``, ``<=V``, …) selects an up- or down-set of the sorted
    versions of the universe (its PEP 440 exclusions, such as ``>1.0`` not matching
    ``1.0.post1``, are contiguous), so it becomes ``>= rank`` or ``<= rank`` exactly.
    """

    def __init__(self, versions: Iterable[Version]) -> None:
        self.sorted = sorted(set(versions))
        self.rank = {v: i for i, v in enumerate(self.sorted)}
        self.width = len(str(len(self.sorted) + 1))

    def evr(self, rank: int) -> str:
        return f"{rank:0{self.width}d}"

    def first_matching(self, spec: Specifier) -> int:
        """Index of the first version an up-set specifier (>, >=) matches."""
        lo, hi = 0, len(self.sorted)
        while lo < hi:
            mid = (lo + hi) // 2
            if spec.contains(self.sorted[mid], prereleases=True):
                hi = mid
            else:
                lo = mid + 1
        return lo

    def last_matching(self, spec: Specifier) -> int:
        """Index of the last version a down-set specifier (<, <=) matches (-1: none)."""
        lo, hi = 0, len(self.sorted)
        while lo < hi:
            mid = (lo + hi) // 2
            if spec.contains(self.sorted[mid], prereleases=True):
                lo = mid + 1
            else:
                hi = mid
        return lo - 1


class _SolvWorld:
    """A libsolv pool and repo built from the universe."""

    def __init__(self, world: UniverseFile, target: Target) -> None:
        import solv

        self.solv = solv
        self.markers = _Markers(target)
        self.pool = solv.Pool()
        self.repo = self.pool.add_repo("universe")
        by_name = _candidates_by_name(world)
        self.evrs = _EVRMap(c.version for cands in by_name.values() for c in cands)
        self.dep_cache: dict[tuple[str, str], int] = {}
        self.back: dict[int, tuple[Candidate, NormalizedName | None]] = {}
        # Which extras anybody asks for: those get a `name[extra]` solvable per release.
        wanted: dict[NormalizedName, set[NormalizedName]] = {}
        requirement_lists = [self.markers.base(c) for cands in by_name.values() for c in cands]
        requirement_lists += [self.markers.extra(c, e) for cands in by_name.values()
                              for c in cands for e in sorted(c.provides_extras)]
        for requires in requirement_lists:
            for req in requires:
                for extra in req.extras:
                    wanted.setdefault(canonicalize_name(req.name), set()).add(
                        canonicalize_name(extra))
        self.wanted = wanted
        pool = self.pool
        for name, candidates in by_name.items():
            nameid = pool.str2id(name)
            for candidate in candidates:
                evrid = pool.str2id(self.evrs.evr(self.evrs.rank[candidate.version]))
                s = self._solvable(name, evrid, candidate, None)
                for req in self.markers.base(candidate):
                    for dep in self.deps(req):
                        s.add_requires(dep)
                for extra in sorted(wanted.get(name, ())):
                    x = self._solvable(f"{name}[{extra}]", evrid, candidate, extra)
                    x.add_requires(pool.rel2id(nameid, evrid, solv.REL_EQ))
                    for req in self.markers.extra(candidate, extra):
                        for dep in self.deps(req):
                            x.add_requires(dep)
        self.repo.internalize()
        pool.createwhatprovides()

    def _solvable(self, name: str, evrid: int, candidate: Candidate,
                  extra: NormalizedName | None) -> Any:
        s = self.repo.add_solvable()
        s.name = name
        s.evrid = evrid
        s.arch = "noarch"
        s.add_provides(self.pool.rel2id(s.nameid, evrid, self.solv.REL_EQ))
        self.back[s.id] = (candidate, extra)
        return s

    def deps(self, requirement: Requirement) -> list[int]:
        """libsolv dependency ids for a requirement: the release, then each extra."""
        name = canonicalize_name(requirement.name)
        names = [name, *(f"{name}[{canonicalize_name(e)}]" for e in sorted(requirement.extras))]
        return [self.dep(n, requirement.specifier) for n in names]

    def dep(self, name: str, specifier: SpecifierSet) -> int:
        key = (name, str(specifier))
        found = self.dep_cache.get(key)
        if found is not None:
            return found
        solv = self.solv
        pool = self.pool
        nameid = pool.str2id(name)
        evrs = self.evrs

        def rel(rank: int, flags: int) -> int:
            return int(pool.rel2id(nameid, pool.str2id(evrs.evr(rank)), flags))

        parts: list[int] = []
        for spec in specifier:
            op = spec.operator
            if op in ("==", "!=") and "*" not in spec.version and "+" not in spec.version:
                version = Version(spec.version)
                rank = evrs.rank.get(version)
                if rank is None:  # a version no release has
                    parts.append(rel(len(evrs.sorted), solv.REL_GT) if op == "==" else nameid)
                elif op == "==":
                    parts.append(rel(rank, solv.REL_EQ))
                else:
                    parts.append(int(pool.rel2id(rel(rank, solv.REL_LT), rel(rank, solv.REL_GT),
                                                 solv.REL_OR)))
            elif op in (">", ">="):
                parts.append(rel(evrs.first_matching(spec), solv.REL_GT | solv.REL_EQ))
            elif op in ("<", "<="):
                last = evrs.last_matching(spec)
                parts.append(rel(last, solv.REL_LT | solv.REL_EQ) if last >= 0
                             else rel(0, solv.REL_LT))
            else:
                raise NotImplementedError(f"libsolv adapter: specifier {spec} is not supported")
        result = int(nameid)
        for i, part in enumerate(parts):
            result = part if i == 0 else int(pool.rel2id(result, part, solv.REL_WITH))
        self.dep_cache[key] = result
        return result


def run_libsolv(world: UniverseFile, request: Request, target: Target) -> Answer:
    start = time.perf_counter()
    built = _SolvWorld(world, target)
    loaded = time.perf_counter()
    solv = built.solv
    pool = built.pool
    jobs = [pool.Job(solv.Job.SOLVER_INSTALL | solv.Job.SOLVER_SOLVABLE_PROVIDES, dep)
            for req in request.requirements if built.markers.holds(req.marker, "")
            for dep in built.deps(req)]
    solver = pool.Solver()
    problems = solver.solve(jobs)
    if problems:
        done = time.perf_counter()
        return Answer(UNSAT, {"load": loaded - start, "solving": done - loaded},
                      detail=str(problems[0]))
    installed = solver.transaction().newsolvables()
    done = time.perf_counter()
    versions: dict[NormalizedName, Version] = {}
    extras: dict[NormalizedName, set[NormalizedName]] = {}
    for s in installed:
        candidate, extra = built.back[s.id]
        if extra is None:
            versions[candidate.name] = candidate.version
        elif extra in candidate.provides_extras:
            extras.setdefault(candidate.name, set()).add(extra)
    return Answer(SOLVED, {"load": loaded - start, "solving": done - loaded}, versions, extras)


ADAPTERS: dict[str, Adapter] = {
    "depsat": run_depsat,
    "depsat-stratified": run_depsat_stratified,
    "depsat-lex": run_depsat_lexicographic,
    "resolvelib": run_resolvelib,
    "libsolv": run_libsolv,
    # "uv": needs the universe as a local index (file:// or HTTP with PEP 658 files) and
    # `uv pip compile` in a subprocess; it would return the same `Answer`.
}


# -- answer quality --------------------------------------------------------------------------
@dataclass
class Quality:
    packages: int
    staleness: int
    staleness_direct: int
    verified: bool
    problems: list[str]


def quality(universe: Universe, answer: Answer) -> Quality:
    """Map an answer to depsat candidates of `universe`, measure staleness, and verify it."""
    chosen: list[Candidate] = []
    problems: list[str] = []
    staleness = direct = 0
    for name, version in sorted(answer.versions.items()):
        project = universe.projects.get(name)
        match = None if project is None else next(
            (c for c in project.candidates if c.version == version), None)
        if project is None or match is None:
            problems.append(f"{name} {version} is not a usable candidate of the universe")
            continue
        chosen.append(match)
        distinct = sorted({c.version for c in project.candidates}, reverse=True)
        rank = distinct.index(version)
        staleness += rank
        if name in universe.request.direct_names:
            direct += rank
    problems.extend(verify(universe, chosen, answer.extras))
    return Quality(len(answer.versions), staleness, direct, not problems, problems)


def discover_universe(world: UniverseFile, request: Request, target: Target) -> Universe:
    """depsat's discovered universe for a request, for measuring peers' answers."""
    return discover(request, [world.source], target)
