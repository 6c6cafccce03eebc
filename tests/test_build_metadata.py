"""`--build-metadata`: real sdists with in-tree PEP 517 backends, served over real HTTP.

Nothing here touches the internet: the backends live inside the sdists (`backend-path`) and
need nothing installed, except in the isolated-environment test, whose build requirement is
a wheel on the same 127.0.0.1 index. Every build subprocess runs without this machine's pip
configuration (`build_environ`).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import clean_env
from indexbuild import BaseUrl, build_index, serve

from depsat.api import request_from_strings, resolve
from depsat.model import Candidate, ExclusionKind, canonicalize_name
from depsat.sources.base import MetadataUnavailable
from depsat.sources.build_metadata import (
    BUILD_CACHE_FORMAT,
    MetadataBuilder,
    MetadataBuildError,
    build_environ,
)
from depsat.sources.find_links import FindLinksSource
from depsat.sources.http import FetchEvent, FetchKind, HttpClient
from depsat.sources.index import NEEDS_BUILD_DETAIL, IndexSource
from depsat.target import Target

PREPARE = '''
import pathlib

def _count(hook):
    with open({counter!r}, "a") as log:
        log.write(hook + "\\n")

def _write(directory):
    info = pathlib.Path(directory) / "{stem}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n"
        "Requires-Dist: somedep>=1\\n")
    return info.name

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _count("prepare")
    return _write(metadata_directory)

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise NotImplementedError("only metadata here")

def build_sdist(sdist_directory, config_settings=None):
    raise NotImplementedError("only metadata here")
'''

WHEEL_ONLY = '''
import pathlib, zipfile

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open({counter!r}, "a") as log:
        log.write("wheel\\n")
    name = "{stem}-py3-none-any.whl"
    with zipfile.ZipFile(pathlib.Path(wheel_directory) / name, "w") as wheel:
        wheel.writestr("{stem}.dist-info/METADATA",
                       "Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n"
                       "Requires-Dist: somedep<2\\n")
        wheel.writestr("{stem}.dist-info/WHEEL", "Wheel-Version: 1.0\\n")
    return name

def build_sdist(sdist_directory, config_settings=None):
    raise NotImplementedError
'''

BROKEN = '''
def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    raise RuntimeError("broken on purpose")

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("broken on purpose")
'''

SLOW = '''
import time

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    time.sleep(60)
'''

ISOLATED = '''
import pathlib
import helper  # a build requirement: only importable in the isolated environment

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info = pathlib.Path(metadata_directory) / "isolated-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\\nName: isolated\\nVersion: 1.0\\n"
        f"Requires-Dist: somedep=={helper.__version__}\\n")
    return info.name

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise NotImplementedError
'''


def backend(template: str, name: str, counter: Path) -> str:
    stem = f"{canonicalize_name(name).replace('-', '_')}-1.0"
    return template.format(counter=str(counter), name=name, version="1.0", stem=stem)


def needs_build(template: str, name: str, counter: Path, **extra: Any) -> dict[str, Any]:
    """A release with only an sdist whose PKG-INFO (Metadata 2.1) lists no dependencies."""
    return {"1.0": {"wheel": False, "sdist_metadata_version": "2.1",
                    "sdist_backend": backend(template, name, counter), **extra}}


@pytest.fixture
def index(tmp_path: Path) -> Iterator[BaseUrl]:
    counter = tmp_path / "backend-runs.txt"
    spec = {
        "needs-build": needs_build(PREPARE, "needs-build", counter),
        "wheel-only": needs_build(WHEEL_ONLY, "wheel-only", counter),
        "broken": needs_build(BROKEN, "broken", counter),
        "no-backend": needs_build(BROKEN, "no-backend", counter,
                                  build_backend="depsat_missing_backend"),
        "slow": needs_build(SLOW, "slow", counter),
        "needs-tool": needs_build(BROKEN, "needs-tool", counter,
                                  build_requires=["depsat-no-such-tool>=1"]),
        "somedep": {"1.0": {}, "2.0": {}},
    }
    build_index(spec, tmp_path / "index")
    with serve(tmp_path / "index") as url:
        yield url


def runs(tmp_path: Path) -> list[str]:
    counter = tmp_path / "backend-runs.txt"
    return counter.read_text().split() if counter.exists() else []


def client(tmp_path: Path) -> HttpClient:
    return HttpClient(cache_dir=tmp_path / "cache", timeout=5.0, retries=0)


def builder(tmp_path: Path, url: BaseUrl, **options: Any) -> MetadataBuilder:
    return MetadataBuilder(tmp_path / "cache", environ=build_environ([url.index_url]), **options)


def resolve_with(source: IndexSource, *requirements: str) -> Any:
    return resolve(request_from_strings(list(requirements)), [source], Target.for_python("3.12"))


def test_without_the_flag_the_sdist_needs_a_build(index: BaseUrl, tmp_path: Path) -> None:
    source = IndexSource(index.index_url, client=client(tmp_path))
    result = resolve_with(source, "needs-build")
    assert result.plan is None
    (exclusion,) = result.universe.projects[canonicalize_name("needs-build")].exclusions
    assert exclusion.kind is ExclusionKind.NEEDS_BUILD and exclusion.detail == NEEDS_BUILD_DETAIL
    assert runs(tmp_path) == []
    explanation = result.explain()
    assert explanation is not None
    (hint,) = [fix for fix in explanation.fixes if fix.action == "build-metadata"]
    assert "--build-metadata" in hint.text and "needs-build 1.0" in hint.text


def test_built_metadata_resolves_and_is_cached(index: BaseUrl, tmp_path: Path) -> None:
    events: list[FetchEvent] = []
    http = HttpClient(cache_dir=tmp_path / "cache", timeout=5.0, retries=0,
                      progress=events.append)
    first = builder(tmp_path, index)
    result = resolve_with(IndexSource(index.index_url, client=http, metadata_builder=first),
                          "needs-build")
    assert result.plan is not None, result.failure
    assert result.plan.versions() == {"needs-build": "1.0", "somedep": "2.0"}
    assert runs(tmp_path) == ["prepare"] and first.builds == 1
    builds = [(e.done, e.subject) for e in events if e.kind is FetchKind.BUILD]
    assert builds == [(False, "needs_build-1.0.tar.gz"), (True, "needs_build-1.0.tar.gz")]
    sdist = tmp_path / "index" / "files" / "needs_build-1.0.tar.gz"
    entries = list((tmp_path / "cache" / BUILD_CACHE_FORMAT).rglob("*"))
    assert [e.name for e in entries if e.is_file()] == [
        hashlib.sha256(sdist.read_bytes()).hexdigest() + ".metadata"]

    # A second run (new client, new builder, same cache): nothing is built, and the sdist is
    # not even downloaded, since the index publishes its SHA-256.
    index.requests.clear()
    second = builder(tmp_path, index)
    again = resolve_with(IndexSource(index.index_url, client=client(tmp_path),
                                     metadata_builder=second), "needs-build")
    assert again.plan is not None and again.plan.versions() == result.plan.versions()
    assert runs(tmp_path) == ["prepare"] and second.builds == 0
    assert not [path for _m, path, _a in index.requests if path.endswith(".tar.gz")]


def test_backend_without_the_prepare_hook_builds_a_wheel(index: BaseUrl, tmp_path: Path) -> None:
    source = IndexSource(index.index_url, client=client(tmp_path),
                         metadata_builder=builder(tmp_path, index))
    result = resolve_with(source, "wheel-only")
    assert result.plan is not None, result.failure
    assert result.plan.versions() == {"wheel-only": "1.0", "somedep": "1.0"}
    assert runs(tmp_path) == ["wheel"]


@pytest.mark.parametrize(("project", "cause"), [
    ("broken", "RuntimeError: broken on purpose"),
    ("no-backend", "backend 'depsat_missing_backend' is not available"),
    # not installed here, so an isolated environment, where pip finds it on no index
    ("needs-tool", "installing the build requirements failed: ERROR: No matching "
                   "distribution found for depsat-no-such-tool>=1"),
])
def test_a_failing_backend_is_a_clean_exclusion(index: BaseUrl, tmp_path: Path, project: str,
                                                cause: str) -> None:
    source = IndexSource(index.index_url, client=client(tmp_path),
                         metadata_builder=builder(tmp_path, index))
    (candidate,) = source.candidates(canonicalize_name(project))
    result = source.metadata(candidate)
    assert isinstance(result, MetadataUnavailable), result
    assert result.kind is ExclusionKind.METADATA_ERROR
    filename = f"{project.replace('-', '_')}-1.0.tar.gz"
    assert result.detail.startswith(f"{index}files/{filename}: building its metadata failed")
    assert cause in result.detail
    assert "\n" not in result.detail and "Traceback" not in result.detail
    assert not (tmp_path / "cache" / BUILD_CACHE_FORMAT).exists()  # failures are not cached


def test_a_build_past_its_timeout_is_stopped(index: BaseUrl, tmp_path: Path) -> None:
    source = IndexSource(index.index_url, client=client(tmp_path),
                         metadata_builder=builder(tmp_path, index, timeout=1.0))
    (candidate,) = source.candidates(canonicalize_name("slow"))
    result = source.metadata(candidate)
    assert isinstance(result, MetadataUnavailable)
    assert result.detail == (f"{index}files/slow-1.0.tar.gz: building its metadata failed: "
                             "the build took longer than 1 s")


def _tar(members: dict[str, bytes], symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        if symlink is not None:
            info = tarfile.TarInfo("p-1.0/link")
            info.type, info.linkname = tarfile.SYMTYPE, symlink
            archive.addfile(info)
    return gzip.compress(buffer.getvalue(), mtime=0)


@pytest.mark.parametrize(("data", "cause"), [
    pytest.param(b"not an archive", "not a readable sdist archive", id="garbage"),
    pytest.param(_tar({"../escape.py": b""}), "outside its directory", id="dotdot"),
    pytest.param(_tar({"/etc/escape.py": b""}), "outside its directory", id="absolute"),
    pytest.param(_tar({"p-1.0/setup.py": b""}, symlink="/etc/passwd"), "link or special file",
                 id="symlink"),
    pytest.param(_tar({"a/pyproject.toml": b"", "b/pyproject.toml": b""}),
                 "no single top-level", id="two-projects"),
    pytest.param(_tar({"p-1.0/PKG-INFO": b""}), "pyproject.toml", id="nothing-to-build"),
    pytest.param(_tar({"p-1.0/pyproject.toml": b"[build-system\n"}), "pyproject.toml",
                 id="bad-toml"),
])
def test_bad_archives_are_refused(tmp_path: Path, data: bytes, cause: str) -> None:
    with pytest.raises(MetadataBuildError, match=cause):
        MetadataBuilder(tmp_path / "cache").metadata(data, "p-1.0.tar.gz")
    assert not (tmp_path / "cache" / BUILD_CACHE_FORMAT).exists()


def test_build_environ_drops_the_machines_pip_configuration() -> None:
    base = {"PATH": "/bin", "PIP_INDEX_URL": "https://mirror.example/simple",
            "PIP_CONFIG_FILE": "/etc/pip.conf", "UV_INDEX_URL": "x", "HOME": "/home/u"}
    environ = build_environ(["http://a/simple/", "http://b/simple/"], ["file:///wheels"],
                            base=base)
    assert environ["PIP_CONFIG_FILE"] == "/dev/null" and "UV_INDEX_URL" not in environ
    assert environ["PIP_INDEX_URL"] == "http://a/simple/"
    assert environ["PIP_EXTRA_INDEX_URL"] == "http://b/simple/"
    assert environ["PIP_FIND_LINKS"] == "file:///wheels"
    assert environ["HOME"] == "/home/u" and "PIP_NO_INDEX" not in environ
    offline = build_environ(["http://a/simple/"], offline=True, base=base)
    assert offline["PIP_NO_INDEX"] == "1" and "PIP_INDEX_URL" not in offline
    # whom pip trusts is kept (a proxy's own authority), or given as what depsat trusts
    assert "PIP_CERT" not in environ
    trusting = build_environ([], base={**base, "PIP_CERT": "/ca.pem", "SSL_CERT_FILE": "/b"})
    assert trusting["PIP_CERT"] == "/ca.pem" and "PIP_INDEX_URL" not in trusting
    assert build_environ([], base={**base, "SSL_CERT_FILE": "/b.pem"})["PIP_CERT"] == "/b.pem"


def test_find_links_directory_builds_too(tmp_path: Path) -> None:
    counter = tmp_path / "backend-runs.txt"
    build_index({"needs-build": needs_build(PREPARE, "needs-build", counter),
                 "somedep": {"1.0": {}}}, tmp_path / "index", pep658=False)
    with FindLinksSource(tmp_path / "index" / "files", client=client(tmp_path)) as source:
        source.metadata_builder = MetadataBuilder(None)  # no cache: built every time
        (candidate,) = source.candidates(canonicalize_name("needs-build"))
        result = source.metadata(candidate)
    assert isinstance(result, Candidate)
    assert [str(r) for r in result.requires] == ["somedep>=1"]
    assert runs(tmp_path) == ["prepare"] and not (tmp_path / "cache" / BUILD_CACHE_FORMAT).exists()


@pytest.mark.slow
def test_missing_build_requirements_go_to_an_isolated_environment(tmp_path: Path) -> None:
    """`helper` is not installed here, so the build gets a `DefaultIsolatedEnv`, into which
    pip installs it from the resolution's own index (on 127.0.0.1)."""
    build_index({
        "isolated": {"1.0": {"wheel": False, "sdist_metadata_version": "2.1",
                             "sdist_backend": ISOLATED,
                             "build_requires": ["helper"]}},
        "helper": {"3.0": {"sdist": False}},
        "somedep": {"2.0": {}, "3.0": {}, "4.0": {}},
    }, tmp_path / "index")
    with serve(tmp_path / "index") as url:
        source = IndexSource(url.index_url, client=client(tmp_path),
                             metadata_builder=builder(tmp_path, url, timeout=120))
        result = resolve_with(source, "isolated")
        assert result.plan is not None, result.universe.projects[
            canonicalize_name("isolated")].exclusions
        assert result.plan.versions() == {"isolated": "1.0", "somedep": "3.0"}
        assert ("GET", "/simple/helper/") in {(m, p) for m, p, _a in url.requests}


