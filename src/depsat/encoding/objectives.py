"""Objectives: preferences as soft literals, one tier each, combined lexicographically.

An objective returns soft literals (literal, weight): the solver prefers each literal true and
minimises the total weight of the false ones. Tiers are strictly lexicographic: a later tier
never trades against an earlier one.

"Newest" is defined by rank: for each project, its usable versions are sorted newest first
and numbered 0, 1, 2, …; a project installed at rank r costs r ("r steps below the newest
usable version"). A project not installed costs nothing in the newest tiers.
"""

from __future__ import annotations

from typing import Protocol

from packaging.utils import NormalizedName

from depsat.encoding.encoder import Encoding

__all__ = ["DEFAULT_OBJECTIVES", "FewestPackages", "NewestDirect", "NewestOther", "Objective"]


class Objective(Protocol):
    """A preference: soft literals over an encoding (it may add definitional hard clauses)."""

    name: str

    def soft_literals(self, encoding: Encoding) -> list[tuple[int, int]]: ...


def _staleness(encoding: Encoding, names: list[NormalizedName]) -> list[tuple[int, int]]:
    return [(-ge, 1) for name in names for ge in encoding.staleness_ladder(name)]


class NewestDirect:
    """Newest versions of the packages the user named, summed over those packages."""

    name = "newest-direct"

    def soft_literals(self, encoding: Encoding) -> list[tuple[int, int]]:
        direct = encoding.universe.request.direct_names
        return _staleness(encoding, sorted(n for n in encoding.universe.projects if n in direct))


class NewestOther:
    """Newest versions of every other package that ends up installed."""

    name = "newest-other"

    def soft_literals(self, encoding: Encoding) -> list[tuple[int, int]]:
        direct = encoding.universe.request.direct_names
        return _staleness(encoding,
                          sorted(n for n in encoding.universe.projects if n not in direct))


class FewestPackages:
    """No package nobody needs: each installed project costs 1."""

    name = "fewest-packages"

    def soft_literals(self, encoding: Encoding) -> list[tuple[int, int]]:
        return [(-encoding.project_installed(name), 1)
                for name in sorted(encoding.universe.projects)
                if encoding.universe.projects[name].candidates]


DEFAULT_OBJECTIVES: tuple[Objective, ...] = (NewestDirect(), NewestOther(), FewestPackages())
