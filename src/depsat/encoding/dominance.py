"""Dominated releases: ones a better release of the same project can always replace.

Release c of a project is dominated by a better-ranked release c' when

* every requirement (yours, any candidate's, any extra's) that c satisfies, c' satisfies too,
  and every constraint that admits c admits c';
* everything c' requires (for its base and for each extra) c requires too.

Then any plan with c stays a plan with c' in its place: nothing that needed c is left unmet,
and c' asks for nothing new. The swap lowers that project's rank and never adds a package,
so no optimum is lost by leaving c out; this is classic version pruning, and on generated
universes it removes most old releases before the solver sees them. Releases of installed
projects, of projects an earlier answer pinned (`Request.preferred`) and releases whose
dependencies are not read yet (lazy discovery) are never pruned, so the tiers about what is
installed or was pinned, and the relaxation argument, are untouched.

Explanations must not use a pruned encoding (facts would miss versions); `depsat.api`
encodes again without pruning when there is no plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import groupby, pairwise

import attrs
from packaging.utils import NormalizedName, canonicalize_name

from depsat.model import Candidate, CandidateKey
from depsat.universe import Dependency, Universe, meets

__all__ = ["dominated"]

Signature = frozenset[tuple[object, ...]]


def _signature(dependencies: Iterable[Dependency]) -> Signature:
    # Discovery shares one `matches` tuple per (project, specifier): its identity stands for
    # "the same requirement" without comparing specifiers again.
    return frozenset((d.name, id(d.matches), d.extras) for d in dependencies)


def _bits(mask: int) -> Iterator[int]:
    """Positions of the set bits, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


@attrs.define(slots=True, eq=False)
class _Releases:
    """A project's readable releases, best first, each one a bit of the masks below (bit i:
    ``releases[i]``)."""

    candidates: tuple[Candidate, ...]
    """All the project's candidates (readable or not)."""
    releases: list[Candidate] = attrs.field(factory=list)
    below: list[int] = attrs.field(factory=lambda: [0])
    """``below[k]``: the mask of the readable ones among ``candidates[:k]``."""
    bits: dict[CandidateKey, int] = attrs.field(factory=dict)
    """Each candidate's bit (0 when it is not readable)."""
    admitting: set[int] = attrs.field(factory=set)
    """Distinct masks of the releases that one requirement (or constraint) admits."""

    def within(self) -> list[int]:
        """Per release, the mask of the releases that everything admitting it admits."""
        rows = [(1 << len(self.releases)) - 1] * len(self.releases)
        for mask in self.admitting:
            low = mask & -mask
            if not mask & (mask + low):  # one run of releases, the usual case
                start, end = low.bit_length() - 1, mask.bit_length()
                rows[start:end] = [row & mask for row in rows[start:end]]
                continue
            rest = mask
            while rest:
                low = rest & -rest
                rows[low.bit_length() - 1] &= mask
                rest ^= low
        return rows


