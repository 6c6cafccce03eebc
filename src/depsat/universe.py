"""Discovery: the lazy closure of the request through the sources.

Starting from the user's requirements, visit each project that some reachable requirement
names, list its candidates from every source, filter them (recording why each excluded
candidate is out), read the survivors' dependencies and follow them. The result is a finite,
static `Universe` that the encoder turns into clauses.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol

import attrs
from packaging._parser import Value, Variable  # (the nodes of `Marker._markers`)
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import Specifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from depsat.model import (
    DIRECT,
    Candidate,
    CandidateKey,
    Diagnostic,
    Exclusion,
    Request,
)
from depsat.policy import CandidateFilter, PrereleaseUse, prerelease_use
from depsat.sources.base import MetadataUnavailable, Source
from depsat.sources.memory import MemorySource
from depsat.sources.vcs import commit_identity
from depsat.target import Target

__all__ = ["Admission", "AdmitAll", "Dependency", "Discovery", "LoadedProjects", "Project",
           "SourcePolicy", "Universe", "discover", "is_from", "meets"]

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


@attrs.frozen(slots=True)
class AdmitAll:
    """No source rules: every source's candidates compete on version alone. (Every one
    equals every other, as every one admits the same: `LoadedProjects` compares them.)"""

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
    """Each candidate's rank: 0 for the best (fallback prerelease or not, preference group,
    version) level, then 1, 2, … "Newest" objectives cost a chosen candidate its rank."""
    fallback_rank: int | None = None
    """The first rank of prereleases usable only as a fallback (`PrereleaseUse.FALLBACK`):
    they rank after every final release, whatever their version; None when there are none
    (or nothing else: then prereleases rank by version)."""

    def steps(self, key: CandidateKey, *, oldest: bool = False) -> int:
        """What a newest-version tier costs the candidate `key` (its rank), or with `oldest`
        an oldest-version tier: its steps above the oldest final release, and for a fallback
        prerelease the final levels' count plus its steps above the oldest prerelease, so
        that every final release costs less."""
        rank = self.ranks[key]
        if not oldest:
            return rank
        last = max(self.ranks.values(), default=0)
        first = self.fallback_rank
        if first is None:
            return last - rank
        return first - 1 - rank if rank < first else first + last - rank


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
    """Lazy discovery only: listed releases of the projects reached whose dependencies are
    not read yet. The encoder lets them be chosen with no dependencies (a relaxation); a plan
    that chooses one sends discovery back to read it (see `api.resolve`)."""

    def expanded(self, candidate: Candidate) -> bool:
        """Whether discovery read the candidate's dependencies."""
        return candidate.key in self.dependencies

    def choosable(self, candidate: Candidate) -> bool:
        """Whether the encoder gives the candidate a variable: read, or free (lazy)."""
        return candidate.key in self.dependencies or candidate.key in self.free

    def candidate_count(self) -> int:
        return sum(len(p.candidates) for p in self.projects.values())


def _select(candidates: tuple[Candidate, ...], mask: int) -> tuple[Candidate, ...]:
    """The candidates at the mask's bits, in order, as a new tuple (or the shared empty one):
    discovery hands out one tuple per distinct requirement, and its identity is meaningful."""
    if not mask:
        return ()
    low = mask & -mask
    if not mask & (mask + low):
        # A single run of ones: a slice, copied (the whole tuple's slice is the tuple).
        return tuple(list(candidates[low.bit_length() - 1:mask.bit_length()]))
    return tuple([c for i, c in enumerate(candidates) if mask >> i & 1])


def is_from(candidate: Candidate, url: str, pinned: Collection[str] = ()) -> bool:
    """Whether `candidate` is the file a direct reference (``name @ URL``) names: a `DIRECT`
    origin at that URL, or the distribution installed from it (PEP 610), as pip reads it.
    Not a release of the name from an index or a find-links folder: that is another file.

    `pinned`: for a git reference, the commit its revision stands at as the source read it
    (`pinned_as`); what was installed from that commit is it too, as uv takes it (pip
    recorded ``git+URL@<commit>``, not the branch or tag asked for)."""
    if candidate.origin.kind == DIRECT and candidate.origin.location == url:
        return True
    installed = candidate.installed
    if installed is None or installed.direct_url is None:
        return False
    if installed.direct_url == url:
        return True
    if not pinned:
        return False
    identity = commit_identity(installed.direct_url)
    return identity is not None and any(commit_identity(p) == identity for p in pinned)


def pinned_as(project: Project | None, url: str) -> tuple[str, ...]:
    """The commits a git reference's `DIRECT` candidates stand at (their origin's name,
    ``git+URL@<commit>``), for `is_from`; empty for any other reference."""
    if project is None or not url.lower().startswith("git+"):
        return ()
    return tuple(c.origin.name for c in project.candidates
                 if c.origin.kind == DIRECT and c.origin.location == url)


def meets(requirement: Requirement, candidate: Candidate,
          project: Project | None = None) -> bool:
    """Whether `candidate`'s version, or for a direct reference the file, is what
    `requirement` (or a constraint) asks for; prereleases included, markers not read.
    `project` (the candidate's) lets a git reference match what was installed from the
    commit it stands at (`is_from`)."""
    if requirement.url:
        return is_from(candidate, requirement.url, pinned_as(project, requirement.url))
    return requirement.specifier.contains(candidate.version, prereleases=True)


