"""Discovery's fast matching and the bitmask dominance equal their straightforward forms.

`SpecifierMatcher` answers "which candidates does this specifier set contain" from cached
answers per (specifier, version string), intersections of masks and, for bounds, a search for
the one place where the answers change; `dominated` compares releases through bitmasks. Both
must give exactly what the plain computations give: the same candidates in the same order, the
same shared tuples (the encoder and dominance read their identity), the same pruned releases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any
from unittest import mock

import attrs
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from depsat.api import request_from_universe_file, target_for
from depsat.encoding.dominance import dominated
from depsat.model import (
    Candidate,
    CandidateKey,
    Exclusion,
    InstalledInfo,
    Origin,
    PrereleaseMode,
)
from depsat.policy import PrereleaseUse, prerelease_use
from depsat.sources.base import Source
from depsat.sources.memory import MemorySource
from depsat.sources.universe_file import parse_universe
from depsat.target import Target
from depsat.universe import (
    Admission,
    AdmitAll,
    Dependency,
    Discovery,
    LoadedProjects,
    Project,
    SpecifierMatcher,
    Universe,
    _by_extra,
    _Discovery,
)

SETTINGS = settings(max_examples=500, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
WORLD_SETTINGS = settings(SETTINGS, max_examples=250)

# -- versions and specifiers -------------------------------------------------------------------

PRE = ["", "", "", "a1", "b2", "rc1", "a0"]
POST = ["", "", "", ".post1", ".post0", ".post2"]
DEV = ["", "", "", ".dev0", ".dev3"]
LOCAL = ["", "", "", "", "+local", "+abc.1", "+0"]


@st.composite
def version_texts(draw: st.DrawFn) -> str:
    """PEP 440 versions with the awkward parts: epochs, trailing zeros (1.0 == 1.0.0),
    pre, post and dev releases, local labels."""
    epoch = draw(st.sampled_from(["", "", "", "", "1!"]))
    release = ".".join(str(p) for p in draw(st.lists(st.integers(0, 3), min_size=1,
                                                      max_size=4)))
    return (f"{epoch}{release}{draw(st.sampled_from(PRE))}{draw(st.sampled_from(POST))}"
            f"{draw(st.sampled_from(DEV))}{draw(st.sampled_from(LOCAL))}")


@st.composite
def specifier_texts(draw: st.DrawFn, pool: Sequence[str]) -> str:
    """One specifier, its version often one of `pool` (a project's own versions)."""
    operator = draw(st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "~=", "==="]))
    from_pool = bool(pool) and draw(st.booleans())
    version = draw(st.sampled_from(pool)) if from_pool else draw(version_texts())
    if operator in ("==", "!=") and draw(st.integers(0, 3)) == 0:
        version = f"{Version(version).base_version.split('!')[-1]}.*"  # a prefix match
    text = f"{operator}{version}"
    try:
        Specifier(text)
    except InvalidSpecifier:  # a local label with "<", "~=1", …: a bound instead
        text = f">={Version(version.removesuffix('.*')).public}"
    return text


def _candidates(name: str, texts: Sequence[str], origins: int = 1) -> tuple[Candidate, ...]:
    made = []
    for i, text in enumerate(texts):
        origin = Origin("memory", f"source{i % origins}")
        made.append(Candidate(name=canonicalize_name(name), version=Version(text),
                              origin=origin))
    return tuple(made)


def _project(name: str, candidates: tuple[Candidate, ...]) -> Project:
    return Project(canonicalize_name(name), candidates, (), True)


def _plain(project: Project, specifier: SpecifierSet) -> tuple[Candidate, ...]:
    return tuple(c for c in project.candidates
                 if specifier.contains(c.version, prereleases=True))


@st.composite
def matching_cases(draw: st.DrawFn) -> tuple[list[Project], list[tuple[int, SpecifierSet]]]:
    """Two projects (sharing version strings, candidates in any order, some versions from two
    origins) and specifier sets asked of them, several on one matcher."""
    pool = draw(st.lists(version_texts(), min_size=1, max_size=12))
    projects = []
    for name in ("p", "q"):
        texts = draw(st.lists(st.sampled_from(pool), min_size=0, max_size=10))
        texts = draw(st.permutations(texts))
        projects.append(_project(name, _candidates(name, texts, draw(st.integers(1, 2)))))
    asked = []
    for _ in range(draw(st.integers(1, 8))):
        parts = draw(st.lists(specifier_texts(pool), max_size=3))
        asked.append((draw(st.integers(0, 1)), SpecifierSet(",".join(parts))))
    return projects, asked


