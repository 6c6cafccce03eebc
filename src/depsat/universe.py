"""Discovery: the lazy closure of the request through the sources.

Starting from the user's requirements, visit each project that some reachable requirement
names, list its candidates from every source, filter them (recording why each excluded
candidate is out), read the survivors' dependencies and follow them. The result is a finite,
static `Universe` that the encoder turns into clauses.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import attrs
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from depsat.model import (
    Candidate,
    CandidateKey,
    Diagnostic,
    Exclusion,
    Request,
)
from depsat.policy import CandidateFilter, prereleases_allowed
from depsat.sources.base import MetadataUnavailable, Source
from depsat.sources.memory import MemorySource
from depsat.target import Target

__all__ = ["Admission", "AdmitAll", "Dependency", "Discovery", "Project", "SourcePolicy",
           "Universe", "discover"]

@attrs.frozen(slots=True)
class Admission:
    """A source policy's verdict on one project's candidates."""

    candidates: list[Candidate]
    """The candidates that may be chosen."""
    exclusions: list[Exclusion] = attrs.field(factory=list)
    """One per refused candidate, with the rule in words."""
    preference: Mapping[CandidateKey, int] = attrs.field(factory=dict)
    """A group per candidate (default 0): a lower group is preferred over any version of a
    higher one (``unsafe-first-match``); within a group, newer is better."""


class SourcePolicy(Protocol):
    """Decides which sources' candidates of a project may be chosen (pins, index strategies).

    `offered` lists, for each source in priority order, the candidates it has for `name`.
    """

    def admit(
        self, name: NormalizedName, offered: Sequence[tuple[Source, Sequence[Candidate]]]
    ) -> Admission: ...


class AdmitAll:
    """No source rules: every source's candidates compete on version alone."""

    def admit(
        self, name: NormalizedName, offered: Sequence[tuple[Source, Sequence[Candidate]]]
    ) -> Admission:
        return Admission([c for _, cands in offered for c in cands])


@attrs.frozen(slots=True)
class Dependency:
    """A requirement of the request (parent None) or of a candidate, with what satisfies it."""

    requirement: Requirement
    name: NormalizedName
    extras: frozenset[NormalizedName]
    matches: tuple[Candidate, ...]
    """Usable candidates of `name` inside the specifier, newest first."""
    parent: Candidate | None = None
    parent_extra: NormalizedName | None = None
    """The parent's extra this requirement belongs to (None: its base requirements)."""

    def describe_parent(self) -> str:
        if self.parent is None:
            return "you"
        if self.parent_extra:
            return f"{self.parent.name}[{self.parent_extra}] {self.parent.version}"
        return str(self.parent)


@attrs.frozen(slots=True)
class Project:
    """Everything discovery learned about one project name."""

    name: NormalizedName
    candidates: tuple[Candidate, ...]
    """Usable candidates, best first: preference group, then newest version, then source
    priority order."""
    exclusions: tuple[Exclusion, ...]
    known: bool
    """Whether any source lists the project at all."""
    ranks: Mapping[CandidateKey, int] = attrs.field(factory=dict)
    """Each candidate's rank: 0 for the best (preference group, version) pair, then 1, 2, …
    "Newest" objectives cost a chosen candidate its rank."""


@attrs.frozen(slots=True)
class Universe:
    """The finite world a request is solved in."""

    target: Target
    request: Request
    projects: Mapping[NormalizedName, Project]
    root: tuple[Dependency, ...]
    dependencies: Mapping[CandidateKey, tuple[Dependency, ...]]
    extra_dependencies: Mapping[tuple[CandidateKey, NormalizedName], tuple[Dependency, ...]]
    missing_extras: frozenset[tuple[CandidateKey, NormalizedName]]
    diagnostics: tuple[Diagnostic, ...]
    installed: Mapping[NormalizedName, Candidate] = attrs.field(factory=dict)
    """The installed distribution import sees, per project (empty when ignored)."""
    free: frozenset[CandidateKey] = frozenset()
    """Lazy discovery only: candidates some requirement matches whose dependencies are not
    read yet. The encoder lets them be chosen with no dependencies (a relaxation); a plan
    that chooses one sends discovery back to read it (see `api.resolve`)."""

    def expanded(self, candidate: Candidate) -> bool:
        """Whether discovery read the candidate's dependencies."""
        return candidate.key in self.dependencies

    def choosable(self, candidate: Candidate) -> bool:
        """Whether the encoder gives the candidate a variable: read, or free (lazy)."""
        return candidate.key in self.dependencies or candidate.key in self.free

    def candidate_count(self) -> int:
        return sum(len(p.candidates) for p in self.projects.values())


