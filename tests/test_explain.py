"""Explanations: minimal cores, confirmed fixes, smallest cores, packse snapshots, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import PACKSE, ROOT, expectation
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from strategies import universe_data
from syrupy.assertion import SnapshotAssertion

from depsat.api import Resolution, explain, request_from_universe_file, resolve, target_for, why
from depsat.explain import explain_encoding, explanation_to_json
from depsat.explain.analysis import problem_for
from depsat.explain.facts import versions_phrase
from depsat.solver import GroupSolver
from depsat.solver.mus import correction_sets, minimal_core
from depsat.sources.universe_file import load_universe_file, parse_universe

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
EXAMPLE = ROOT / "examples" / "web-app.toml"


def _resolve(data: dict[str, Any]) -> Resolution:
    world = parse_universe(data)
    return resolve(request_from_universe_file(world), [world.source], target_for(world))


def _assert_hint_resolves(data: dict[str, Any], fix: Any) -> None:
    """Apply a hint to the universe file itself and resolve from scratch."""
    changed = dict(data)
    root = dict(changed["root"])
    if fix.action == "allow-yanked":
        root["requires"] = [*root["requires"], *fix.requirements]
    elif fix.action == "allow-prerelease":
        changed["resolver_options"] = {"prereleases": True}
    else:
        raise AssertionError(f"unexpected re-resolved fix {fix.action}")
    changed["root"] = root
    assert _resolve(changed).ok, fix


@SETTINGS
@given(universe_data())
def test_core_is_minimal_and_fixes_hold(data: dict[str, Any]) -> None:
    result = _resolve(data)
    explanation = explain(result)
    if result.ok:
        assert explanation is None
        return
    assert explanation is not None and explanation.minimal
    problem = problem_for(result.encoding)
    everything = range(len(problem.groups))
    core = list(explanation.core)
    assert {g for fact in explanation.facts for g in fact.groups} == set(core)
    with GroupSolver(problem) as oracle:  # an independent solver, not the one that found it
        assert not oracle.satisfiable(core)
        for group in core:
            assert oracle.satisfiable([g for g in core if g != group]), group
        for fix in explanation.fixes:
            if fix.confirmed and fix.groups:
                assert oracle.satisfiable([g for g in everything if g not in fix.groups]), fix
            elif fix.confirmed:  # a hint checked by resolving again: check it here too
                _assert_hint_resolves(data, fix)
    assert explanation.sentences[-1].startswith("So ")
    assert explanation.text()


@SETTINGS
@given(universe_data())
def test_smallest_core_is_never_larger(data: dict[str, Any]) -> None:
    result = _resolve(data)
    if result.ok:
        return
    problem = problem_for(result.encoding)
    fast = minimal_core(problem)
    best = minimal_core(problem, smallest=True, budget_seconds=30)
    assert fast is not None and best is not None
    assert best.smallest and best.minimal
    assert len(best.groups) <= len(fast.groups)
    with GroupSolver(problem) as oracle:
        assert not oracle.satisfiable(best.groups)


@SETTINGS
@given(universe_data())
def test_correction_sets_are_minimal(data: dict[str, Any]) -> None:
    result = _resolve(data)
    if result.ok:
        return
    problem = problem_for(result.encoding)
    relaxable = [i for i, (label, _) in enumerate(result.encoding.groups) if label.relaxable]
    with GroupSolver(problem) as oracle:
        for mcs in correction_sets(problem, relaxable):
            rest = [g for g in range(len(problem.groups)) if g not in mcs]
            assert oracle.satisfiable(rest)
            for kept in mcs:
                assert not oracle.satisfiable([*rest, kept]), (mcs, kept)


def test_budget_exhausted_falls_back_to_marked_core() -> None:
    world = load_universe_file(PACKSE / "backtracking" / "backtrack-to-missing-package.toml")
    result = resolve(request_from_universe_file(world), [world.source], target_for(world))
    explanation = explain_encoding(result.encoding, budget_seconds=0.0)
    assert explanation is not None
    if not explanation.minimal:
        assert explanation.method == "core"
        assert "not be needed" in explanation.text()


def test_versions_phrase_merges_runs() -> None:
    from packaging.version import Version

    vs = [Version(v) for v in ("1.0", "1.1", "2.0", "3.0", "4.0")]
    assert versions_phrase("b", vs, vs) == "all versions of b"
    assert versions_phrase("b", vs[:1], vs[:1]) == "b 1.0 (the only version)"
    assert versions_phrase("b", vs[3:], vs) == "b>=3.0"
    assert versions_phrase("b", vs[:2], vs) == "b<=1.1"
    assert versions_phrase("b", [vs[0], vs[2], vs[3]], vs) == "b 1.0 and 2.0 to 3.0"


# -- packse ---------------------------------------------------------------------------------

def _unsatisfiable() -> list[Path]:
    found = []
    for path in sorted(p for p in PACKSE.glob("*/*") if p.suffix in (".toml", ".json")):
        world = load_universe_file(path)
        if not world.universal and not expectation(world)[0]:
            found.append(path)
    return found


UNSATISFIABLE = _unsatisfiable()


def _stable(data: dict[str, Any]) -> dict[str, Any]:
    """The JSON without timings and group indices (those follow the encoder's numbering)."""
    def strip(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in item.items() if k != "groups"} for item in items]

    return {**{k: v for k, v in data.items() if k != "seconds"},
            "facts": strip(data["facts"]), "fixes": strip(data["fixes"])}


