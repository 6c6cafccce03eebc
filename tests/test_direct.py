"""Direct references (``name @ URL``): the file named is the one taken, read as an index's
files are (over HTTP from a real server on 127.0.0.1, and from ``file:``), pinned to its URL
in the output, and explained when it cannot be used."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from indexbuild import build_index, serve
from packaging.utils import canonicalize_name

from depsat.api import explain, request_from_strings, resolve
from depsat.model import DIRECT
from depsat.report import requirements_lines
from depsat.sources.direct import DirectSource
from depsat.sources.http import HttpClient
from depsat.sources.index import IndexSource
from depsat.target import Target
from depsat.verify import verify

INDEX: dict[str, Any] = {
    "app": {"1.0": {"requires": ["lib>=1"], "sdist": False}},
    "tool": {"1.0": {"requires": ["lib<5"], "sdist": False}},
    "lib": {"1.0": {"sdist": False}, "2.0": {"sdist": False}, "3.0b1": {"sdist": False}},
    "extra-dep": {"1.0": {"sdist": False}},
}


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An index, and elsewhere files it does not list: a lib 9.0 (needing extra-dep, which
    the index has) and an old 1.0 with a wheel for CPython 2.7 only."""
    index = tmp_path_factory.mktemp("index")
    build_index(INDEX, index)
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    build_index({"lib": {"9.0": {"sdist": False, "requires": ["extra-dep"],
                                 "wheel_padding": 200_000}},
                 "old": {"1.0": {"sdist": False,
                                 "wheel_tags": ["cp27-cp27m-manylinux1_x86_64"]}}},
                elsewhere, pep658=False)
    return index, elsewhere


def _resolve(requirements: list[str], index_url: str, direct: list[tuple[str, str]],
             cache: Path) -> Any:
    client = HttpClient(cache_dir=cache)
    sources = [IndexSource(index_url, "index", client=client),
               DirectSource([(canonicalize_name(n), u) for n, u in direct], client=client)]
    try:
        return resolve(request_from_strings(requirements), sources, Target.for_python("3.12"))
    finally:
        for source in sources:
            source.close()
        client.close()


def test_the_file_named_is_taken_not_the_index_release(roots: tuple[Path, Path],
                                                       tmp_path: Path) -> None:
    index, elsewhere = roots
    wheel = next((elsewhere / "files").glob("lib-9.0-*.whl"))
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    with serve(index) as at_index, serve(elsewhere) as at_elsewhere:
        remote = f"{at_elsewhere}files/{wheel.name}"
        for url in (remote, f"{wheel.as_uri()}#sha256={digest}"):
            result = _resolve(["app", f"lib @ {url}"], at_index.index_url, [("lib", url)],
                              tmp_path / "cache")
            assert result.plan is not None
            chosen = {s.name: s.candidate for s in result.plan.steps}
            lib = chosen["lib"]
            assert lib is not None and str(lib.version) == "9.0"  # (the index has 1.0, 2.0)
            assert lib.origin.kind == DIRECT and lib.origin.location == url
            assert "extra-dep" in chosen  # its dependencies read from its METADATA
            assert verify(result.universe, result.plan.chosen, {}) == []
            assert f"lib @ {url}" in requirements_lines(result)
        # Over HTTP its METADATA was read by ranges, not by downloading the wheel.
        sent = [size for path, size in at_elsewhere.sent if path.endswith(wheel.name)]
        assert sent and sum(sent) < wheel.stat().st_size, sent


def test_a_reference_matches_its_own_file_only(roots: tuple[Path, Path],
                                               tmp_path: Path) -> None:
    """Two files of lib by URL: the one asked for is taken, though the other is newer."""
    index, elsewhere = roots
    newer = next((elsewhere / "files").glob("lib-9.0-*.whl")).as_uri()
    older = next((index / "files").glob("lib-2.0-*.whl")).as_uri()
    result = _resolve([f"lib @ {older}"], (index / "simple").as_uri(),
                      [("lib", newer), ("lib", older)], tmp_path / "cache")
    assert result.plan is not None
    assert [(s.candidate.origin.location, str(s.candidate.version))
            for s in result.plan.steps if s.candidate] == [(older, "2.0")]


