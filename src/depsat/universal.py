"""Universal resolution: one set of pins, each with a marker, that installs correctly on every
environment a project supports (``uv pip compile --universal``, ``uv lock``).

The environments are divided into cells (`depsat.environments`), starting from one cell of
them all, and each cell is resolved once, by the ordinary `resolve`, for an environment that
stands for it in which a marker holds where it holds in *some* environment of the cell
(`Target.marker_holds`): every requirement that may apply is taken. The plan then installs
correctly anywhere in the cell once each release is kept to where something that holds there
requires it, so each pin's marker is the union of the classes of environments whose own
traversal of the plan reaches it (`_installed`, over the classes the plan's markers tell
apart), written as short as the classes allow.

Taking every requirement that may apply can cost a better plan, so a cell is split (its parts
resolved again) on the comparisons that would change the answer:

* a Requires-Python of a release the plan takes, or of a newer release of its project that
  the plan's Python rules out: a Python that can have the newer release gets it, as uv forks;
* a requirement that holds in part of the cell and holds a package back (a newer release
  meets every requirement on the package that holds all over the cell, not this one), where
  the package is installed without it: uv forks on sibling requirements of one package with
  different markers only, and so finds no resolution where they sit further apart (packse's
  ``fork-non-local-fork-marker-*``);
* sibling requirements of a newer release that no version meets together (``c==1`` on
  Linux, ``c==2`` elsewhere): taken together they rule the release out;
* the markers of constraints and overrides, which apply only where they hold;
* the markers of an earlier lock's pins of a package it pinned more than once (``-o FILE``),
  so that each part keeps the version that lock gave it while it fits.

A cell with no plan is split on every comparison its resolution read until none divides it:
only then does the failure hold on all of it (the failure is that cell's). With `exact`,
markers are evaluated in the standing environment and every cell is split that way, so that
each cell's plan is the best plan of each of its environments (the plan a resolve for that
one environment gives), at the price of many more forks (jupyterlab: over 500).

Cells no machine can be in (`Cell.possible`: FreeBSD's system on win32) and, with
`environments`, cells where none of those markers holds are skipped. Wheel tags are not
filtered (`Target.tags` None: every platform's wheels count), as in uv's universal mode;
Requires-Python is, per cell, upper bounds only if the request reads them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from functools import partial

import attrs
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from depsat.api import Resolution, ResolveOptions, resolve
from depsat.environments import Cell, Comparison, PythonRange, Space, comparisons, marker_text
from depsat.errors import ConfigurationError
from depsat.model import Candidate, ExclusionKind, Request
from depsat.sources.base import Source
from depsat.target import Target
from depsat.universe import Dependency, LoadedProjects

__all__ = ["FORK_STRATEGIES", "Fork", "MergedFork", "UniversalPin", "UniversalResolution",
           "python_range", "resolve_universal"]

FORK_STRATEGIES = ("requires-python", "fewest")
"""uv's ``--fork-strategy``: each fork's best plan (the default), or fewest versions."""

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
class MergedFork:
    """Forks whose plans are the same (each release, with the same extras), with one marker
    for all their cells, as uv merges identical forks (its lock's ``resolution-markers``)."""

    marker: str
    """The forks' cells as marker text ("" for every environment)."""
    forks: tuple[int, ...]
    """Indexes into `UniversalResolution.forks`."""


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
    """Each release with the extras it is installed with where its marker holds: one pin
    per set of extras (``b[x]`` on Linux, ``b`` elsewhere)."""
    failed: Fork | None
    resolves: int
    """Resolutions run, split cells' included."""
    bare_pins: tuple[UniversalPin, ...] = ()
    """Each release once, without extras, where it is installed with any (``--strip-extras``:
    the extras' own requirements are pins of their own anyway)."""
    merged: tuple[MergedFork, ...] = ()
    """The forks, those with the same plan taken together: what the lock tells apart. The
    resolves split cells as far as the markers read divide them, and neighbouring cells
    often end with the same plan (transformers[torch]: 26 forks, 17 plans)."""

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
    try:
        specifiers = SpecifierSet(str(requires_python))
    except InvalidSpecifier as exc:
        raise ConfigurationError(f"invalid Requires-Python {str(requires_python)!r}",
                                 "requires-python") from exc
    low: Version | None = None
    high: Version | None = None
    for specifier in specifiers:
        version = Version(specifier.version.rstrip(".*"))
        release = (*version.release, 0, 0)[:3]
        padded = Version(".".join(map(str, release)))
        after = Version(f"{release[0]}.{release[1]}.{release[2] + 1}")
        above = {"<": padded, "<=": after}
        if specifier.operator in ("==", "===") and not specifier.version.endswith(".*"):
            above[specifier.operator] = after  # (exactly that Python)
        if specifier.operator in (">=", "~=", "==", "==="):
            low = padded if low is None else max(low, padded)
        elif specifier.operator == ">":
            low = after if low is None else max(low, after)
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
    locked: Sequence[Requirement] = (),
    environments: Sequence[Marker] = (),
    fork_strategy: str = "requires-python",
) -> UniversalResolution:
    """Resolve `request` for every environment with a Python that `requires_python` admits
    (its lowest bound is the oldest Python supported). `locked`: the pins of an earlier
    lock (``name==version ; marker``), preferred where their markers hold (in each cell's
    standing environment) as `Request.preferred` is. `environments`: only those where one
    of these markers holds (uv's ``tool.uv.environments``); the others are neither resolved
    nor failed, and no pin's marker holds there. `fork_strategy`, as uv's: each fork's best
    plan (``requires-python``, the newest each Python can have), or ``fewest`` versions of
    each package (`_fewest`)."""
    if fork_strategy not in FORK_STRATEGIES:
        raise ConfigurationError(f"unknown fork strategy {fork_strategy!r} (use "
                                 f"{' or '.join(FORK_STRATEGIES)})", "--fork-strategy")
    sources = list(sources)
    pythons = python_range(requires_python)
    forked = list(_locked_forks(locked))
    supported = [c for marker in environments for c in comparisons(marker)]
    space = Space(pythons.low, Target.for_python(str(pythons.low)).markers).knowing(
        [*_request_comparisons(request), *forked, *supported])
    pending = [Cell(pythons)]
    forks: list[Fork] = []
    resolves = 0
    known: dict[tuple[object, ...], bool] = {}  # (`_may_hold`)
    loaded = LoadedProjects()  # (shared by every resolve: each Python loads a project once)
    unsupported: list[Cell] = []
    while pending:
        cell = pending.pop(0)
        if not cell.possible(space):
            continue  # (no machine has its environments: nothing to resolve, nor to mark)
        if environments:
            dividing = [c for c in supported if not cell.uniform(c, space)]
            if dividing:  # (split before resolving: no part needs resolving twice)
                axis = dividing[0].axis
                pending[:0] = cell.split([c for c in dividing if c.axis == axis], space)
                continue
            standing = cell.environment(space)
            if not any(_evaluates(marker, standing) for marker in environments):
                unsupported.append(cell)  # (no environment of the cell is supported)
                continue
        resolves += 1
        if resolves > _MAX_RESOLVES:
            raise ConfigurationError(
                f"universal resolution stopped after {_MAX_RESOLVES} resolves: the "
                "markers read divide the environments too finely", "--universal")
        target = _target(cell, space, exact, known)
        asked = (attrs.evolve(request, preferred=_preferred(locked, target)) if locked
                 else request)
        resolution = resolve(asked, sources, target, options, loaded=loaded)
        everything = exact or resolution.plan is None
        found = [*_request_comparisons(request),
                 *_release_comparisons(resolution, everything, request.python_upper_bounds)]
        space = space.knowing(found)
        if not everything:
            python = list(_python_comparisons_of_plan(resolution, request.python_upper_bounds))
            siblings = [*_parting_siblings(resolution), *_unmet_in_part(resolution)]
            space = space.knowing([*python, *siblings])  # (newer releases' constants too)
            found = [*_fixed_comparisons(request), *python, *siblings, *forked,
                     *_contested(resolution, cell, space)]
        dividing = [c for c in dict.fromkeys(found) if not cell.uniform(c, space)]
        if dividing:
            axis = dividing[0].axis
            pending[:0] = cell.split([c for c in dividing if c.axis == axis], space)
            continue
        fork = Fork(cell, cell.condition(space), resolution)
        if resolution.plan is None:
            return UniversalResolution(request, space, tuple(forks), (), fork, resolves,
                                       merged=_merged(forks, space, [*unsupported, cell,
                                                                     *pending]))
        forks.append(fork)
    forks.sort(key=lambda f: _order(f.cell))
    if fork_strategy == "fewest":
        forks = _fewest(forks, request, sources, space, known, locked, options, loaded)
    pins, bare = _pins(forks, space, unsupported)
    return UniversalResolution(request, space, tuple(forks), pins, None, resolves, bare,
                               _merged(forks, space, unsupported))