def _override_text(override: Requirement) -> str:
    """What a requirement overridden by `override` asks for, as uv has it: the override's
    name, extras and versions (or file), neither the requirement's extras nor its marker
    (the override's marker held, or it would not apply)."""
    extras = sorted(override.extras)
    text = override.name + (f"[{','.join(extras)}]" if extras else "")
    return text + (f" @ {override.url}" if override.url else str(override.specifier))


def _merged(overrides: list[Requirement]) -> Requirement:
    """One requirement asking what all of `overrides` (one package's) ask together: their
    extras, and their versions or (if one names a file) that file."""
    if len(overrides) == 1:
        return overrides[0]
    extras = sorted({extra for o in overrides for extra in o.extras})
    text = overrides[0].name + (f"[{','.join(extras)}]" if extras else "")
    url = next((o.url for o in overrides if o.url), None)
    if url:
        return Requirement(f"{text} @ {url}")
    return Requirement(text + str(SpecifierSet(",".join(str(o.specifier) for o in overrides
                                                        if o.specifier))))


def _mentions_extra(marker: Marker | None) -> bool:
    """Whether `marker` reads ``extra``: it makes its requirement an extra's."""
    return marker is not None and "extra" in str(marker)


def _extra_required(marker: Marker | None) -> NormalizedName | None:
    """The extra `marker` holds only for, when it says so at its top level (``extra ==
    'x'``, alone or in a chain of ``and``); None otherwise. packaging keeps markers as a list
    of (left, op, right) triples, nested lists and "and"/"or" (`Marker._markers`, read by
    `depsat.environments` too), and compares extras normalized (PEP 685)."""
    if marker is None:
        return None
    items = marker._markers
    if "or" in items:
        return None
    for item in items:
        if isinstance(item, tuple) and item[1].value == "==":
            left, _, right = item
            for variable, value in ((left, right), (right, left)):
                if isinstance(variable, Variable) and variable.value == "extra" \
                        and isinstance(value, Value):
                    return canonicalize_name(value.value)
    return None


class _ByExtra:
    """A release's requirements sorted by what they can apply to, in their order: its base
    (all but those an extra's marker ties to that extra alone) and each extra (those tied to
    it, and those whose markers read ``extra`` some other way). Every other requirement's
    marker is false there, so `_Discovery.applying` need not be asked: transformers lists
    about 300 requirements, nearly all of some extra's, and a universal lock of
    ``transformers[torch]`` asked 5.5 million times, 95% of them about a requirement of
    another extra."""

    def __init__(self, requires: Sequence[Requirement]) -> None:
        self._requires = requires
        self._tied = [_extra_required(r.marker) for r in requires]
        self.base = tuple(r for r, tied in zip(requires, self._tied, strict=True)
                          if tied is None)
        self._extras: dict[NormalizedName, tuple[Requirement, ...]] = {}

    def of_extra(self, extra: NormalizedName) -> tuple[Requirement, ...]:
        found = self._extras.get(extra)
        if found is None:
            found = self._extras[extra] = tuple(
                r for r, tied in zip(self._requires, self._tied, strict=True)
                if tied == extra or (tied is None and _mentions_extra(r.marker)))
        return found


_BY_EXTRA: dict[int, tuple[Sequence[Requirement], _ByExtra]] = {}


def _by_extra(requires: Sequence[Requirement]) -> _ByExtra:
    """`_ByExtra` of a release's requirements, remembered by their sequence object (a
    release's, shared by every discovery that reads it, as a universal lock's cells do)."""
    found = _BY_EXTRA.get(id(requires))
    if found is not None and found[0] is requires:
        return found[1]
    if len(_BY_EXTRA) >= 1 << 16:
        _BY_EXTRA.clear()
    index = _ByExtra(requires)
    _BY_EXTRA[id(requires)] = (requires, index)  # (holding it: its id stays its own)
    return index


def _direct_matches(project: Project, url: str) -> tuple[tuple[Candidate, ...], int]:
    """What a direct reference matches (`is_from`), and the mask."""
    mask = 0
    pinned = pinned_as(project, url)
    for position, candidate in enumerate(project.candidates):
        if is_from(candidate, url, pinned):
            mask |= 1 << position
    return _select(project.candidates, mask), mask


@attrs.define(slots=True)
class _ProjectIndex:
    """A project's distinct versions in ascending order, each with the mask of the candidates
    (bits are positions in `candidates`) that have it, and the answers found so far."""

    candidates: tuple[Candidate, ...]
    texts: tuple[str, ...]
    """The distinct normalized version strings, ascending."""
    versions: tuple[Version, ...]
    bits: tuple[int, ...]
    """The mask of the candidates with each version."""
    below: tuple[int, ...]
    """``below[k]``: the mask of the candidates of ``versions[:k]``; ``below[-1]`` is all."""
    position: dict[str, int]
    """Each version string's index in `texts`."""
    masks: dict[str, int] = attrs.field(factory=dict)
    """Specifier string → mask of the candidates it contains."""
    found: dict[str, tuple[Candidate, ...]] = attrs.field(factory=dict)
    """``str(specifier set)`` → the candidates it contains (the shared tuple)."""
    found_masks: dict[str, int] = attrs.field(factory=dict)
    """``str(specifier set)`` → the mask of those candidates."""

    @classmethod
    def of(cls, candidates: tuple[Candidate, ...]) -> _ProjectIndex:
        first: dict[str, Version] = {}
        bits: dict[str, int] = {}
        for i, candidate in enumerate(candidates):
            text = str(candidate.version)
            first.setdefault(text, candidate.version)
            bits[text] = bits.get(text, 0) | 1 << i
        # Candidates are usually newest first: reversed, the sort is one linear pass.
        texts = sorted(reversed(first), key=first.__getitem__)
        below = [0]
        for text in texts:
            below.append(below[-1] | bits[text])
        return cls(candidates, tuple(texts), tuple(first[t] for t in texts),
                   tuple(bits[t] for t in texts), tuple(below),
                   {text: k for k, text in enumerate(texts)})