@SETTINGS
@given(matching_cases())
def test_matcher_equals_the_plain_filter(case: tuple[list[Project],
                                                      list[tuple[int, SpecifierSet]]]) -> None:
    projects, asked = case
    matcher = SpecifierMatcher()
    seen: dict[tuple[int, str], tuple[Candidate, ...]] = {}
    for which, specifier in asked:
        project = projects[which]
        matches, mask = matcher.matches(project, specifier)
        assert matches == _plain(project, specifier), (project.candidates, str(specifier))
        assert mask == sum(1 << i for i, c in enumerate(project.candidates)
                           if any(c is m for m in matches))
        # One tuple per (project, str(specifier)); other strings get their own tuple, but
        # for the one empty tuple.
        key = (which, str(specifier))
        for other_key, other in seen.items():
            if other_key == key:
                assert other is matches
            else:
                assert (other is matches) == (not other and not matches)
        seen[key] = matches


@SETTINGS
@given(st.lists(version_texts(), min_size=1, max_size=12), st.data())
def test_each_operator_is_one_interval(texts: list[str], data: st.DataObject) -> None:
    """What the search for the change relies on: along ascending versions, "<", "<=" answer
    T…TF…F, ">", ">=" F…FT…T, "==", "~=" F…FT…TF…F and "!=" T…TF…FT…T."""
    text = data.draw(specifier_texts(texts))
    spec = Specifier(text)
    if spec.operator == "===":
        return
    versions = sorted(Version(t) for t in texts)
    answers = "".join("T" if spec.contains(v, prereleases=True) else "F" for v in versions)
    changes = sum(a != b for a, b in pairwise(answers))
    first = answers[0]
    shape = {"<": "T", "<=": "T", ">": "F", ">=": "F", "==": "F", "~=": "F", "!=": "T"}
    if spec.operator in ("<", "<=", ">", ">="):
        assert changes == 0 or (changes == 1 and first == shape[spec.operator]), answers
    else:
        assert changes <= 2 and (changes < 2 or first == shape[spec.operator]), answers
    # Equal versions spelled differently (1.0, 1.0.0) always get one answer.
    for a, b in pairwise(versions):
        if a == b:
            assert spec.contains(a, prereleases=True) == spec.contains(b, prereleases=True)


TRICKY = ["0.9", "1.0", "1.0.0", "1.0+local", "1.0.0+abc", "1.0.post1", "1.0.post1+x",
          "1.0a1", "1.0.dev0", "1.0rc1.post1", "1.0.1", "1.1", "1!1.0", "2.0", "2.0.dev1"]


def _tricky_specifiers() -> list[str]:
    texts = [f"{op}{v}" for op in ("==", "!=", "<=", ">=", "<", ">", "~=", "===")
             for v in TRICKY]
    texts += ["==1.*", "!=1.*", "==1.0.*", "!=1.0.*", "==1!1.*", "~=1.0.0"]
    valid = []
    for text in texts:
        try:
            Specifier(text)
        except InvalidSpecifier:
            continue
        valid.append(text)
    return valid


def test_matcher_on_equal_spellings_locals_and_post_releases() -> None:
    """Every specifier over versions equal but spelled differently (1.0, 1.0.0), locals,
    post and pre releases, in both orders, alone and in pairs."""
    specifiers = _tricky_specifiers()
    for texts in (TRICKY, TRICKY[::-1], sorted(TRICKY, key=Version),
                  sorted(TRICKY, key=Version, reverse=True)):
        project = _project("p", _candidates("p", texts))
        matcher = SpecifierMatcher()
        for text in specifiers:
            specifier = SpecifierSet(text)
            assert matcher.matches(project, specifier)[0] == _plain(project, specifier), text
        for first, second in zip(specifiers, specifiers[7::3], strict=False):
            specifier = SpecifierSet(f"{first},{second}")
            assert matcher.matches(project, specifier)[0] == _plain(project, specifier)


