"""Universal resolution: one set of pins, each with a marker, that installs correctly on every
environment a project supports (``uv pip compile --universal``, ``uv lock``).

uv forks its resolution when one package lists sibling requirements on another with disjoint
markers, and so fails where the markers that matter sit further apart (packse's
``fork-non-local-fork-marker-*``). Here the environments are divided as the resolutions read
them instead (`depsat.environments`): a cell of environments is resolved through one
environment standing for it, by the ordinary `resolve`; when a marker the plan depends on
(the request's, or a requirement of a release the plan takes, or a taken release's
Requires-Python) answers differently across the cell, the cell is split on it and each part
resolved again. A cell's plan therefore installs correctly on all of its environments, and
the pins are the plans of all cells, each marked with the union of the cells that take it.
Where a cell has no plan, the cell is split further while any marker its resolution read
divides it (only then does the failure hold on all of it), and the failure is that cell's.

With `exact`, a cell is also split on every marker its resolution read, taken or not, so
that each cell's plan is the best plan of every environment in it (the plan a resolve for
that one environment gives, tie-break included); without it, a cell the plan installs
correctly on is kept whole, as uv does, so fewer forks are made.

Wheel tags are not filtered (`Target.tags` None: every platform's wheels count), as in uv's
universal mode; Requires-Python is, per cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import attrs
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from depsat.api import Resolution, ResolveOptions, resolve
from depsat.environments import Cell, Comparison, PythonRange, Space, comparisons, marker_text
from depsat.errors import ConfigurationError
from depsat.model import Candidate, Request
from depsat.sources.base import Source
from depsat.target import Target

__all__ = ["Fork", "UniversalPin", "UniversalResolution", "python_range", "resolve_universal"]

_MAX_RESOLVES = 512
"""Resolves one universal resolution may run before it stops with an error (each split cell
is resolved again): a guard against markers that divide environments without end."""


@attrs.frozen(slots=True)
class Fork:
    """One cell of environments and its resolution."""

    cell: Cell
    marker: str
    """The cell as marker text ("" for every environment)."""
    resolution: Resolution

    @property
    def environment(self) -> dict[str, str]:
        return dict(self.resolution.universe.target.markers)


@attrs.frozen(slots=True)
class UniversalPin:
    """A release to install where `marker` holds ("" everywhere), taken by `forks`."""

    candidate: Candidate
    extras: frozenset[NormalizedName]
    marker: str
    forks: tuple[int, ...]


@attrs.frozen(slots=True)
class UniversalResolution:
    """The forks and their merged pins, or the fork (`failed`) where no plan exists."""

    request: Request
    space: Space
    forks: tuple[Fork, ...]
    pins: tuple[UniversalPin, ...]
    failed: Fork | None
    resolves: int
    """Resolutions run, split cells' included."""

    @property
    def ok(self) -> bool:
        return self.failed is None

    def pins_for(self, environment: dict[str, str]) -> list[UniversalPin]:
        """The pins whose markers hold in `environment`: what it installs."""
        return [pin for pin in self.pins
                if not pin.marker or Marker(pin.marker).evaluate(environment)]


def python_range(requires_python: SpecifierSet | str) -> PythonRange:
    """The Pythons a Requires-Python admits, as one range from its lowest bound: ``>=3.10``,
    ``>=3.9,<3.13``, ``~=3.10``, ``==3.11.*`` (``!=`` exclusions are left to the releases'
    own Requires-Python)."""
    specifiers = SpecifierSet(str(requires_python))
    low: Version | None = None
    high: Version | None = None
    for specifier in specifiers:
        version = Version(specifier.version.rstrip(".*"))
        release = (*version.release, 0, 0)[:3]
        padded = Version(".".join(map(str, release)))
        above = {"<": padded, "<=": Version(f"{release[0]}.{release[1]}.{release[2] + 1}")}
        if specifier.operator in (">=", "~=", "==", "==="):
            low = padded if low is None else max(low, padded)
        elif specifier.operator == ">":
            bumped = Version(f"{release[0]}.{release[1]}.{release[2] + 1}")
            low = bumped if low is None else max(low, bumped)
        if specifier.operator in above:
            bound = above[specifier.operator]
            high = bound if high is None else min(high, bound)
        elif specifier.operator == "~=" or specifier.version.endswith(".*"):
            parts = specifier.version.rstrip(".*").split(".")
            keep = len(parts) - 1 if specifier.operator == "~=" else len(parts)
            head = [int(p) for p in parts[:max(keep, 1)]]
            head[-1] += 1
            bound = Version(".".join(map(str, (*head, 0, 0)[:3])))
            high = bound if high is None else min(high, bound)
    if low is None:
        raise ConfigurationError(
            f"Requires-Python {requires_python} has no lower bound: universal resolution "
            "needs the oldest Python to support", "--python-version")
    if high is not None and high <= low:
        raise ConfigurationError(f"Requires-Python {requires_python} admits no Python",
                                 "--python-version")
    return PythonRange(low, high)


