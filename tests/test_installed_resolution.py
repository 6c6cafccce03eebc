"""Solving with what is installed: keep, change, shadow or remove, optimal and verified."""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from strategies import (
    brute_force_best,
    full_cost,
    installed_candidates,
    installed_world,
    requirement,
    universe_data,
)

from depsat.api import request_from_universe_file, resolve, target_for
from depsat.model import Action, Candidate, InstalledInfo, Origin
from depsat.report import requirements_lines
from depsat.sources.universe_file import parse_universe
from depsat.verify import verify

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _solve(data: dict[str, Any], installed: list[Candidate], **switches: Any) -> Any:
    world = parse_universe(data)
    request = attrs.evolve(request_from_universe_file(world), installed=tuple(installed),
                           **switches)
    return resolve(request, [world.source], target_for(world))


@SETTINGS
@given(st.data())
def test_overrides_replace_requirements_as_the_verifier_reads_them(draw: st.DataObject,
                                                                  ) -> None:
    """uv's overrides (`Request.overrides`, with markers that may or may not hold) against
    brute force over what the verifier, reading them on its own, accepts."""
    data = draw.draw(universe_data())
    overrides = tuple(Requirement(text) for text in draw.draw(st.lists(
        requirement(list(data["packages"])), min_size=1, max_size=2,
        unique_by=lambda text: text.split("[")[0].rstrip("<>=!0123456789.abc ;_'\"")[:1])))
    _verified_and_optimal(_solve(data, [], overrides=overrides))


def _verified_and_optimal(result: Any) -> bool:
    """Checks the plan against brute force over every default tier, and the verifier;
    whether there is one (else brute force must find none either)."""
    best = brute_force_best(result.universe, full_cost)
    if result.plan is None:
        assert best is None, f"unsatisfiable, but brute force found {best}"
        return False
    assert verify(result.universe, result.plan.chosen,
                  {s.name: s.extras for s in result.plan.steps}) == []
    assert result.plan.versions() == best  # the optimum, and the tie-break's among equals
    return True


@SETTINGS
@given(installed_world())
def test_installed_plans_are_verified_and_optimal(world: Any) -> None:
    data, installed, switches = world
    result = _solve(data, installed_candidates(data, installed), **switches)
    if not _verified_and_optimal(result):
        return
    for step in result.plan.steps:
        previous = result.universe.installed.get(step.name)
        if step.action is Action.REMOVE:
            assert previous is not None and previous.installed is not None
            assert not previous.installed.read_only
        elif step.action is Action.KEEP:
            assert step.candidate == previous
        elif step.action is Action.SHADOW:
            assert previous is not None and previous.installed and previous.installed.read_only


@SETTINGS
@given(st.data())
def test_earlier_pins_are_kept_where_an_optimum_allows(draw: st.DataObject) -> None:
    """`Request.preferred` (an earlier ``-o`` file's pins) against brute force: the plan is
    the optimum of every tier, keep-locked included, and verified."""
    data = draw.draw(universe_data())
    usable = {name: sorted((v for v, meta in package["versions"].items()
                            if not meta.get("yanked") and "requires_python" not in meta
                            and not Version(v).is_prerelease), key=Version)
              for name, package in data["packages"].items()}
    # (mostly an older usable version: the newest is chosen anyway; now and then any)
    preferred = {
        canonicalize_name(name): Version(draw.draw(st.sampled_from(
            usable[name][:-1] or usable[name] or list(data["packages"][name]["versions"]))))
        for name in draw.draw(st.lists(st.sampled_from(list(data["packages"])), unique=True,
                                       min_size=1, max_size=3))}
    _verified_and_optimal(_solve(data, [], preferred=preferred,
                                 upgrade_all=draw.draw(st.integers(0, 5)) == 0))


def test_a_pin_no_plan_can_take_is_kept_by_leaving_its_package_out() -> None:
    """Found by the test above: d was pinned at 1.0, which nothing may ask for (a 2.0 needs
    d>=1.1), so d 1.0 is never read. The pin is kept by a 1.0, which needs no d at all, not
    broken by a 2.0 with d 1.1 (keep-locked comes before newest)."""
    data = {"root": {"requires": ["a"]}, "packages": {
        "a": {"versions": {"1.0": {}, "2.0": {"requires": ["d>=1.1"]}}},
        "d": {"versions": {"1.0": {}, "1.1": {}}}}}
    result = _solve(data, [], preferred={canonicalize_name("d"): Version("1.0")})
    assert _verified_and_optimal(result)
    assert result.plan.versions() == {"a": "1.0"}