def _merged(forks: Sequence[Fork], space: Space,
            others: Sequence[Cell]) -> tuple[MergedFork, ...]:
    """The forks grouped by plan (`MergedFork`), in the order of each group's first fork;
    each group's marker reaches as far as the other groups and the `others` cells (not
    supported, or not resolved) let it."""
    groups: dict[frozenset[object], list[int]] = {}
    for index, fork in enumerate(forks):
        assert fork.resolution.plan is not None
        taken = frozenset((step.candidate.key, step.extras)
                          for step in fork.resolution.plan.steps if step.candidate is not None)
        groups.setdefault(taken, []).append(index)
    partition = [*others, *(fork.cell for fork in forks)]
    return tuple(MergedFork(marker_text([forks[i].cell for i in members], space, partition),
                            tuple(members))
                 for members in groups.values())


def _fewest(forks: list[Fork], request: Request, sources: Sequence[Source], space: Space,
            known: dict[tuple[object, ...], bool], locked: Sequence[Requirement],
            options: ResolveOptions | None, loaded: LoadedProjects) -> list[Fork]:
    """uv's ``--fork-strategy fewest``: each fork resolved again preferring, for a package
    the forks took in several versions, the oldest of them (``keep-locked``, above the
    newest versions): where it fits, one version serves them all (requests 2.32.5 on every
    Python, not 2.34.2 from 3.10 on). A fork whose new plan takes a release its Pythons do
    not all admit keeps its first plan."""
    versions: dict[NormalizedName, set[Version]] = {}
    for fork in forks:
        assert fork.resolution.plan is not None
        for candidate in fork.resolution.plan.chosen:
            versions.setdefault(candidate.name, set()).add(candidate.version)
    oldest = {name: min(found) for name, found in versions.items() if len(found) > 1}
    if not oldest:
        return forks
    again = []
    for fork in forks:
        target = _target(fork.cell, space, False, known)
        preferred = {**(_preferred(locked, target) if locked else {}), **oldest}
        resolution = resolve(attrs.evolve(request, preferred=preferred), sources, target,
                             options, loaded=loaded)
        python = [c for candidate in (resolution.plan.chosen if resolution.plan else ())
                  for c in _requires_python_of(candidate, request.python_upper_bounds)]
        knowing = space.knowing(python)  # (once: a new space copies every constant)
        fits = resolution.plan is not None and all(fork.cell.uniform(c, knowing)
                                                   for c in python)
        again.append(Fork(fork.cell, fork.marker, resolution) if fits else fork)
    return again


