"""Objectives: preferences as soft literals, one tier each, combined lexicographically.

An objective returns soft literals (literal, weight): the solver prefers each literal true and
minimises the total weight of the false ones. Tiers are strictly lexicographic: a later tier
never trades against an earlier one.

Default order (`DEFAULT_OBJECTIVES`): fewest removals, then break as few installed packages'
requirements as possible (only when breaking is allowed at all: otherwise they are hard, and
removing a package is the only way out; with breaking allowed, pip's behaviour of leaving
installed packages in place wins), fewest downgrades, keep installed versions, keep the
versions an earlier answer pinned, newest versions of what the user named, newest of what
those releases require, newest of the rest, fewest packages. Tiers about installed packages
are empty when nothing is installed, `keep-locked` when nothing was pinned before.

"Newest" is defined by rank: for each project, its usable versions are sorted newest first
and numbered 0, 1, 2, …; a project installed at rank r costs r ("r steps below the newest
usable version"). A project not installed costs nothing in the newest tiers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from packaging.utils import NormalizedName

from depsat.encoding.encoder import Encoding
from depsat.model import Request

__all__ = [
    "DEFAULT_OBJECTIVES",
    "FewestDowngrades",
    "FewestPackages",
    "FewestRemovals",
    "KeepInstalled",
    "KeepLocked",
    "NewestDirect",
    "NewestOther",
    "NewestRequired",
    "Objective",
    "OldestDirect",
    "OldestOther",
    "Unbroken",
    "prefers_oldest",
    "pruning_safe",
]


class Objective(Protocol):
    """A preference: soft literals over an encoding (it may add definitional hard clauses).

    An objective may also say ``pruning_safe = True``: replacing a release by a better-ranked
    one that dominates it (`depsat.encoding.dominance`) never raises its cost. Dominated
    releases are left out of the optimisation only when every tier says so."""

    name: str

    def soft_literals(self, encoding: Encoding) -> list[tuple[int, int]]: ...


def prefers_oldest(tiers: Iterable[str], name: NormalizedName, request: Request) -> bool:
    """Whether, among the tiers named, an oldest-version one covers the project `name` (and
    so no newest-version one does): what "better" means for its versions."""
    direct = name in request.direct_names
    return ("oldest-direct" if direct else "oldest-other") in set(tiers)


def pruning_safe(objectives: Sequence[Objective]) -> bool:
    """Whether dominated releases may be pruned under `objectives` (see `Objective`)."""
    return all(getattr(objective, "pruning_safe", False) for objective in objectives)


def _named(encoding: Encoding, *, direct: bool) -> list[NormalizedName]:
    """The projects you named (`direct`), or the others, sorted."""
    names = encoding.universe.request.direct_names
    return sorted(n for n in encoding.universe.projects if (n in names) is direct)


def _staleness(encoding: Encoding, names: list[NormalizedName]) -> list[tuple[int, int]]:
    return [(-ge, 1) for name in names for ge in encoding.staleness_ladder(name)]


def _oldness(encoding: Encoding, names: list[NormalizedName]) -> list[tuple[int, int]]:
    """Steps above the oldest usable version, for each project installed: the ladder's rungs
    left false while it is installed (`staleness_ladder`), each behind a fresh literal
    "not installed, or this rung holds".

    Prereleases that rank after every final release (`Project.fallback_rank` F) stay a
    fallback here too: the oldest final release costs 0 and the newest F - 1, and a fallback
    prerelease costs F, plus its steps above the oldest prerelease."""
    soft = []
    for name in names:
        project = encoding.universe.projects[name]
        ladder = encoding.staleness_ladder(name)
        oldest = max(project.ranks.values(), default=0)
        if not oldest:
            continue
        installed = encoding.project_installed(name)
        fallback = project.fallback_rank
        if fallback is None:
            soft += _rungs_held(encoding, name, ladder, [installed], 1, oldest)
            continue
        soft += _rungs_held(encoding, name, ladder, [installed], 1, fallback - 1)
        if fallback <= len(ladder):  # (otherwise no fallback prerelease is encoded)
            in_fallback = ladder[fallback - 1]
            tag = ("oldest", name, "fallback")
            if not encoding.defined(tag):
                encoding.hard.append([-encoding.fresh(tag), -installed, -in_fallback])
            soft.append((encoding.fresh(tag), fallback))
            soft += _rungs_held(encoding, name, ladder, [installed, in_fallback],
                                fallback + 1, oldest)
    return soft


def _rungs_held(encoding: Encoding, name: NormalizedName, ladder: list[int],
                guard: list[int], first: int, last: int) -> list[tuple[int, int]]:
    """Soft literals "`guard` (a conjunction) implies rung j", for rungs `first` … `last`:
    their cost is the rungs below `last` that the chosen rank leaves false. Rungs past the
    ladder (releases not encoded) are always false: one literal "not `guard`" weighs them."""
    soft = []
    for rung in range(first, min(last, len(ladder)) + 1):
        tag = ("oldest", name, rung)
        if not encoding.defined(tag):  # once, even when a lazy round re-asks
            encoding.hard.append([-encoding.fresh(tag), *(-g for g in guard), ladder[rung - 1]])
        soft.append((encoding.fresh(tag), 1))
    beyond = last - max(len(ladder), first - 1)
    if beyond > 0:
        if len(guard) == 1:
            soft.append((-guard[0], beyond))
        else:
            beyond_tag = ("oldest", name, "beyond", first)
            if not encoding.defined(beyond_tag):
                encoding.hard.append([-encoding.fresh(beyond_tag), *(-g for g in guard)])
            soft.append((encoding.fresh(beyond_tag), beyond))
    return soft


class NewestDirect:
    """Newest versions of the packages the user named, summed over those packages."""

    name = "newest-direct"
    pruning_safe = True

    def soft_literals(self, encoding: Encoding) -> list[tuple[int, int]]:
        return _staleness(encoding, _named(encoding, direct=True))


class NewestRequired:
    """Newest versions of what the releases you named require (their own requirements and
    those of their extras), before the rest: what a greedy resolver decides right after your
    requirements. Summed with the rest, a dozen CUDA packages that torch 2.14 pins, none of
    them at its newest, cost more than torch 2.8 sixteen releases back, and the plan for
    ``transformers[torch]`` on Python 3.10 took torch 2.8; uv, pip and poetry take the newest.
    A project is counted while some release of a project you named requires it
    (`Encoding.note_required`): reading more releases only adds to the tier, so lazy
    reading's relaxation stays a lower bound, and a release that requires less than a worse
    one never costs more here, so version pruning stays safe."""

    name = "newest-required"
    pruning_safe = True

    def soft_literals(self, encoding: Encoding) -> list[tuple[int, int]]:
        return [(-rung, 1) for name in sorted(encoding.required_var)
                for rung in encoding.required_ladder(name)]


class NewestOther:
    """Newest versions of every other package that ends up installed."""

    name = "newest-other"
    pruning_safe = True

    def soft_literals(self, encoding: Encoding) -> list[tuple[int, int]]:
        return _staleness(encoding, _named(encoding, direct=False))


class OldestDirect:
    """Oldest versions of the packages the user named (uv's ``--resolution lowest`` and
    ``lowest-direct``): a project installed at rank r of n usable versions costs n-1-r. To
    test that a project's lower bounds still hold, as CI matrices do."""

    name = "oldest-direct"

    def soft_literals(self, encoding: Encoding) -> list[tuple[int, int]]:
        return _oldness(encoding, _named(encoding, direct=True))