def test_cli_flag(index: BaseUrl, tmp_path: Path) -> None:
    def depsat(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "depsat", "resolve", "needs-build", "--index-url",
             index.index_url, "--cache-dir", str(tmp_path / "cache"), "--no-config",
             "--python-version", "3.12", *args],
            capture_output=True, text=True, timeout=120, env=clean_env(), check=False)

    without = depsat("--json")
    assert without.returncode == 1, without.stderr
    assert "needs a build" in without.stdout
    # Said in one warning too, as a plan found without them may be older than pip's.
    said = depsat("--format", "requirements")
    assert ("warning: left out, as their metadata needs a build: needs-build 1.0 "
            "(--build-metadata runs their build backends to read it)") in said.stderr
    built = depsat("--build-metadata", "--format", "requirements")
    assert built.returncode == 0, built.stderr
    pins = [line for line in built.stdout.splitlines() if not line.startswith(" ")]
    assert pins == ["needs-build==1.0", "somedep==2.0"]
    assert built.stderr == ""  # not a terminal: no progress, and the backend's output is kept
    again = depsat("--build-metadata", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["status"] == "solved"
    assert runs(tmp_path) == ["prepare"]


def test_the_warning_names_only_releases_the_plan_might_have_taken(tmp_path: Path) -> None:
    """A release left out for a build is worth a warning when the plan might have taken it:
    not an older one than the plan's when newer ones are preferred, but with
    ``--resolution lowest`` it is. (mixed 1.0 needs what no index has: 0.8 is taken, and
    0.5, its neighbour, read with it.)"""
    counter = tmp_path / "backend-runs.txt"
    build_index({"mixed": {"0.5": needs_build(PREPARE, "mixed", counter)["1.0"],
                           "0.8": {"sdist": False},
                           "1.0": {"sdist": False, "requires": ["not-on-the-index"]}}},
                tmp_path / "index")
    for resolution, warned in (("highest", False), ("lowest", True)):
        run = subprocess.run(
            [sys.executable, "-m", "depsat", "resolve", "mixed", "--index-url",
             (tmp_path / "index" / "simple").as_uri(), "--cache-dir", str(tmp_path / "cache"),
             "--no-config", "--python-version", "3.12", "--format", "requirements",
             "--resolution", resolution],
            capture_output=True, text=True, timeout=120, env=clean_env(), check=False)
        assert run.returncode == 0, run.stderr
        assert run.stdout.splitlines()[0] == "mixed==0.8"
        assert ("left out, as their metadata needs a build: mixed 0.5" in run.stderr) is warned


VERSIONED = '''
import pathlib, warnings

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    warnings.warn("a deprecation notice, as setuptools prints them")
    with open({counter!r}, "a") as log:
        log.write("{version}\\n")
    info = pathlib.Path(metadata_directory) / "many-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\\nName: many\\nVersion: {version}\\n"
        "Requires-Dist: somedep{wanted}\\n")
    return info.name
'''


def test_only_the_releases_a_plan_takes_are_built(tmp_path: Path) -> None:
    """Builds are slow (pyspark's sdists are 200-300 MB): releases read ahead of a plan (the
    neighbours of a release it took, in case the next round wants them) are not built, only
    those a plan takes. many 4.0 needs a somedep no index has: 3.0 is taken and built, and
    2.0 and 1.0 are not (they were, as its neighbours, before session 20)."""
    counter = tmp_path / "backend-runs.txt"
    spec: dict[str, Any] = {"somedep": {"1.0": {}, "2.0": {}}, "many": {}}
    for version in ("1.0", "2.0", "3.0", "4.0"):
        template = VERSIONED.format(counter=str(counter), version=version,
                                    wanted=">=3" if version == "4.0" else ">=1")
        spec["many"][version] = {"wheel": False, "sdist_metadata_version": "2.1",
                                 "sdist_backend": template}
    build_index(spec, tmp_path / "index")
    with serve(tmp_path / "index") as url:
        source = IndexSource(url.index_url, client=client(tmp_path),
                             metadata_builder=builder(tmp_path, url))
        result = resolve_with(source, "many")
        source.close()
    assert result.plan is not None and result.plan.versions() == {"many": "3.0",
                                                                  "somedep": "2.0"}
    assert sorted(runs(tmp_path)) == ["3.0", "4.0"]
    # the backend's warnings are its output, kept from the terminal as the rest of it
    run = subprocess.run(
        [sys.executable, "-m", "depsat", "resolve", "many", "--index-url",
         (tmp_path / "index" / "simple").as_uri(), "--cache-dir", str(tmp_path / "fresh"),
         "--no-config", "--python-version", "3.12", "--format", "requirements",
         "--build-metadata"],
        capture_output=True, text=True, timeout=120, env=clean_env(), check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == "many==3.0" and run.stderr == ""