class SpecifierMatcher:
    """Which candidates of a project a `SpecifierSet` contains (prereleases included), with
    one shared result tuple per (project, ``str(specifier)``).

    The straightforward filter costs a `SpecifierSet.contains` per candidate and requirement,
    and a ``str(specifier)`` per requirement. Here a set's matches are the intersection of its
    specifiers' matches; an individual specifier is known by its string (all `packaging` reads
    of it) and asked about a normalized version string at most once in the whole universe,
    and about a few versions of a project only when it is a bound (binary search).
    """

    def __init__(self) -> None:
        self._specifiers: dict[str, Specifier] = {}
        """One representative per specifier string: it caches its parsed version."""
        self._contains: dict[str, dict[str, bool]] = {}
        """Specifier string → normalized version string → ``contains(prereleases=True)``."""
        self._canonical: dict[tuple[str, ...], str] = {}
        """A set's specifier strings, in its order → ``str()`` of the set."""
        self._indexes: dict[NormalizedName, _ProjectIndex] = {}

    def matches(self, project: Project,
                specifier: SpecifierSet) -> tuple[tuple[Candidate, ...], int]:
        """The candidates of `project` inside `specifier`, best first, and their mask.

        Equal ``str(specifier)`` on one project gives the same tuple object (the encoder and
        dominance read its identity as "the same requirement"); different strings give
        different tuples even when they match the same candidates, as a plain cache would.
        """
        specs = tuple(specifier)
        if len(specs) == 1:
            canonical = str(specs[0])
        elif not specs:
            canonical = ""
        else:
            # A set's str() depends only on its specifiers' strings (sorted, deduplicated by
            # canonical form), so it is computed once per combination.
            texts = tuple([str(spec) for spec in specs])
            found_canonical = self._canonical.get(texts)
            if found_canonical is None:
                found_canonical = self._canonical[texts] = str(SpecifierSet(
                    [self._specifiers.setdefault(t, spec) for t, spec in zip(texts, specs,
                                                                              strict=True)]))
            canonical = found_canonical
        index = self._indexes.get(project.name)
        if index is None or index.candidates is not project.candidates:
            index = self._indexes[project.name] = _ProjectIndex.of(project.candidates)
        matches = index.found.get(canonical)
        if matches is None:
            if len(specs) == 1:
                mask = self._mask(index, specs[0], canonical)
            else:
                mask = index.below[-1]
                for spec in specs:
                    if mask:
                        mask &= self._mask(index, spec, str(spec))
            index.found_masks[canonical] = mask
            matches = index.found[canonical] = _select(index.candidates, mask)
        return matches, index.found_masks[canonical]

    def _mask(self, index: _ProjectIndex, spec: Specifier, text: str) -> int:
        """The candidates `spec` (whose string is `text`) contains.

        `packaging` turns every operator but ``===`` into intervals of versions: ``<``,
        ``<=`` one from -∞, ``>``, ``>=`` one to ∞, ``==``, ``~=`` one, ``!=`` all but one
        (property-tested here). So along the project's ascending versions the answers are
        T…TF…F, F…FT…T, F…FT…TF…F or T…TF…FT…T, and only where they change is needed. A
        bound is usually one of the project's versions: the change is next to it, and a few
        answers confirm it; otherwise a binary search finds it, or (``==`` and ``!=`` not
        at a version, ``===``) every version is asked.
        """
        mask = index.masks.get(text)
        if mask is not None:
            return mask
        specifier = self._specifiers.setdefault(text, spec)
        known = self._contains.get(text)
        if known is None:
            known = self._contains[text] = {}
        texts, versions, below = index.texts, index.versions, index.below

        def holds(k: int) -> bool:
            hit = known.get(texts[k])
            if hit is None:
                hit = known[texts[k]] = specifier.contains(versions[k], prereleases=True)
            return hit

        operator = (text[:3] if text.startswith("===") else text[:2] if text[1] == "="
                    else text[:1])
        at = index.position.get(text[len(operator):])
        count = len(texts)
        if operator in ("<", "<=", ">", ">="):
            upward = operator[0] == ">"
            step = -1
            if at is not None:  # ">=v": the first True is at v, ">v": after it, …
                step = at + (upward != (operator[-1] == "="))
                if (step > 0 and holds(step - 1) == upward) or (
                        step < count and holds(step) != upward):
                    step = -1
            if step < 0:
                lo, hi = 0, count
                while lo < hi:
                    mid = (lo + hi) // 2
                    if holds(mid) == upward:
                        hi = mid
                    else:
                        lo = mid + 1
                step = lo
            return self._keep(index, text, below[-1] ^ below[step] if upward else below[step])
        if operator in ("==", "~=", "!=") and at is not None:
            inside = operator != "!="  # the answer inside the one interval
            if holds(at) == inside:
                lo, hi = at, at + 1
                while lo > 0 and holds(lo - 1) == inside:
                    lo -= 1
                while hi < count and holds(hi) == inside:
                    hi += 1
                run = below[hi] ^ below[lo]
                return self._keep(index, text, run if inside else below[-1] ^ run)
        mask = 0
        for k, bits in enumerate(index.bits):
            if holds(k):
                mask |= bits
        return self._keep(index, text, mask)

    @staticmethod
    def _keep(index: _ProjectIndex, text: str, mask: int) -> int:
        index.masks[text] = mask
        return mask