def _installed(name: str, version: str, requires: list[str], *, read_only: bool = False,
               layer: str = "venv", direct_url: str | None = None) -> Candidate:
    return Candidate(
        name=name, version=Version(version),  # type: ignore[arg-type]
        origin=Origin("installed", layer), requires=tuple(Requirement(r) for r in requires),
        installed=InstalledInfo(layer=layer, layer_index=1 if read_only else 0,
                                path=f"/{layer}/{name}", format="dist-info",
                                read_only=read_only, direct_url=direct_url))


INDEX = {"packages": {
    "app": {"versions": {"1.0": {"requires": ["lib>=1"]}, "2.0": {"requires": ["lib>=2"]}}},
    "lib": {"versions": {"1.0": {}, "2.0": {}, "3.0": {}}},
    "tool": {"versions": {"1.0": {"requires": ["lib<2"]}}},
}, "root": {"requires": ["app"]}}


def test_keeps_what_satisfies_and_upgrade_moves_it() -> None:
    installed = [_installed("app", "1.0", ["lib>=1"]), _installed("lib", "1.0", [])]
    kept = _solve(INDEX, installed).plan
    assert {s.name: s.action for s in kept.steps} == {"app": Action.KEEP, "lib": Action.KEEP}
    upgraded = _solve(INDEX, installed, upgrade_all=True).plan
    assert upgraded.versions() == {"app": "2.0", "lib": "3.0"}
    assert {s.action for s in upgraded.steps} == {Action.UPGRADE}
    only_lib = _solve(INDEX, installed, upgrade=frozenset({"lib"})).plan
    assert only_lib.versions() == {"app": "1.0", "lib": "3.0"}


def test_installed_requirements_stay_satisfied() -> None:
    # tool (installed) needs lib<2: asking for app>=2 (needs lib>=2) must not silently break it.
    installed = [_installed("tool", "1.0", ["lib<2"]), _installed("lib", "1.0", [])]
    data = {**INDEX, "root": {"requires": ["app>=2"]}}
    result = _solve(data, installed)
    assert result.plan is not None
    step = result.plan.step("tool")
    assert step is not None and step.action is Action.REMOVE, result.plan
    broken = _solve(data, installed, allow_breaking=True).plan
    assert broken.step("tool").action is Action.KEEP
    assert broken.broken == ("tool 1.0 requires lib<2",)


def test_read_only_layer_is_shadowed_never_removed() -> None:
    installed = [_installed("tool", "1.0", ["lib<2"], read_only=True, layer="system"),
                 _installed("lib", "1.0", [], read_only=True, layer="system")]
    unsat = _solve({**INDEX, "root": {"requires": ["app>=2"]}}, installed)
    assert unsat.plan is None
    assert any(label.kind.value == "read-only" for label in unsat.failure.core)
    shadow = _solve({**INDEX, "root": {"requires": ["lib==3.0"]}},
                    [_installed("lib", "1.0", [], read_only=True, layer="system")]).plan
    step = shadow.step("lib")
    assert step.action is Action.SHADOW and "read-only" in step.note


def test_sync_removes_what_nothing_requires() -> None:
    installed = [_installed("app", "1.0", ["lib>=1"]), _installed("lib", "1.0", []),
                 _installed("stray", "0.1", [])]
    plan = _solve(INDEX, installed, sync=True).plan
    assert plan.step("stray").action is Action.REMOVE
    assert plan.step("app").action is Action.KEEP


def test_a_direct_reference_is_met_by_what_was_installed_from_it_only() -> None:
    """``lib @ URL`` names one file: the lib installed from it (PEP 610's direct_url.json)
    meets it, and nothing else does, the index's lib 3.0 no more than a lib installed from
    elsewhere (a direct reference in the request also gets the file itself: `test_direct`)."""
    url = "file:///wheels/lib-1.0-py3-none-any.whl"
    data = {**INDEX, "root": {"requires": ["tool2"]}, "packages": {
        **INDEX["packages"], "tool2": {"versions": {"1.0": {"requires": [f"lib @ {url}"]}}}}}
    from_it = _solve(data, [_installed("lib", "1.0", [], direct_url=url)])
    assert from_it.plan is not None
    assert {s.name: s.action for s in from_it.plan.steps} == {"tool2": Action.INSTALL,
                                                             "lib": Action.KEEP}
    assert verify(from_it.universe, from_it.plan.chosen, {}) == []
    # Pinned to the file, as pip freeze writes it (lib==1.0 would fetch another one).
    assert requirements_lines(from_it) == ["lib @ " + url, "    # via tool2", "tool2==1.0"]
    develop = _installed("lib", "1.0", [], direct_url="file:///src/lib")
    develop = attrs.evolve(develop, installed=attrs.evolve(develop.installed, editable=True))
    kept = _solve({**INDEX, "root": {"requires": ["lib"]}}, [develop])
    assert requirements_lines(kept) == ["-e file:///src/lib"]
    for installed in ([_installed("lib", "1.0", [], direct_url=url + "x")], []):
        assert _solve(data, installed).plan is None
