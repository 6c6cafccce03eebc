"""Per-index source rules: pins, explicit indexes and strategies, checked without SAT."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from strategies import VERSIONS, needed_extras, requirement

from depsat.api import ResolveOptions, resolve
from depsat.errors import ConfigurationError
from depsat.model import Candidate, Request
from depsat.source_rules import IndexStrategy, SourceRules, parse_pins
from depsat.sources.universe_file import parse_universe
from depsat.target import Target
from depsat.universe import Universe
from depsat.verify import policy_problem, verify

TARGET = Target.for_python("3.12")
SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def index(name: str, packages: dict[str, dict[str, list[str]]]) -> Any:
    data = {"name": name, "packages": {
        p: {"versions": {v: {"requires": reqs} for v, reqs in versions.items()}}
        for p, versions in packages.items()}}
    return parse_universe(data, name).source


@st.composite
def multi_index_world(draw: st.DrawFn) -> tuple[list[Any], SourceRules, list[str]]:
    names = ["a", "b", "c"]
    sources = []
    for i in range(draw(st.integers(1, 3))):
        packages: dict[str, dict[str, list[str]]] = {}
        for name in draw(st.lists(st.sampled_from(names), unique=True, min_size=1)):
            packages[name] = {
                v: draw(st.lists(requirement([n for n in names if n != name], False),
                                 max_size=1))
                for v in draw(st.lists(st.sampled_from(VERSIONS[:3]), min_size=1, max_size=2,
                                       unique=True))}
        sources.append(index(f"i{i}", packages))
    index_names = [s.name for s in sources]
    explicit = frozenset(draw(st.lists(st.sampled_from(index_names), max_size=1)))
    pins = {n: draw(st.sampled_from(index_names))
            for n in draw(st.lists(st.sampled_from(names), unique=True, max_size=2))}
    rules = SourceRules(indexes=tuple(index_names), pins=pins, explicit=explicit,
                        strategy=draw(st.sampled_from(list(IndexStrategy))))
    roots = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
    return sources, rules, roots


def _offered(sources: list[Any]) -> dict[str, list[Candidate]]:
    return {s.name: [c for p in s.projects() for c in s.candidates(p)] for s in sources}


def _rank(candidate: Candidate, all_candidates: list[Candidate], rules: SourceRules) -> int:
    """Rank computed from scratch: (index group if unsafe-first-match, newer first)."""
    def group(c: Candidate) -> int:
        if rules.strategy_for(c.name) is IndexStrategy.UNSAFE_FIRST_MATCH and \
                c.name not in rules.pins:
            return rules.indexes.index(c.origin.name)
        return 0
    levels = sorted({(group(c), c.version) for c in all_candidates},
                    key=lambda lv: (lv[0], [-x for x in lv[1].release]))
    return levels.index((group(candidate), candidate.version))


def _admitted(offered: dict[str, list[Candidate]], rules: SourceRules) -> list[Candidate]:
    return [c for cands in offered.values() for c in cands
            if policy_problem(c, rules, offered) is None]


def _cost(chosen: list[Candidate], admitted: list[Candidate], rules: SourceRules,
          request: Request) -> tuple[int, ...]:
    stale = [0, 0]
    for c in chosen:
        rank = _rank(c, [x for x in admitted if x.name == c.name], rules)
        stale[0 if c.name in request.direct_names else 1] += rank
    return (*stale, len(chosen))


def _brute_force(universe: Universe, admitted: list[Candidate],
                 rules: SourceRules) -> tuple[int, ...] | None:
    by_project: dict[str, list[Candidate]] = {}
    for c in admitted:
        if c.name in universe.projects:
            by_project.setdefault(c.name, []).append(c)
    best = None
    for combo in itertools.product(*[[None, *cs] for cs in by_project.values()]):
        chosen = [c for c in combo if c is not None]
        if verify(universe, chosen, needed_extras(universe, chosen)):
            continue
        value = _cost(chosen, admitted, rules, universe.request)
        if best is None or value < best:
            best = value
    return best


@SETTINGS
@given(multi_index_world())
def test_plans_obey_the_rules_and_are_optimal(world: Any) -> None:
    sources, rules, roots = world
    request = Request(tuple(Requirement(r) for r in roots))
    result = resolve(request, sources, TARGET, ResolveOptions(source_policy=rules))
    offered = _offered(sources)
    admitted = _admitted(offered, rules)
    optimum = _brute_force(result.universe, admitted, rules)
    if result.plan is None:
        assert optimum is None
        return
    chosen = list(result.plan.chosen)
    assert verify(result.universe, chosen, {}, rules=rules, offered=offered) == []
    assert _cost(chosen, admitted, rules, request) == optimum


def test_first_index_refusals_name_both_indexes() -> None:
    alpine = index("alpine", {"cryptography": {"40.0.2": []}})
    pypi = index("pypi", {"cryptography": {"41.0.3": [], "40.0.2": []}})
    request = Request((Requirement("cryptography==41.0.3"),))
    rules = SourceRules(indexes=("alpine", "pypi"))
    result = resolve(request, [alpine, pypi], TARGET, ResolveOptions(source_policy=rules))
    assert result.plan is None
    texts = [e.detail for e in result.universe.projects["cryptography"].exclusions]
    assert any("not from index pypi, which has 41.0.3" in t and "taken from index alpine" in t
               and "only 40.0.2" in t for t in texts), texts
    pinned = SourceRules(indexes=("alpine", "pypi"), pins={"cryptography": "pypi"})
    plan = resolve(request, [alpine, pypi], TARGET, ResolveOptions(source_policy=pinned)).plan
    assert plan is not None and plan.step("cryptography").candidate.origin.name == "pypi"
    best = SourceRules(indexes=("alpine", "pypi"), strategy=IndexStrategy.UNSAFE_BEST_MATCH)
    plan = resolve(Request((Requirement("cryptography"),)), [alpine, pypi], TARGET,
                   ResolveOptions(source_policy=best)).plan
    assert plan is not None and plan.versions() == {"cryptography": "41.0.3"}
    first_match = SourceRules(indexes=("alpine", "pypi"),
                              strategy=IndexStrategy.UNSAFE_FIRST_MATCH)
    plan = resolve(Request((Requirement("cryptography"),)), [alpine, pypi], TARGET,
                   ResolveOptions(source_policy=first_match)).plan
    assert plan is not None and plan.step("cryptography").candidate.origin.name == "alpine"


def test_explicit_index_serves_only_pinned_packages() -> None:
    private = index("private", {"internal": {"1.0": []}, "requests": {"99.0": []}})
    public = index("public", {"requests": {"2.31.0": []}})
    rules = SourceRules(indexes=("private", "public"), explicit=frozenset({"private"}),
                        pins={"internal": "private"})
    plan = resolve(Request((Requirement("internal"), Requirement("requests"))),
                   [private, public], TARGET, ResolveOptions(source_policy=rules)).plan
    assert plan is not None
    assert plan.versions() == {"internal": "1.0", "requests": "2.31.0"}


def test_pin_to_unknown_index_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="nowhere"):
        parse_pins(["cryptography=nowhere"], ["pypi"], "--pin")
    assert parse_pins(["Cryptography=pypi"], ["pypi"], "--pin") == {"cryptography": "pypi"}
