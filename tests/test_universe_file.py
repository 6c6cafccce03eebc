"""Universe files: packse defaults, depsat defaults, messy data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.version import Version

from depsat.api import request_from_universe_file, resolve, target_for
from depsat.errors import UniverseFileError
from depsat.sources.universe_file import load_universe_file, parse_universe


def test_invalid_version_is_skipped_with_a_named_warning() -> None:
    world = parse_universe({"packages": {"a": {"versions": {"1.0": {}, "not-a-version!": {}}}},
                            "root": {"requires": ["a"]}}, "w.toml")
    assert [c.version for c in world.source.candidates("a")] == [Version("1.0")]
    (diagnostic,) = world.source.diagnostics()
    assert "not-a-version!" in str(diagnostic) and "w.toml" in str(diagnostic)
    result = resolve(request_from_universe_file(world), [world.source], target_for(world))
    assert result.plan is not None and result.plan.versions() == {"a": "1.0"}
    assert result.diagnostics == (diagnostic,)


def test_packse_defaults_apply_only_to_packse_files() -> None:
    packse = parse_universe({"expected": {"satisfiable": True},
                             "packages": {"a": {"versions": {"1.0": {}}}}})
    (candidate,) = packse.source.candidates("a")
    assert str(candidate.requires_python) == ">=3.12" and packse.python == "3.12"
    plain = parse_universe({"packages": {"a": {"versions": {"1.0": {}}}}})
    (candidate,) = plain.source.candidates("a")
    assert candidate.requires_python is None and plain.python is None


def test_json_twin_loads_like_toml(tmp_path: Path) -> None:
    data = {"root": {"requires": ["a"]},
            "packages": {"a": {"versions": {"1.0": {"requires": ["b"]}}},
                         "b": {"versions": {"2.0": {}}}}}
    path = tmp_path / "u.json"
    path.write_text(json.dumps(data))
    world = load_universe_file(path)
    result = resolve(request_from_universe_file(world), [world.source], target_for(world))
    assert result.plan is not None and result.plan.versions() == {"a": "1.0", "b": "2.0"}


@pytest.mark.parametrize("data, culprit", [
    ({"packages": {"a": {"versions": {"1.0": {"requires": "b"}}}}}, "a 1.0"),
    ({"packages": {"a": {"versions": {"1.0": {"requires_python": ">=>3"}}}}}, "a 1.0"),
    ({"packages": {"a": {"versions": {"1.0": {"wheel_tags": ["nonsense"]}}}}}, "a 1.0"),
    ({"packages": {"a": []}}, "'a'"),
    ({"root": {"requires": ["a b c"]}}, "[root]"),
])
def test_bad_data_names_the_culprit(data: dict[str, object], culprit: str) -> None:
    with pytest.raises(UniverseFileError) as info:
        parse_universe(data, "u.toml")
    assert culprit in str(info.value) and "u.toml" in str(info.value)


def _missing_extra_warnings(c_requires: list[str]) -> list[str]:
    # b asks for a[speed] (only a 2.0 provides it); old e asked for a[turbo] (none does).
    world = parse_universe({
        "root": {"requires": ["b", "c", "e"]},
        "packages": {
            "a": {"versions": {"3.0": {}, "2.0": {"extras": {"speed": []}}, "1.0": {}}},
            "b": {"versions": {"1.0": {"requires": ["a[speed]"]}}},
            "c": {"versions": {"1.0": {"requires": c_requires}}},
            "e": {"versions": {"2.0": {}, "1.0": {"requires": ["a[turbo]"]}}},
        }}, "u.toml")
    result = resolve(request_from_universe_file(world), [world.source], target_for(world))
    assert result.plan is not None
    # Discovery saw every release of a without one of the extras asked of it...
    assert len(result.universe.missing_extras) == 5
    # ...but warns only of those the plan's own requirements ask of its chosen release.
    return [str(d) for d in result.diagnostics]


def test_a_missing_extra_is_warned_of_only_for_the_release_chosen() -> None:
    assert _missing_extra_warnings(["a<3"]) == []  # a 2.0 provides speed
    (warning,) = _missing_extra_warnings(["a<2"])  # a 1.0 is installed without it
    assert warning.endswith("a 1.0 does not provide the extra 'speed'")