def _evaluates(marker: Marker, environment: dict[str, str]) -> bool:
    return marker.evaluate({**environment, "extra": ""})


def _target(cell: Cell, space: Space, exact: bool,
            known: dict[tuple[object, ...], bool] | None = None) -> Target:
    """The environment standing for the cell; unless `exact`, a marker holds where it holds
    in some environment of the cell (the requirement is taken, its pin marked; `known`
    remembers the answers)."""
    environment = cell.environment(space)
    holds = None if exact else partial(_may_hold, cell, space, {} if known is None else known)
    return Target(python_version=Version(environment["python_full_version"]),
                  markers=environment, tags=None, marker_holds=holds)


def _locked_forks(locked: Sequence[Requirement]) -> Iterator[Comparison]:
    """The markers of an earlier lock's pins of packages it pins more than once: the cells
    are split on them, so that each keeps the version the lock gave it."""
    by_name: dict[NormalizedName, list[Requirement]] = {}
    for pin in locked:
        by_name.setdefault(canonicalize_name(pin.name), []).append(pin)
    for pins in by_name.values():
        if len(pins) > 1:
            for pin in pins:
                yield from comparisons(pin.marker)


def _preferred(locked: Sequence[Requirement], target: Target,
               ) -> dict[NormalizedName, Version]:
    """The versions `locked` pins where `target`'s environment is."""
    found: dict[NormalizedName, Version] = {}
    for pin in locked:
        if pin.marker is None or pin.marker.evaluate(dict(target.markers)):
            found[canonicalize_name(pin.name)] = Version(next(iter(pin.specifier)).version)
    return found