class _Discovery:
    def __init__(
        self,
        sources: Sequence[Source],
        target: Target,
        request: Request,
        source_policy: SourcePolicy,
        lazy: bool = False,
    ) -> None:
        self.lazy = lazy
        installed = () if request.ignore_installed else request.installed
        self.installed = {c.name: c for c in installed}
        if installed:
            sources = [MemorySource(installed, name="installed"), *sources]
        self.sources = sources
        self.target = target
        self.request = request
        self.source_policy = source_policy
        self.filter = CandidateFilter(target, request)
        self.projects: dict[NormalizedName, Project] = {}
        self.dependencies: dict[CandidateKey, tuple[Dependency, ...]] = {}
        self.extra_dependencies: dict[tuple[CandidateKey, NormalizedName],
                                      tuple[Dependency, ...]] = {}
        self.missing_extras: set[tuple[CandidateKey, NormalizedName]] = set()
        self.diagnostics: list[Diagnostic] = []
        self._matches: dict[tuple[NormalizedName, str], tuple[Candidate, ...]] = {}
        self._by_requirement: dict[int, tuple[Requirement, tuple[Candidate, ...]]] = {}
        self._marker_cache: dict[tuple[str, str], bool] = {}
        self._environment = dict(target.markers)
        self._queue: deque[tuple[Candidate, NormalizedName | None]] = deque()
        self._seen: set[tuple[CandidateKey, NormalizedName | None]] = set()
        self._source_of: dict[CandidateKey, Source] = {}
        self._allow_pre: dict[NormalizedName, bool] = {}
        self._root: tuple[Dependency, ...] = ()
        self._complete: dict[CandidateKey, Candidate] = {}
        self._late: dict[CandidateKey, Exclusion] = {}
        self._matched: dict[CandidateKey, Candidate] = {}
        self._wanted_extras: dict[CandidateKey, set[NormalizedName]] = {}

    # -- projects -----------------------------------------------------------------
    def project(self, name: NormalizedName) -> Project:
        found = self.projects.get(name)
        if found is None:
            found = self._load(name)
            self.projects[name] = found
        return found

    def _load(self, name: NormalizedName) -> Project:
        offered = [(source, source.candidates(name)) for source in self.sources]
        known = any(cands for _, cands in offered)
        admission = self.source_policy.admit(name, offered)
        admitted = list({c.key: c for c in admission.candidates}.values())  # listed twice
        exclusions = list(admission.exclusions)
        allow_pre = prereleases_allowed(name, admitted, self.request)
        usable: list[Candidate] = []
        for candidate in admitted:
            why = self.filter.exclusion(candidate, allow_pre) or self.filter.yanked_exclusion(
                candidate)
            if why is None:
                usable.append(candidate)
            else:
                exclusions.append(why)
        by_source = {id(source): source for source, _ in offered}
        origin_source = {c.key: by_source[id(s)] for s, cands in offered for c in cands}
        self._source_of.update(origin_source)
        self._allow_pre[name] = allow_pre
        complete: list[Candidate] = []
        if self.lazy:
            # Metadata is read when a candidate is expanded, not for every release listed.
            complete = usable
        else:
            for source in {id(origin_source[c.key]): origin_source[c.key]
                           for c in usable}.values():
                source.prefetch([c for c in usable if origin_source[c.key] is source])
            for candidate in usable:
                meta = self._read_metadata(candidate, allow_pre)
                if isinstance(meta, Exclusion):
                    exclusions.append(meta)
                else:
                    complete.append(meta)
        order = {id(s): i for i, (s, _) in enumerate(offered)}
        source_rank = {c.key: order[id(origin_source[c.key])] for c in complete}
        group = admission.preference
        complete.sort(key=lambda c: (source_rank[c.key], c.origin.kind, c.origin.name))
        complete.sort(key=lambda c: c.version, reverse=True)
        complete.sort(key=lambda c: group.get(c.key, 0))
        levels = list(dict.fromkeys((group.get(c.key, 0), c.version) for c in complete))
        level_rank = {level: i for i, level in enumerate(levels)}
        ranks = {c.key: level_rank[(group.get(c.key, 0), c.version)] for c in complete}
        return Project(name, tuple(complete), tuple(exclusions), known, ranks)

    def _read_metadata(self, candidate: Candidate, allow_pre: bool) -> Candidate | Exclusion:
        """The candidate with its dependencies, or why it cannot be used after all."""
        meta = self._source_of[candidate.key].metadata(candidate)
        if isinstance(meta, MetadataUnavailable):
            return Exclusion(candidate, meta.kind, meta.detail)
        # Requires-Python may only be known from metadata (a wheel's METADATA).
        late = self.filter.exclusion(meta, allow_pre) if meta is not candidate else None
        if late is not None:
            return late
        self._complete[candidate.key] = meta
        return meta

    # -- requirements -------------------------------------------------------------
    def marker_holds(self, marker: Marker | None, extra: str) -> bool:
        if marker is None:
            return True
        key = (str(marker), extra)
        cached = self._marker_cache.get(key)
        if cached is None:
            cached = marker.evaluate({**self._environment, "extra": extra})
            self._marker_cache[key] = cached
        return cached

    def dependency(
        self,
        requirement: Requirement,
        parent: Candidate | None,
        parent_extra: NormalizedName | None,
    ) -> Dependency:
        name = canonicalize_name(requirement.name)
        project = self.project(name)
        seen = self._by_requirement.get(id(requirement))
        if seen is not None and seen[0] is requirement:
            matches = seen[1]  # the same (shared) requirement object: same answer
        else:
            cache_key = (name, str(requirement.specifier))
            found = self._matches.get(cache_key)
            if found is None:
                specifier = requirement.specifier
                found = tuple(c for c in project.candidates
                              if specifier.contains(c.version, prereleases=True))
                self._matches[cache_key] = found
            matches = found
            self._by_requirement[id(requirement)] = (requirement, matches)
        extras = frozenset(canonicalize_name(e) for e in requirement.extras)
        if self.lazy:
            for match in matches:
                self._matched[match.key] = match
                if extras:
                    self._wanted_extras.setdefault(match.key, set()).update(extras)
            # Read only the best match now; the others stay free until a plan picks one.
            for match in matches[:1]:
                self.expand(match)
            return Dependency(requirement, name, extras, matches, parent, parent_extra)
        for match in matches:
            self._enqueue(match, None)
            for extra in extras:
                self._enqueue(match, extra)
        return Dependency(requirement, name, extras, matches, parent, parent_extra)

    def expand(self, candidate: Candidate) -> None:
        """Read `candidate`'s dependencies (and those of the extras asked of it) next."""
        self._enqueue(candidate, None)
        for extra in sorted(self._wanted_extras.get(candidate.key, ())):
            self._enqueue(candidate, extra)

    def _enqueue(self, candidate: Candidate, extra: NormalizedName | None) -> None:
        key = (candidate.key, extra)
        if key not in self._seen:
            self._seen.add(key)
            self._queue.append((candidate, extra))

    def _expand(self, candidate: Candidate, extra: NormalizedName | None) -> None:
        if self.lazy:
            if candidate.key in self._late:
                return
            complete = self._complete.get(candidate.key)
            if complete is None:
                found = self._read_metadata(candidate, self._allow_pre.get(candidate.name, True))
                if isinstance(found, Exclusion):
                    self._late[candidate.key] = found
                    return
                complete = found
            candidate = complete
            if extra is not None and (candidate.key, None) not in self._seen:
                self._enqueue(candidate, None)
        if extra is None:
            self.dependencies[candidate.key] = tuple(
                self.dependency(req, candidate, None)
                for req in candidate.requires if self.marker_holds(req.marker, ""))
            return
        if extra not in candidate.provides_extras:
            self.missing_extras.add((candidate.key, extra))
            return
        self.extra_dependencies[(candidate.key, extra)] = tuple(
            self.dependency(req, candidate, extra)
            for req in candidate.requires
            if req.marker is not None
            and self.marker_holds(req.marker, extra)
            and not self.marker_holds(req.marker, ""))

    def start(self) -> None:
        self._root = tuple(self.dependency(req, None, None) for req in self.request.requirements
                           if self.marker_holds(req.marker, ""))
        for name in self.installed:
            # Every release of an installed project may end up installed (kept, upgraded,
            # downgraded), so each must be choosable: read now, or free under lazy reading.
            releases = self.project(name).candidates
            for candidate in releases:
                if not self.lazy or candidate is releases[0] or candidate.installed:
                    self._enqueue(candidate, None)
                else:
                    self._matched[candidate.key] = candidate
        for constraint in self.request.constraints:
            self.project(canonicalize_name(constraint.name))

    def run(self) -> Universe:
        """Read everything queued, then take a snapshot."""
        while self._queue:
            self._expand(*self._queue.popleft())
        return self.snapshot()

    def snapshot(self) -> Universe:
        diagnostics = list(self.diagnostics)
        for source in self.sources:
            diagnostics.extend(source.diagnostics())
        for key, extra in sorted(self.missing_extras, key=str):
            diagnostics.append(Diagnostic(
                f"{key.name} {key.version} does not provide the extra '{extra}'",
                str(key.origin)))
        projects = self.projects
        if self.lazy:
            projects = {name: self._with_metadata(project)
                        for name, project in self.projects.items()}
        free = frozenset(key for key in self._matched
                         if key not in self.dependencies and key not in self._late)
        return Universe(
            target=self.target,
            request=self.request,
            projects=projects,
            root=self._root,
            dependencies=dict(self.dependencies),
            extra_dependencies=dict(self.extra_dependencies),
            missing_extras=frozenset(self.missing_extras),
            diagnostics=tuple(diagnostics),
            installed=self.installed,
            free=free,
        )

    def _with_metadata(self, project: Project) -> Project:
        """The project with read candidates in place of listed ones, and the ones whose
        metadata ruled them out moved to the exclusions. Ranks stay as listed."""
        late = [self._late[c.key] for c in project.candidates if c.key in self._late]
        if not late and not any(c.key in self._complete for c in project.candidates):
            return project
        return attrs.evolve(
            project,
            candidates=tuple(self._complete.get(c.key, c) for c in project.candidates
                             if c.key not in self._late),
            exclusions=(*project.exclusions, *late))


class Discovery:
    """Discovery that can be resumed: `run()` reads what is queued and returns a snapshot;
    `expand(candidates)` queues free candidates a plan picked (lazy reading)."""

    def __init__(self, request: Request, sources: Iterable[Source], target: Target, *,
                 source_policy: SourcePolicy | None = None, lazy: bool = False) -> None:
        self._state = _Discovery(list(sources), target, request, source_policy or AdmitAll(),
                                 lazy)
        self._state.start()

    def run(self) -> Universe:
        return self._state.run()

    def expand(self, candidates: Iterable[Candidate]) -> None:
        for candidate in candidates:
            self._state.expand(candidate)


def discover(
    request: Request,
    sources: Iterable[Source],
    target: Target,
    *,
    source_policy: SourcePolicy | None = None,
    lazy: bool = False,
) -> Universe:
    """Collect every candidate the request can reach, with dependencies and exclusions.

    With `lazy`, only the best match of each requirement is read; the other matches are
    `Universe.free` (see `Discovery` to continue reading).
    """
    return Discovery(request, sources, target, source_policy=source_policy, lazy=lazy).run()