def test_matches_are_shared_by_the_string_of_the_specifier_set() -> None:
    project = _project("p", _candidates("p", ["2.0", "1.5", "1.0", "0.5"]))
    matcher = SpecifierMatcher()

    def matches(text: str) -> tuple[Candidate, ...]:
        return matcher.matches(project, SpecifierSet(text))[0]

    assert matches(">=1.0,>=1.0.0") is matches(">=1.0")  # str() keeps one of equal ones
    assert matches("<2,>=1") is matches(">=1,<2")
    assert matches(">=1.0.0") is not matches(">=1.0")  # same releases, another string
    assert matches(">=1.0.0") == matches(">=1.0")
    assert matches("==3") == () and matches("==3") is matches(">3")  # the one empty tuple
    assert matches("") is matches("") and matches("") == project.candidates
    assert matches("") is not project.candidates


# -- universes ---------------------------------------------------------------------------------

NAMES = ["a", "b", "c", "d", "e"]
VERSIONS = ["0.9", "1.0", "1.0.0", "1.0.post1", "1.1a1", "1.1", "2.0.dev0", "2.0", "2.0+local",
            "2.1rc1", "3.0", "1!0.5"]
OPERATORS = ["", ">=", "<", "==", "!=", "<=", ">", "~=", "==*", "!=*", "==="]


@st.composite
def requirement_texts(draw: st.DrawFn, names: Sequence[str], extras: bool = True,
                      markers: bool = True) -> str:
    name = draw(st.sampled_from(names))
    parts = []
    for operator in draw(st.lists(st.sampled_from(OPERATORS), max_size=2)):
        version = Version(draw(st.sampled_from(VERSIONS)))
        if operator in ("==*", "!=*"):
            parts.append(f"{operator[:2]}{version.base_version.split('!')[-1]}.*")
        elif operator == "~=":
            parts.append(f"~={version.public}" if len(version.release) > 1
                         else f"~={version.public}.0")
        elif operator in ("==", "!=", "==="):
            parts.append(f"{operator}{version}")
        elif operator:
            parts.append(f"{operator}{version.public}")
    extra = "[x]" if extras and draw(st.integers(0, 3)) == 0 else ""
    marker = (draw(st.sampled_from(["; python_version < '3'", "; os_name != 'nt'"]))
              if markers and draw(st.integers(0, 4)) == 0 else "")
    return f"{name}{extra}{','.join(parts)}{marker}"


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    """A universe with many versions per project, awkward specifiers, extras, constraints,
    installed releases, a second source and prerelease modes."""
    names = NAMES[: draw(st.integers(2, 5))]
    packages: dict[str, Any] = {}
    for name in names:
        versions: dict[str, Any] = {}
        others = [n for n in names if n != name]
        for version in draw(st.lists(st.sampled_from(VERSIONS), min_size=1, max_size=7,
                                     unique=True)):
            meta: dict[str, Any] = {"requires": draw(st.lists(requirement_texts(others),
                                                              max_size=3))}
            if draw(st.integers(0, 2)) == 0:
                meta["extras"] = {"x": draw(st.lists(
                    requirement_texts(others, extras=False), min_size=1, max_size=2))}
            if draw(st.integers(0, 9)) == 0:
                meta["yanked"] = True
            if draw(st.integers(0, 9)) == 0:
                meta["requires_python"] = ">=3.99"
            versions[version] = meta
        packages[name] = {"versions": versions}
    return {
        "data": {"root": {"requires": draw(st.lists(requirement_texts(names), min_size=1,
                                                    max_size=3))},
                 "packages": packages, "environment": {"python": "3.12"}},
        "constraints": draw(st.lists(requirement_texts(names, extras=False, markers=False),
                                     max_size=2)),
        "installed": draw(st.lists(st.tuples(st.sampled_from(names),
                                             st.sampled_from(VERSIONS)),
                                   max_size=2, unique_by=lambda t: t[0])),
        "mirror": draw(st.integers(0, 2)),
        "prerelease": draw(st.sampled_from(list(PrereleaseMode))),
        "groups": draw(st.booleans()),
        "lazy": draw(st.booleans()),
    }