def resolve_universal(
    request: Request,
    sources: Iterable[Source],
    requires_python: SpecifierSet | str,
    options: ResolveOptions | None = None,
    *,
    exact: bool = False,
) -> UniversalResolution:
    """Resolve `request` for every environment with a Python that `requires_python` admits
    (its lowest bound is the oldest Python supported)."""
    sources = list(sources)
    pythons = python_range(requires_python)
    space = Space(pythons.low, Target.for_python(str(pythons.low)).markers).knowing(
        _request_comparisons(request))
    pending = [Cell(pythons)]
    forks: list[Fork] = []
    resolves = 0
    while pending:
        cell = pending.pop(0)
        resolves += 1
        if resolves > _MAX_RESOLVES:
            raise ConfigurationError(
                f"universal resolution stopped after {_MAX_RESOLVES} forks: the markers "
                "read divide the environments too finely", "--universal")
        resolution = resolve(request, sources, _target(cell, space), options)
        found = list(_request_comparisons(request))
        everything = exact or resolution.plan is None
        found += _release_comparisons(resolution, everything)
        space = space.knowing(found)
        splitter = next((c for c in found if not cell.uniform(c, space)), None)
        if splitter is not None:
            pending[:0] = cell.split(splitter, space)
            continue
        fork = Fork(cell, cell.condition(space), resolution)
        if resolution.plan is None:
            return UniversalResolution(request, space, tuple(forks), (), fork, resolves)
        forks.append(fork)
    forks.sort(key=lambda f: _order(f.cell))
    return UniversalResolution(request, space, tuple(forks), _pins(forks, space), None,
                               resolves)


def _target(cell: Cell, space: Space) -> Target:
    environment = cell.environment(space)
    return Target(python_version=Version(environment["python_full_version"]),
                  markers=environment, tags=None)


def _request_comparisons(request: Request) -> Iterator[Comparison]:
    for requirement in (*request.requirements, *request.constraints, *request.overrides):
        yield from comparisons(requirement.marker)


def _release_comparisons(resolution: Resolution, everything: bool) -> Iterator[Comparison]:
    """The markers and Requires-Python of the releases the plan takes, or (`everything`) of
    every release the resolution read or left out."""
    releases: Sequence[Candidate]
    if everything or resolution.plan is None:  # (a failure has no plan to read)
        releases = [candidate for project in resolution.universe.projects.values()
                    for candidate in (*project.candidates,
                                      *(e.candidate for e in project.exclusions))]
    else:
        releases = resolution.plan.chosen
    for candidate in releases:
        for requirement in candidate.requires:
            yield from comparisons(requirement.marker)
        for specifiers in {candidate.requires_python,
                           *(a.requires_python for a in candidate.artifacts)}:
            if specifiers is not None:
                yield from _python_comparisons(specifiers)


def _python_comparisons(specifiers: SpecifierSet) -> Iterator[Comparison]:
    for specifier in specifiers:
        yield Comparison("python_full_version",
                         f"python_full_version {specifier.operator} {specifier.version!r}",
                         specifier.version)


def _pins(forks: Sequence[Fork], space: Space) -> tuple[UniversalPin, ...]:
    taken: dict[object, tuple[Candidate, set[NormalizedName], list[int]]] = {}
    for index, fork in enumerate(forks):
        assert fork.resolution.plan is not None
        for step in fork.resolution.plan.steps:
            if step.candidate is None:
                continue
            entry = taken.setdefault(step.candidate.key, (step.candidate, set(), []))
            entry[1].update(step.extras)
            entry[2].append(index)
    pins = [UniversalPin(candidate, frozenset(extras),
                         marker_text([forks[i].cell for i in where], space), tuple(where))
            for candidate, extras, where in taken.values()]
    return tuple(sorted(pins, key=lambda p: (p.candidate.name, p.candidate.version)))


def _order(cell: Cell) -> tuple[Version, str]:
    return cell.python.low, repr([(k, sorted(v.values), v.complement)
                                  for k, v in cell.regions])