def _may_hold(cell: Cell, space: Space, known: dict[tuple[object, ...], bool],
              marker: Marker, extra: str) -> bool:
    """`Cell.may_hold`, remembered across the cells' resolves by what it reads of the cell:
    most cells share the regions of most variables."""
    key = (str(marker), extra, cell.reach(marker))
    found = known.get(key)
    if found is None:
        found = known[key] = cell.may_hold(marker, extra, space)
    return found


def _request_comparisons(request: Request) -> Iterator[Comparison]:
    for requirement in (*request.requirements, *request.constraints, *request.overrides):
        yield from comparisons(requirement.marker)


def _fixed_comparisons(request: Request) -> Iterator[Comparison]:
    """The markers of constraints and overrides: they apply where they hold, not "where
    they may", so a cell they divide is split."""
    for requirement in (*request.constraints, *request.overrides):
        yield from comparisons(requirement.marker)


def _release_comparisons(resolution: Resolution, everything: bool, upper_bounds: bool,
                         ) -> Iterator[Comparison]:
    """The markers and Requires-Python of the releases the plan takes, or (`everything`) of
    every release the resolution read or left out."""
    universe = resolution.universe
    if everything or resolution.plan is None:  # (a failure has no plan to read)
        for project in universe.projects.values():
            for candidate in (*project.candidates, *(e.candidate for e in project.exclusions)):
                yield from _markers_of(candidate)
                yield from _requires_python_of(candidate, upper_bounds)
        return
    for candidate in resolution.plan.chosen:
        yield from _markers_of(candidate)
        yield from _requires_python_of(candidate, upper_bounds)


def _python_comparisons_of_plan(resolution: Resolution, upper_bounds: bool,
                                ) -> Iterator[Comparison]:
    """The Requires-Python of the releases the plan takes (each must install on every Python
    of the cell), and of the newer releases of their projects that it rules out: a Python
    that can have a newer release gets it (uv forks on Requires-Python too)."""
    assert resolution.plan is not None
    for candidate in resolution.plan.chosen:
        yield from _requires_python_of(candidate, upper_bounds)
        project = resolution.universe.projects.get(candidate.name)
        for exclusion in project.exclusions if project is not None else ():
            if (exclusion.kind is ExclusionKind.REQUIRES_PYTHON
                    and exclusion.candidate.version > candidate.version):
                yield from _requires_python_of(exclusion.candidate, upper_bounds)


def _contested(resolution: Resolution, cell: Cell, space: Space) -> Iterator[Comparison]:
    """The markers of the requirements that hold in part of the cell and hold a package back:
    a newer release meets every requirement on it that holds in all of the cell, but not
    these. Where they do not hold, the newer release may be had, so the cell is split there
    (uv forks on sibling requirements of one package with different markers; these need not
    be siblings, and a requirement that binds nothing makes no fork)."""
    assert resolution.plan is not None
    asked: dict[NormalizedName, list[Dependency]] = {}
    for dependency in _active_dependencies(resolution):
        asked.setdefault(dependency.name, []).append(dependency)
    projects = resolution.universe.projects
    traversals: list[tuple[dict[NormalizedName, set[NormalizedName]], set[int]]] | None = None
    uniform: dict[Comparison, bool] = {}  # (requirements share their markers' comparisons)
    for candidate in resolution.plan.chosen:
        somewhere: list[Dependency] = []
        everywhere: list[Dependency] = []
        for dependency in asked.get(candidate.name, ()):
            found = list(comparisons(dependency.requirement.marker))
            for comparison in found:
                if comparison not in uniform:
                    uniform[comparison] = cell.uniform(comparison, space)
            whole = all(uniform[c] for c in found)
            (everywhere if whole else somewhere).append(dependency)
        if not somewhere or candidate.name not in projects:
            continue
        allowed = [{m.key for m in d.matches} for d in everywhere]
        newer = [r for r in projects[candidate.name].candidates
                 if r.version > candidate.version and all(r.key in a for a in allowed)]
        if not newer:
            continue
        best = max(newer, key=lambda r: r.version)
        binding = [d for d in somewhere if best.key not in {m.key for m in d.matches}]
        if binding and traversals is None:
            traversals = [_traversal(resolution, part.environment(space))
                          for part in cell.classes(_plan_comparisons(resolution), space)]
        for dependency in binding:
            # Only where the package is installed without this requirement can a fork give
            # it a newer release (torch's nvidia-* pins come with torch alone: no fork).
            if any(candidate.name in installed and id(dependency) not in active
                   for installed, active in traversals or ()):
                yield from comparisons(dependency.requirement.marker)