@pytest.mark.parametrize("path", UNSATISFIABLE, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_packse_explanation(path: Path, snapshot: SnapshotAssertion) -> None:
    world = load_universe_file(path)
    result = resolve(request_from_universe_file(world), [world.source], target_for(world))
    explanation = explain(result)
    assert explanation is not None and explanation.minimal
    words = len(" ".join(explanation.sentences).split())
    assert words <= 60, explanation.text()
    assert explanation.text() == snapshot(name="text")
    assert _stable(explanation_to_json(explanation)) == snapshot(name="json")


def test_packse_has_unsatisfiable_scenarios() -> None:
    assert len(UNSATISFIABLE) >= 40


@pytest.mark.parametrize(("tags", "shown"), [
    (["cp39-cp39-manylinux_2_17_x86_64", "cp310-cp310-manylinux_2_17_x86_64",
      "cp38-cp38-manylinux_2_17_x86_64"], "cp38, cp39 and cp310"),
    (["cp312-cp312-macosx_11_0_arm64", "cp312-cp312-win_amd64"], "macosx_11_0_arm64 and win_amd64"),
])
def test_releases_without_a_wheel_for_the_target_say_what_the_newest_has(
        tags: list[str], shown: str) -> None:
    """Several releases with no wheel for Python 3.12 on Linux, merged into one sentence, say
    what the newest one's wheels are for: the Pythons, when the target's is none of them (as
    uv's hint names the ABI tags), else the platforms (pip names neither)."""
    release = {"wheel_tags": tags, "sdist": False}
    result = _resolve({"root": {"requires": ["a"]},
                       "packages": {"a": {"versions": {"1.0": release, "1.1": release}}},
                       "environment": {"python": "3.12", "platform": "linux"}})
    explanation = explain(result)
    assert explanation is not None
    assert (f"all versions of a have no wheel for the target (the newest, 1.1, has wheels for "
            f"{shown})") in explanation.text(), explanation.text()


def test_backtrack_to_missing_package_is_shorter_than_uv() -> None:
    world = load_universe_file(PACKSE / "backtracking" / "backtrack-to-missing-package.toml")
    result = resolve(request_from_universe_file(world), [world.source], target_for(world))
    explanation = explain(result)
    assert explanation is not None
    text = " ".join(explanation.sentences)
    assert "All versions of b depend on a==1.0.0" in text
    assert "no version of c exists" in text
    assert len(text.split()) < 51  # uv's message on the same scenario


# -- why --------------------------------------------------------------------------------------

def test_why_names_the_blocking_requirement() -> None:
    world = load_universe_file(EXAMPLE)
    from depsat.api import request_from_strings

    result = resolve(request_from_strings(["webapp", "templating<3"]), [world.source],
                     target_for(world))
    report = why(result, "framework")
    assert report.step is not None and str(report.step.version) == "3.0.0"
    [blocker] = report.newer
    assert blocker.explanation is not None
    text = report.text()
    assert "framework 3.1.0 depends on templating>=3" in text
    assert "You require templating<3" in text


def test_why_reports_a_trade_off() -> None:
    world = load_universe_file(EXAMPLE)
    result = resolve(request_from_universe_file(world), [world.source], target_for(world))
    report = why(result, "templating")
    assert report.newer and report.newer[0].explanation is None
    assert "webapp 1.5.0 instead of 2.0.0" in report.newer[0].preference


def test_why_names_the_preference_that_ranked_the_plan_higher(tmp_path: Path) -> None:
    """A newer version that fits loses to a tier: the pins of an earlier ``-o`` file
    (keep-locked) when the rest of the plan is the same, the newest versions of what you
    require otherwise. Under ``--resolution lowest`` the question is about older versions."""
    lock = tmp_path / "lock.txt"
    made = depsat("resolve", "--universe", str(EXAMPLE), "-o", str(lock), "--no-memo")
    assert made.returncode == 0, made.stderr
    lock.write_text(lock.read_text().replace("templating==2.2.0", "templating==2.1.0"))
    run = depsat("why", "templating", "--universe", str(EXAMPLE), "-o", str(lock))
    assert run.returncode == 0, run.stderr
    assert "templating 2.1.0 (install" in run.stdout  # (the pin is kept: it still fits)
    assert ("Why not templating 2.2.0? It is possible, but the chosen plan is preferred: it "
            "keeps the versions the output file pinned (-U or -P NAME frees them).") in (
                " ".join(run.stdout.split()))
    plain = depsat("why", "framework", "--universe", str(EXAMPLE))
    assert "and the chosen plan is preferred: it has newer versions of what you require." in (
        " ".join(plain.stdout.split()))
    lowest = json.loads(depsat("why", "webapp", "--universe", str(EXAMPLE), "--resolution",
                               "lowest", "--json").stdout)
    assert lowest["prefers"] == "oldest" and lowest["version"] == "1.5.0"
    assert lowest["newer"] == []  # (1.5.0 is its oldest usable version)
    older = depsat("why", "templating", "webapp", "templating>=2.2", "--universe",
                   str(EXAMPLE), "--resolution", "lowest")
    assert "templating 2.2.0 (install" in older.stdout
    assert "Why not templating 2.1.0?" in older.stdout
    assert "You require templating>=2.2." in older.stdout  # (nothing about its prereleases)


# -- CLI ---------------------------------------------------------------------------------------

def depsat(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "depsat", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_cli_explain_text_and_json() -> None:
    scenario = str(PACKSE / "backtracking" / "backtrack-to-missing-package.toml")
    run = depsat("explain", "--universe", scenario)
    assert run.returncode == 1, run.stderr
    assert "no version of c exists" in run.stdout and "To fix it:" in run.stdout
    data = json.loads(depsat("explain", "--universe", scenario, "--json", "--smallest").stdout)
    assert data["schema"] == "depsat.explanation/1"
    assert data["minimal"] and data["smallest"]
    assert {f["kind"] for f in data["facts"]} >= {"requirement", "dependency", "missing"}
    assert data["chain"][0]["facts"]


def test_cli_explain_when_it_resolves() -> None:
    run = depsat("explain", "--universe", str(EXAMPLE))
    assert run.returncode == 0 and "nothing to explain" in run.stdout


def test_cli_resolve_failure_is_english_and_json_carries_explanation() -> None:
    run = depsat("resolve", "--universe", str(EXAMPLE), "webapp>=2", "framework<3")
    assert run.returncode == 1
    assert "webapp 2.0.0 depends on framework>=3" in run.stderr
    assert "loosen framework<3 (framework 3.0.0 would work)" in run.stderr
    # (webapp 1.5.0 was never read, webapp>=2 leaving it out: a resolve with it loosened
    # finds it; the clauses alone could only say "drop")
    assert "loosen webapp>=2 (webapp 1.5.0 would work)" in run.stderr
    assert "drop the requirement" not in run.stderr
    data = json.loads(depsat("resolve", "--universe", str(EXAMPLE), "webapp>=2",
                             "framework<3", "--json").stdout)
    assert data["explanation"]["schema"] == "depsat.explanation/1"
    assert data["explanation"]["fixes"][0]["confirmed"]


def test_cli_why() -> None:
    run = depsat("why", "framework", "webapp", "templating<3", "--universe", str(EXAMPLE))
    assert run.returncode == 0, run.stderr
    assert "Why not framework 3.1.0?" in run.stdout
    assert "templating>=3" in run.stdout
    data = json.loads(depsat("why", "urllib3", "--universe", str(EXAMPLE), "--json").stdout)
    assert data["schema"] == "depsat.why/1"
    assert data["reason"][0]["required_by"] is None
    assert any(e["kind"] == "yanked" for e in data["excluded"])
    missing = depsat("why", "--universe", str(EXAMPLE))
    assert missing.returncode == 2


def test_second_level_names_only_the_extra_that_conflicts() -> None:
    data = {"root": {"requires": ["a[x,y]", "b==2"]},
            "packages": {
                "a": {"versions": {"1.0": {"extras": {"x": ["b==1"], "y": ["c"]}}}},
                "b": {"versions": {"1.0": {}, "2.0": {}}},
                "c": {"versions": {"1.0": {}}}}}
    explanation = explain(_resolve(data))
    assert explanation is not None and explanation.minimal
    story = "\n".join(explanation.sentences)  # the chain; fixes still name what you wrote
    assert "a[x]" in story and "a[x,y]" not in story, story
    assert "b==2" in story and "b==1" in story, story


def test_a_fix_dropping_several_requirements_names_them_in_one_phrase() -> None:
    data = {"root": {"requires": ["app", "ghost-a", "ghost-b>=2"]},
            "packages": {"app": {"versions": {"1.0": {}}}}}
    explanation = explain(_resolve(data))
    drops = [fix for fix in explanation.fixes if fix.action == "drop"]
    assert [fix.text for fix in drops] == ["drop the requirements ghost-a and ghost-b>=2"]
    assert drops[0].requirements == ("ghost-a", "ghost-b>=2")


def test_a_direct_reference_in_metadata_is_met_by_no_release() -> None:
    """``b @ URL`` names one file, which no source here offers (direct references in the
    request get one: `test_direct`): a release that needs it cannot be installed (any b
    from the index would be another file), and the explanation says so."""
    url = "https://example.com/b-9.0-py3-none-any.whl"
    data: dict[str, Any] = {"root": {"requires": ["a"]}, "packages": {
        "a": {"versions": {"2.0": {"requires": [f"b @ {url}"]}, "1.0": {"requires": ["b"]}}},
        "b": {"versions": {"9.0": {}, "1.0": {}}}}}
    solved = _resolve(data)
    assert solved.plan is not None
    assert {s.name: str(s.candidate.version) for s in solved.plan.steps if s.candidate} == {
        "a": "1.0", "b": "9.0"}
    data["root"]["requires"] = ["a==2.0"]
    failed = _resolve(data)
    explanation = explain(failed)
    assert explanation is not None
    assert f"a 2.0 depends on b @ {url}, but no source offers that file as a release of b, " \
        "and nothing installed came from it" in " ".join(explanation.sentences)


def test_releases_that_need_a_build_are_named_as_such() -> None:
    """A group of releases whose metadata only a build would give (sdists without static
    metadata) reads as one clause with its subject, and the fix names --build-metadata."""
    from packaging.utils import canonicalize_name as canonical
    from packaging.version import Version

    from depsat.api import request_from_strings
    from depsat.model import Candidate, ExclusionKind, Origin
    from depsat.sources.base import MetadataUnavailable, Source
    from depsat.sources.index import NEEDS_BUILD_DETAIL
    from depsat.target import Target

    class Unbuilt(Source):
        name = "unbuilt"

        def candidates(self, project: Any) -> list[Candidate]:
            if project != "app":
                return []
            return [Candidate(name=canonical("app"), version=Version(v),
                              origin=Origin("index", "unbuilt")) for v in ("2.0", "1.0")]

        def metadata(self, candidate: Candidate) -> Candidate | MetadataUnavailable:
            return MetadataUnavailable(ExclusionKind.NEEDS_BUILD, NEEDS_BUILD_DETAIL)

    result = resolve(request_from_strings(["app"]), [Unbuilt()], Target.for_python("3.12"))
    explanation = explain(result)
    assert explanation is not None
    text = " ".join(explanation.text().split())
    assert "all versions of app need a build to know their dependencies" in text, text
    assert any("--build-metadata" in fix.text for fix in explanation.fixes)


def _index_failure(tmp_path: Path, app_requires: dict[str, list[str]]) -> Any:
    """``app==1.0`` and ``lib>=2`` resolved from a real index, read lazily."""
    from indexbuild import build_index

    from depsat.api import request_from_strings
    from depsat.sources.http import HttpClient
    from depsat.sources.index import IndexSource
    from depsat.target import Target

    build_index({"app": {v: {"requires": r, "sdist": False} for v, r in app_requires.items()},
                 "lib": {v: {"sdist": False} for v in ("1.0", "2.0")}}, tmp_path / "index")
    source = IndexSource((tmp_path / "index" / "simple").as_uri(),
                         client=HttpClient(cache_dir=tmp_path / "cache"))
    result = resolve(request_from_strings(["app==1.0", "lib>=2"]), [source],
                     Target.for_python("3.12"))
    assert result.plan is None and result.universe.free  # (unread releases: a relaxation)
    return result


def test_a_fix_found_on_a_lazy_read_is_checked_by_resolving(tmp_path: Path) -> None:
    """Read lazily, app 1.1 is not read when the request fails: it requires nothing there, so
    the clauses alone would say "app 1.1 would work". Each fix is resolved with the change:
    the version named is the one a plan then takes, and a fix that fixes nothing is not
    offered."""
    result = _index_failure(tmp_path / "newer", {"1.0": ["lib<2"], "1.1": ["lib<2"],
                                                 "2.0": ["lib>=2"]})
    explanation = explain(result)
    assert explanation is not None
    texts = [fix.text for fix in explanation.fixes]
    assert "loosen app==1.0 (app 2.0 would work)" in texts, texts
    assert "loosen lib>=2 (lib 1.0 would work)" in texts, texts
    assert all(fix.confirmed for fix in explanation.fixes)
    never = _index_failure(tmp_path / "none", {"1.0": ["lib<2"], "1.1": ["lib<2"]})
    explanation = explain(never)
    assert explanation is not None
    texts = [fix.text for fix in explanation.fixes]
    assert not any(text.startswith("loosen app") for text in texts), texts
    assert "loosen lib>=2 (lib 1.0 would work)" in texts, texts


# Found by the test below: loosened to any version, ``a<2.1a1`` no longer names a
# prerelease, so a 2.1a1 is out again (a 1.0 is a final release, though unusable here); the
# clauses had said "loosen a<2.1a1 (a 2.1a1 would work)".
PRERELEASE_LOOSENED = {
    "root": {"requires": ["a", "a<2.1a1"]},
    "packages": {"a": {"versions": {"1.0": {"requires": [], "yanked": True,
                                            "requires_python": ">=3.99"},
                                    "2.1a1": {"requires": []}}}},
    "environment": {"python": "3.12"}}


@SETTINGS
@example(PRERELEASE_LOOSENED, False)
@given(universe_data(), st.booleans())
def test_a_failures_fixes_hold_when_applied(data: dict[str, Any], lazy: bool) -> None:
    """Resolved lazily (unread releases require nothing) or not, a failure's confirmed
    fixes, each applied to the universe file's own requirements and resolved from scratch,
    eagerly, resolve: and a loosened requirement's package is at the version the fix
    names."""
    from packaging.requirements import Requirement

    from depsat.api import ResolveOptions
    from depsat.encoding import LabelKind

    world = parse_universe(data)
    result = resolve(request_from_universe_file(world), [world.source], target_for(world),
                     ResolveOptions(lazy=lazy))
    if result.ok:
        return
    explanation = explain(result)
    assert explanation is not None
    for fix in explanation.fixes:
        labels = [result.encoding.groups[i][0] for i in fix.groups]
        if not fix.confirmed or not fix.groups or any(
                label.kind is not LabelKind.ROOT for label in labels):
            continue
        requires = []
        for text in data["root"]["requires"]:
            parsed = Requirement(text)
            index = next((i for i, label in zip(fix.groups, labels, strict=True)
                          if str(label.requirement) == str(parsed)), None)
            if index is None:
                requires.append(text)
            elif index in fix.loosened:
                parsed.specifier = type(parsed.specifier)()
                requires.append(str(parsed))
        changed = {**data, "root": {**data["root"], "requires": requires}}
        again = _resolve(changed)
        assert again.plan is not None, fix
        chosen = {step.name: step.version for step in again.plan.steps}
        for index in fix.loosened:
            name = result.encoding.groups[index][0].name
            assert f"({name} {chosen[name]} would work)" in fix.text, (fix.text, chosen)


def test_why_not_a_version_no_requirement_allows() -> None:
    """Read eagerly (a universe file), a version no requirement on the package allows is never
    encoded: ``why`` names the plan's requirements that refuse it (it raised a KeyError)."""
    data = {"root": {"requires": ["b==1.1", "a"]},
            "packages": {"a": {"versions": {"1.0": {"requires": ["b<2"]}}},
                         "b": {"versions": {"1.1": {"requires": []}, "2.0": {"requires": []}}}},
            "environment": {"python": "3.12"}}
    result = _resolve(data)
    report = why(result, "b")
    [blocker] = report.newer
    assert str(blocker.version) == "2.0" and blocker.explanation is None
    assert blocker.refused_by == ("You require b==1.1.", "a 1.0 requires b<2.")
    from depsat.explain.render import why_text, why_to_json

    assert ("Why not b 2.0? The plan's requirements on b refuse it:\n  You require b==1.1.\n"
            "  a 1.0 requires b<2.") in why_text(report)
    assert why_to_json(report)["newer"][0]["refused_by"] == list(blocker.refused_by)
    assert why_to_json(report)["newer"][0]["possible"] is False


@SETTINGS
@example({"root": {"requires": ["a"]},  # (found by hypothesis: a 1.0, which a 1.1 dominates,
          "packages": {"a": {"versions": {  # was pruned and `why` had no clauses to read)
              "1.0": {"requires": ["b"]}, "2.1a1": {"requires": []},
              "1.1": {"requires": ["b"]}}},
                       "b": {"versions": {"1.0": {"requires": [], "yanked": True,
                                                  "requires_python": ">=3.99"}}}},
          "environment": {"python": "3.12"}}, False)
@example({"root": {"requires": ["b==1.1"]},  # (found by hypothesis: it raised KeyError)
          "packages": {"b": {"versions": {"2.0": {"requires": []},
                                          "1.1": {"requires": [], "yanked": True}}}},
          "environment": {"python": "3.12"}}, False)
@given(universe_data(), st.booleans())
def test_why_answers_for_every_package_of_a_plan(data: dict[str, Any], lazy: bool) -> None:
    """``why`` answers for each package of any plan, read lazily or not: each newer version
    it asks about is refused by the plan's requirements (each sentence's requirement indeed
    leaves it out), or blocked (an explanation), or possible (a preference ranked it lower)."""
    from packaging.requirements import Requirement

    from depsat.api import ResolveOptions

    world = parse_universe(data)
    result = resolve(request_from_universe_file(world), [world.source], target_for(world),
                     ResolveOptions(lazy=lazy))
    if result.plan is None:
        return
    for step in result.plan.steps:
        if step.candidate is None:
            continue
        report = why(result, step.name)
        for blocker in report.newer:
            if blocker.refused_by:
                assert blocker.explanation is None
                for sentence in blocker.refused_by:
                    text = sentence.rstrip(".").split(" require ", 1)[-1].split(
                        " requires ", 1)[-1]
                    assert not Requirement(text).specifier.contains(
                        blocker.version, prereleases=True), sentence
            else:
                assert (blocker.explanation is not None) != bool(blocker.preference), blocker
            # A plan that takes unread releases is said to be only perhaps possible.
            assert lazy or not blocker.unread, blocker
            assert all(c.key in result.universe.free for c in blocker.unread)


def test_why_says_perhaps_when_the_other_plan_takes_unread_releases() -> None:
    """Read lazily, b 2.0 was never read (nothing asked for it): the best plan with it takes
    it requiring nothing, which only reading it could confirm; eagerly, the plan's
    requirements refuse it."""
    from depsat.api import ResolveOptions
    from depsat.explain.render import why_text, why_to_json

    data = {"root": {"requires": ["a"]},
            "packages": {"a": {"versions": {"1.1": {"requires": []},
                                            "2.0": {"requires": ["b<2.0"]}}},
                         "b": {"versions": {"1.1": {"requires": []}, "2.0": {"requires": []}}}},
            "environment": {"python": "3.12"}}
    world = parse_universe(data)
    lazy = resolve(request_from_universe_file(world), [world.source], target_for(world),
                   ResolveOptions(lazy=True))
    from depsat.explain import why as why_in_plan

    assert lazy.plan is not None
    report = why_in_plan(lazy.encoding, lazy.plan, "b")  # (on what this resolve read)
    [blocker] = report.newer
    assert "b 2.0" in [str(c) for c in blocker.unread]
    assert "Why not b 2.0? Perhaps possible: the best plan with it takes " in why_text(report)
    assert why_to_json(report)["newer"][0]["possible"] is None
    # `api.why` resolves again reading them: then it is known.
    [read] = why(lazy, "b").newer
    assert not read.unread and read.preference.startswith(
        "the best plan with it needs a 1.1 instead of 2.0"), read
    # Read, b 2.0 may turn out to need what nothing offers: then it is blocked, and said so.
    data["packages"]["b"]["versions"]["2.0"]["requires"] = ["nowhere"]
    world = parse_universe(data)
    lazy = resolve(request_from_universe_file(world), [world.source], target_for(world),
                   ResolveOptions(lazy=True))
    [before] = why_in_plan(lazy.encoding, lazy.plan, "b").newer
    assert before.unread and before.explanation is None  # (unread, it required nothing)
    [blocked] = why(lazy, "b").newer
    assert blocked.explanation is not None and not blocked.unread
    assert "nowhere" in " ".join(blocked.explanation.sentences)
    [eager] = why(_resolve(data), "b").newer
    assert eager.refused_by == ("a 2.0 requires b<2.0.",) and not eager.unread


def test_releases_asked_to_be_read_are_read_in_a_project_reached_last() -> None:
    """`ResolveOptions.also_read` (what `why` asks for): c is first reached in the last lazy
    round (through a 1.0, taken once a 2.0 is ruled out), and its c 1.0 is read there too,
    though no plan takes it; before, only projects reached in an earlier round were."""
    from depsat.api import ResolveOptions

    world = parse_universe({
        "root": {"requires": ["a"]},
        "packages": {"a": {"versions": {"1.0": {"requires": ["c"]},
                                        "2.0": {"requires": ["b>=9"]}}},
                     "b": {"versions": {"1.0": {}}},
                     "c": {"versions": {"1.0": {}, "2.0": {}}}},
        "environment": {"python": "3.12"}}, "last-round")
    result = resolve(request_from_universe_file(world), [world.source], target_for(world),
                     ResolveOptions(lazy=True, also_read=frozenset({("c", "1.0")})))
    assert result.plan is not None and result.plan.versions() == {"a": "1.0", "c": "2.0"}
    read = {(str(k.name), str(k.version)) for k in result.universe.dependencies}
    assert ("c", "1.0") in read
