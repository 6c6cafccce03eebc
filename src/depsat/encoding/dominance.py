"""Dominated releases: ones a better release of the same project can always replace.

Release c of a project is dominated by a better-ranked release c' when

* every requirement (yours, any candidate's, any extra's) that c satisfies, c' satisfies too,
  and every constraint that admits c admits c';
* everything c' requires (for its base and for each extra) c requires too.

Then any plan with c stays a plan with c' in its place: nothing that needed c is left unmet,
and c' asks for nothing new. The swap lowers that project's rank and never adds a package,
so no optimum is lost by leaving c out; this is classic version pruning, and on generated
universes it removes most old releases before the solver sees them. Releases of installed
projects and releases whose dependencies are not read yet (lazy discovery) are never pruned,
so the tiers about what is installed, and the relaxation argument, are untouched.

Explanations must not use a pruned encoding (facts would miss versions); `depsat.api`
encodes again without pruning when there is no plan.
"""

from __future__ import annotations

from collections.abc import Iterable

from packaging.utils import NormalizedName, canonicalize_name

from depsat.model import Candidate, CandidateKey
from depsat.universe import Dependency, Universe

__all__ = ["dominated"]

Signature = frozenset[tuple[object, ...]]


def _signature(dependencies: Iterable[Dependency]) -> Signature:
    # Discovery shares one `matches` tuple per (project, specifier): its identity stands for
    # "the same requirement" without comparing specifiers again.
    return frozenset((d.name, id(d.matches), d.extras) for d in dependencies)


def dominated(universe: Universe) -> frozenset[CandidateKey]:
    """Keys of releases that a better release of the same project dominates."""
    satisfies: dict[CandidateKey, set[int]] = {}
    requirements: list[Dependency] = list(universe.root)
    for deps in universe.dependencies.values():
        requirements.extend(deps)
    for deps in universe.extra_dependencies.values():
        requirements.extend(deps)
    for dependency in requirements:
        for match in dependency.matches:
            satisfies.setdefault(match.key, set()).add(id(dependency.matches))
    allowed_by: dict[CandidateKey, set[int]] = {}
    for number, constraint in enumerate(universe.request.constraints):
        name = canonicalize_name(constraint.name)
        project = universe.projects.get(name)
        for candidate in project.candidates if project else ():
            if constraint.specifier.contains(candidate.version, prereleases=True):
                allowed_by.setdefault(candidate.key, set()).add(number)

    extras_asked: dict[NormalizedName, set[NormalizedName]] = {}
    for dependency in requirements:
        if dependency.extras:
            extras_asked.setdefault(dependency.name, set()).update(dependency.extras)

    def needs(candidate: Candidate, extra: NormalizedName | None) -> Signature | None:
        if extra is None:
            return _signature(universe.dependencies.get(candidate.key, ()))
        if (candidate.key, extra) in universe.missing_extras:
            return frozenset()
        found = universe.extra_dependencies.get((candidate.key, extra))
        return None if found is None else _signature(found)

    pruned: set[CandidateKey] = set()
    for name, project in universe.projects.items():
        if name in universe.installed:
            continue
        readable = [c for c in project.candidates if universe.expanded(c)]
        asked = sorted(extras_asked.get(name, ()))
        profiles: list[tuple[Candidate, set[int], set[int], list[Signature | None]]] = []
        for candidate in readable:  # best first
            profile = (candidate, satisfies.get(candidate.key, set()),
                       allowed_by.get(candidate.key, set()),
                       [needs(candidate, None), *(needs(candidate, e) for e in asked)])
            for better, better_satisfies, better_allowed, better_needs in profiles:
                if better.key in pruned or project.ranks[better.key] >= project.ranks[
                        candidate.key]:
                    continue
                if (profile[1] <= better_satisfies and profile[2] <= better_allowed
                        and all(mine is not None and theirs is not None and theirs <= mine
                                for theirs, mine in zip(better_needs, profile[3],
                                                        strict=True))):
                    pruned.add(candidate.key)
                    break
            profiles.append(profile)
    return frozenset(pruned)