def dominated(universe: Universe) -> frozenset[CandidateKey]:
    """Keys of releases that a better release of the same project dominates."""
    projects: dict[NormalizedName, _Releases] = {}
    place: dict[CandidateKey, tuple[_Releases, int]] = {}  # project, position in candidates
    expanded = universe.dependencies
    preferred = universe.request.preferred
    for name, project in universe.projects.items():
        if name in universe.installed or name in preferred:
            continue
        entry = _Releases(project.candidates)
        releases, below, bits = entry.releases, entry.below, entry.bits
        for position, candidate in enumerate(project.candidates):
            key = candidate.key
            place[key] = (entry, position)
            if key in expanded:
                bits[key] = 1 << len(releases)
                releases.append(candidate)
            else:
                bits[key] = 0
            below.append(below[-1] | bits[key])
        if len(releases) > 1:  # a single release has nothing to compare with
            projects[name] = entry

    # "Whatever admits c admits b", over all requirements and constraints at once: `within`
    # gives per release the mask of the releases that every requirement admitting it also
    # admits, so that test is one bit. Requirements are told apart by their shared `matches`
    # tuple (as in `_signature`); each becomes a mask of readable releases, found as a slice
    # of the project's candidates when it is one (nearly always), and equal masks count once.
    extras_asked: dict[NormalizedName, set[NormalizedName]] = {}
    requirements: dict[int, tuple[Candidate, ...]] = {}
    for group in (universe.root, *universe.dependencies.values(),
                  *universe.extra_dependencies.values()):
        for dependency in group:
            requirements[id(dependency.matches)] = dependency.matches
            if dependency.extras:
                extras_asked.setdefault(dependency.name, set()).update(dependency.extras)
    admitted: list[Sequence[Candidate]] = []
    for matches in requirements.values():
        found = place.get(matches[0].key) if matches else None
        if found is not None:
            entry, start = found
            end = start + len(matches)
            if entry.candidates[start:end] == matches:
                entry.admitting.add(entry.below[end] ^ entry.below[start])
                continue
        admitted.append(matches)
    for constraint in universe.request.constraints:
        constrained = universe.projects.get(canonicalize_name(constraint.name))
        if constrained is not None:
            admitted.append([c for c in constrained.candidates
                             if meets(constraint, c, constrained)])
    for members in admitted:
        found = place.get(members[0].key) if members else None
        if found is not None:  # usually all of one project: look each one up there
            bits, mask = found[0].bits, 0
            for member in members:
                bit = bits.get(member.key)
                if bit is None:
                    break
                mask |= bit
            else:
                found[0].admitting.add(mask)
                continue
        masks: dict[_Releases, int] = {}
        for member in members:
            found = place.get(member.key)
            if found is not None:
                masks[found[0]] = masks.get(found[0], 0) | found[0].bits[member.key]
        for entry, mask in masks.items():
            entry.admitting.add(mask)

    def needs(candidate: Candidate, extra: NormalizedName | None) -> Signature | None:
        if extra is None:
            return _signature(universe.dependencies.get(candidate.key, ()))
        if (candidate.key, extra) in universe.missing_extras:
            return frozenset()
        found = universe.extra_dependencies.get((candidate.key, extra))
        return None if found is None else _signature(found)

    pruned: set[CandidateKey] = set()
    for name, entry in projects.items():
        releases = entry.releases
        within = entry.within()
        better_ranked = _better_ranked([universe.projects[name].ranks[c.key]
                                        for c in releases])
        asked = sorted(extras_asked.get(name, ()))
        kept = 0  # earlier releases not pruned: dominance is transitive, so they suffice
        if not asked:  # base requirements only: one signature each, never None
            signatures: list[Signature] = []
            for i, candidate in enumerate(releases):
                mine = _signature(expanded.get(candidate.key, ()))
                signatures.append(mine)
                betters = within[i] & better_ranked[i] & kept
                if betters and any(signatures[j] <= mine for j in _bits(betters)):
                    pruned.add(candidate.key)
                else:
                    kept |= 1 << i
            continue
        profiles: list[list[Signature | None]] = []
        for i, candidate in enumerate(releases):
            profile = [needs(candidate, None), *(needs(candidate, e) for e in asked)]
            profiles.append(profile)
            betters = within[i] & better_ranked[i] & kept
            if betters and all(signature is not None for signature in profile) and any(
                    _covered(profiles[j], profile) for j in _bits(betters)):
                pruned.add(candidate.key)
            else:
                kept |= 1 << i
    return frozenset(pruned)


def _better_ranked(ranks: list[int]) -> list[int]:
    """Per release, the mask of the releases of a lower (better) rank."""
    if all(a < b for a, b in pairwise(ranks)):  # the usual: each rank its own level
        return [(1 << i) - 1 for i in range(len(ranks))]
    masks = [0] * len(ranks)
    lower = 0
    for _, level in groupby(sorted(range(len(ranks)), key=ranks.__getitem__),
                            key=ranks.__getitem__):
        positions = list(level)
        for i in positions:
            masks[i] = lower
        for i in positions:
            lower |= 1 << i
    return masks


def _covered(theirs: list[Signature | None], ours: list[Signature | None]) -> bool:
    """Whether we require everything they require, for the base and each extra."""
    return all(t is not None and o is not None and t <= o
               for t, o in zip(theirs, ours, strict=True))