def _setup(world: dict[str, Any]) -> tuple[Any, list[Any], Any]:
    parsed = parse_universe(world["data"])
    installed = tuple(
        Candidate(name=canonicalize_name(name), version=Version(version),
                  origin=Origin("installed", "venv", f"/venv/{name}"),
                  requires=tuple(Requirement(r) for r in world["data"]["packages"][name]
                                 ["versions"].get(version, {}).get("requires", [])),
                  installed=InstalledInfo(layer="venv", layer_index=0,
                                          path=f"/venv/{name}.dist-info",
                                          format="dist-info"))
        for name, version in world["installed"])
    request = attrs.evolve(
        request_from_universe_file(parsed, prerelease=world["prerelease"]),
        constraints=tuple(Requirement(c) for c in world["constraints"]), installed=installed)
    sources: list[Any] = [parsed.source]
    if world["mirror"]:
        # A second index: every other release again, from another origin or the same one.
        listed = [c for name in parsed.source.projects()
                  for c in parsed.source.candidates(name)][::2]
        if world["mirror"] == 1:
            listed = [attrs.evolve(c, origin=Origin("memory", "mirror")) for c in listed]
        sources.append(MemorySource(listed, name="mirror"))
    return request, sources, target_for(parsed)


def _rounds(world: dict[str, Any], plain: bool = False) -> list[Universe]:
    """Discovery, and under lazy reading a second round that reads every free release."""
    request, sources, target = _setup(world)
    policy = _Grouping() if world["groups"] else AdmitAll()
    discovery = (_PlainDiscovery if plain else _Discovery)(sources, target, request, policy,
                                                           world["lazy"])
    discovery.start()
    universes = [discovery.run()]
    if world["lazy"] and universes[0].free:
        for candidate in [c for p in universes[0].projects.values() for c in p.candidates
                          if c.key in universes[0].free]:
            discovery.expand(candidate)
        universes.append(discovery.run())
    return universes


class _Grouping:
    """Preference groups, as ``unsafe-first-match`` makes them: a later source's candidates,
    and releases with a post segment, come after every other one."""

    def admit(self, name: NormalizedName,
              offered: Sequence[tuple[Source, Sequence[Candidate]]]) -> Admission:
        candidates = [c for _, cands in offered for c in cands]
        return Admission(candidates, preference={
            c.key: int(c.origin.name == "mirror") + int(c.version.post is not None)
            for c in candidates})


def _dependencies(universe: Universe) -> list[Dependency]:
    found = list(universe.root)
    for group in (*universe.dependencies.values(), *universe.extra_dependencies.values()):
        found.extend(group)
    return found


# Hypothesis found it: the installed `d 0.9` is queued when discovery starts, after the root
# asked for `d[x]`; the second `d[x]` (from `b`) shares that requirement's matches, so only
# the queueing itself can see that `d 0.9` needs its extra read.
_INSTALLED_WITH_AN_EXTRA_ASKED_TWICE = {
    "data": {"root": {"requires": ["d[x]", "b"]},
             "packages": {"b": {"versions": {"1.0": {"requires": ["d[x]"]}}},
                          "d": {"versions": {"0.9": {"extras": {"x": ["e"]}},
                                             "1.0": {"extras": {"x": ["e"]}}}},
                          "e": {"versions": {"1.0": {}}}},
             "environment": {"python": "3.12"}},
    "constraints": [], "installed": [("d", "0.9")], "mirror": 0,
    "prerelease": PrereleaseMode.IF_NECESSARY_OR_EXPLICIT, "groups": False, "lazy": True,
}