class OldestOther:
    """Oldest versions of every other package that ends up installed (``--resolution
    lowest``)."""

    name = "oldest-other"

    def soft_literals(self, encoding: Encoding) -> list[tuple[int, int]]:
        return _oldness(encoding, _named(encoding, direct=False))


def necessary_projects(encoding: Encoding) -> set[NormalizedName]:
    """Projects installed in every plan: what you require, what read-only layers hold, and
    (to a fixpoint) what every usable release of a necessary project requires."""
    universe = encoding.universe
    necessary = {dep.name for dep in universe.root if dep.matches}
    necessary |= {name for name, c in universe.installed.items()
                  if c.installed is not None and c.installed.read_only}
    frontier = list(necessary)
    while frontier:
        name = frontier.pop()
        releases = encoding.encoded(name)
        if not releases:
            continue
        common: set[NormalizedName] | None = None
        for candidate in releases:
            needs = {dep.name for dep in universe.dependencies.get(candidate.key, ())
                     if dep.matches}
            common = needs if common is None else common & needs
        for needed in (common or set()) - necessary:
            necessary.add(needed)
            frontier.append(needed)
    return necessary


class FewestPackages:
    """No package nobody needs: each installed project costs 1.

    Projects installed in every plan (`necessary_projects`) are counted as a constant offset
    instead of soft literals: the optimum is the same, and the core-guided solver no longer
    needs one core per necessary package to prove it.
    """

    name = "fewest-packages"
    pruning_safe = True

    def soft_literals(self, encoding: Encoding) -> list[tuple[int, int]]:
        necessary = necessary_projects(encoding)
        names = [name for name in sorted(encoding.universe.projects) if encoding.encoded(name)]
        encoding.offsets[self.name] = sum(1 for name in names if name in necessary)
        return [(-encoding.project_installed(name), 1) for name in names
                if name not in necessary]


