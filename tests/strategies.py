"""Hypothesis strategies for small random universes, and a brute-force oracle for them."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from depsat.model import Candidate, PrereleaseMode
from depsat.universe import Universe
from depsat.verify import verify

NAMES = ["a", "b", "c", "d"]
VERSIONS = ["1.0", "1.1", "2.0", "2.1a1", "3.0"]
MARKERS = ["", "; python_version < '3'", "; sys_platform == 'linux'", "; os_name != 'nt'"]


@st.composite
def requirement(draw: st.DrawFn, names: Sequence[str], allow_extras: bool = True) -> str:
    name = draw(st.sampled_from(names))
    op = draw(st.sampled_from(["", ">=", "<", "==", "!=", "<=", ">"]))
    spec = f"{op}{draw(st.sampled_from(VERSIONS))}" if op else ""
    extra = "[x]" if allow_extras and draw(st.booleans()) and draw(st.booleans()) else ""
    marker = draw(st.sampled_from(MARKERS)) if draw(st.booleans()) else ""
    return f"{name}{extra}{spec}{marker}"


@st.composite
def universe_data(draw: st.DrawFn, installed: bool = False) -> dict[str, Any]:
    """A packse-format universe over at most four packages with a few versions each."""
    names = NAMES[: draw(st.integers(2, 4))]
    packages: dict[str, Any] = {}
    for name in names:
        versions: dict[str, Any] = {}
        for version in draw(st.lists(st.sampled_from(VERSIONS), min_size=1, max_size=3,
                                     unique=True)):
            others = [n for n in names if n != name]
            meta: dict[str, Any] = {
                "requires": draw(st.lists(requirement(others), max_size=2)),
            }
            if draw(st.booleans()):
                meta["extras"] = {"x": draw(st.lists(requirement(others, False), min_size=1,
                                                     max_size=2))}
            if draw(st.integers(0, 9)) == 0:
                meta["yanked"] = True
            if draw(st.integers(0, 9)) == 0:
                meta["requires_python"] = ">=3.99"
            versions[version] = meta
        packages[name] = {"versions": versions}
    root = draw(st.lists(requirement(names), min_size=1, max_size=3))
    return {"root": {"requires": root}, "packages": packages,
            "environment": {"python": "3.12"}}


def _active(requirement: Requirement, env: Mapping[str, str], extra: str) -> bool:
    return requirement.marker is None or requirement.marker.evaluate({**env, "extra": extra})


def _overridden(universe: Universe, requirement: Requirement, env: dict[str, str],
                extra: str) -> Requirement | None:
    """What `requirement` asks of the base (`extra` "") or of `extra`, uv's overrides applied
    as uv applies them (measured with uv 0.13.9): an overridden package's requirement is
    replaced whole by its overrides whose markers hold (their extras together), or dropped;
    an extra's requirement stays its extra's."""
    name = canonicalize_name(requirement.name)
    overrides = [o for o in universe.request.overrides if canonicalize_name(o.name) == name]
    holding = [o for o in overrides if _active(o, env, "")]
    merged = None
    if holding:  # (all must hold: their extras together)
        extras = sorted({e for o in holding for e in o.extras})
        merged = Requirement(holding[0].name + (f"[{','.join(extras)}]" if extras else ""))
    in_extra = requirement.marker is not None and "extra" in str(requirement.marker)
    if overrides and not in_extra:
        return merged if not extra else None
    if not _active(requirement, env, extra):
        return None
    return merged if overrides else requirement


def needed_extras(universe: Universe, chosen: Sequence[Candidate]) -> dict[NormalizedName,
                                                                           set[NormalizedName]]:
    """The extras the chosen set must install: a fixpoint over requirements that ask for them."""
    env = dict(universe.target.markers)
    by_name = {c.name: c for c in chosen}
    extras: dict[NormalizedName, set[NormalizedName]] = {}
    changed = True
    while changed:
        changed = False
        asked = [a for r in universe.request.requirements
                 if (a := _overridden(universe, r, env, "")) is not None]
        for candidate in chosen:
            for extra in ("", *sorted(extras.get(candidate.name, ()))):
                asked.extend(a for r in candidate.requires
                             if (a := _overridden(universe, r, env, extra)) is not None)
        for req in asked:
            name = canonicalize_name(req.name)
            if name not in by_name:
                continue
            for extra in req.extras:
                extra_name = canonicalize_name(extra)
                if (extra_name in by_name[name].provides_extras
                        and extra_name not in extras.setdefault(name, set())):
                    extras[name].add(extra_name)
                    changed = True
    return extras


def assignments(universe: Universe) -> Iterator[list[Candidate]]:
    """Every choice of at most one usable candidate per project."""
    projects = list(universe.projects.values())
    options = [[None, *p.candidates] for p in projects]
    for combo in itertools.product(*options):
        yield [c for c in combo if c is not None]


def cost(universe: Universe, chosen: Sequence[Candidate]) -> tuple[int, int, int, int]:
    """The default objective computed independently: (direct staleness, staleness of what
    the chosen releases of named projects require, of every other project, count)."""
    direct = universe.request.direct_names
    required = required_by_named(universe, chosen)
    stale_direct = stale_required = stale_other = 0
    for candidate in chosen:
        rank = _rank(universe, candidate)
        if candidate.name in direct:
            stale_direct += rank
            continue
        stale_other += rank
        if candidate.name in required:
            stale_required += rank
    return stale_direct, stale_required, stale_other, len(chosen)


def required_by_named(universe: Universe, chosen: Sequence[Candidate]) -> set[NormalizedName]:
    """The projects you did not name that a chosen release of a project you named requires,
    itself or through an extra the plan installs, read for the target with overrides as uv
    applies them."""
    env = dict(universe.target.markers)
    direct = universe.request.direct_names
    extras = needed_extras(universe, chosen)
    required: set[NormalizedName] = set()
    for candidate in chosen:
        if candidate.name not in direct:
            continue
        for extra in ("", *sorted(extras.get(candidate.name, ()))):
            for requirement in candidate.requires:
                asked = _overridden(universe, requirement, env, extra)
                if asked is not None and canonicalize_name(asked.name) not in direct:
                    required.add(canonicalize_name(asked.name))
    return required


def lowest_cost(universe: Universe, chosen: Sequence[Candidate]) -> tuple[int, int, int]:
    """``--resolution lowest``'s tiers computed independently: (steps above the oldest
    version, for what you named; for the rest; count)."""
    direct = universe.request.direct_names
    old_direct = old_other = 0
    for candidate in chosen:
        above = _above_oldest(universe, candidate)
        if candidate.name in direct:
            old_direct += above
        else:
            old_other += above
    return old_direct, old_other, len(chosen)


def _above_oldest(universe: Universe, candidate: Candidate) -> int:
    """Steps above the oldest version; a fallback prerelease costs more than any final
    release: the count of final levels, plus its steps above the oldest prerelease."""
    levels = _levels(universe, candidate.name)
    finals = sum(1 for later, _ in levels if not later)
    level = _level(universe, candidate)
    if not level[0]:
        return finals - 1 - levels.index(level)
    return finals + len(levels) - 1 - levels.index(level)


def brute_force_best(
    universe: Universe,
    value: Callable[[Universe, Sequence[Candidate]], tuple[int, ...]] = cost,
) -> dict[str, str] | None:
    """The plan depsat must answer with (`Problem.preferences`), by trying every assignment:
    among the verified ones of least `value`, the first by project name whose choice is
    best: not installed, else the newest version. None: no plan."""
    names = sorted(universe.projects)
    best: tuple[tuple[int, ...], tuple[int, ...], list[Candidate]] | None = None
    for chosen in assignments(universe):
        if verify(universe, chosen, needed_extras(universe, chosen)):
            continue
        by_name = {c.name: c for c in chosen}
        order = tuple(-1 if name not in by_name else _rank(universe, by_name[name])
                      for name in names)
        found = (value(universe, chosen), order, chosen)
        if best is None or found[:2] < best[:2]:
            best = found
    return None if best is None else {str(c.name): str(c.version) for c in best[2]}


def _rank(universe: Universe, candidate: Candidate) -> int:
    """Steps below the project's newest version (fallback prereleases after every final
    release)."""
    return _levels(universe, candidate.name).index(_level(universe, candidate))


def _level(universe: Universe, candidate: Candidate) -> tuple[bool, Version]:
    """(whether it is a prerelease taken only where no final release serves, version)."""
    request = universe.request
    explicit = any(canonicalize_name(r.name) == candidate.name
                   and any(s.prereleases for s in r.specifier)
                   for r in (*request.requirements, *request.constraints))
    fallback = (request.prerelease is PrereleaseMode.IF_NECESSARY
                or (request.prerelease is PrereleaseMode.IF_NECESSARY_OR_EXPLICIT
                    and not explicit))
    project = universe.projects[candidate.name].candidates
    later = (fallback and candidate.version.is_prerelease and candidate.installed is None
             and not all(c.version.is_prerelease and c.installed is None for c in project))
    return later, candidate.version


def _levels(universe: Universe, name: NormalizedName) -> list[tuple[bool, Version]]:
    """A project's levels, best first: final releases (and installed prereleases) newest
    first, then the fallback prereleases newest first."""
    levels = {_level(universe, c) for c in universe.projects[name].candidates}
    return sorted(levels, key=lambda level: (not level[0], level[1]), reverse=True)


Installed = tuple[str, str, bool, str | None]
"""(name, version, read-only, the URL it was installed from)."""


@st.composite
def installed_world(draw: st.DrawFn) -> tuple[dict[str, Any], list[Installed],
                                             dict[str, bool]]:
    """A universe, what is installed (versions that may or may not exist on the index; some
    installed from a file, PEP 610) and the install-mode switches. Some releases, or the
    request, require such a file by a direct reference (``name @ URL``): the one installed,
    or another, which nothing offers."""
    data = draw(universe_data())
    names = list(data["packages"])
    installed: list[Installed] = []
    for name in draw(st.lists(st.sampled_from(names), unique=True, max_size=3)):
        version = draw(st.sampled_from([*VERSIONS[:3], "0.5"]))
        url = (f"file:///wheels/{name}-{version}-py3-none-any.whl"
               if draw(st.integers(0, 2)) == 0 else None)
        installed.append((name, version, draw(st.booleans()) and draw(st.booleans()), url))
    for name, _version, _read_only, url in installed:
        if url is None or not draw(st.booleans()):
            continue
        wanted = url if draw(st.booleans()) else url.replace("/wheels/", "/elsewhere/")
        reference = f"{name} @ {wanted}"
        if draw(st.integers(0, 3)) == 0:
            data["root"]["requires"] = [*data["root"]["requires"], reference]
            continue
        others = [(n, v) for n, p in data["packages"].items() if n != name
                  for v in p["versions"]]
        if others:
            other, version = draw(st.sampled_from(others))
            release = data["packages"][other]["versions"][version]
            release["requires"] = [*release.get("requires", []), reference]
    switches: dict[str, Any] = {
        "sync": draw(st.booleans()),
        "upgrade_all": draw(st.integers(0, 4)) == 0,
        # Pins of an earlier answer (`-o FILE`): mostly versions that exist, an older one
        # more often than not (the newest would be chosen anyway), now and then one gone.
        "preferred": {canonicalize_name(name): Version(draw(st.sampled_from(
                          sorted(data["packages"][name]["versions"], key=Version)
                          or VERSIONS) if draw(st.integers(0, 4)) else st.sampled_from(VERSIONS)))
                      for name in draw(st.lists(st.sampled_from(names), unique=True,
                                                max_size=3))},
    }
    return data, installed, switches


def installed_candidates(data: dict[str, Any], installed: list[Installed]) -> list[Candidate]:
    """Installed candidates built from the index's metadata of the same version, or bare."""
    from packaging.requirements import Requirement as Req

    from depsat.model import InstalledInfo, Origin

    made = []
    for name, version, read_only, url in installed:
        meta = data["packages"][name]["versions"].get(version, {})
        requires = tuple(Req(r) for r in meta.get("requires", []))
        layer = "system" if read_only else "venv"
        made.append(Candidate(
            name=canonicalize_name(name), version=Version(version),
            origin=Origin("installed", layer, f"/{layer}/{name}"), requires=requires,
            installed=InstalledInfo(layer=layer, layer_index=1 if read_only else 0,
                                    path=f"/{layer}/{name}-{version}.dist-info",
                                    format="dist-info", read_only=read_only,
                                    direct_url=url)))
    return made


def full_cost(universe: Universe, chosen: Sequence[Candidate]) -> tuple[int, ...]:
    """Every default tier, computed without SAT: removals, downgrades, changed installed
    versions, moved earlier pins, then (direct staleness, other staleness, package count)."""
    request = universe.request
    by_name = {c.name: c for c in chosen}
    removals = downgrades = changed = moved = 0
    for name, installed in universe.installed.items():
        now = by_name.get(name)
        if now is None:
            removals += 0 if request.sync else 1
            continue
        if now.version < installed.version:
            downgrades += 1
        if now.key != installed.key and not request.upgrades(name):
            changed += 1
    for name, version in request.preferred.items():
        now = by_name.get(name)
        offered = name in universe.projects and any(
            c.version == version for c in universe.projects[name].candidates)
        if offered and now is not None and now.version != version \
                and not request.upgrades(name):
            moved += 1
    return (removals, downgrades, changed, moved, *cost(universe, chosen))