@WORLD_SETTINGS
@given(worlds())
@example(_INSTALLED_WITH_AN_EXTRA_ASKED_TWICE)
def test_discovery_and_dominance_equal_their_plain_forms(world: dict[str, Any]) -> None:
    universes = _rounds(world)
    for universe, plain in zip(universes, _rounds(world, plain=True), strict=True):
        assert _fingerprint(universe) == _fingerprint(plain)
        assert dominated(universe) == _reference_dominated(universe)
    if world["lazy"]:
        return  # (lazy matches are listed, unread candidates; the rest is as eager)
    (universe,) = universes
    dependencies = _dependencies(universe)
    for dependency in dependencies:
        project = universe.projects[dependency.name]
        assert dependency.matches == _plain(project, dependency.requirement.specifier)
    # One tuple per (project, str(specifier)), every other one its own (but the empty one).
    by_key: dict[tuple[NormalizedName, str], tuple[Candidate, ...]] = {}
    for dependency in dependencies:
        key = (dependency.name, str(dependency.requirement.specifier))
        assert by_key.setdefault(key, dependency.matches) is dependency.matches
    distinct = [m for m in by_key.values() if m]
    assert len({id(m) for m in distinct}) == len(distinct)
    # Newest first (fallback prereleases after the rest), and a rank per level, in order.
    for project in universe.projects.values() if not world["groups"] else ():
        first = project.fallback_rank
        levels = [(first is not None and project.ranks[c.key] >= first, c.version)
                  for c in project.candidates]
        assert levels == sorted(levels, key=lambda level: (not level[0], level[1]),
                                reverse=True)
        distinct = list(dict.fromkeys(levels))
        assert dict(project.ranks) == {c.key: distinct.index(level)
                                       for c, level in zip(project.candidates, levels,
                                                           strict=True)}
        assert all(c.version.is_prerelease and c.installed is None
                   for c, (later, _) in zip(project.candidates, levels, strict=True) if later)


def _lazy_rounds(request: Any, sources: list[Any], policy: Any, target: Target,
                 loaded: LoadedProjects | None) -> list[Universe]:
    """Lazy discovery, and a second round that reads every free release."""
    discovery = Discovery(request, sources, target, source_policy=policy, lazy=True,
                          loaded=loaded)
    universes = [discovery.run()]
    if universes[0].free:
        discovery.expand([c for p in universes[0].projects.values() for c in p.candidates
                          if c.key in universes[0].free])
        universes.append(discovery.run())
    return universes


# A yanked release that only a constraint pinning it makes usable, and a release only
# Python 3.99 may install.
_YANKED_PINNED_BY_A_CONSTRAINT = {
    "data": {"root": {"requires": ["a"]},
             "packages": {"a": {"versions": {"1.0": {"yanked": True},
                                             "0.9": {"requires_python": ">=3.99"}}}},
             "environment": {"python": "3.12"}},
    "constraints": ["a==1.0"], "installed": [], "mirror": 0,
    "prerelease": PrereleaseMode.IF_NECESSARY_OR_EXPLICIT, "groups": False, "lazy": True,
}


@WORLD_SETTINGS
@given(worlds(), st.lists(st.tuples(st.sampled_from(["3.12", "3.99"]), st.booleans()),
                          min_size=2, max_size=5), st.booleans())
@example(_YANKED_PINNED_BY_A_CONSTRAINT, [("3.12", True), ("3.12", False)], True)
@example(_YANKED_PINNED_BY_A_CONSTRAINT, [("3.12", False), ("3.99", False)], True)
def test_shared_loaded_projects_change_no_universe(
        world: dict[str, Any], settings_: list[tuple[str, bool]], universal: bool) -> None:
    """Resolves over the same sources that share one `LoadedProjects` (for two Pythons, with
    and without the constraints, in any order; with wheel tags, or none as a universal
    lock's targets have) each discover exactly what they discover alone: releases that
    require Python 3.99 are usable on one target only, and a constraint can make a yanked
    release usable or a project's prereleases explicit."""
    request, sources, _ = _setup(world)
    policy = _Grouping() if world["groups"] else AdmitAll()
    shared = LoadedProjects()
    for python, constrained in settings_:
        asked = request if constrained else attrs.evolve(request, constraints=())
        target = Target.for_python(python)
        if universal:
            target = attrs.evolve(target, tags=None)
        alone = _lazy_rounds(asked, sources, policy, target, None)
        together = _lazy_rounds(asked, sources, policy, target, shared)
        assert [_fingerprint(u) for u in together] == [_fingerprint(u) for u in alone]