def _parting_siblings(resolution: Resolution) -> Iterator[Comparison]:
    """The markers of sibling requirements that no version meets together, in the releases
    read that are newer than the plan's: taken together where each may hold, they rule such
    a release out (a 2.0 asks c==1 on Linux and c==2 elsewhere), and in each part of a split
    it may be had. uv forks on such siblings too."""
    for marked in _newer_releases_marked(resolution):
        by_package: dict[NormalizedName, list[Dependency]] = {}
        for dependency in marked:
            by_package.setdefault(dependency.name, []).append(dependency)
        for siblings in by_package.values():
            if len(siblings) > 1 and not set.intersection(
                    *({m.key for m in d.matches} for d in siblings)):
                for dependency in siblings:
                    yield from comparisons(dependency.requirement.marker)


def _unmet_in_part(resolution: Resolution) -> Iterator[Comparison]:
    """The markers of requirements that nothing can meet, in the releases read that are
    newer than the plan's: where such a marker may hold the release is ruled out, but
    elsewhere it may be had. scrapy 2 asks ``PyPyDispatcher ; platform_python_implementation
    == 'PyPy'``, whose releases need a build to be read: without this split every Python
    got scrapy 1.4.0, the last release without it."""
    choosable = resolution.universe.choosable
    for marked in _newer_releases_marked(resolution):
        for dependency in marked:
            if not any(choosable(match) for match in dependency.matches):
                yield from comparisons(dependency.requirement.marker)


def _newer_releases_marked(resolution: Resolution) -> Iterator[list[Dependency]]:
    """Per release read that is newer than the one the plan takes of its project, its
    requirements that have a marker."""
    assert resolution.plan is not None
    universe = resolution.universe
    for chosen in resolution.plan.chosen:
        project = universe.projects.get(chosen.name)
        for release in project.candidates if project is not None else ():
            if release.version > chosen.version:
                yield [d for d in universe.dependencies.get(release.key, ())
                       if d.requirement.marker is not None]


def _active_dependencies(resolution: Resolution) -> Iterator[Dependency]:
    """The root's requirements and those of every release the plan takes (with its extras)."""
    assert resolution.plan is not None
    universe = resolution.universe
    yield from universe.root
    for step in resolution.plan.steps:
        if step.candidate is None:
            continue
        yield from universe.dependencies.get(step.candidate.key, ())
        for extra in step.extras:
            yield from universe.extra_dependencies.get((step.candidate.key, extra), ())


def _markers_of(candidate: Candidate) -> Iterator[Comparison]:
    for requirement in candidate.requires:
        yield from comparisons(requirement.marker)


def _requires_python_of(candidate: Candidate, upper_bounds: bool) -> Iterator[Comparison]:
    """A release's Requires-Python, as comparisons of the Python version; its upper bounds
    only when they are read (`Request.python_upper_bounds`, as the filter reads them)."""
    # (Told apart by identity, not by hashing each set: a page's files share one object per
    # Requires-Python text, and a release of torch lists dozens of files.)
    distinct = {id(s): s for s in (candidate.requires_python,
                                   *(a.requires_python for a in candidate.artifacts))}
    for specifiers in distinct.values():
        for specifier in specifiers or ():
            if not upper_bounds and specifier.operator in ("<", "<="):
                continue
            yield Comparison("python_full_version",
                             f"python_full_version {specifier.operator} {specifier.version!r}",
                             specifier.version)


def _plan_comparisons(resolution: Resolution) -> list[Comparison]:
    """The comparisons of the markers of the plan's requirements: the classes they tell
    apart are those on which the plan installs the same."""
    return [c for d in _active_dependencies(resolution)
            for c in comparisons(d.requirement.marker)]


