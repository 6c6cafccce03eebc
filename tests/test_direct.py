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