def test_a_second_resolve_for_the_same_python_loads_no_project_again() -> None:
    """What the sharing saves: the second discovery for a Python loads (filters and ranks)
    no project the first loaded; one for another Python loads each again."""
    parsed = parse_universe({"root": {"requires": ["a"]},
                             "packages": {"a": {"versions": {"1.0": {"requires": ["b"]},
                                                             "2.0": {"requires": ["b"]}}},
                                          "b": {"versions": {"1.0": {}}}}})
    request = request_from_universe_file(parsed)
    shared = LoadedProjects()
    listed: list[NormalizedName] = []
    original = _Discovery._listed

    def counted(self: _Discovery, name: NormalizedName) -> Any:
        listed.append(name)
        return original(self, name)

    with mock.patch.object(_Discovery, "_listed", counted):
        for python in ("3.12", "3.12", "3.11"):
            Discovery(request, [parsed.source], Target.for_python(python), lazy=True,
                      loaded=shared).run()
    assert listed == ["a", "b", "a", "b"]


class _RequiresPythonInMetadata(MemorySource):
    """A page without Requires-Python, whose releases' metadata says it: `b` 2.0 needs
    Python 3.99 (as an index that leaves out ``data-requires-python`` lists its wheels)."""

    def metadata(self, candidate: Candidate) -> Candidate:
        if candidate.name == "b" and candidate.version == Version("2.0"):
            return attrs.evolve(candidate, requires_python=SpecifierSet(">=3.99"))
        return candidate


def test_metadata_read_for_one_python_is_checked_again_for_another() -> None:
    """Metadata read under one Python is kept for the next resolve of that Python only: the
    Requires-Python it gives rules `b` 2.0 out on 3.12 and not on 3.99, in either order."""
    parsed = parse_universe({"root": {"requires": ["a"]},
                             "packages": {"a": {"versions": {"1.0": {"requires": ["b"]}}},
                                          "b": {"versions": {"1.0": {}, "2.0": {}}}}})
    source = _RequiresPythonInMetadata([c for name in parsed.source.projects()
                                        for c in parsed.source.candidates(name)])
    request = request_from_universe_file(parsed)
    for order in (("3.12", "3.99", "3.12"), ("3.99", "3.12", "3.99")):
        shared = LoadedProjects()
        for python in order:
            universe = Discovery(request, [source], Target.for_python(python), lazy=True,
                                 loaded=shared).run()
            usable = [str(c.version) for c in universe.projects[NormalizedName("b")].candidates]
            assert usable == (["2.0", "1.0"] if python == "3.99" else ["1.0"])


class _AsksForPages(MemorySource):
    """A source that wants to hear of the pages discovery will read (as an index does)."""

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        super().__init__(candidates)
        self.asked: list[NormalizedName] = []

    def prefetch_projects(self, projects: Iterable[NormalizedName]) -> None:
        self.asked.extend(projects)


def test_only_a_source_that_fetches_pages_hears_of_them_early() -> None:
    """Discovery tells a source that overrides `prefetch_projects` which pages the next wave
    needs (an index fetches them concurrently), and skips that pass over every release's
    requirements when no source listens (in memory, installed)."""
    parsed = parse_universe({"root": {"requires": ["a"]},
                             "packages": {"a": {"versions": {"1.0": {"requires": ["b"]}}},
                                          "b": {"versions": {"1.0": {"requires": ["c"]}}},
                                          "c": {"versions": {"1.0": {}}}}})
    listed = [c for name in parsed.source.projects() for c in parsed.source.candidates(name)]
    request = request_from_universe_file(parsed)
    listening = _AsksForPages(listed)
    passes: list[int] = []
    original = _Discovery._prefetch

    def counted(self: _Discovery, wave: Any) -> None:
        passes.append(len(wave))
        original(self, wave)

    with mock.patch.object(_Discovery, "_prefetch", counted):
        heard = Discovery(request, [listening], target_for(parsed)).run()
        assert listening.asked == ["b", "c"] and passes
        passes.clear()
        alone = Discovery(request, [MemorySource(listed)], target_for(parsed)).run()
        assert passes == []
    assert _fingerprint(alone) == _fingerprint(heard)