class Unbroken:
    """Break as few installed packages' requirements as possible (only with
    ``allow_breaking``; otherwise they are hard)."""

    name = "unbroken"
    pruning_safe = True

    def soft_literals(self, encoding: Encoding) -> list[tuple[int, int]]:
        return [(-broken, 1) for _, broken in encoding.breakable]


class FewestRemovals:
    """Uninstall as few installed packages as possible (not in sync mode, which removes
    what nothing needs on purpose)."""

    name = "fewest-removals"
    pruning_safe = True

    def soft_literals(self, encoding: Encoding) -> list[tuple[int, int]]:
        universe = encoding.universe
        if universe.request.sync:
            return []
        return [(encoding.project_installed(name), 1) for name in sorted(universe.installed)
                if encoding.encoded(name)]


class FewestDowngrades:
    """Move as few installed packages to an older version as possible."""

    name = "fewest-downgrades"
    pruning_safe = True

    def soft_literals(self, encoding: Encoding) -> list[tuple[int, int]]:
        soft: list[tuple[int, int]] = []
        for name, installed in sorted(encoding.universe.installed.items()):
            older = [c for c in encoding.encoded(name) if c.version < installed.version]
            if older:
                tag = ("downgraded", name)
                if not encoding.defined(tag):  # once, even when a lazy round re-asks
                    encoding.hard.extend([-encoding.candidate_var(c), encoding.fresh(tag)]
                                         for c in older)
                soft.append((-encoding.fresh(tag), 1))
        return soft


class KeepInstalled:
    """Keep each installed package at its installed version while it stays installed
    (pip's ``only-if-needed``); packages named by ``--upgrade-package``/``--upgrade`` are
    free to move."""

    name = "keep-installed"
    pruning_safe = True

    def soft_literals(self, encoding: Encoding) -> list[tuple[int, int]]:
        soft: list[tuple[int, int]] = []
        request = encoding.universe.request
        for name, installed in sorted(encoding.universe.installed.items()):
            if request.upgrades(name) or installed.key not in encoding.var_of:
                continue
            tag = ("kept", name)
            if not encoding.defined(tag):  # once, even when a lazy round re-asks
                # kept ⇒ (not installed at all, or installed at exactly the installed one)
                encoding.hard.append([-encoding.fresh(tag), -encoding.project_installed(name),
                                      encoding.candidate_var(installed)])
            soft.append((encoding.fresh(tag), 1))
        return soft


class KeepLocked:
    """Keep each package an earlier answer pinned (`Request.preferred`) at that version while
    it stays installed, as ``uv pip compile -o`` and pip-compile prefer the pins already in
    their output file; ``--upgrade``/``--upgrade-package`` free them. A pinned version no
    longer offered is nothing to keep; one offered that no plan can take (nothing that may
    be installed asks for it) is kept only by leaving the package out."""

    name = "keep-locked"
    pruning_safe = True

    def soft_literals(self, encoding: Encoding) -> list[tuple[int, int]]:
        soft: list[tuple[int, int]] = []
        request = encoding.universe.request
        for name, version in sorted(request.preferred.items()):
            if name not in encoding.universe.projects:  # (not reached: nothing to keep)
                continue
            pinned = [c for c in encoding.encoded(name) if c.version == version]
            offered = pinned or any(c.version == version
                                    for c in encoding.universe.projects[name].candidates)
            if request.upgrades(name) or not offered:
                continue
            # (by its releases too: a later round may read the version from another index)
            tag = ("locked", name, *sorted(c.key for c in pinned))
            if not encoding.defined(tag):  # once, even when a lazy round re-asks
                # kept ⇒ (not installed at all, or installed at the pinned version)
                encoding.hard.append([-encoding.fresh(tag), -encoding.project_installed(name),
                                      *(encoding.candidate_var(c) for c in pinned)])
            soft.append((encoding.fresh(tag), 1))
        return soft


DEFAULT_OBJECTIVES: tuple[Objective, ...] = (
    FewestRemovals(), Unbroken(), FewestDowngrades(), KeepInstalled(), KeepLocked(),
    NewestDirect(), NewestRequired(), NewestOther(), FewestPackages(),
)