_NO_EXTRAS: frozenset[NormalizedName] = frozenset()


@attrs.frozen(slots=True)
class _Read:
    """What `dependency` learned of one requirement object (sources share the objects)."""

    requirement: Requirement
    """Kept alive, so that its id stays unique."""
    name: NormalizedName
    extras: frozenset[NormalizedName]
    matches: tuple[Candidate, ...]
    mask: int
    candidates: tuple[Candidate, ...]
    """The project's candidates, which `mask` indexes."""


def _fallback_prereleases(candidates: Sequence[Candidate],
                          use: PrereleaseUse) -> frozenset[CandidateKey]:
    """The prereleases that rank after every final release: under `PrereleaseUse.FALLBACK`,
    those not installed (an installed prerelease is kept like any release, as PEP 440 says),
    when a final release is there to rank first."""
    if use is not PrereleaseUse.FALLBACK:
        return frozenset()
    later = frozenset(c.key for c in candidates
                      if c.version.is_prerelease and c.installed is None)
    if len(later) == len(candidates):
        return frozenset()
    return later


def _by_source(offered: Sequence[tuple[Source, Sequence[Candidate]]],
               candidates: Sequence[Candidate],
               origin_source: Mapping[CandidateKey, Source]) -> list[tuple[Source,
                                                                    list[Candidate]]]:
    """`candidates` grouped by the source that offered each, in first-seen order."""
    if len(offered) == 1:  # the one source offered them all
        return [(offered[0][0], list(candidates))] if candidates else []
    groups: dict[int, tuple[Source, list[Candidate]]] = {}
    for candidate in candidates:
        source = origin_source[candidate.key]
        groups.setdefault(id(source), (source, []))[1].append(candidate)
    return list(groups.values())


@attrs.define(slots=True, eq=False)
class _Loaded:
    """One project as lazy discovery loads it, before any metadata is read: what `_load`
    computes from the listings, the target's Python and tags, and the request."""

    project: Project
    origin_source: dict[CandidateKey, Source]
    """Every listed candidate's source."""
    by_source: list[tuple[Source, list[Candidate]]]
    """The usable candidates, by the source that offered each (`metadata_on_hand` asks)."""
    prereleases: PrereleaseUse


@attrs.define(slots=True, eq=False)
class _Shelf:
    """The projects loaded under one setting, and the matcher that knows their versions."""

    projects: dict[NormalizedName, _Loaded] = attrs.field(factory=dict)
    matcher: SpecifierMatcher = attrs.field(factory=SpecifierMatcher)
    read: dict[CandidateKey, Candidate | Exclusion] = attrs.field(factory=dict)
    """What reading each release's metadata gave (`_read_metadata`)."""


class LoadedProjects:
    """Projects as lazy discovery loads them (each listed release filtered for the target's
    Python and tags and ranked, each specifier matched against them), kept for the next
    resolve of the same request over the same sources.

    A universal lock resolves one request once per part of the environments it splits
    (`depsat.universal`: 37 resolves for ``transformers[torch]`` from Python 3.9 on), and
    each resolve filtered, ranked and matched every release of every project again (about
    5,000 releases a resolve there), and took each release's metadata from its source and
    checked its Requires-Python again.

    Pass one object to those `resolve` calls: a call uses what was loaded under the same
    setting (the sources, the source policy, the target's Python and tags, and the request
    but for `Request.preferred`) and adds to it, so sharing one never changes an answer.
    Only lazy reading without installed packages uses it (an eager resolve's loading reads
    metadata, and installed packages are a source of their own per resolve)."""

    def __init__(self) -> None:
        self._shelves: list[tuple[tuple[object, ...], _Shelf]] = []

    def _shelf(self, setting: tuple[object, ...]) -> _Shelf:
        # (Few settings, one per Python: a list compared by equality, as the request's fields
        # need not all hash.)
        for known, shelf in self._shelves:
            if known == setting:
                return shelf
        shelf = _Shelf()
        self._shelves.append((setting, shelf))
        return shelf