def test_dominated_equals_the_reference_on_a_generated_universe() -> None:
    from benchmarks.generate import GeneratorConfig, generate

    for conflict in (0.0, 0.3):
        parsed = parse_universe(generate(GeneratorConfig(packages=300, versions=12,
                                                         conflict=conflict, seed=3,
                                                         extras=0.3)))
        universe = Discovery(request_from_universe_file(parsed), [parsed.source],
                             target_for(parsed)).run()
        assert dominated(universe) == _reference_dominated(universe)
        assert dominated(universe)  # (the comparison is not vacuous)


# -- the reference: pairwise comparison of every release with every better one -----------------

def _signature(dependencies: Sequence[Dependency]) -> frozenset[tuple[object, ...]]:
    return frozenset((d.name, id(d.matches), d.extras) for d in dependencies)


def _reference_dominated(universe: Universe) -> frozenset[CandidateKey]:
    satisfies: dict[CandidateKey, set[int]] = {}
    requirements = _dependencies(universe)
    for dependency in requirements:
        for match in dependency.matches:
            satisfies.setdefault(match.key, set()).add(id(dependency.matches))
    allowed_by: dict[CandidateKey, set[int]] = {}
    for number, constraint in enumerate(universe.request.constraints):
        project = universe.projects.get(canonicalize_name(constraint.name))
        for candidate in project.candidates if project else ():
            if constraint.specifier.contains(candidate.version, prereleases=True):
                allowed_by.setdefault(candidate.key, set()).add(number)
    extras_asked: dict[NormalizedName, set[NormalizedName]] = {}
    for dependency in requirements:
        if dependency.extras:
            extras_asked.setdefault(dependency.name, set()).update(dependency.extras)

    def needs(candidate: Candidate, extra: NormalizedName | None) -> Any:
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
        for index, candidate in enumerate(readable):
            mine = [needs(candidate, None), *(needs(candidate, e) for e in asked)]
            for better in readable[:index]:
                if better.key in pruned or project.ranks[better.key] >= project.ranks[
                        candidate.key]:
                    continue
                theirs = [needs(better, None), *(needs(better, e) for e in asked)]
                if (satisfies.get(candidate.key, set()) <= satisfies.get(better.key, set())
                        and allowed_by.get(candidate.key, set()) <= allowed_by.get(
                            better.key, set())
                        and all(m is not None and t is not None and t <= m
                                for t, m in zip(theirs, mine, strict=True))):
                    pruned.add(candidate.key)
                    break
    return frozenset(pruned)


# -- the reference discovery: a plain filter per (project, specifier string), every match queued
# with every extra, and the plain project loading ------------------------------------------


class _PlainDiscovery(_Discovery):
    def dependency(self, requirement: Requirement, parent: Candidate | None,
                   parent_extra: NormalizedName | None) -> Dependency:
        plain: dict[tuple[str, str], tuple[Candidate, ...]] = self.__dict__.setdefault(
            "plain", {})
        name = canonicalize_name(requirement.name)
        project = self.project(name)
        matches = plain.setdefault((name, str(requirement.specifier)), tuple(
            c for c in project.candidates
            if requirement.specifier.contains(c.version, prereleases=True)))
        extras = frozenset(canonicalize_name(e) for e in requirement.extras)
        if self.lazy:
            if extras:
                for match in matches:
                    self._wanted_extras.setdefault(match.key, set()).update(extras)
                    if match.key in self._seen[None]:  # read already: its extras too
                        for extra in extras:
                            self._enqueue(match, extra)
            for match in matches[:1]:
                self.expand(match)
        else:
            for match in matches:
                self._enqueue(match, None)
                for extra in extras:
                    self._enqueue(match, extra)
        return Dependency(requirement, name, extras, matches, parent, parent_extra)

    def _load(self, name: NormalizedName) -> Project:
        offered = [(source, source.candidates(name)) for source in self.sources]
        known = any(cands for _, cands in offered)
        admission = self.source_policy.admit(name, offered)
        admitted = list({c.key: c for c in admission.candidates}.values())
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
        origin_source = {c.key: s for s, cands in offered for c in cands}
        self._source_of.update(origin_source)
        self._prereleases[name] = prereleases
        complete: list[Candidate] = []
        if self.lazy:
            complete = usable
        else:
            for candidate in usable:
                meta = self._read_metadata(candidate, prereleases)
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
        later = {c.key for c in complete if prereleases is PrereleaseUse.FALLBACK
                 and c.version.is_prerelease and c.installed is None}
        if len(later) == len(complete):  # (nothing final to come first)
            later = set()
        complete.sort(key=lambda c: c.key in later)

        def level(c: Candidate) -> tuple[bool, int, Version]:
            return c.key in later, group.get(c.key, 0), c.version

        levels = list(dict.fromkeys(level(c) for c in complete))
        ranks = {c.key: levels.index(level(c)) for c in complete}
        first_later = min((ranks[c.key] for c in complete if c.key in later), default=None)
        return Project(name, tuple(complete), tuple(exclusions), known, ranks, first_later)