def _installed(resolution: Resolution, environment: dict[str, str],
               ) -> dict[NormalizedName, set[NormalizedName]]:
    """What the fork's plan installs in one environment, with the extras: the root's
    requirements that hold there, and on from each release installed through its
    requirements that hold there (the plan took every requirement that may hold)."""
    return _traversal(resolution, environment)[0]


def _traversal(resolution: Resolution, environment: dict[str, str],
               ) -> tuple[dict[NormalizedName, set[NormalizedName]], set[int]]:
    """`_installed`, and the requirements (their `id`) that apply there."""
    assert resolution.plan is not None
    universe = resolution.universe
    chosen = {c.name: c for c in resolution.plan.chosen}
    installed: dict[NormalizedName, set[NormalizedName]] = {}
    active: set[int] = set()
    todo: deque[tuple[NormalizedName, NormalizedName | None]] = deque()

    def follow(dependencies: Iterable[Dependency], extra: str) -> None:
        for dependency in dependencies:
            marker = dependency.requirement.marker
            if marker is not None and not marker.evaluate({**environment, "extra": extra}):
                continue
            active.add(id(dependency))
            if dependency.name not in chosen:
                continue  # (a requirement of an extra the release lacks)
            extras = installed.get(dependency.name)
            if extras is None:
                extras = installed[dependency.name] = set()
                todo.append((dependency.name, None))
            for new in dependency.extras - extras:
                extras.add(new)
                todo.append((dependency.name, new))

    follow(universe.root, "")
    while todo:
        name, extra = todo.popleft()
        key = chosen[name].key
        if extra is None:
            follow(universe.dependencies.get(key, ()), "")
        else:
            follow(universe.extra_dependencies.get((key, extra), ()), extra)
    return installed, active


def _pins(forks: Sequence[Fork], space: Space, unsupported: Sequence[Cell] = (),
          ) -> tuple[tuple[UniversalPin, ...], tuple[UniversalPin, ...]]:
    """Each release some fork installs somewhere, with the union of the classes of
    environments that install it as its marker: in each fork, the classes its requirements'
    markers tell apart, each traversed as `_installed`. Twice: once per release and set of
    extras it is installed with (a release installed with an extra in one place and without
    it elsewhere gets two pins), and once per release, extras left out. No marker reaches
    into the `unsupported` cells: a lock says nothing there, so it installs nothing."""
    with_extras: dict[object, tuple[Candidate, frozenset[NormalizedName], list[Cell],
                                    list[int]]] = {}
    bare: dict[object, tuple[Candidate, frozenset[NormalizedName], list[Cell], list[int]]] = {}
    partition: list[Cell] = list(unsupported)
    for index, fork in enumerate(forks):
        resolution = fork.resolution
        assert resolution.plan is not None
        chosen = {c.name: c for c in resolution.plan.chosen}
        for part in fork.cell.classes(_plan_comparisons(resolution), space):
            if not part.possible(space):
                continue  # (nobody installs there: no marker need leave it out)
            partition.append(part)
            for name, extras in _installed(resolution, part.environment(space)).items():
                candidate = chosen[name]
                for taken, key, asked in ((with_extras, (candidate.key, frozenset(extras)),
                                           frozenset(extras)),
                                          (bare, candidate.key, frozenset())):
                    entry = taken.setdefault(key, (candidate, asked, [], []))
                    entry[2].append(part)
                    if not entry[3] or entry[3][-1] != index:
                        entry[3].append(index)

    texts: dict[tuple[Cell, ...], str] = {}  # (most pins share their classes)

    def text(parts: list[Cell]) -> str:
        key = tuple(parts)
        if key not in texts:
            texts[key] = marker_text(parts, space, partition)
        return texts[key]

    def pins(taken: dict[object, tuple[Candidate, frozenset[NormalizedName], list[Cell],
                                       list[int]]]) -> tuple[UniversalPin, ...]:
        found = [UniversalPin(candidate, extras, text(parts), tuple(where))
                 for candidate, extras, parts, where in taken.values()]
        return tuple(sorted(found, key=lambda p: (p.candidate.name, p.candidate.version,
                                                  sorted(p.extras))))

    return pins(with_extras), pins(bare)


def _order(cell: Cell) -> tuple[Version, str]:
    return cell.python.low, repr([(k, sorted(v.values), v.complement)
                                  for k, v in cell.regions])
