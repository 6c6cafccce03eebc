"""Properties on random small universes: verified plans, optimal plans, honest refutations."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import brute_force_best, cost, lowest_cost, needed_extras, universe_data

from benchmarks.generate import GeneratorConfig, generate
from depsat.api import ResolveOptions, request_from_universe_file, resolve, target_for
from depsat.encoding import FewestPackages, OldestDirect, OldestOther
from depsat.model import Candidate, NormalizedName
from depsat.solver import (
    GroupSolver,
    LexicographicRC2,
    Optimum,
    Problem,
    Refutation,
    StratifiedRC2,
    Unfinished,
)
from depsat.sources.base import Source
from depsat.sources.universe_file import parse_universe
from depsat.verify import verify

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _resolve(data: dict[str, Any], options: ResolveOptions | None = None) -> Any:
    world = parse_universe(data)
    return resolve(request_from_universe_file(world), [world.source], target_for(world), options)


@SETTINGS
@given(universe_data())
def test_plan_is_verified_optimal_and_the_first_of_the_optimal_ones(
        data: dict[str, Any]) -> None:
    """The plan passes the verifier, costs the brute-force optimum, and among the optimal
    plans it is the one the tie-break names (`Problem.preferences`): by project name,
    not installed, else the newest version. It installs the extras needed, no others."""
    result = _resolve(data)
    best = brute_force_best(result.universe)
    if result.plan is None:
        assert best is None, f"depsat says unsatisfiable, brute force found {best}"
        return
    extras = {s.name: s.extras for s in result.plan.steps}
    assert verify(result.universe, result.plan.chosen, extras) == []
    assert result.plan.versions() == best
    needed = needed_extras(result.universe, result.plan.chosen)
    assert {n: set(e) for n, e in extras.items() if e} == {n: e for n, e in needed.items() if e}
    by_tier = dict(zip(["newest-direct", "newest-required", "newest-other", "fewest-packages"],
                       cost(result.universe, result.plan.chosen), strict=True))
    assert by_tier == {name: result.plan.costs.get(name, 0) for name in by_tier}


@SETTINGS
@given(universe_data())
def test_the_lowest_resolution_is_the_brute_force_optimum_eager_and_lazy(
        data: dict[str, Any]) -> None:
    """``--resolution lowest``: oldest versions, counted per project as steps above its
    oldest usable version. Pruning is asked for and must be left out (a dominated release is
    an older one, which this objective prefers)."""
    lowest = (OldestDirect(), OldestOther(), FewestPackages())
    eager = _resolve(data, ResolveOptions(objectives=lowest, lazy=False, prune=True))
    best = brute_force_best(eager.universe, lowest_cost)
    if eager.plan is None:
        assert best is None, f"depsat says unsatisfiable, brute force found {best}"
        return
    assert verify(eager.universe, eager.plan.chosen,
                  {s.name: s.extras for s in eager.plan.steps}) == []
    assert eager.plan.versions() == best
    assert dict(eager.plan.costs) == {
        name: value for name, value in zip(
            ["oldest-direct", "oldest-other", "fewest-packages"],
            lowest_cost(eager.universe, eager.plan.chosen), strict=True)
        if name in dict(eager.plan.costs)}
    _assert_lazy_reaches_the_eager_optimum(
        eager, _resolve(data, ResolveOptions(objectives=lowest, lazy=True)))


def _same_plan(one: Any, other: Any) -> None:
    """The same pins and extras: the tie-break makes the plan a function of the problem."""
    assert one.plan.versions() == other.plan.versions()
    assert ({s.name: s.extras for s in one.plan.steps}
            == {s.name: s.extras for s in other.plan.steps})


def _assert_lazy_reaches_the_eager_optimum(eager: Any, lazy: Any) -> None:
    """Both or neither have a plan; the lazy one is verified, takes nothing unread and is
    the eager plan itself (not only one of equal cost)."""
    assert eager.ok == lazy.ok
    if eager.plan is not None and lazy.plan is not None:
        assert verify(lazy.universe, lazy.plan.chosen,
                      {s.name: s.extras for s in lazy.plan.steps}) == []
        assert not any(c.key in lazy.universe.free for c in lazy.plan.chosen)
        _same_plan(eager, lazy)


@SETTINGS
@given(universe_data())
def test_lazy_reading_gives_the_same_optimum(data: dict[str, Any]) -> None:
    eager = _resolve(data, ResolveOptions(lazy=False))
    lazy = _resolve(data, ResolveOptions(lazy=True))
    _assert_lazy_reaches_the_eager_optimum(eager, lazy)


class _Counting:
    """A backend that passes problems on to `StratifiedRC2` and counts how they ended."""

    name = "counting"

    def __init__(self) -> None:
        self.outcomes: list[str] = []

    def solve(self, problem: Problem) -> Optimum | Refutation | Unfinished:
        outcome = StratifiedRC2().solve(problem)
        self.outcomes.append(type(outcome).__name__)
        return outcome


@SETTINGS
@given(universe_data(), st.sampled_from([0, 1, 3]))
def test_lazy_rounds_that_give_up_still_reach_the_eager_optimum(data: dict[str, Any],
                                                                effort: int) -> None:
    """A lazy round past its effort limit gives up and every free release is read instead;
    a later one past a higher limit gives up too, and then everything is read and one round
    ends it. With limits this low, most rounds that search at all give up."""
    eager = _resolve(data, ResolveOptions(lazy=False))
    counting = _Counting()
    lazy = _resolve(data, ResolveOptions(lazy=True, lazy_round_effort=effort,
                                         backend=counting))
    _assert_lazy_reaches_the_eager_optimum(eager, lazy)
    outcomes = counting.outcomes
    assert outcomes[-1] != "Unfinished" and outcomes.count("Unfinished") <= 2
    if outcomes.count("Unfinished") == 2:  # the second gave up: one eager round follows
        assert outcomes[-2] == "Unfinished" and not lazy.universe.free


def test_lazy_rounds_give_up_on_a_conflicting_universe() -> None:
    """The generator's conflicting universes make the solver search; with no effort allowed,
    the first round that searches gives up, every free release is read, the next round gives
    up as well, and then everything reachable is read: the eager universe, pruned as an eager
    resolve prunes it, and the optimum is still the eager one."""
    data = generate(GeneratorConfig(packages=200, versions=10, conflict=0.2, seed=1))
    eager = _resolve(data, ResolveOptions(lazy=False))
    counting = _Counting()
    lazy = _resolve(data, ResolveOptions(lazy=True, lazy_round_effort=0, backend=counting))
    assert counting.outcomes == ["Unfinished", "Unfinished", "Optimum"]
    _assert_lazy_reaches_the_eager_optimum(eager, lazy)
    assert lazy.universe.dependencies.keys() == eager.universe.dependencies.keys()
    assert lazy.encoding.pruned == eager.encoding.pruned != frozenset()


class _PartlyCached(Source):
    """A lazy source over a universe file's candidates that has some releases' metadata
    "on hand" (as an index's cache would), so discovery reads those speculatively."""

    lazy_metadata = True

    def __init__(self, inner: Source, on_hand: Callable[[Candidate], bool]) -> None:
        self.name = inner.name
        self._inner = inner
        self._on_hand = on_hand

    def candidates(self, project: NormalizedName) -> Sequence[Candidate]:
        return self._inner.candidates(project)

    def metadata_on_hand(self, candidates: Sequence[Candidate]) -> Sequence[Candidate]:
        return [c for c in candidates if self._on_hand(c)]


@SETTINGS
@given(universe_data(), st.randoms(use_true_random=False))
def test_lazy_reading_with_metadata_on_hand_gives_the_same_optimum(
        data: dict[str, Any], rng: random.Random) -> None:
    eager = _resolve(data, ResolveOptions(lazy=False))
    world = parse_universe(data)
    cached = {c.key for name in world.source.projects() for c in world.source.candidates(name)
              if rng.random() < 0.5}
    source = _PartlyCached(world.source, lambda c: c.key in cached)
    lazy = resolve(request_from_universe_file(world), [source], target_for(world))
    _assert_lazy_reaches_the_eager_optimum(eager, lazy)


class _Relisted(_PartlyCached):
    """A source listing each project's releases in another order, as another index (or a
    JSON page against an HTML one) may list the same files; all or none of them on hand."""

    def __init__(self, inner: Source, order: Callable[[list[Candidate]], list[Candidate]],
                 on_hand: bool) -> None:
        super().__init__(inner, lambda candidate: on_hand)
        self._order = order

    def candidates(self, project: NormalizedName) -> Sequence[Candidate]:
        return self._order(list(self._inner.candidates(project)))


@pytest.mark.parametrize("seed", [1, 2])
def test_the_plan_does_not_depend_on_the_cache_nor_on_the_order_an_index_lists_releases_in(
        seed: int) -> None:
    """Among plans of equal cost an optimiser's pick follows the variables' order, which
    follows the order projects are reached and releases read in: a warm cache read the
    releases on hand as the index listed them (7 and 9 of seed 2's pins differed in the
    other two orders), and a cold run, a warm one and an eager one read different releases
    before their last round (8 of 170 pins differed at 1000 x 10). The tie-break
    (`Problem.preferences`) makes the plan the same in all nine."""
    data = generate(GeneratorConfig(packages=200, versions=10, conflict=0.2, seed=seed))
    world = parse_universe(data)
    orders: list[Callable[[list[Candidate]], list[Candidate]]] = [
        lambda releases: releases,
        lambda releases: releases[::-1],
        lambda releases: sorted(releases, key=lambda c: str(c.version)),  # as files sort
    ]
    plans = [resolve(request_from_universe_file(world),
                     [_Relisted(world.source, order, on_hand)], target_for(world),
                     ResolveOptions(lazy=lazy)).plan
             for order in orders for on_hand, lazy in [(True, True), (False, True),
                                                        (False, False)]]
    assert plans[0] is not None
    assert all(plan is not None and plan.versions() == plans[0].versions() for plan in plans)


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
@pytest.mark.parametrize("first, second", [("zeta", "alpha"), ("alpha", "zeta")])
def test_among_plans_of_equal_cost_the_first_project_by_name_gets_the_newest(
        first: str, second: str, lazy: bool) -> None:
    """x needs both; `first` 2.0 needs `second` < 2. So either `first` 2.0 with `second`
    1.0, or `first` 1.0 with `second` 2.0: one step stale either way. The tie-break takes
    the newest alpha whichever needs which, and however discovery numbered them (without
    it, zeta 2.0 both times)."""
    data = {"root": {"requires": ["x"]}, "environment": {"python": "3.12"},
            "packages": {
                "x": {"versions": {"1.0": {"requires": [first, second]}}},
                first: {"versions": {"2.0": {"requires": [f"{second}<2"]}, "1.0": {}}},
                second: {"versions": {"2.0": {}, "1.0": {}}}}}
    result = _resolve(data, ResolveOptions(lazy=lazy))
    assert result.plan is not None
    assert result.plan.versions() == {"x": "1.0", "alpha": "2.0", "zeta": "1.0"}


def test_an_extra_a_release_turns_out_to_lack_is_not_in_the_plan() -> None:
    """a 1.1 asks for b[x]; b 1.1's extra x cannot be had, so b 1.0, which has no extra x,
    is taken (a missing extra asks nothing). A lazy run that gave "b 1.0 with x" a variable
    before reading b 1.0 reported b[x] in its plan; the eager plan has plain b, and so must
    every plan (a warning still says b 1.0 lacks x)."""
    unusable = {"requires": [], "yanked": True, "requires_python": ">=3.99"}
    data = {"root": {"requires": ["a"]}, "environment": {"python": "3.12"},
            "packages": {
                "a": {"versions": {"1.0": unusable, "1.1": {"requires": ["b[x]"]},
                                   "2.0": unusable}},
                "b": {"versions": {"1.1": {"requires": [], "extras": {"x": ["a<1.0"]}},
                                   "2.0": unusable, "1.0": {"requires": []}}}}}
    world = parse_universe(data)
    for on_hand in (True, False):
        lazy = resolve(request_from_universe_file(world),
                       [_PartlyCached(world.source, lambda _c, v=on_hand: v)],
                       target_for(world))
        assert lazy.plan is not None and lazy.plan.versions() == {"a": "1.1", "b": "1.0"}
        assert all(not step.extras for step in lazy.plan.steps)
        assert [(str(key.name), extra) for key, extra in lazy.plan.missing_extras] == [
            ("b", "x")]


@SETTINGS
@given(universe_data())
def test_pruning_dominated_releases_keeps_the_optimum(data: dict[str, Any]) -> None:
    pruned = _resolve(data, ResolveOptions(prune=True))
    full = _resolve(data, ResolveOptions(prune=False))
    assert pruned.ok == full.ok
    if pruned.plan is not None and full.plan is not None:
        assert not pruned.encoding.pruned & {c.key for c in pruned.plan.chosen}
        _same_plan(pruned, full)
    if pruned.failure is not None:
        assert not pruned.encoding.pruned  # explained from the full encoding


@SETTINGS
@given(universe_data())
def test_backends_agree(data: dict[str, Any]) -> None:
    lexicographic = _resolve(data, ResolveOptions(backend=LexicographicRC2()))
    stratified = _resolve(data, ResolveOptions(backend=StratifiedRC2()))
    assert lexicographic.ok == stratified.ok
    if lexicographic.plan is not None and stratified.plan is not None:
        _same_plan(lexicographic, stratified)


@SETTINGS
@given(universe_data())
def test_refutation_core_is_unsatisfiable(data: dict[str, Any]) -> None:
    result = _resolve(data)
    if result.failure is None:
        return
    encoding = result.encoding
    labels = [label for label, _ in encoding.groups]
    core = [labels.index(label) for label in result.failure.core]
    problem = Problem(hard=encoding.hard, groups=[c for _, c in encoding.groups],
                      top=encoding.pool.top)
    with GroupSolver(problem) as oracle:
        assert not oracle.satisfiable(core)


def _lazy_and_eager(packages: dict[str, Any]) -> tuple[Any, Any]:
    """Eager and lazy resolutions of `r` (which requires `s`, which requires `a`) over
    `packages`: the lazy plan must be the eager one, and verified. (`a` two steps from what
    you name: its staleness and its dependencies' are in one tier, newest-other.)"""
    data = {"root": {"requires": ["r"]},
            "packages": {"r": {"versions": {"1.0": {"requires": ["s"]}}},
                         "s": {"versions": {"1.0": {"requires": ["a"]}}}, **packages}}
    eager = _resolve(data, ResolveOptions(lazy=False))
    lazy = _resolve(data, ResolveOptions(lazy=True))
    assert eager.plan is not None and lazy.plan is not None
    assert lazy.plan.versions() == eager.plan.versions()
    assert verify(lazy.universe, lazy.plan.chosen,
                  {s.name: s.extras for s in lazy.plan.steps}) == []
    return eager, lazy


def _read(resolution: Any, name: str) -> list[str]:
    """The versions of `name` whose metadata lazy reading read, best first."""
    return [str(c.version) for c in resolution.universe.projects[name].candidates
            if c.key not in resolution.universe.free]


def test_lazy_reading_leaves_a_speculative_release_s_dependencies_unread() -> None:
    """The optimum takes the free `a 1.0` (its newest release drags in a stale `c`), so every
    free release of `a` is read; `a 0.5`, read only speculatively, has its dependency's
    project loaded but not its best release, and the plan is still the eager optimum."""
    eager, lazy = _lazy_and_eager({
        "a": {"versions": {"2.0": {"requires": ["c==1.0"]}, "1.0": {},
                           "0.5": {"requires": ["z"]}}},
        "c": {"versions": {"1.0": {}, "2.0": {}, "3.0": {}, "4.0": {}}},
        "z": {"versions": {"1.0": {}, "2.0": {}}},
    })
    assert eager.plan.versions() == {"r": "1.0", "s": "1.0", "a": "1.0"}
    assert [str(c.version) for c in lazy.universe.projects["z"].candidates] == ["2.0", "1.0"]
    assert _read(lazy, "z") == []
    assert lazy.timings["rounds"] == 2


def test_a_lazy_round_reads_the_taken_release_and_its_nearest_siblings_only() -> None:
    """`a 30` drags in a stale `c`, so the optimum takes the free `a 29`: the next round reads
    it and the eight free releases on each side of it that exist (28 down to 21), not all of
    `a`'s releases."""
    a_versions: dict[str, Any] = {f"{v}.0": {} for v in range(1, 30)}
    a_versions["30.0"] = {"requires": ["c==1.0"]}
    eager, lazy = _lazy_and_eager({
        "a": {"versions": a_versions},
        "c": {"versions": {f"{v}.0": {} for v in range(1, 11)}},
    })
    assert eager.plan.versions() == {"r": "1.0", "s": "1.0", "a": "29.0"}
    assert _read(lazy, "a") == [f"{v}.0" for v in range(30, 20, -1)]


def test_a_release_read_before_someone_asks_for_its_extra_gets_the_extra_read() -> None:
    """`a 2.0` is read in round two (the newest `a` drags in a stale `c`); only then does
    `e` ask for `a[x]`, and `a 2.0[x]` needs a project that does not exist. Its extra must be
    read too, or the plan would take `a 2.0[x]` without it."""
    eager, _ = _lazy_and_eager({
        "a": {"versions": {
            "3.0": {"requires": ["c==1.0"], "extras": {"x": []}},
            "2.0": {"requires": ["e"], "extras": {"x": ["missing"]}},
            "1.0": {"requires": ["e"], "extras": {"x": []}},
        }},
        "c": {"versions": {f"{v}.0": {} for v in range(1, 6)}},
        "e": {"versions": {"1.0": {"requires": ["a[x]"]}}},
    })
    assert eager.plan.versions()["a"] == "1.0"


def test_a_project_whose_newest_releases_keep_failing_is_read_in_widening_windows() -> None:
    """The newest 120 of `a`'s 200 releases pin a very stale `c`: each round the optimum takes
    the next free one, and the window read around it doubles (8, 16, 32, 64), so a handful of
    rounds reach `a 80` instead of one round per nine releases, and the oldest stay unread."""
    eager, lazy = _lazy_and_eager({
        "a": {"versions": {f"{v}.0": {"requires": ["c==1.0"]} if v > 80 else {}
                           for v in range(1, 201)}},
        "c": {"versions": {f"{v}.0": {} for v in range(1, 200)}},
    })
    assert eager.plan.versions() == {"r": "1.0", "s": "1.0", "a": "80.0"}
    assert lazy.timings["rounds"] <= 6
    assert len(_read(lazy, "a")) < 150