def test_a_file_that_cannot_be_used_is_explained(roots: tuple[Path, Path],
                                                 tmp_path: Path) -> None:
    index, elsewhere = roots
    old = (elsewhere / "files" / "old-1.0-cp27-cp27m-manylinux1_x86_64.whl").as_uri()
    lib = next((elsewhere / "files").glob("lib-9.0-*.whl")).as_uri()
    cases = [
        (["tool", f"lib @ {lib}"], [("lib", lib)], "depends on lib<5"),
        # (not "lib 3.0b1 is a prerelease": the reference wants the file, no other lib)
        (["lib<5", f"lib @ {lib}"], [("lib", lib)],
         f"You require lib<5 and lib @ {lib} (lib 9.0). Only one version of lib can be "
         "installed."),
        ([f"old @ {old}"], [("old", old)], "old 1.0 has no wheel for the target"),
        ([f"lib @ {old}"], [("lib", old)], "no source offers that file as a release of lib"),
    ]
    # Nothing at a project directory's path: the source warns, naming it, and the
    # explanation says what it said (not "not this kind of URL"). (A missing wheel is a
    # release whose file "does not exist": `test_cli`.)
    missing = tmp_path / "nowhere"
    cases.append(([f"lib @ {missing.as_uri()}"], [("lib", missing.as_uri())],
                  f"lib @ {missing.as_uri()}, but it cannot be read: no file or directory "
                  f"at {missing}."))
    for requirements, direct, said in cases:
        result = _resolve(requirements, (index / "simple").as_uri(), direct,
                          tmp_path / "cache")
        assert result.plan is None
        explanation = explain(result)
        assert explanation is not None
        assert said in " ".join(explanation.text().split()), explanation.text()


