"""Installed environments as a source: real interpreters, real venvs, real and legacy installs.

The environments are built for real (see `envbuild`): a separate base Python installation (a
copied interpreter binary whose own site-packages the test owns), a `--system-site-packages`
venv over it, and a plain venv from the running interpreter. Wheels are built here and
installed with pip; the legacy formats are written as setuptools wrote them.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import envbuild as eb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.tags import sys_tags
from packaging.utils import canonicalize_name
from packaging.version import Version

from depsat.cli.env_command import add_env_parser, run_env
from depsat.errors import SourceError
from depsat.model import Diagnostic
from depsat.sources.environment import Environment, inspect_interpreter
from depsat.sources.installed import InstalledDistribution, InstalledSource, parse_requires_txt

MYSQLCLIENT_REQUIRES = (
    "\n"
    '[:sys_platform == "win32"]\n'
    "pywin32>=300\n"
    "\n"
    "[dev]\n"
    "pytest>=7\n"
    "coverage\n"
    "\n"
    '[tls:python_version < "3.12"]\n'
    "certifi\n"
)
PSYCOPG_C_REQUIRES = 'psycopg==3.1.12\n\n[:python_version >= "3.8"]\ntyping-extensions>=4.1\n'
VCS_DIRECT_URL = json.dumps({
    "url": "https://github.com/example/vcsdist.git",
    "vcs_info": {"vcs": "git", "commit_id": "0123abcd", "requested_revision": "main"},
})


@attrs.frozen
class World:
    """The real environments the slow tests share (built once per module)."""

    root: Path
    base_python: Path
    base_site: Path
    venv_python: Path
    venv_site: Path
    plain_python: Path
    userbase: Path
    user_site: Path
    extra: Path
    devproj: Path
    editproj: Path

    def base_env(self) -> dict[str, str]:
        """The base interpreter with a user site and a PYTHONPATH entry."""
        return eb.clean_env({"PYTHONUSERBASE": str(self.userbase), "PYTHONPATH": str(self.extra)})

    def venv_env(self) -> dict[str, str]:
        return eb.clean_env({"PYTHONNOUSERSITE": "1"})


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("world")
    wheels = root / "wheels"
    try:
        base_python = eb.make_base_installation(root / "base")
        eb.run([base_python, "-c", "import sys"])
    except (OSError, RuntimeError) as exc:  # pragma: no cover - an unusual interpreter build
        pytest.skip(f"cannot make a separate base installation here: {exc}")
    base_site = root / "base" / "lib" / f"python{eb.PY}" / "site-packages"
    assert eb.site_packages(base_python) == base_site

    eb.pip_install(base_python, [
        eb.build_wheel(wheels, "alpha", "1.0", requires=["beta>=1"]),
        eb.build_wheel(wheels, "beta", "1.5"),
        eb.build_wheel(wheels, "shadowme", "1.0"),
    ])
    eb.write_egg_info_dir(base_site, "mysqlclient", "2.1.1", requires_txt=MYSQLCLIENT_REQUIRES)
    eb.write_egg_dir(base_site, "psycopg-c", "3.1.12", requires_txt=PSYCOPG_C_REQUIRES)
    eb.write_egg_zip(base_site, "zipped", "0.5", requires_txt="alpha\n")
    eb.write_egg_info_file(base_site, "oldlib", "0.9")
    devproj = root / "devproj"
    eb.write_develop_install(base_site, devproj, "devproj", "0.1", requires_txt="beta\n")

    userbase = root / "userbase"
    user_site = userbase / "lib" / f"python{eb.PY}" / "site-packages"
    user_site.mkdir(parents=True)
    eb.pip_install(base_python, [eb.build_wheel(wheels, "userpkg", "1.0")], target=user_site)
    extra = root / "extra"
    eb.pip_install(base_python, [eb.build_wheel(wheels, "pathpkg", "1.0")], target=extra)

    venv_python = eb.make_venv(base_python, root / "venv", system_site_packages=True)
    venv_site = eb.site_packages(venv_python)
    eb.pip_install(venv_python, [
        eb.build_wheel(wheels, "shadowme", "2.0"),
        eb.build_wheel(wheels, "gamma", "1.0", extras=["fast"],
                       requires=['alpha; extra == "fast"'], requires_python=">=3.8"),
    ])
    editproj = root / "editproj"
    eb.write_pep660_editable(venv_site, editproj, "edit-me", "0.3")
    eb.write_dist_info(venv_site, "vcsdist", "1.2", direct_url=VCS_DIRECT_URL)

    plain_python = eb.make_venv(Path(sys.executable), root / "plain")
    eb.pip_install(plain_python, [eb.build_wheel(wheels, "delta", "1.0")])
    return World(root, base_python, base_site, venv_python, venv_site, plain_python, userbase,
                 user_site, extra, devproj, editproj)


def by_name(source: InstalledSource) -> dict[str, list[InstalledDistribution]]:
    result: dict[str, list[InstalledDistribution]] = {}
    for dist in source.distributions():
        result.setdefault(dist.name, []).append(dist)
    return result


def assert_importlib_parity(source: InstalledSource, python: Path, env: dict[str, str],
                            cwd: Path) -> None:
    """depsat lists every distribution importlib.metadata lists inside `python`, same versions,
    and the visible copy of each name is the one importlib.metadata.version() reports."""
    seen = {(d.name, d.version) for d in source.distributions()}
    listed = eb.importlib_distributions(python, env, cwd)
    assert listed, "importlib.metadata listed nothing: the environment is not what we built"
    for name, version, path in listed:
        if name is None or version is None:
            continue
        assert (canonicalize_name(name), Version(version)) in seen, (name, version, path)
    names = {name for name, _version, _path in listed if name}
    for name, version in eb.importlib_versions(python, env, cwd, names).items():
        visible = source.visible(canonicalize_name(name))
        assert visible is not None, name
        assert version is not None and visible.version == Version(version), name


# ------------------------------------------------------------------------------- real envs


@pytest.mark.slow
def test_system_site_venv_layers(world: World) -> None:
    source = InstalledSource.from_interpreter(world.venv_python, env=world.venv_env())
    environment = source.environment
    assert [layer.name for layer in environment.layers][:2] == ["venv", "system"]
    venv, system = environment.layers[:2]
    assert Path(venv.path) == world.venv_site and not venv.read_only and venv.index == 0
    assert Path(system.path) == world.base_site and system.read_only and system.index == 1
    assert environment.target_layer == venv
    assert environment.python_version is not None
    assert environment.python_version.release[:2] == sys.version_info[:2]
    assert environment.markers is not None and environment.markers["python_version"] == eb.PY
    assert any(str(tag) == "py3-none-any" for tag in environment.tags)
    assert environment.interpreter is not None
    assert Path(environment.interpreter).parent == world.venv_python.parent
    target = environment.target()
    assert target is not None and target.tags == environment.tags


@pytest.mark.slow
def test_system_site_venv_matches_importlib(world: World) -> None:
    env = world.venv_env()
    source = InstalledSource.from_interpreter(world.venv_python, env=env)
    assert_importlib_parity(source, world.venv_python, env, world.root)


@pytest.mark.slow
def test_base_interpreter_matches_importlib(world: World) -> None:
    env = world.base_env()
    source = InstalledSource.from_interpreter(world.base_python, env=env)
    assert_importlib_parity(source, world.base_python, env, world.root)
    names = [layer.name for layer in source.environment.layers]
    assert {"site", "user", f"path:{world.extra}"} <= set(names)
    site = next(layer for layer in source.environment.layers if layer.name == "site")
    assert not site.read_only  # the test owns it, so it is writable
    assert all(layer.read_only for layer in source.environment.layers if layer is not site)
    found = by_name(source)
    assert found["userpkg"][0].info.layer == "user"
    assert found["pathpkg"][0].info.layer == f"path:{world.extra}"


@pytest.mark.slow
def test_plain_venv_matches_importlib(world: World) -> None:
    env = eb.clean_env()
    source = InstalledSource.from_interpreter(world.plain_python, env=env)
    assert [layer.name for layer in source.environment.layers] == ["venv"]
    assert by_name(source)["delta"][0].version == Version("1.0")
    assert "mysqlclient" not in by_name(source)  # no system site-packages here
    assert_importlib_parity(source, world.plain_python, env, world.root)


@pytest.mark.slow
def test_user_site_of_system_site_venv_sits_between(world: World) -> None:
    # site.py enables the user site in a --system-site-packages venv, after the venv's own
    # site-packages and before the base's: import (and so depsat) searches it in between.
    env = eb.clean_env({"PYTHONUSERBASE": str(world.userbase)})
    source = InstalledSource.from_interpreter(world.venv_python, env=env)
    assert [layer.name for layer in source.environment.layers][:3] == ["venv", "user", "system"]
    assert source.environment.target_layer is not None
    assert source.environment.target_layer.name == "venv"
    assert_importlib_parity(source, world.venv_python, env, world.root)


@pytest.mark.slow
def test_seed_case_legacy_formats_in_system_layer(world: World) -> None:
    source = InstalledSource.from_interpreter(world.venv_python, env=world.venv_env())
    (mysql,) = source.candidates(canonicalize_name("mysqlclient"))
    assert mysql.version == Version("2.1.1")
    assert mysql.installed is not None
    assert mysql.installed.format == "egg-info"
    assert mysql.installed.layer == "system" and mysql.installed.layer_index == 1
    assert mysql.installed.read_only
    assert mysql.origin.kind == "installed" and mysql.origin.name == "system"
    assert sorted(str(r) for r in mysql.requires) == sorted([
        'pywin32>=300; sys_platform == "win32"',
        'pytest>=7; extra == "dev"',
        'coverage; extra == "dev"',
        'certifi; python_version < "3.12" and extra == "tls"',
    ])
    assert mysql.provides_extras == {"dev", "tls"}
    (psycopg_c,) = source.candidates(canonicalize_name("psycopg-c"))
    assert psycopg_c.version == Version("3.1.12")
    assert psycopg_c.installed is not None and psycopg_c.installed.format == "egg"
    assert psycopg_c.installed.path.endswith(f"psycopg_c-3.1.12-{eb.PYTAG}.egg")
    assert {str(r) for r in psycopg_c.requires} == {
        "psycopg==3.1.12", 'typing-extensions>=4.1; python_version >= "3.8"'}
    assert psycopg_c.artifacts[0].filename == psycopg_c.installed.path


@pytest.mark.slow
def test_every_legacy_format_and_provenance(world: World) -> None:
    source = InstalledSource.from_interpreter(world.base_python, env=world.base_env())
    found = {name: dists[0] for name, dists in by_name(source).items()}
    assert not source.diagnostics()[1:], source.diagnostics()  # only the tags note

    zipped = found["zipped"]
    assert (zipped.info.format, zipped.version, zipped.info.layer) == ("egg-zip", Version("0.5"),
                                                                       "site")
    assert [str(r) for r in zipped.candidate.requires] == ["alpha"]
    oldlib = found["oldlib"]
    assert (oldlib.info.format, oldlib.version) == ("egg-info-file", Version("0.9"))
    assert os.path.isfile(oldlib.info.path)
    dev = found["devproj"]
    assert dev.info.format == "egg-link" and dev.info.editable
    assert dev.info.path == str(world.base_site / "devproj.egg-link")
    assert dev.info.direct_url == world.devproj.as_uri()
    assert [str(r) for r in dev.candidate.requires] == ["beta"]
    alpha = found["alpha"]
    assert alpha.info.format == "dist-info" and alpha.info.installer == "pip"
    assert alpha.info.requested is True
    assert alpha.info.direct_url is not None and alpha.info.direct_url.startswith("file://")
    assert alpha.info.direct_url.endswith("alpha-1.0-py3-none-any.whl")
    assert [str(r) for r in alpha.candidate.requires] == ["beta>=1"]
    assert found["mysqlclient"].info.installer is None
    assert found["mysqlclient"].info.requested is None  # egg-info has no REQUESTED concept


@pytest.mark.slow
def test_venv_provenance_and_shadowing(world: World) -> None:
    source = InstalledSource.from_interpreter(world.venv_python, env=world.venv_env())
    found = by_name(source)
    edit = found["edit-me"][0]
    assert edit.info.editable and edit.info.direct_url == world.editproj.as_uri()
    assert edit.info.requested is True
    assert found["vcsdist"][0].info.direct_url == (
        "git+https://github.com/example/vcsdist.git@0123abcd")
    gamma = found["gamma"][0]
    assert gamma.candidate.provides_extras == {"fast"}
    assert str(gamma.candidate.requires_python) == ">=3.8"

    shadowme = source.candidates(canonicalize_name("shadowme"))
    assert [(c.version, c.origin.name) for c in shadowme] == [
        (Version("2.0"), "venv"), (Version("1.0"), "system")]
    assert shadowme[0].key != shadowme[1].key
    new, old = found["shadowme"]
    assert not new.shadowed and old.shadowed and old.shadowed_by == new.info.path
    assert not any("shadowme" in d.message for d in source.diagnostics())  # normal, no warning


@pytest.mark.slow
def test_explicit_layers(world: World) -> None:
    source = InstalledSource.from_paths([world.venv_site, world.base_site],
                                        names=["venv", "system"])
    layers = source.environment.layers
    assert [layer.name for layer in layers][:2] == ["venv", "system"]
    assert not layers[0].read_only and layers[1].read_only
    assert source.environment.python_version is None and source.environment.target() is None
    found = by_name(source)
    for name in ("zipped", "psycopg-c", "devproj", "oldlib", "mysqlclient", "alpha"):
        assert found[name][0].info.layer == "system", name
    assert [d.version for d in found["shadowme"]] == [Version("2.0"), Version("1.0")]


@pytest.mark.slow
def test_fallback_tags_match_packaging(world: World) -> None:
    # The base installation has no packaging, so depsat computes its tags itself; it runs the
    # same interpreter binary as this test, so the answer must equal packaging's own.
    assert not inspect_interpreter(world.base_python, env=world.base_env()).tags_from_interpreter
    environment = Environment.from_interpreter(world.base_python, env=world.base_env())
    assert environment.tags == tuple(sys_tags())


@pytest.mark.slow
def test_cli_env_on_a_real_interpreter(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_env(parse(["env", "--python", str(world.plain_python), "--json"]))
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["layers"][0]["name"] == "venv"
    delta = next(d for d in document["distributions"] if d["name"] == "delta")
    assert (delta["version"], delta["format"], delta["installer"], delta["shadowed"]) == (
        "1.0", "dist-info", "pip", False)


def test_interpreter_errors(tmp_path: Path) -> None:
    missing = tmp_path / "no-python"
    with pytest.raises(SourceError) as info:
        Environment.from_interpreter(missing)
    assert info.value.culprit == str(missing)
    failing = tmp_path / "failing-python"
    failing.write_text("#!/bin/sh\necho 'SyntaxError: nope' >&2\nexit 3\n")
    failing.chmod(0o755)
    with pytest.raises(SourceError) as info:
        Environment.from_interpreter(failing)
    assert info.value.culprit == str(failing) and "nope" in str(info.value)
    garbage = tmp_path / "garbage-python"
    garbage.write_text("#!/bin/sh\necho not json\n")
    garbage.chmod(0o755)
    with pytest.raises(SourceError):
        Environment.from_interpreter(garbage)


# ------------------------------------------------------------------------------ broken input


@attrs.frozen
class Broken:
    site: Path
    source: InstalledSource

    def dists(self, name: str) -> list[InstalledDistribution]:
        return [d for d in self.source.distributions() if d.name == name]

    def warnings_for(self, path: Path) -> list[Diagnostic]:
        return [d for d in self.source.diagnostics() if d.culprit == str(path)]


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def meta(name: str | None, version: str | None, *extra: str) -> str:
    lines = ["Metadata-Version: 2.1"]
    if name is not None:
        lines.append(f"Name: {name}")
    if version is not None:
        lines.append(f"Version: {version}")
    return "\n".join([*lines, *extra]) + "\n"


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Broken:
    site = tmp_path_factory.mktemp("broken") / "site-packages"
    write(site / "noname-1.0.dist-info" / "METADATA", meta(None, "1.0"))
    write(site / "mystery.egg-info", "Metadata-Version: 1.0\nSummary: who am I\n")
    write(site / "snapshot-1.0.dist-info" / "METADATA", meta("snapshot", "1.0-SNAPSHOT"))
    write(site / "dirbad-notaversion.dist-info" / "METADATA", meta("dirbad", "1.0"))
    write(site / f"binary-1.0-{eb.PYTAG}.egg-info", bytes(range(256)) * 4)
    write(site / "latin-1.0.dist-info" / "METADATA",
          meta("latin", "1.0").encode() + b"Summary: caf\xe9 cr\xe8me\n")
    write(site / "trunc.dist-info" / "METADATA", b"Metadata-Version: 2.1\nName: trunc\nVer")
    write(site / f"foo-bar-1.0-{eb.PYTAG}.egg-info" / "PKG-INFO", meta("foo-bar", "1.0"))
    write(site / f"zzz-qqq-{eb.PYTAG}.egg-info" / "PKG-INFO", meta("other", "2.0"))
    write(site / f"broken-name-{eb.PYTAG}.egg-info" / "PKG-INFO", meta(None, "3.0"))
    write(site / "dup-1.0.dist-info" / "METADATA", meta("dup", "1.0"))
    write(site / "dup-2.0.dist-info" / "METADATA", meta("dup", "2.0"))
    write(site / "ghost.egg-link", "/nonexistent/depsat/ghost\n.")
    (site.parent / "empty-project").mkdir()
    write(site / "empty-proj.egg-link", f"{site.parent / 'empty-project'}\n.")
    write(site / "badreqs-1.0.dist-info" / "METADATA",
          meta("badreqs", "1.0", "Requires-Dist: good>=1", "Requires-Dist: bad >>> 1",
               "Requires-Python: =>3.8", "Provides-Extra: ok", "Provides-Extra: -bad-"))
    write(site / f"badtxt-1.0-{eb.PYTAG}.egg-info" / "PKG-INFO", meta("badtxt", "1.0"))
    write(site / f"badtxt-1.0-{eb.PYTAG}.egg-info" / "requires.txt",
          "kept>=1\nnot a requirement !!\n[bad marker:python_version <<< '3']\nlost\n"
          "[ok]\nalso-kept\n")
    write(site / "badurl-1.0.dist-info" / "METADATA", meta("badurl", "1.0"))
    write(site / "badurl-1.0.dist-info" / "direct_url.json", "{not json")
    (site / "nometa-1.0.dist-info").mkdir()
    write(site / f"unlisted-1.0-{eb.PYTAG}.egg" / "EGG-INFO" / "PKG-INFO", meta("unlisted", "1.0"))
    write(site / f"notzip-1.0-{eb.PYTAG}.egg", b"this is not a zip")
    write(site / "easy-install.pth", f"import os\n./notzip-1.0-{eb.PYTAG}.egg\n")
    source = InstalledSource.from_paths([site, site.parent / "missing-layer"])
    return Broken(site, source)


def test_broken_metadata_without_name_is_repaired_from_dir_name(broken: Broken) -> None:
    metadata = broken.site / "noname-1.0.dist-info" / "METADATA"
    (warning,) = broken.warnings_for(metadata)
    assert "no valid Name" in warning.message and "from the file name" in warning.message
    assert [d.version for d in broken.dists("noname")] == [Version("1.0")]


def test_broken_metadata_without_name_or_version_is_left_out(broken: Broken) -> None:
    (warning,) = broken.warnings_for(broken.site / "mystery.egg-info")
    assert "left out" in warning.message
    trunc = broken.site / "trunc.dist-info" / "METADATA"
    assert any("no valid Version" in w.message for w in broken.warnings_for(trunc))
    assert not broken.dists("trunc")


def test_broken_invalid_versions(broken: Broken) -> None:
    snapshot = broken.site / "snapshot-1.0.dist-info" / "METADATA"
    assert any("invalid version '1.0-SNAPSHOT'" in w.message
               for w in broken.warnings_for(snapshot))
    assert not broken.dists("snapshot")
    dirbad = broken.site / "dirbad-notaversion.dist-info"
    (warning,) = broken.warnings_for(dirbad)
    assert "notaversion" in warning.message
    assert [d.version for d in broken.dists("dirbad")] == [Version("1.0")]


def test_broken_binary_and_undecodable(broken: Broken) -> None:
    binary = broken.site / f"binary-1.0-{eb.PYTAG}.egg-info"
    assert any("binary" in w.message for w in broken.warnings_for(binary))
    assert not broken.dists("binary")
    latin = broken.site / "latin-1.0.dist-info" / "METADATA"
    assert any("UTF-8" in w.message for w in broken.warnings_for(latin))
    assert [d.version for d in broken.dists("latin")] == [Version("1.0")]


def test_broken_egg_info_names(broken: Broken) -> None:
    recovered = broken.site / f"foo-bar-1.0-{eb.PYTAG}.egg-info"
    assert broken.warnings_for(recovered) == []  # unescaped '-' recovered silently
    assert [d.version for d in broken.dists("foo-bar")] == [Version("1.0")]
    mismatched = broken.site / f"zzz-qqq-{eb.PYTAG}.egg-info"
    assert any("does not parse" in w.message for w in broken.warnings_for(mismatched))
    assert [d.version for d in broken.dists("other")] == [Version("2.0")]
    nameless = broken.site / f"broken-name-{eb.PYTAG}.egg-info" / "PKG-INFO"
    assert any("from the file name" in w.message for w in broken.warnings_for(nameless))
    assert [d.version for d in broken.dists("broken-name")] == [Version("3.0")]


def test_broken_duplicates_resolved_as_importlib_does(broken: Broken) -> None:
    dups = broken.dists("dup")
    assert len(dups) == 2 and [d.shadowed for d in dups] == [False, True]
    expected = importlib.metadata.Distribution.discover(name="dup", path=[str(broken.site)])
    assert dups[0].version == Version(next(iter(expected)).version)
    (warning,) = broken.warnings_for(Path(dups[1].info.path))
    assert "duplicate" in warning.message
    assert broken.source.candidates(canonicalize_name("dup")) == (dups[0].candidate,)


def test_broken_egg_links(broken: Broken) -> None:
    (ghost,) = broken.warnings_for(broken.site / "ghost.egg-link")
    assert "dangling" in ghost.message
    (empty,) = broken.warnings_for(broken.site / "empty-proj.egg-link")
    assert "dangling" in empty.message


def test_broken_requirements_are_skipped_one_by_one(broken: Broken) -> None:
    (badreqs,) = broken.dists("badreqs")
    assert [str(r) for r in badreqs.candidate.requires] == ["good>=1"]
    assert badreqs.candidate.requires_python is None
    assert badreqs.candidate.provides_extras == {"ok"}
    assert len(badreqs.warnings) == 3
    (badtxt,) = broken.dists("badtxt")
    assert [str(r) for r in badtxt.candidate.requires] == ["kept>=1", 'also-kept; extra == "ok"']
    requires_txt = broken.site / f"badtxt-1.0-{eb.PYTAG}.egg-info" / "requires.txt"
    assert len(broken.warnings_for(requires_txt)) == 2


def test_broken_files_and_layers(broken: Broken) -> None:
    (badurl,) = broken.dists("badurl")
    assert badurl.info.direct_url is None
    assert broken.warnings_for(broken.site / "badurl-1.0.dist-info" / "direct_url.json")
    assert broken.warnings_for(broken.site / "nometa-1.0.dist-info" / "METADATA")
    assert broken.warnings_for(broken.site / f"unlisted-1.0-{eb.PYTAG}.egg")
    assert broken.warnings_for(broken.site / f"notzip-1.0-{eb.PYTAG}.egg")
    assert broken.warnings_for(broken.site.parent / "missing-layer")
    assert not broken.dists("unlisted")


def test_unreadable_directories(tmp_path: Path) -> None:
    """Permission denied on a layer and on one dist-info: warnings, and the rest is read.

    root can read anything, so as root the read runs in a child process as `nobody`.
    """
    scratch = Path(tempfile.mkdtemp(prefix="depsat-perm-"))
    try:
        scratch.chmod(0o755)
        site = scratch / "site"
        write(site / "fine-1.0.dist-info" / "METADATA", meta("fine", "1.0"))
        locked_dist = site / "locked-1.0.dist-info"
        write(locked_dist / "METADATA", meta("locked", "1.0"))
        locked_layer = scratch / "locked-layer"
        write(locked_layer / "hidden-1.0.dist-info" / "METADATA", meta("hidden", "1.0"))
        for path in (scratch, site, site / "fine-1.0.dist-info"):
            path.chmod(0o755)
        (site / "fine-1.0.dist-info" / "METADATA").chmod(0o644)
        locked_dist.chmod(0)
        locked_layer.chmod(0)
        script = (
            "import json, sys\n"
            "from depsat.sources.installed import InstalledSource\n"
            "s = InstalledSource.from_paths(sys.argv[1:])\n"
            "print(json.dumps({'names': [d.name for d in s.distributions()],\n"
            "                  'warnings': [[w.culprit, w.message] for w in s.diagnostics()]}))\n"
        )
        result = _run_unprivileged([script, str(site), str(locked_layer)])
        assert result["names"] == ["fine"]
        culprits = {culprit for culprit, _message in result["warnings"]}
        assert str(locked_layer) in culprits
        assert str(locked_dist / "METADATA") in culprits
    finally:
        for path in (scratch / "site" / "locked-1.0.dist-info", scratch / "locked-layer"):
            if path.exists():
                path.chmod(stat.S_IRWXU)
        shutil.rmtree(scratch, ignore_errors=True)


def _run_unprivileged(args: list[str]) -> dict[str, Any]:
    src = str(Path(__file__).resolve().parents[1] / "src")
    import packaging

    deps = {os.path.dirname(os.path.dirname(m.__file__ or "")) for m in (attrs, packaging)}
    code = ["-c", *args]
    if os.geteuid() != 0:
        env = eb.clean_env({"PYTHONPATH": os.pathsep.join([src, *deps])})
        out = subprocess.run([sys.executable, *code], env=env, capture_output=True, text=True,
                             check=True).stdout
        return dict(json.loads(out))
    # The test venv's interpreter may sit under root's home; use any python nobody can run.
    for python in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        env = eb.clean_env({"PYTHONPATH": os.pathsep.join([src, *deps])})
        try:
            completed = subprocess.run([python, *code], env=env, capture_output=True, text=True,
                                       user=65534, group=65534, check=False, cwd="/")
        except OSError:
            continue
        if completed.returncode == 0:
            return dict(json.loads(completed.stdout))
    pytest.skip("no interpreter the unprivileged user can run with depsat importable")


# ------------------------------------------------------------------------------ requires.txt


def test_parse_requires_txt_sections() -> None:
    requirements, extras, problems = parse_requires_txt(
        b"base>=1\n# comment\n\n[Extra_One]\none ; os_name == 'posix'\n"
        b"[:sys_platform == \"linux\"]\nlinux-only\n[two:python_version<'4']\ntwo @ "
        b"https://example.com/two.zip\n",
        "requires.txt",
    )
    assert problems == []
    assert extras == {"extra-one", "two"}
    assert [str(r) for r in requirements] == [
        "base>=1",
        'one; os_name == "posix" and extra == "extra-one"',
        'linux-only; sys_platform == "linux"',
        'two @ https://example.com/two.zip ; python_version < "4" and extra == "two"',
    ]
    marker = requirements[1].marker
    assert marker is not None
    assert marker.evaluate({"extra": "Extra_One", "os_name": "posix"})
    assert not marker.evaluate({"extra": "", "os_name": "posix"})
    assert Requirement(str(requirements[3])) == requirements[3]


# ------------------------------------------------------------------------------ fuzzing

_FUZZ_DIRS: list[Path] = []

header_names = st.sampled_from(["Name", "Version", "Requires-Dist", "Provides-Extra",
                                "Requires-Python", "Metadata-Version", "name", "VERSION", ""])
header_values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["foo", "1.0", "1.0-SNAPSHOT", "bar>=1; extra == 'x'", ">=3.8", "x y z",
                     "foo[bar]", "=?utf-8?q?caf=C3=A9?=", "\x00", "🐍"]),
)
header_lines = st.lists(st.tuples(header_names, header_values), max_size=8).map(
    lambda pairs: "\n".join(f"{k}: {v}" for k, v in pairs).encode("utf-8", "surrogatepass"))
fuzz_bytes = st.one_of(st.binary(max_size=600), header_lines,
                       st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")))


def _reset_fuzz_dir() -> Path:
    """One scratch directory for every hypothesis example (function fixtures do not reset)."""
    if not _FUZZ_DIRS:
        _FUZZ_DIRS.append(Path(tempfile.mkdtemp(prefix="depsat-fuzz-")))
    site = _FUZZ_DIRS[0] / "site"
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)
    return site


def _read_without_crash(site: Path) -> InstalledSource:
    source = InstalledSource.from_paths([site])
    source.distributions()
    for name in source.projects():
        source.candidates(name)
    unexpected = [d for d in source.diagnostics() if d.message.startswith("unexpected error")]
    assert not unexpected, unexpected
    return source


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(metadata=fuzz_bytes, pkg_info=fuzz_bytes, requires_txt=fuzz_bytes,
       direct_url=fuzz_bytes, egg_link=fuzz_bytes, installer=fuzz_bytes)
def test_fuzzed_metadata_files_never_raise(metadata: bytes, pkg_info: bytes, requires_txt: bytes,
                                           direct_url: bytes, egg_link: bytes,
                                           installer: bytes) -> None:
    site = _reset_fuzz_dir()
    write(site / "fuzz-1.0.dist-info" / "METADATA", metadata)
    write(site / "fuzz-1.0.dist-info" / "direct_url.json", direct_url)
    write(site / "fuzz-1.0.dist-info" / "INSTALLER", installer)
    write(site / f"fuzzed-2.0-{eb.PYTAG}.egg-info", pkg_info)
    write(site / f"legacy-3.0-{eb.PYTAG}.egg-info" / "PKG-INFO", meta("legacy", "3.0"))
    write(site / f"legacy-3.0-{eb.PYTAG}.egg-info" / "requires.txt", requires_txt)
    write(site / "linked.egg-link", egg_link)
    _read_without_crash(site)
    parse_requires_txt(requires_txt, "requires.txt")


@settings(max_examples=60, deadline=None)
@given(name=st.text(min_size=1, max_size=30).filter(lambda n: "/" not in n and "\x00" not in n
                                                     and n not in (".", "..")),
       suffix=st.sampled_from([".dist-info", ".egg-info", ".egg", ".egg-link"]),
       content=fuzz_bytes)
def test_fuzzed_file_names_never_raise(name: str, suffix: str, content: bytes) -> None:
    site = _reset_fuzz_dir()
    try:
        if suffix == ".dist-info":
            write(site / f"{name}{suffix}" / "METADATA", content)
        elif suffix == ".egg":
            write(site / f"{name}{suffix}", content)
            write(site / "easy-install.pth", f"./{name}{suffix}\n")
        else:
            write(site / f"{name}{suffix}", content)
    except (OSError, UnicodeEncodeError):
        return  # the file system refuses the name: nothing to read
    _read_without_crash(site)


# ------------------------------------------------------------------------------ CLI


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="depsat")
    add_env_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_cli_env_lists_layers_distributions_and_warnings(
    broken: Broken, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse(["env", "--layer", f"main={broken.site}", "--json"])
    assert args.handler is run_env
    assert run_env(args) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["layers"][0]["name"] == "main"
    dups = [d for d in document["distributions"] if d["name"] == "dup"]
    assert sorted(d["shadowed"] for d in dups) == [False, True]
    assert all({"version", "format", "layer", "installer", "warnings"} <= d.keys() for d in dups)
    assert any(w["culprit"].endswith("ghost.egg-link") for w in document["warnings"])

    assert run_env(parse(["env", "--layer", str(broken.site)])) == 0
    text = capsys.readouterr().out
    assert "layer0" in text and "dup" in text and "shadowed" in text and "Warnings" in text


def test_cli_env_bad_interpreter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_env(parse(["env", "--python", str(tmp_path / "nope")])) == 2
    assert str(tmp_path / "nope") in capsys.readouterr().err


@pytest.fixture(autouse=True, scope="module")
def _cleanup_fuzz_dir() -> Iterator[None]:
    yield
    for directory in _FUZZ_DIRS:
        shutil.rmtree(directory, ignore_errors=True)