class _Discovery:
    def __init__(
        self,
        sources: Sequence[Source],
        target: Target,
        request: Request,
        source_policy: SourcePolicy,
        lazy: bool = False,
        loaded: LoadedProjects | None = None,
    ) -> None:
        self.lazy = lazy
        installed = () if request.ignore_installed else request.installed
        self.installed = {c.name: c for c in installed}
        if installed:
            sources = [MemorySource(installed, name="installed"), *sources]
        self.sources = sources
        # Only a source that reads pages from somewhere wants to hear of them early (it
        # overrides `Source.prefetch_projects`); without one, `_prefetch` would sort every
        # release's requirements a second time for nothing (7% of a static resolve).
        self._prefetching = any(type(source).prefetch_projects is not Source.prefetch_projects
                                for source in sources)
        self.target = target
        self._marker_cache: dict[tuple[str, str], bool] = {}
        self._applied: dict[tuple[int, str], tuple[Requirement, Requirement | None]] = {}
        """(id(requirement), extra) -> (the requirement, `applying`'s answer)."""
        self._environment = dict(target.markers)
        # A constraint applies where its marker holds, as pip and uv read one; those that
        # do not are left out of the request the universe answers (encoder, verifier).
        applying = tuple(c for c in request.constraints if self.marker_holds(c.marker, ""))
        if len(applying) != len(request.constraints):
            request = attrs.evolve(request, constraints=applying)
        self.request = request
        self.source_policy = source_policy
        self.filter = CandidateFilter(target, request)
        self._shelf = None if loaded is None or not lazy or installed else loaded._shelf(
            (tuple(sources), target.python_version,
             None if target.tags is None else tuple(target.tags), source_policy, request))
        self.projects: dict[NormalizedName, Project] = {}
        self.dependencies: dict[CandidateKey, tuple[Dependency, ...]] = {}
        self.extra_dependencies: dict[tuple[CandidateKey, NormalizedName],
                                      tuple[Dependency, ...]] = {}
        self.missing_extras: set[tuple[CandidateKey, NormalizedName]] = set()
        self.diagnostics: list[Diagnostic] = []
        self._matcher = SpecifierMatcher() if self._shelf is None else self._shelf.matcher
        self._by_requirement: dict[int, _Read] = {}
        self._overridden_names = frozenset(canonicalize_name(o.name)
                                           for o in request.overrides)
        holding: dict[NormalizedName, list[Requirement]] = {}
        for override in request.overrides:
            if override.marker is None or override.marker.evaluate(dict(target.markers)):
                holding.setdefault(canonicalize_name(override.name), []).append(override)
        self._overrides = {name: _merged(found) for name, found in holding.items()}
        """The packages overridden here: each to its overrides whose markers hold, as one
        requirement (uv makes each a requirement of its own: all must hold)."""
        self._overridden: dict[int, tuple[Requirement, Requirement]] = {}
        """id(requirement) -> (it, its overridden form), one object each (`dependency`
        reads a requirement's identity)."""
        self._names: dict[str, NormalizedName] = {}
        self._queued: dict[tuple[NormalizedName, NormalizedName | None], int] = {}
        """Candidates (mask over the project's) already queued with that extra by
        `dependency`: only a hint, `_seen` decides."""
        self._registered: set[tuple[int, frozenset[NormalizedName]]] = set()
        self._queue: deque[tuple[Candidate, NormalizedName | None]] = deque()
        self._seen: dict[NormalizedName | None, set[CandidateKey]] = {None: set()}
        """Per extra (None: base requirements), the candidates queued with it."""
        self._source_of: dict[CandidateKey, Source] = {}
        self._prereleases: dict[NormalizedName, PrereleaseUse] = {}
        self._root: tuple[Dependency, ...] = ()
        self._complete: dict[CandidateKey, Candidate] = {}
        self._late: dict[CandidateKey, Exclusion] = {}
        self._wanted_extras: dict[CandidateKey, set[NormalizedName]] = {}
        self._shown: dict[NormalizedName, Project] = {}
        """Each project as the last snapshot gave it (lazy reading)."""
        self._read_since: set[NormalizedName] = set()
        """Projects with a release read (or ruled out by its metadata) since that snapshot."""
        self._speculative: set[CandidateKey] = set()
        """Candidates read although no plan took them yet (lazy reading): their dependencies'
        projects are loaded, but their best matches stay free."""

    # -- projects -----------------------------------------------------------------
    def project(self, name: NormalizedName) -> Project:
        found = self.projects.get(name)
        if found is None:
            found = self._load(name)
            self.projects[name] = found
        return found

    def _load(self, name: NormalizedName) -> Project:
        shelf = self._shelf
        loaded = shelf.projects.get(name) if shelf is not None else None
        if loaded is None:
            loaded = self._listed(name)
            if shelf is not None:
                shelf.projects[name] = loaded
        else:  # (what `_listed` notes down, taken from the shelf)
            self._source_of.update(loaded.origin_source)
            self._prereleases[name] = loaded.prereleases
        if self.lazy:
            # Metadata is read when a candidate is expanded, not for every release listed;
            # but what a source has on hand (cached by an earlier run) costs no request, and
            # reading it now spares the rounds that would ask for it (a warm run: 8 -> 1).
            on_hand = {candidate.key for source, candidates in loaded.by_source
                       for candidate in source.metadata_on_hand(candidates)}
            # Best first, not in the order a page lists its files: projects are then
            # reached, and given variables, in the same order whichever order an index
            # lists them in, so the plan (among equally good ones) and the solver's path do
            # not depend on it (3000 x 20 at 0.2, seed 2, warm: the HTTP index's order and
            # the universe file's gave different plans of the same cost, after 15 s and 5 s
            # of solving).
            for candidate in loaded.project.candidates:
                if candidate.key in on_hand:
                    self._speculative.add(candidate.key)
                    self.expand(candidate)
        return loaded.project

    def _listed(self, name: NormalizedName) -> _Loaded:
        """The project from its listings: admitted, filtered and ranked (and, read eagerly,
        each release's metadata read)."""
        offered = [(source, source.candidates(name)) for source in self.sources]
        known = any(cands for _, cands in offered)
        admission = self.source_policy.admit(name, offered)
        admitted = list({c.key: c for c in admission.candidates}.values())  # listed twice
        exclusions = list(admission.exclusions)
        prereleases = prerelease_use(name, self.request)
        usable: list[Candidate] = []
        for candidate in admitted:
            why = self.filter.exclusion(candidate, prereleases) or self.filter.yanked_exclusion(
                candidate)
            if why is None:
                usable.append(candidate)
            else:
                exclusions.append(why)
        by_source = {id(source): source for source, _ in offered}
        origin_source = {c.key: by_source[id(s)] for s, cands in offered for c in cands}
        self._source_of.update(origin_source)
        self._prereleases[name] = prereleases
        grouped = _by_source(offered, usable, origin_source)
        complete: list[Candidate] = []
        if self.lazy:
            complete = usable
        else:
            for source, candidates in grouped:
                source.prefetch(candidates)
            for candidate in usable:
                meta = self._read_metadata(candidate, prereleases)
                if isinstance(meta, Exclusion):
                    exclusions.append(meta)
                else:
                    complete.append(meta)
        group = admission.preference
        if len(offered) == 1:  # one source: its rank is the same for all
            complete.sort(key=lambda c: (c.origin.kind, c.origin.name))
        else:
            order = {id(s): i for i, (s, _) in enumerate(offered)}
            source_rank = {c.key: order[id(origin_source[c.key])] for c in complete}
            complete.sort(key=lambda c: (source_rank[c.key], c.origin.kind, c.origin.name))
        complete.sort(key=lambda c: c.version, reverse=True)
        if group:  # (otherwise every group is 0, and the stable sort would change nothing)
            complete.sort(key=lambda c: group.get(c.key, 0))
        fallback = _fallback_prereleases(complete, prereleases)
        if fallback:
            complete.sort(key=lambda c: c.key in fallback)
        # Sorted, equal (fallback, group, version) levels are neighbours: a rank per run.
        ranks: dict[CandidateKey, int] = {}
        rank, level = -1, None
        first_fallback = None
        for candidate in complete:
            current = (candidate.key in fallback, group.get(candidate.key, 0), candidate.version)
            if current != level:
                rank, level = rank + 1, current
                if first_fallback is None and current[0]:
                    first_fallback = rank
            ranks[candidate.key] = rank
        project = Project(name, tuple(complete), tuple(exclusions), known, ranks,
                          first_fallback)
        return _Loaded(project, origin_source, grouped, prereleases)

    def _read_metadata(self, candidate: Candidate,
                       prereleases: PrereleaseUse) -> Candidate | Exclusion:
        """The candidate with its dependencies, or why it cannot be used after all."""
        shelf = self._shelf
        read = shelf.read.get(candidate.key) if shelf is not None else None
        if read is None:
            read = self._read(candidate, prereleases)
            if shelf is not None:
                shelf.read[candidate.key] = read
        if isinstance(read, Candidate):
            self._complete[candidate.key] = read
            self._read_since.add(candidate.name)
        return read

    def _read(self, candidate: Candidate, prereleases: PrereleaseUse) -> Candidate | Exclusion:
        meta = self._source_of[candidate.key].metadata(candidate)
        if isinstance(meta, MetadataUnavailable):
            return Exclusion(candidate, meta.kind, meta.detail)
        # Requires-Python may only be known from metadata (a wheel's METADATA).
        late = self.filter.exclusion(meta, prereleases) if meta is not candidate else None
        return meta if late is None else late

    # -- requirements -------------------------------------------------------------
    def _canonical_name(self, text: str) -> NormalizedName:
        """`canonicalize_name` (a regular expression), once per spelling."""
        name = self._names[text] = canonicalize_name(text)
        return name

    def marker_holds(self, marker: Marker | None, extra: str) -> bool:
        if marker is None:
            return True
        key = (str(marker), extra)
        cached = self._marker_cache.get(key)
        if cached is None:
            holds = self.target.marker_holds
            cached = (holds(marker, extra) if holds is not None
                      else marker.evaluate({**self._environment, "extra": extra}))
            self._marker_cache[key] = cached
        return cached

    def applying(self, requirement: Requirement, extra: str) -> Requirement | None:
        """`_applying`, remembered by the requirement object: releases share their
        requirements' objects (`distfiles` reads each line once), and each is asked twice,
        when its pages are prefetched and when it is expanded."""
        key = (id(requirement), extra)
        known = self._applied.get(key)
        if known is not None and known[0] is requirement:
            return known[1]
        applied = self._applying(requirement, extra)
        self._applied[key] = (requirement, applied)  # (holding it: its id stays its own)
        return applied

    def _applying(self, requirement: Requirement, extra: str) -> Requirement | None:
        """`requirement` as it applies to a release's base (`extra` "") or to its `extra`
        here, or None. uv's overrides (`Request.overrides`) replace every requirement on their
        package whole, its marker too: an overridden base requirement asks what every one of
        its package's overrides whose marker holds asks, and is dropped where none does (an
        extra's requirement stays its extra's). The replacement is the same object each
        time (`dependency` reads a requirement's identity)."""
        marker = requirement.marker
        overridden = (bool(self._overridden_names)  # (none, usually: no name to normalize)
                      and canonicalize_name(requirement.name) in self._overridden_names)
        if overridden and not _mentions_extra(marker):
            belongs = not extra
        elif extra:
            belongs = (marker is not None and self.marker_holds(marker, extra)
                       and not self.marker_holds(marker, ""))
        else:
            belongs = marker is None or self.marker_holds(marker, "")
        if not belongs:
            return None
        if not overridden:
            return requirement
        override = self._overrides.get(canonicalize_name(requirement.name))
        if override is None:
            return None
        known = self._overridden.get(id(requirement))
        if known is None or known[0] is not requirement:
            replaced = Requirement(_override_text(override))
            known = self._overridden[id(requirement)] = (requirement, replaced)
        return known[1]

    def dependency(
        self,
        requirement: Requirement,
        parent: Candidate | None,
        parent_extra: NormalizedName | None,
    ) -> Dependency:
        read = self._by_requirement.get(id(requirement))
        if read is None or read.requirement is not requirement:
            name = self._names.get(requirement.name) or self._canonical_name(requirement.name)
            project = self.project(name)
            if requirement.url:
                matches, mask = _direct_matches(project, requirement.url)
            else:
                matches, mask = self._matcher.matches(project, requirement.specifier)
            extras = (frozenset(canonicalize_name(e) for e in requirement.extras)
                      if requirement.extras else _NO_EXTRAS)
            read = _Read(requirement, name, extras, matches, mask, project.candidates)
            self._by_requirement[id(requirement)] = read
        # else: the same (shared) requirement object, same answer; its project is loaded.
        name, extras, matches = read.name, read.extras, read.matches
        if self.lazy:
            registered = (id(matches), extras)  # `matches` lives in the matcher's cache
            if extras and registered not in self._registered:
                self._registered.add(registered)
                seen = self._seen[None]
                for match in matches:
                    self._wanted_extras.setdefault(match.key, set()).update(extras)
                    if match.key in seen:  # read (or queued) already: read the extras too,
                        for extra in extras:  # or a plan could take it with them unread
                            self._enqueue(match, extra)
            # Read only the best match now (none for a speculative parent); the others stay
            # free until a plan picks one.
            if parent is None or parent.key not in self._speculative:
                for match in matches[:1]:
                    self._lead_on(match)
                    self.expand(match)
            return Dependency(requirement, name, extras, matches, parent, parent_extra)
        # Queue every match with every extra, in order; the masks skip the (most) matches
        # that an earlier requirement queued already.
        mask = read.mask
        queued = self._queued
        todo = mask & ~queued.get((name, None), 0)
        for extra in extras:
            todo |= mask & ~queued.get((name, extra), 0)
        if todo:
            candidates = read.candidates
            while todo:
                low = todo & -todo
                todo ^= low
                match = candidates[low.bit_length() - 1]
                self._enqueue(match, None)
                for extra in extras:
                    self._enqueue(match, extra)
            queued[(name, None)] = queued.get((name, None), 0) | mask
            for extra in extras:
                queued[(name, extra)] = queued.get((name, extra), 0) | mask
        return Dependency(requirement, name, extras, matches, parent, parent_extra)

    def _lead_on(self, candidate: Candidate) -> None:
        """`candidate`, read speculatively, is a best match after all: its dependencies'
        best matches are read too (now, if it was expanded already)."""
        if candidate.key not in self._speculative:
            return
        self._speculative.discard(candidate.key)
        if candidate.key not in self.dependencies:
            return  # not expanded yet: it will be, as a best match
        expanded = [*self.dependencies[candidate.key],
                    *(dependency for (key, _), dependencies in self.extra_dependencies.items()
                      if key == candidate.key for dependency in dependencies)]
        for dependency in expanded:
            for match in dependency.matches[:1]:
                self._lead_on(match)
                self.expand(match)

    def expand_all(self, candidates: Iterable[Candidate], speculative: bool) -> None:
        for candidate in candidates:
            if speculative:
                source = self._source_of.get(candidate.key)
                if source is not None and source.may_build(candidate):
                    continue  # (left free: read when a plan takes it, as builds are slow)
                self._speculative.add(candidate.key)
            else:
                self._lead_on(candidate)
            self.expand(candidate)

    def expand(self, candidate: Candidate) -> None:
        """Read `candidate`'s dependencies (and those of the extras asked of it) next."""
        self._enqueue(candidate, None)
        for extra in sorted(self._wanted_extras.get(candidate.key, ())):
            self._enqueue(candidate, extra)

    def _enqueue(self, candidate: Candidate, extra: NormalizedName | None) -> None:
        seen = self._seen.get(extra)
        if seen is None:
            seen = self._seen[extra] = set()
        if candidate.key not in seen:
            seen.add(candidate.key)
            self._queue.append((candidate, extra))
            if self.lazy:
                self._prefetch_metadata(candidate)
                if extra is None:
                    # However it came to be read, the extras asked of it so far are read
                    # with it: a read release is not free, so nothing else would read them.
                    for wanted in sorted(self._wanted_extras.get(candidate.key, ())):
                        self._enqueue(candidate, wanted)

    def _with_read_metadata(self, candidate: Candidate) -> Candidate | None:
        """Lazy reading: `candidate` with its metadata (read once), or None when that
        metadata rules it out."""
        if candidate.key in self._late:
            return None
        complete = self._complete.get(candidate.key)
        if complete is None:
            found = self._read_metadata(
                candidate, self._prereleases.get(candidate.name, PrereleaseUse.RANKED))
            if isinstance(found, Exclusion):
                self._late[candidate.key] = found
                self._read_since.add(candidate.name)
                return None
            complete = found
        return complete

    def _expand(self, candidate: Candidate, extra: NormalizedName | None) -> None:
        if self.lazy:
            complete = self._with_read_metadata(candidate)
            if complete is None:
                return
            candidate = complete
            if extra is not None and candidate.key not in self._seen[None]:
                self._enqueue(candidate, None)
        if extra is None:
            self.dependencies[candidate.key] = () if self.request.no_deps else tuple(
                self.dependency(applied, candidate, None)
                for req in _by_extra(candidate.requires).base
                if (applied := self.applying(req, "")) is not None)
            return
        if extra not in candidate.provides_extras:
            self.missing_extras.add((candidate.key, extra))
            return
        self.extra_dependencies[(candidate.key, extra)] = () if self.request.no_deps else tuple(
            self.dependency(applied, candidate, extra)
            for req in _by_extra(candidate.requires).of_extra(extra)
            if (applied := self.applying(req, extra)) is not None)

    def start(self) -> None:
        self._root = tuple(self.dependency(applied, None, None)
                           for req in self.request.requirements
                           if (applied := self.applying(req, "")) is not None)
        for name in self.installed:
            # Every release of an installed project may end up installed (kept, upgraded,
            # downgraded), so each must be choosable: read now, or free under lazy reading.
            releases = self.project(name).candidates
            for candidate in releases:
                if not self.lazy or candidate is releases[0] or candidate.installed:
                    self._enqueue(candidate, None)
        for constraint in self.request.constraints:
            self.project(canonicalize_name(constraint.name))

    def run(self) -> Universe:
        """Read everything queued, then take a snapshot.

        The queue is read a wave at a time, and sources are asked to prefetch what it needs
        (under lazy reading a candidate's metadata as it is queued, then the pages of the
        projects each candidate requires as soon as its metadata is in), so an index fetches
        them concurrently instead of one request after another. The order in which
        candidates are expanded, and so the universe, is the same as one by one."""
        while self._queue:
            wave = list(self._queue)
            self._queue.clear()
            if self._prefetching:
                self._prefetch(wave)
            for candidate, extra in wave:
                self._expand(candidate, extra)
        return self.snapshot()

    def _prefetch_metadata(self, candidate: Candidate) -> None:
        """Start reading a queued candidate's metadata now, not when its wave begins: the
        fetch then overlaps the rest of this wave (with 20 ms per request, waves of pages
        and metadata wait on each other otherwise). The same reads, only sooner."""
        source = self._source_of.get(candidate.key)
        if (source is not None and candidate.key not in self._complete
                and candidate.key not in self._late):
            source.prefetch((candidate,))

    def _prefetch(self, wave: list[tuple[Candidate, NormalizedName | None]]) -> None:
        """The pages of the projects the wave requires, each candidate's as soon as its
        metadata is in (lazy reading asked for that metadata when it queued the candidate)."""
        asked: set[NormalizedName] = set()  # this wave's, so a shared dependency is asked once
        for candidate, extra in wave:
            read = self._with_read_metadata(candidate) if self.lazy else candidate
            if read is None:
                continue
            if self.request.no_deps:
                continue
            index = _by_extra(read.requires)
            applied = [req for req in index.base if self.applying(req, "") is not None]
            if extra:
                applied += [req for req in index.of_extra(extra)
                            if self.applying(req, extra) is not None]
            wanted = {name for req in applied
                      if (name := self._names.get(req.name)
                          or self._canonical_name(req.name)) not in self.projects
                      and name not in asked}
            if wanted:
                asked |= wanted
                for source in self.sources:
                    source.prefetch_projects(sorted(wanted))

    def snapshot(self) -> Universe:
        diagnostics = list(self.diagnostics)
        for source in self.sources:
            diagnostics.extend(source.diagnostics())
        projects = self.projects
        if self.lazy:
            # A project with nothing read since the last snapshot is that snapshot's object:
            # rebuilding every project each round was most of a snapshot, and an unchanged
            # object tells the encoder (`Encoding.move_to`) there is nothing new to see.
            for name in self._read_since:
                self._shown.pop(name, None)
            self._read_since.clear()
            projects = {}
            for name, project in self.projects.items():
                shown = self._shown.get(name)
                if shown is None:
                    shown = self._shown[name] = self._with_metadata(project)
                projects[name] = shown
        # Every listed release of a project reached is choosable: read, or free. (Only the
        # matched ones would do for this snapshot, but a later round's requirements may match
        # others, and an encoding that grows round by round must have their variables.)
        free = frozenset(
            c.key for project in self.projects.values() for c in project.candidates
            if c.key not in self.dependencies and c.key not in self._late) if self.lazy \
            else frozenset()
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
                 source_policy: SourcePolicy | None = None, lazy: bool = False,
                 loaded: LoadedProjects | None = None) -> None:
        self._state = _Discovery(list(sources), target, request, source_policy or AdmitAll(),
                                 lazy, loaded)
        self._state.start()

    def run(self) -> Universe:
        return self._state.run()

    def expand(self, candidates: Iterable[Candidate], *, speculative: bool = False) -> None:
        """Queue free candidates to be read. `speculative` ones (not taken by a plan, read
        because a sibling was) load their dependencies' projects without reading the best
        match of each, as a taken candidate's dependencies do."""
        self._state.expand_all(candidates, speculative)


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