def _fingerprint(universe: Universe) -> list[Any]:
    """Everything discovery decided, in order, with which dependencies share `matches`."""
    shared: dict[int, int] = {}

    def dependency(d: Dependency) -> Any:
        return (str(d.requirement), d.name, sorted(d.extras), [m.key for m in d.matches],
                shared.setdefault(id(d.matches), len(shared)), d.parent and d.parent.key,
                d.parent_extra)

    return [
        [(name, p.candidates, p.exclusions, p.known, list(p.ranks.items()),
          p.fallback_rank)
         for name, p in universe.projects.items()],
        [dependency(d) for d in universe.root],
        [(k, [dependency(d) for d in ds]) for k, ds in universe.dependencies.items()],
        [(k, [dependency(d) for d in ds]) for k, ds in universe.extra_dependencies.items()],
        universe.missing_extras, universe.diagnostics, universe.free,
    ]


# -- requirements sorted by the extra they are for -----------------------------------------

EXTRA_NAMES = ["torch", "Torch_Extra", "torch-extra", "dev"]
ATOMS = ["extra == 'torch'", "extra == 'Torch_Extra'", "'dev' == extra", "extra != 'dev'",
         "python_version >= '3.10'", "sys_platform == 'linux'", "platform_release == 'extra'"]


@st.composite
def marker_text(draw: st.DrawFn, depth: int = 2) -> str:
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(ATOMS))
    left, right = draw(marker_text(depth - 1)), draw(marker_text(depth - 1))
    text = f"{left} {draw(st.sampled_from(['and', 'or']))} {right}"
    return f"({text})" if draw(st.booleans()) else text


ENVIRONMENTS = [{"python_version": python, "sys_platform": platform,
                 "platform_release": release}
                for python in ("3.9", "3.12") for platform in ("linux", "win32")
                for release in ("extra", "6.1")]


@SETTINGS
@given(st.lists(st.one_of(st.none(), marker_text()), min_size=1, max_size=8))
def test_requirements_by_extra_leave_out_only_what_cannot_apply(
        markers: list[str | None]) -> None:
    """`_by_extra` keeps, in order, every requirement whose marker may hold for a release's
    base (with ``extra`` empty) or may make it an extra's requirement (holds with the extra,
    not without: `_Discovery.applying`), in some environment."""
    requires = tuple(Requirement(f"r{i}" + (f" ; {m}" if m else ""))
                     for i, m in enumerate(markers))
    index = _by_extra(requires)

    def holds(requirement: Requirement, extra: str) -> bool:
        return requirement.marker is None or any(
            requirement.marker.evaluate({**environment, "extra": extra})
            for environment in ENVIRONMENTS)

    def subsequence(part: tuple[Requirement, ...]) -> bool:
        rest = iter(requires)
        return all(any(r is kept for r in rest) for kept in part)

    assert subsequence(index.base)
    assert all(not holds(r, "") for r in requires if r not in index.base)
    for name in EXTRA_NAMES:
        extra = canonicalize_name(name)
        kept = index.of_extra(extra)
        assert subsequence(kept)
        assert all(not any(r.marker is not None and r.marker.evaluate(
                               {**environment, "extra": extra})
                           and not r.marker.evaluate({**environment, "extra": ""})
                           for environment in ENVIRONMENTS)
                   for r in requires if r not in kept)
    assert _by_extra(requires) is index