def test_the_command_reads_the_file_and_pins_it(roots: tuple[Path, Path],
                                               tmp_path: Path) -> None:
    index, elsewhere = roots
    wheel = next((elsewhere / "files").glob("lib-9.0-*.whl")).as_uri()
    run = subprocess.run(
        [sys.executable, "-m", "depsat", "resolve", "app", f"lib @ {wheel}", "--index-url",
         (index / "simple").as_uri(), "--no-config", "--cache-dir", str(tmp_path / "cache"),
         "--json"],
        capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    packages = {p["name"]: p for p in json.loads(run.stdout)["packages"]}
    assert packages["lib"]["version"] == "9.0"
    assert packages["lib"]["source"] == f"direct {wheel}"


def test_a_constraint_can_name_the_file(roots: tuple[Path, Path], tmp_path: Path) -> None:
    """``-c`` with ``lib @ URL`` (as pip freeze writes what came from a file): lib, if
    installed, is that file; without it the index's newest would be taken."""
    index, elsewhere = roots
    wheel = next((elsewhere / "files").glob("lib-9.0-*.whl")).as_uri()
    older = next((index / "files").glob("lib-1.0-*.whl")).as_uri()
    constraints = tmp_path / "constraints.txt"
    for pinned, expected in ((wheel, "9.0"), (older, "1.0")):
        constraints.write_text(f"lib @ {pinned}\n")
        run = subprocess.run(
            [sys.executable, "-m", "depsat", "resolve", "app", "-c", str(constraints),
             "--index-url", (index / "simple").as_uri(), "--no-config", "--cache-dir",
             str(tmp_path / "cache"), "--format", "requirements"],
            capture_output=True, text=True, timeout=120, check=False)
        assert run.returncode == 0, run.stderr
        assert f"lib @ {pinned}" in run.stdout.splitlines(), run.stdout
        assert expected in pinned


def test_a_password_in_the_url_is_used_but_never_shown() -> None:
    url = "https://user:secret@example.com/six-1.17.0-py2.py3-none-any.whl#sha256=abc"
    source = DirectSource([(canonicalize_name("six"), url)])
    [six] = source.candidates(canonicalize_name("six"))
    source.close()
    assert six.origin.location == url  # (what the reference matches)
    assert str(six.origin) == ("direct https://user:****@example.com/"
                               "six-1.17.0-py2.py3-none-any.whl#sha256=abc")
    assert six.artifacts[0].url == url.split("#")[0]  # (fetched with its credentials)
    assert dict(six.artifacts[0].hashes) == {"sha256": "abc"}


def test_a_files_path_is_a_direct_reference_from_the_current_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As pip and uv read a requirement (in a requirements file too: both take its paths
    from the current directory, unlike its -r, -c and -f)."""
    from depsat.api import parse_requirement

    monkeypatch.chdir(tmp_path)
    wheel = (tmp_path / "dist" / "lib-9.0-py3-none-any.whl").as_uri()
    assert str(parse_requirement("./dist/lib-9.0-py3-none-any.whl")) == f"lib @ {wheel}"
    assert str(parse_requirement("lib @ dist/lib-9.0-py3-none-any.whl")) == f"lib @ {wheel}"
    assert str(parse_requirement('dist/Lib-9.0.tar.gz ; python_version < "3.8"')) == (
        f'lib @ {(tmp_path / "dist" / "Lib-9.0.tar.gz").as_uri()} ; python_version < "3.8"')
    remote = "https://example.com/files/lib-9.0-py3-none-any.whl"
    assert str(parse_requirement(remote)) == f"lib @ {remote}"
    assert str(parse_requirement(f"lib @ {remote}")) == f"lib @ {remote}"


def _project(directory: Path, table: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        + table)
    return directory


def test_a_project_directory_is_read_from_its_pyproject(roots: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    """``./proj[fast]`` on the command line, ``-e ./proj`` in a requirements file: the
    project's static [project] table gives its version and dependencies (an extra's too),
    as uv reads it without a build; the output pins the directory as it was written
    (``-e`` when editable), as uv writes it."""
    index, _ = roots
    _project(tmp_path / "proj", '[project]\nname = "Proj"\nversion = "0.1"\n'
             'dependencies = ["app"]\n[project.optional-dependencies]\nfast = ["tool"]\n')
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("-e ./proj\n")
    url = (tmp_path / "proj").as_uri()
    for given, pins in ((["./proj[fast]"], ["./proj[fast]"]),
                        (["-r", str(requirements)], ["-e ./proj"]),
                        ([f"proj[fast] @ {url}"], [f"proj[fast] @ {url}"])):
        run = subprocess.run(
            [sys.executable, "-m", "depsat", "resolve", *given, "--index-url",
             (index / "simple").as_uri(), "--no-config", "--cache-dir",
             str(tmp_path / "cache"), "--format", "requirements"],
            capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        lines = [line for line in run.stdout.splitlines() if not line.startswith(" ")]
        assert pins[0] in lines
        assert ("tool==1.0" in lines) == ("[fast]" in given[0]), lines
        assert "app==1.0" in lines and "lib==2.0" in lines


def test_a_project_directory_that_needs_a_build_is_explained(roots: tuple[Path, Path],
                                                             tmp_path: Path) -> None:
    index, _ = roots
    dynamic = _project(tmp_path / "dynamic", '[project]\nname = "dynamic"\nversion = "1.0"\n'
                       'dynamic = ["dependencies"]\n')
    unversioned = _project(tmp_path / "unversioned",
                           '[project]\nname = "unversioned"\ndynamic = ["version"]\n')
    malformed = _project(tmp_path / "malformed", '[project]\nname = "malformed"\n'
                         'version = "1.0"\ndependencies = "app"\n')
    cases = [
        (f"dynamic @ {dynamic.as_uri()}",
         "dynamic 1.0 cannot be used: needs a build to know its dependencies"),
        (f"malformed @ {malformed.as_uri()}",
         "[project] dependencies are not lists of strings"),
        (f"unversioned @ {unversioned.as_uri()}", "no source offers that file as a release"),
    ]
    for requirement, said in cases:
        result = _resolve([requirement], (index / "simple").as_uri(),
                          [(requirement.split(" @ ")[0], requirement.split(" @ ")[1])],
                          tmp_path / "cache")
        assert result.plan is None
        explanation = explain(result)
        assert explanation is not None and said in " ".join(explanation.text().split()), (
            explanation.text())
    assert any("only its build could tell them" in d.message
               for d in result.universe.diagnostics)


BACKEND = """
import pathlib

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info = pathlib.Path(metadata_directory) / "dyn-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\\nName: dyn\\nVersion: 1.0\\nRequires-Dist: app\\n")
    return info.name

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise NotImplementedError
"""


def test_a_project_with_dynamic_dependencies_is_built_in_place(roots: tuple[Path, Path],
                                                               tmp_path: Path) -> None:
    """With a builder (``--build-metadata``) its backend says its dependencies; an in-tree
    backend, so nothing is installed."""
    from depsat.sources.build_metadata import MetadataBuilder

    index, _ = roots
    tree = tmp_path / "dyn"
    (tree / "_backend").mkdir(parents=True)
    (tree / "_backend" / "depsat_test_backend.py").write_text(BACKEND)
    (tree / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "depsat_test_backend"\n'
        'backend-path = ["_backend"]\n\n'
        '[project]\nname = "dyn"\nversion = "1.0"\ndynamic = ["dependencies"]\n')
    client = HttpClient(cache_dir=tmp_path / "cache")
    builder = MetadataBuilder(tmp_path / "builds")
    sources = [IndexSource((index / "simple").as_uri(), "index", client=client),
               DirectSource([(canonicalize_name("dyn"), tree.as_uri())], client=client,
                            metadata_builder=builder)]
    result = resolve(request_from_strings([f"dyn @ {tree.as_uri()}"]), sources,
                     Target.for_python("3.12"))
    for source in sources:
        source.close()
    client.close()
    assert result.plan is not None
    assert sorted(s.name for s in result.plan.steps) == ["app", "dyn", "lib"]
    assert builder.builds == 1
