"""Universal resolution against one resolve per environment: on random universes whose
markers read the platform, the Python version and the implementation, the lock restricted to
any environment is a plan the verifier accepts there (with `exact`, the very plan a resolve
for that one environment gives), and a failure holds on every environment of its fork."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import PACKSE, assert_lock_holds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.markers import Marker
from packaging.version import Version
from test_cli import depsat

from depsat.api import ResolveOptions, request_from_universe_file, resolve
from depsat.environments import (
    ELSEWHERE,
    Cell,
    PythonRange,
    Space,
    StringRegion,
    comparisons,
    marker_text,
    plausible,
    system_of,
    told_apart,
)
from depsat.errors import ConfigurationError
from depsat.model import Request
from depsat.report import universal_to_json
from depsat.sources.universe_file import UniverseFile, parse_universe
from depsat.target import Target
from depsat.universal import UniversalResolution, python_range, resolve_universal

NAMES = ["a", "b", "c"]
VERSIONS = ["1.0", "2.0", "3.0"]
MARKERS = ["sys_platform == 'linux'", "sys_platform != 'win32'", "sys_platform == 'darwin'",
           "python_version >= '3.11'", "python_version < '3.12'",
           "python_full_version >= '3.10.5'", "implementation_name == 'pypy'",
           "sys_platform == 'linux' and python_version >= '3.12'",
           "sys_platform == 'win32' or implementation_name == 'pypy'",
           "platform_system == 'Windows'", "platform_system != 'Darwin'",
           "platform_system == 'FreeBSD' or sys_platform == 'darwin'",
           "platform_machine == 'AMD64'", "sys_platform == 'linux' and platform_machine != 'AMD64'",
           "os_name == 'nt'", "os_name != 'nt' and sys_platform != 'darwin'"]
PLATFORMS = ["linux", "darwin", "win32", "freebsd13"]
PYTHONS = ["3.10.0", "3.10.7", "3.11.4", "3.12.0", "3.13.1"]
IMPLEMENTATIONS = ["cpython", "pypy"]
ENVIRONMENTS = list(itertools.product(PLATFORMS, PYTHONS, IMPLEMENTATIONS))


@st.composite
def requirement(draw: st.DrawFn, names: list[str], extras: bool = True) -> str:
    name = draw(st.sampled_from(names))
    op = draw(st.sampled_from(["", ">=", "<", "=="]))
    spec = f"{op}{draw(st.sampled_from(VERSIONS))}" if op else ""
    extra = "[x]" if extras and draw(st.integers(0, 3)) == 0 else ""
    marker = f" ; {draw(st.sampled_from(MARKERS))}" if draw(st.booleans()) else ""
    return f"{name}{extra}{spec}{marker}"


@st.composite
def universe(draw: st.DrawFn) -> dict[str, Any]:
    packages: dict[str, Any] = {}
    for name in NAMES:
        versions: dict[str, Any] = {}
        for version in draw(st.lists(st.sampled_from(VERSIONS), min_size=1, max_size=3,
                                     unique=True)):
            others = [n for n in NAMES if n != name]
            meta: dict[str, Any] = {"requires": draw(st.lists(requirement(others),
                                                              max_size=2))}
            meta["requires_python"] = draw(st.sampled_from([">=3.10", ">=3.10", ">=3.11",
                                                            "<3.13", ">=3.10, !=3.11.4"]))
            if draw(st.booleans()):  # an extra, its requirements with markers of their own
                meta["extras"] = {"x": draw(st.lists(requirement(others, extras=False),
                                                     min_size=1, max_size=2))}
            versions[version] = meta
        packages[name] = {"versions": versions}
    root = draw(st.lists(requirement(NAMES), min_size=1, max_size=3))
    return {"root": {"requires": root, "requires_python": ">=3.10"}, "packages": packages,
            "resolver_options": {"universal": True}}


def _environment(platform: str, python: str, implementation: str) -> dict[str, str]:
    environment = dict(Target.for_python(python).markers)
    environment.update(sys_platform=platform, implementation_name=implementation,
                       platform_system="FreeBSD" if platform == "freebsd13"
                       else system_of(platform),
                       platform_machine="AMD64" if platform == "win32" else "x86_64",
                       os_name="nt" if platform == "win32" else "posix")
    return environment


def _resolve_for(world: UniverseFile, environment: dict[str, str]) -> Any:
    target = Target(python_version=Version(environment["python_full_version"]),
                    markers=environment, tags=None)
    return resolve(request_from_universe_file(world), [world.source], target)


@pytest.mark.parametrize(("exact", "strategy", "lazy"),
                         [(False, "requires-python", False), (True, "requires-python", False),
                          (False, "fewest", False), (False, "requires-python", True),
                          (False, "fewest", True)])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=universe())
def test_the_lock_holds_on_every_environment(exact: bool, strategy: str, lazy: bool,
                                             data: dict[str, Any]) -> None:
    """Also read lazily, as from an index: the resolves then share their projects' loading
    (`LoadedProjects`), and the lazy rounds run in every cell."""
    world = parse_universe(data, "universal")
    universal = resolve_universal(request_from_universe_file(world), [world.source], ">=3.10",
                                  ResolveOptions(lazy=lazy), exact=exact,
                                  fork_strategy=strategy)
    request = request_from_universe_file(world)
    for pick in ENVIRONMENTS:
        environment = _environment(*pick)
        if universal.failed is not None:
            if universal.failed.cell.contains(environment):
                assert not _resolve_for(world, environment).ok  # a failure holds on all of it
            continue
        alone = assert_lock_holds(universal, request, [world.source], environment)
        if exact:
            assert ({str(p.candidate.name): str(p.candidate.version)
                     for p in universal.pins_for(environment)} == alone.plan.versions())


def test_a_failure_is_the_forks_where_no_plan_exists() -> None:
    world = parse_universe({
        "root": {"requires": ["a ; sys_platform == 'win32'", "b"]},
        "packages": {"a": {"versions": {"1.0": {"requires": ["c>=2"]}}},
                     "b": {"versions": {"1.0": {"requires": ["c<2"]}}},
                     "c": {"versions": {"1.0": {}, "2.0": {}}}},
        "environment": {"python": "3.12"}}, "fails-on-windows")
    universal = resolve_universal(request_from_universe_file(world), [world.source], ">=3.12")
    assert universal.failed is not None
    assert universal.failed.marker == "sys_platform == 'win32'"
    assert universal.forks == () or all(f.marker != "sys_platform == 'win32'"
                                        for f in universal.forks)


def test_pins_taken_everywhere_carry_no_marker_and_others_the_union_of_their_forks() -> None:
    world = parse_universe({
        "root": {"requires": ["a>=2 ; sys_platform == 'linux'",
                              "a<2 ; sys_platform == 'darwin'", "b"]},
        "packages": {"a": {"versions": {"1.0": {}, "2.0": {}}},
                     "b": {"versions": {"1.0": {"requires": ["c ; python_version < '3.13'"]}}},
                     "c": {"versions": {"1.0": {}}}},
        "environment": {"python": "3.12"}}, "pins")
    universal = resolve_universal(request_from_universe_file(world), [world.source], ">=3.12")
    assert {(str(p.candidate.name), str(p.candidate.version), p.marker)
            for p in universal.pins} == {
        ("a", "1.0", "sys_platform == 'darwin'"), ("a", "2.0", "sys_platform == 'linux'"),
        ("b", "1.0", ""), ("c", "1.0", "python_full_version < '3.13'")}


def test_merged_cells_read_as_short_markers() -> None:
    space = Space(Version("3.10"), {}, {"sys_platform": frozenset({"linux", "darwin"})})
    python = PythonRange(Version("3.10"))
    linux = Cell(python, (("sys_platform", StringRegion(frozenset({"linux"}), False)),))
    darwin = Cell(python, (("sys_platform", StringRegion(frozenset({"darwin"}), False)),))
    rest = Cell(python, (("sys_platform", StringRegion(frozenset({"linux", "darwin"}))),))
    assert marker_text([linux, darwin, rest], space) == ""
    assert marker_text([darwin, rest], space) == "sys_platform != 'linux'"
    old = Cell(PythonRange(Version("3.10"), Version("3.11")))
    new = Cell(PythonRange(Version("3.12")))
    assert marker_text([old, new], space) == ("python_full_version < '3.11' or "
                                              "python_full_version >= '3.12'")
    # one Python range for all: said once, as uv writes it (poetry's cffi pin)
    not_pypy = StringRegion(frozenset({"PyPy"}))
    space = space.knowing(comparisons(Marker("platform_python_implementation == 'PyPy'")))
    linux_cpython = Cell(old.python, (("platform_python_implementation", not_pypy),
                                      ("sys_platform", linux.region("sys_platform"))))
    darwin_old = Cell(old.python, darwin.regions)
    assert marker_text([linux_cpython, darwin_old], space) == (
        "python_full_version < '3.11' and ((platform_python_implementation != 'PyPy' and "
        "sys_platform == 'linux') or sys_platform == 'darwin')")


@pytest.mark.parametrize(("given_range", "low", "high"), [
    (">=3.10", "3.10.0", None), (">=3.9,<3.13", "3.9.0", "3.13.0"), ("~=3.10", "3.10.0", "4.0.0"),
    ("==3.11.*", "3.11.0", "3.12.0"), (">3.10.1,<=3.12", "3.10.2", "3.12.1"),
    ("==3.11", "3.11.0", "3.11.1")])
def test_requires_python_becomes_one_range(given_range: str, low: str, high: str | None) -> None:
    assert python_range(given_range) == PythonRange(Version(low),
                                                    Version(high) if high else None)


@pytest.mark.parametrize("given_range", ["<3.13", ">=3.12,<3.11"])
def test_a_range_without_a_floor_or_without_pythons_is_an_error(given_range: str) -> None:
    with pytest.raises(ConfigurationError, match=r"Requires-Python"):
        python_range(given_range)


def _pins_of(data: dict[str, Any], requires_python: str) -> set[tuple[str, str, str]]:
    world = parse_universe(data, "pins")
    universal = resolve_universal(request_from_universe_file(world), [world.source],
                                  requires_python)
    return {(str(p.candidate.name), str(p.candidate.version), p.marker)
            for p in universal.pins}


def test_a_python_that_can_have_a_newer_release_gets_it() -> None:
    """As uv forks on Requires-Python: b 2.0 needs Python 3.11.5 (soupsieve 4 does), so
    3.10 to 3.11.4 keep b 1.0."""
    assert _pins_of({"root": {"requires": ["b"]},
                     "packages": {"b": {"versions": {"1.0": {"requires_python": ">=3.10"},
                                                     "2.0": {"requires_python": ">=3.11.5"}}}}},
                    ">=3.10") == {("b", "1.0", "python_full_version < '3.11.5'"),
                                  ("b", "2.0", "python_full_version >= '3.11.5'")}


def test_a_python_that_a_release_leaves_out_keeps_an_older_one() -> None:
    """A hole in Requires-Python (streamlit >= 1.13: ``>=3.9, !=3.9.7``): the one Python left
    out gets the newest release that admits it, the others the newest. (uv's lock takes the
    newest release on 3.9.7 too, which Python 3.9.7 cannot install.)"""
    assert _pins_of({"root": {"requires": ["s"]},
                     "packages": {"s": {"versions": {
                         "1.12": {"requires_python": ">=3.7"},
                         "1.50": {"requires_python": ">=3.9, !=3.9.7"}}}}},
                    ">=3.9") == {
        ("s", "1.12", "python_full_version == '3.9.7'"),
        ("s", "1.50", "python_full_version != '3.9.7'")}


def test_a_requirement_that_holds_only_somewhere_bounds_its_package_only_there() -> None:
    """``c<2`` on Windows alone: elsewhere c 2.0, though nothing forks on sibling markers."""
    assert _pins_of({"root": {"requires": ["a", "c"]},
                     "packages": {"a": {"versions": {"1.0": {"requires": [
                                      "c<2 ; sys_platform == 'win32'"]}}},
                                  "c": {"versions": {"1.0": {}, "2.0": {}}}},
                     "environment": {"python": "3.12"}},
                    ">=3.12") == {("a", "1.0", ""), ("c", "1.0", "sys_platform == 'win32'"),
                                  ("c", "2.0", "sys_platform != 'win32'")}


def test_a_requirement_that_holds_only_somewhere_is_pinned_only_there() -> None:
    """No fork: d is taken in the one resolution and marked with where it is needed."""
    world = parse_universe({
        "root": {"requires": ["a"]},
        "packages": {"a": {"versions": {"1.0": {"requires": [
                         "d ; sys_platform == 'win32' and python_version < '3.13'"]}}},
                     "d": {"versions": {"1.0": {}}}},
        "environment": {"python": "3.12"}}, "one-fork")
    universal = resolve_universal(request_from_universe_file(world), [world.source], ">=3.12")
    assert len(universal.forks) == 1 and universal.resolves == 1
    assert {(str(p.candidate.name), p.marker) for p in universal.pins} == {
        ("a", ""), ("d", "python_full_version < '3.13' and sys_platform == 'win32'")}


def test_a_marker_is_widened_as_far_as_the_partition_allows() -> None:
    space = Space(Version("3.10"), {}, {"sys_platform": frozenset({"win32"})})
    win32 = StringRegion(frozenset({"win32"}), False)
    old = Cell(PythonRange(Version("3.10"), Version("3.11")))
    new_windows = Cell(PythonRange(Version("3.11")), (("sys_platform", win32),))
    new_other = Cell(PythonRange(Version("3.11")), (("sys_platform", StringRegion(win32.values)),))
    partition = [old, new_windows, new_other]
    assert marker_text([old, new_other], space) == (
        "python_full_version < '3.11' or "
        "(python_full_version >= '3.11' and sys_platform != 'win32')")
    assert marker_text([old, new_other], space, partition) == (
        "python_full_version < '3.11' or sys_platform != 'win32'")
    assert marker_text([new_windows], space, partition) == (
        "python_full_version >= '3.11' and sys_platform == 'win32'")
    assert marker_text([Cell(PythonRange(Version("3.11"), Version("3.12")))], space) == (
        "python_full_version == '3.11.*'")


def test_the_command_line_says_where_no_lock_exists() -> None:
    run = depsat("resolve", "--universal", "--universe",
                 str(PACKSE / "fork" / "conflict-in-fork.toml"), "--no-memo")
    assert run.returncode == 1
    assert run.stderr.startswith(
        "depsat: no universal solution: none where sys_platform == 'os2'.\n")
    assert "Only one version of d can be installed." in run.stderr


def test_the_universal_json_names_each_pins_marker_and_forks() -> None:
    run = depsat("resolve", "--universal", "--universe",
                 str(PACKSE / "fork" / "marker-inherit.toml"), "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["schema"] == "depsat.universal/1" and data["status"] == "solved"
    assert [(p["name"], p["version"], p["marker"]) for p in data["packages"]] == [
        ("a", "1.0.0", "sys_platform == 'darwin'"), ("a", "2.0.0", "sys_platform == 'linux'")]
    markers = [fork["marker"] for fork in data["forks"]]
    assert sorted(markers) == ["sys_platform != 'darwin' and sys_platform != 'linux'",
                               "sys_platform == 'darwin'", "sys_platform == 'linux'"]
    for pin in data["packages"]:
        assert [data["forks"][i]["marker"] for i in pin["forks"]] == [pin["marker"]]


def test_a_universal_lock_is_for_every_platform() -> None:
    run = depsat("resolve", "--universal", "--universe",
                 str(PACKSE / "fork" / "basic.toml"), "--python-platform", "linux")
    assert run.returncode == 2
    assert "--universal: a universal resolution is for every platform" in run.stderr


def test_a_release_whose_sibling_requirements_part_ways_gets_a_fork() -> None:
    """a 2.0 asks c==1 on Linux and c==2 elsewhere: taken together it cannot be installed,
    so the environments are split on its markers (uv forks on such siblings) and each part
    has a 2.0."""
    assert _pins_of({"root": {"requires": ["a"]},
                     "packages": {"a": {"versions": {"1.0": {}, "2.0": {"requires": [
                                      "c==1 ; sys_platform == 'linux'",
                                      "c==2 ; sys_platform != 'linux'"]}}},
                                  "c": {"versions": {"1.0": {}, "2.0": {}}}},
                     "environment": {"python": "3.12"}},
                    ">=3.12") == {("a", "2.0", ""), ("c", "1.0", "sys_platform == 'linux'"),
                                  ("c", "2.0", "sys_platform != 'linux'")}


def test_a_release_whose_requirement_nothing_meets_in_part_gets_a_fork() -> None:
    """scrapy 2 asks PyPyDispatcher on PyPy alone, and nothing provides it (its releases
    need a build to be read): CPython gets the newest release, PyPy the older one."""
    assert _pins_of({"root": {"requires": ["a"]},
                     "packages": {"a": {"versions": {
                         "1.0": {},
                         "2.0": {"requires": ["gone ; platform_python_implementation == 'PyPy'",
                                              "b"]}}},
                         "b": {"versions": {"1.0": {}}}},
                     "environment": {"python": "3.12"}},
                    ">=3.12") == {
        ("a", "1.0", "platform_python_implementation == 'PyPy'"),
        ("a", "2.0", "platform_python_implementation != 'PyPy'"),
        ("b", "1.0", "platform_python_implementation != 'PyPy'")}


def test_an_earlier_lock_keeps_its_versions_where_its_markers_hold(tmp_path: Path) -> None:
    """``-o FILE`` of a universal lock: each pin is preferred where its marker holds, a
    package pinned twice splits the environments as before, so Windows keeps a 1.0 though a
    2.0 would do there too; without the file, a 2.0 everywhere."""
    universe = tmp_path / "u.toml"
    universe.write_text('[root]\nrequires = ["a"]\n[packages.a.versions."1.0"]\n'
                        '[packages.a.versions."2.0"]\n[environment]\npython = "3.12"\n')
    lock = tmp_path / "lock.txt"
    fresh = depsat("resolve", "--universal", "--universe", str(universe), "--format",
                   "requirements", "--no-annotate", "--no-memo")
    assert fresh.stdout == "a==2.0\n"
    lock.write_text("a==2.0 ; sys_platform != 'win32'\na==1.0 ; sys_platform == 'win32'\n")
    kept = depsat("resolve", "--universal", "--universe", str(universe), "-o", str(lock),
                  "--no-header", "--no-annotate", "--no-memo")
    assert kept.returncode == 0, kept.stderr
    assert lock.read_text() == ("a==1.0 ; sys_platform == 'win32'\n"
                                "a==2.0 ; sys_platform != 'win32'\n")
    upgraded = depsat("resolve", "--universal", "--universe", str(universe), "-o", str(lock),
                      "--no-header", "--no-annotate", "--no-memo", "-U")
    assert upgraded.returncode == 0 and lock.read_text() == "a==2.0\n"


def test_an_extra_is_pinned_only_where_it_is_installed(tmp_path: Path) -> None:
    """b's extra x is asked on Linux only: ``b[x]`` there, plain ``b`` elsewhere, so that pip
    installs no extra whose requirements (c) are not pinned there; with --strip-extras, one
    line for b."""
    universe = tmp_path / "u.toml"
    universe.write_text(
        '[root]\nrequires = ["a"]\n'
        '[packages.a.versions."1.0"]\nrequires = ["b[x] ; sys_platform == \'linux\'", "b"]\n'
        '[packages.b.versions."1.0".extras]\nx = ["c"]\n'
        '[packages.c.versions."1.0"]\n[environment]\npython = "3.12"\n')
    run = depsat("resolve", "--universal", "--universe", str(universe), "--format",
                 "requirements", "--no-annotate", "--no-memo")
    assert run.stdout.splitlines() == ["a==1.0", "b==1.0 ; sys_platform != 'linux'",
                                       "b[x]==1.0 ; sys_platform == 'linux'",
                                       "c==1.0 ; sys_platform == 'linux'"], run.stderr
    stripped = depsat("resolve", "--universal", "--universe", str(universe), "--format",
                      "requirements", "--no-annotate", "--no-memo", "--strip-extras")
    assert stripped.stdout.splitlines() == ["a==1.0", "b==1.0",
                                            "c==1.0 ; sys_platform == 'linux'"]


def test_environments_left_out_are_neither_resolved_nor_failed() -> None:
    """uv's tool.uv.environments: restricted to Linux and macOS, a lock exists though none
    does on Windows, and it installs nothing in the environments left out."""
    world = parse_universe({
        "root": {"requires": ["a ; sys_platform == 'win32'", "b", "d ; sys_platform != 'linux'"]},
        "packages": {"a": {"versions": {"1.0": {"requires": ["c>=2"]}}},
                     "b": {"versions": {"1.0": {"requires": ["c<2"]}}},
                     "c": {"versions": {"1.0": {}, "2.0": {}}},
                     "d": {"versions": {"1.0": {}}}},
        "environment": {"python": "3.12"}}, "not-on-windows")
    request = request_from_universe_file(world)
    assert not resolve_universal(request, [world.source], ">=3.12").ok
    universal = resolve_universal(request, [world.source], ">=3.12", environments=[
        Marker("sys_platform == 'linux'"), Marker("sys_platform == 'darwin'")])
    assert universal.ok
    supported = "sys_platform == 'darwin' or sys_platform == 'linux'"
    assert {(str(p.candidate.name), p.marker) for p in universal.pins} == {
        ("b", supported), ("c", supported), ("d", "sys_platform == 'darwin'")}
    for platform in ("linux", "darwin"):
        assert_lock_holds(universal, request, [world.source],
                          _environment(platform, "3.12.0", "cpython"))


def test_the_command_line_takes_environments_with_universal_only() -> None:
    run = depsat("resolve", "--universe", str(PACKSE / "fork" / "basic.toml"),
                 "--environment", "sys_platform == 'linux'")
    assert run.returncode == 2 and "add --universal" in run.stderr
    run = depsat("resolve", "--universal", "--universe", str(PACKSE / "fork" / "basic.toml"),
                 "--environment", "sys_platform = linux")
    assert run.returncode == 2 and "--environment: invalid marker" in run.stderr
    run = depsat("resolve", "--universal", "--universe", str(PACKSE / "fork" / "basic.toml"),
                 "--environment", "sys_platform == 'linux'", "--format", "requirements",
                 "--no-annotate", "--no-memo")
    assert run.returncode == 0 and run.stdout == "a==2.0.0 ; sys_platform == 'linux'\n"


def _lock_of_a(requires: list[str]) -> tuple[UniverseFile, Request, UniversalResolution]:
    """A universal lock from Python 3.12 of ``a`` 1.0, which has `requires` on ``c``, ``d``
    and ``e`` (one release each): its world, request and lock."""
    world = parse_universe({
        "root": {"requires": ["a"]},
        "packages": {"a": {"versions": {"1.0": {"requires": requires}}},
                     "c": {"versions": {"1.0": {}}}, "d": {"versions": {"1.0": {}}},
                     "e": {"versions": {"1.0": {}}}},
        "environment": {"python": "3.12"}}, "a")
    request = request_from_universe_file(world)
    return world, request, resolve_universal(request, [world.source], ">=3.12")


def test_platform_system_is_read_as_the_sys_platform_it_goes_with() -> None:
    """``platform_system == 'Windows'`` is ``sys_platform == 'win32'`` (as uv writes it), so
    no fork is made for Windows with another platform; a system of its own (FreeBSD) stays
    a ``platform_system`` comparison, and the lock holds on a FreeBSD machine."""
    world, request, universal = _lock_of_a([
        "c ; platform_system == 'Windows'", "d ; sys_platform == 'win32'",
        "e ; platform_system == 'FreeBSD'"])
    assert {(str(p.candidate.name), p.marker) for p in universal.pins} == {
        ("a", ""), ("c", "sys_platform == 'win32'"), ("d", "sys_platform == 'win32'"),
        ("e", "platform_system == 'FreeBSD'")}
    for platform in ("win32", "freebsd13", "linux"):
        alone = assert_lock_holds(universal, request, [world.source],
                                  _environment(platform, "3.12.0", "cpython"))
        assert alone.plan is not None
        assert ({str(p.candidate.name) for p in universal.pins_for(
            _environment(platform, "3.12.0", "cpython"))} == set(alone.plan.versions()))
    alone_windows = parse_universe({
        "root": {"requires": ["c ; platform_system == 'Windows'"]},
        "packages": {"c": {"versions": {"1.0": {}}}}, "environment": {"python": "3.12"}}, "c")
    assert [p.marker for p in resolve_universal(
        request_from_universe_file(alone_windows), [alone_windows.source], ">=3.12").pins
            ] == ["sys_platform == 'win32'"]


def test_a_machine_only_windows_reports_makes_no_fork_elsewhere() -> None:
    """Windows alone says ``AMD64`` (Linux says ``x86_64``): no fork is resolved for
    ``AMD64`` on Linux, no marker leaves it out, and the lock holds on both machines."""
    world, request, universal = _lock_of_a([
        "c ; platform_machine == 'AMD64'",
        "d ; sys_platform == 'linux' and platform_machine != 'x86_64'",
        "e ; sys_platform == 'linux'"])
    assert {(str(p.candidate.name), p.marker) for p in universal.pins} == {
        ("a", ""), ("c", "platform_machine == 'AMD64'"),
        ("d", "platform_machine != 'x86_64' and sys_platform == 'linux'"),
        ("e", "sys_platform == 'linux'")}
    for platform in ("win32", "linux"):
        alone = assert_lock_holds(universal, request, [world.source],
                                  _environment(platform, "3.12.0", "cpython"))
        assert alone.plan is not None
    space = Space(Version("3.12"), Target.for_python("3.12").markers)
    amd64 = StringRegion(frozenset({"AMD64"}), complement=False)
    linux = StringRegion(frozenset({"linux"}), complement=False)
    assert Cell(PythonRange(Version("3.12")), (("platform_machine", amd64),)).possible(space)
    assert not Cell(PythonRange(Version("3.12")),
                    (("platform_machine", amd64), ("sys_platform", linux))).possible(space)
    knowing = space.knowing(comparisons(Marker(
        "platform_machine == 'AMD64' or platform_machine == 'x86_64'")))
    not_x86_64 = StringRegion(frozenset({"x86_64"}))  # (AMD64 is its first known machine)
    assert Cell(PythonRange(Version("3.12")),
                (("platform_machine", not_x86_64), ("sys_platform", linux))).possible(knowing)
    parting = parse_universe({
        "root": {"requires": ["b==1.0 ; platform_machine == 'AMD64'",
                              "b==2.0 ; platform_machine != 'AMD64'",
                              "c==1.0 ; sys_platform == 'linux'",
                              "c==2.0 ; sys_platform != 'linux'"]},
        "packages": {"b": {"versions": {"1.0": {}, "2.0": {}}},
                     "c": {"versions": {"1.0": {}, "2.0": {}}}},
        "environment": {"python": "3.12"}}, "parting")
    forks = resolve_universal(request_from_universe_file(parting), [parting.source],
                              ">=3.12").forks
    assert sorted(fork.marker for fork in forks) == [
        "platform_machine != 'AMD64' and sys_platform != 'linux'",
        "platform_machine != 'AMD64' and sys_platform == 'linux'",
        "platform_machine == 'AMD64'"]


def test_os_name_is_the_one_its_platform_has() -> None:
    """Windows says ``os_name == 'nt'``, Linux and macOS say ``posix`` (uv assumes so too):
    no fork is resolved for ``nt`` on Linux, a requirement only such a machine would have
    asks nothing, and the lock holds on each platform. A platform named nowhere may say
    either."""
    parting = parse_universe({
        "root": {"requires": ["b==1.0 ; os_name == 'nt'", "b==2.0 ; os_name != 'nt'",
                              "c==1.0 ; sys_platform == 'linux'",
                              "c==2.0 ; sys_platform != 'linux'",
                              "d<2 ; sys_platform == 'linux'",
                              "d>=2 ; os_name == 'nt' and sys_platform == 'linux'"]},
        "packages": {name: {"versions": {"1.0": {}, "2.0": {}}} for name in "bcd"},
        "environment": {"python": "3.12"}}, "parting")
    request = request_from_universe_file(parting)
    universal = resolve_universal(request, [parting.source], ">=3.12")
    assert universal.ok
    assert sorted(fork.marker for fork in universal.forks) == [
        "os_name != 'nt' and sys_platform != 'linux'",
        "os_name != 'nt' and sys_platform == 'linux'",
        "os_name == 'nt' and sys_platform != 'linux'"]
    assert {(str(p.candidate.name), str(p.candidate.version)) for p in universal.pins_for(
        _environment("linux", "3.12.0", "cpython"))} == {("b", "2.0"), ("c", "1.0"),
                                                         ("d", "1.0")}
    for platform in ("win32", "linux", "darwin"):
        alone = assert_lock_holds(universal, request, [parting.source],
                                  _environment(platform, "3.12.0", "cpython"))
        assert alone.plan is not None
    space = Space(Version("3.12"), Target.for_python("3.12").markers).knowing(
        comparisons(Marker("sys_platform == 'linux' or sys_platform == 'win32'")))
    nt = ("os_name", StringRegion(frozenset({"nt"}), complement=False))
    posix = ("os_name", StringRegion(frozenset({"posix"}), complement=False))
    linux = ("sys_platform", StringRegion(frozenset({"linux"}), complement=False))
    windows = ("sys_platform", StringRegion(frozenset({"win32"}), complement=False))
    elsewhere = ("sys_platform", StringRegion(frozenset({"linux", "win32"})))
    python = PythonRange(Version("3.12"))
    assert Cell(python, (nt,)).possible(space)
    assert Cell(python, (nt, windows)).possible(space)
    assert Cell(python, (nt, elsewhere)).possible(space)
    assert not Cell(python, (nt, linux)).possible(space)
    assert not Cell(python, (posix, windows)).possible(space)
    assert Cell(python, (posix, linux)).possible(space)
    # Windows is within `nt`: the union of the two is written as the one.
    not_nt = ("os_name", StringRegion(frozenset({"nt"})))
    not_windows = ("sys_platform", StringRegion(frozenset({"win32"})))
    nt_somewhere = [Cell(python, (windows,)), Cell(python, (nt, not_windows))]
    assert marker_text(nt_somewhere, space, [*nt_somewhere, Cell(
        python, (not_nt, not_windows))]) == "os_name == 'nt'"
    windows_machine = {**Target.for_python("3.12").markers, "sys_platform": "win32",
                       "platform_system": "Windows", "platform_machine": "AMD64"}
    assert plausible({**windows_machine, "os_name": "nt"})
    assert not plausible({**windows_machine, "os_name": "posix"})
    told = told_apart([Marker("os_name == 'nt'"), Marker("sys_platform == 'win32'")],
                      Version("3.12"), Target.for_python("3.12").markers)
    assert sorted((e["sys_platform"], e["os_name"]) for e in told) == [
        (ELSEWHERE, ELSEWHERE), (ELSEWHERE, "nt"), ("win32", "nt")]


def test_forks_with_the_same_plan_are_reported_as_one() -> None:
    """Cells are split as far as the markers read divide them, and two of them may end with
    the same plan (d 2.0: below 3.12, where d 3.0 cannot be had, and on Linux, where d<3 is
    asked): the lock reports them as one fork with one marker, as uv merges identical forks,
    and each pin names the merged forks that take it."""
    world = parse_universe({
        "root": {"requires": ["d<3 ; sys_platform == 'linux'", "d>=2 ; sys_platform != 'linux'"]},
        "packages": {"d": {"versions": {"1.0": {}, "2.0": {},
                                        "3.0": {"requires_python": ">=3.12"}}}},
        "environment": {"python": "3.10"}}, "w")
    universal = resolve_universal(request_from_universe_file(world), [world.source], ">=3.10")
    assert len(universal.forks) == 3
    assert [(m.marker, m.forks) for m in universal.merged] == [
        ("python_full_version < '3.12' or sys_platform == 'linux'", (0, 1)),
        ("python_full_version >= '3.12' and sys_platform != 'linux'", (2,))]
    for platform, python in itertools.product(PLATFORMS, PYTHONS):
        environment = _environment(platform, python, "cpython")
        for merged in universal.merged:
            assert Marker(merged.marker).evaluate(environment) == any(
                universal.forks[i].cell.contains(environment) for i in merged.forks)
    data = universal_to_json(universal)
    assert [(f["marker"], f["packages"]) for f in data["forks"]] == [
        ("python_full_version < '3.12' or sys_platform == 'linux'", {"d": "2.0"}),
        ("python_full_version >= '3.12' and sys_platform != 'linux'", {"d": "3.0"})]
    assert [(p["version"], p["forks"]) for p in data["packages"]] == [("2.0", [0]),
                                                                      ("3.0", [1])]


def test_a_projects_requires_python_gives_the_pythons_of_its_lock(tmp_path: Path) -> None:
    """``-r pyproject.toml --universal``: its requires-python (>=3.12) unless
    --python-version says otherwise; an invalid one names itself."""
    universe = tmp_path / "u.toml"
    universe.write_text('[packages.b.versions."1.0"]\nrequires_python = ">=3.10"\n'
                        '[packages.b.versions."2.0"]\nrequires_python = ">=3.12"\n')
    project = tmp_path / "pyproject.toml"
    project.write_text('[project]\nname = "app"\nversion = "1"\nrequires-python = ">=3.12"\n'
                       'dependencies = ["b"]\n')
    common = ["resolve", "--universal", "--universe", str(universe), "-r", str(project),
              "--format", "requirements", "--no-annotate", "--no-memo"]
    assert depsat(*common).stdout == "b==2.0\n"
    assert depsat(*common, "--python-version", "3.10").stdout == (
        "b==1.0 ; python_full_version < '3.12'\nb==2.0 ; python_full_version >= '3.12'\n")
    project.write_text(project.read_text().replace(">=3.12", "banana"))
    run = depsat(*common)
    assert run.returncode == 2 and "invalid Requires-Python 'banana'" in run.stderr


def test_fewest_versions_where_one_serves_every_fork() -> None:
    """``--fork-strategy fewest`` (uv's): b 1.0 serves Python 3.10 and 3.11 both, so it is
    the one version; the default gives 3.11 the newer b 2.0."""
    data = {"root": {"requires": ["b"]},
            "packages": {"b": {"versions": {"1.0": {"requires_python": ">=3.10"},
                                            "2.0": {"requires_python": ">=3.11"}}}}}
    assert _pins_of(data, ">=3.10") == {("b", "1.0", "python_full_version < '3.11'"),
                                        ("b", "2.0", "python_full_version >= '3.11'")}
    world = parse_universe(data, "fewest")
    fewest = resolve_universal(request_from_universe_file(world), [world.source], ">=3.10",
                               fork_strategy="fewest")
    assert [(str(p.candidate.version), p.marker) for p in fewest.pins] == [("1.0", "")]
    with pytest.raises(ConfigurationError, match="unknown fork strategy 'most'"):
        resolve_universal(request_from_universe_file(world), [world.source], ">=3.10",
                          fork_strategy="most")
