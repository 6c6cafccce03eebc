"""Git references (``name @ git+URL@rev#subdirectory=...``): real repositories made with git in
a temporary directory, read over ``file:`` as pip and uv read them (clone, take the branch,
tag or commit, read the project), pinned at the commit in the output, and every failure
named in a warning."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from indexbuild import build_index
from packaging.utils import canonicalize_name

from depsat.api import InvalidRequirementError, explain, parse_requirement, request_from_strings
from depsat.api import resolve as resolve_request
from depsat.model import DIRECT
from depsat.report import requirements_lines
from depsat.sources.direct import DirectSource
from depsat.sources.http import HttpClient
from depsat.sources.index import IndexSource
from depsat.sources.vcs import VcsError, parse_vcs_url
from depsat.target import Target
from depsat.verify import verify

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git program")

INDEX: dict[str, Any] = {
    "lib": {"1.0": {"sdist": False}, "2.0": {"sdist": False}},
    "extra-dep": {"1.0": {"sdist": False}},
}


def _git(repository: Path, *arguments: str) -> str:
    environment = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                   "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", "-C", str(repository), *arguments], check=True, text=True,
                          capture_output=True, env=environment).stdout.strip()


def _commit(repository: Path, version: str, dependencies: list[str],
            message: str) -> str:
    """Write the project at `version` (and a second project in ``sub/``), commit it."""
    (repository / "pyproject.toml").write_text(
        f'[project]\nname = "gitlib"\nversion = "{version}"\n'
        f"dependencies = {json.dumps(dependencies)}\n"
        '[project.optional-dependencies]\nfast = ["extra-dep"]\n')
    (repository / "sub").mkdir(exist_ok=True)
    (repository / "sub" / "pyproject.toml").write_text(
        f'[project]\nname = "subpkg"\nversion = "{version}"\ndependencies = ["lib==1.0"]\n')
    _git(repository, "add", "-A")
    _git(repository, "commit", "--quiet", "-m", message)
    return _git(repository, "rev-parse", "HEAD")


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    """A repository (tag v1.0: gitlib 1.0 needing lib<2; main: 1.1 needing lib>=2) and an
    index with lib 1.0 and 2.0."""
    repository = tmp_path / "repo"
    repository.mkdir()
    _git(repository, "init", "--quiet", "-b", "main")
    first = _commit(repository, "1.0", ["lib<2"], "one")
    _git(repository, "tag", "-a", "v1.0", "-m", "v1.0")  # (an annotated tag: peeled)
    second = _commit(repository, "1.1", ["lib>=2"], "two")
    index = tmp_path / "index"
    build_index(INDEX, index)
    return {"repo": repository, "url": f"git+{repository.as_uri()}", "first": first,
            "second": second, "index": (index / "simple").as_uri(), "cache": tmp_path / "c"}


def _resolve(world: dict[str, Any], requirements: list[str], **client: Any) -> Any:
    http = HttpClient(cache_dir=world["cache"], **client)
    direct = []
    for text in requirements:
        parsed = parse_requirement(text)
        if parsed.url:
            direct.append((canonicalize_name(parsed.name), parsed.url))
    sources = [IndexSource(world["index"], "index", client=http),
               DirectSource(direct, client=http)]
    try:
        return resolve_request(request_from_strings(requirements), sources,
                               Target.for_python("3.12"))
    finally:
        for source in sources:
            source.close()
        http.close()


def _chosen(result: Any) -> dict[str, str]:
    assert result.plan is not None, explain(result).text() if explain(result) else result
    return {s.name: str(s.candidate.version) for s in result.plan.steps
            if s.candidate is not None}


@pytest.mark.parametrize("revision", ["", "@main", "@v1.0", "@FIRST", "@SHORT"])
def test_a_revision_is_checked_out_and_pinned_at_its_commit(world: dict[str, Any],
                                                           revision: str) -> None:
    revision = revision.replace("FIRST", world["first"]).replace("SHORT", world["first"][:9])
    url = world["url"] + revision
    expected = world["second"] if revision in ("", "@main") else world["first"]
    result = _resolve(world, [f"gitlib @ {url}"])
    chosen = _chosen(result)
    # The dependencies are the ones that commit's pyproject.toml states.
    assert chosen == ({"gitlib": "1.1", "lib": "2.0"} if expected == world["second"]
                      else {"gitlib": "1.0", "lib": "1.0"})
    [step] = [s for s in result.plan.steps if s.name == "gitlib"]
    assert step.candidate.origin.kind == DIRECT and step.candidate.origin.location == url
    assert f"gitlib @ git+{world['repo'].as_uri()}@{expected}" in requirements_lines(result)
    assert verify(result.universe, result.plan.chosen, {}) == []


def test_a_branch_that_moves_is_fetched_again(world: dict[str, Any]) -> None:
    url = world["url"] + "@main"
    assert _chosen(_resolve(world, [f"gitlib @ {url}"]))["gitlib"] == "1.1"
    third = _commit(world["repo"], "1.2", ["lib"], "three")
    result = _resolve(world, [f"gitlib @ {url}"])
    assert _chosen(result)["gitlib"] == "1.2"
    assert f"gitlib @ git+{world['repo'].as_uri()}@{third}" in requirements_lines(result)
    # Offline, the branch is where the last fetch left it; a commit never fetched is not.
    _commit(world["repo"], "1.3", ["lib"], "four")
    assert _chosen(_resolve(world, [f"gitlib @ {url}"], offline=True))["gitlib"] == "1.2"
    unknown = _resolve(world, [f"gitlib @ {world['url']}@v9"], offline=True)
    assert unknown.plan is None
    assert any("v9 is not in the cache" in d.message for d in unknown.diagnostics)


def test_a_subdirectory_and_an_extra(world: dict[str, Any]) -> None:
    result = _resolve(world, [f"subpkg @ {world['url']}@v1.0#subdirectory=sub",
                              f"gitlib[fast] @ {world['url']}"])
    # subpkg needs lib==1.0 and gitlib 1.1 needs lib>=2: no plan, and the explanation
    # names both references.
    assert result.plan is None
    text = " ".join(explain(result).text().split())
    assert "subpkg" in text and "gitlib" in text and "lib" in text
    fine = _resolve(world, [f"subpkg @ {world['url']}@v1.0#subdirectory=sub",
                            f"gitlib[fast] @ {world['url']}@v1.0"])
    assert _chosen(fine) == {"subpkg": "1.0", "lib": "1.0", "gitlib": "1.0",
                             "extra-dep": "1.0"}
    assert (f"subpkg @ git+{world['repo'].as_uri()}@{world['first']}#subdirectory=sub"
            in requirements_lines(fine))


@pytest.mark.parametrize(("reference", "said"), [
    ("gitlib @ URL@nope", "no branch, tag or commit 'nope' in the repository"),
    ("gitlib @ URL@v1.0#subdirectory=missing", "has no directory 'missing'"),
    ("gitlib @ URL#subdirectory=../up", "leaves the repository"),
    ("gitlib @ git+file:///nonexistent/repo", "git failed:"),
    ("other @ URL", "its project is 'gitlib', not other"),
])
def test_a_reference_that_cannot_be_read_is_named_in_a_warning(world: dict[str, Any],
                                                               reference: str,
                                                               said: str) -> None:
    reference = reference.replace("URL", world["url"])
    result = _resolve(world, [reference])
    assert result.plan is None
    url = reference.split(" @ ")[1]
    assert any(d.culprit == url and said in d.message for d in result.diagnostics), (
        [(d.culprit, d.message) for d in result.diagnostics])
    explanation = explain(result)
    assert explanation is not None
    assert f"You require {reference}, but that repository gave no project " \
        f"{reference.split(' @ ')[0]} (a warning says why)" in " ".join(
            explanation.text().split())


def test_the_url_is_taken_apart_as_pip_reads_it() -> None:
    reference = parse_vcs_url(
        "git+https://user:secret@example.com/org/repo.git@release/1.0#subdirectory=py/pkg"
        "&egg=pkg")
    assert reference.repository == "https://user:secret@example.com/org/repo.git"
    assert reference.revision == "release/1.0"
    assert reference.subdirectory == "py/pkg"
    assert reference.pinned("a" * 40, "https://example.com/org/repo.git") == (
        f"git+https://example.com/org/repo.git@{'a' * 40}#subdirectory=py/pkg&egg=pkg")
    assert parse_vcs_url("git+ssh://git@example.com/org/repo.git").revision is None
    for refused, said in (("hg+https://example.com/repo", "git repositories only"),
                          ("git+ext::sh -c touch% /tmp/x", "is not read"),
                          ("git+https://example.com/repo@", "nothing after '@'"),
                          ("git+https://example.com/repo@--upload-pack=x", "cannot name"),
                          ("git+https://example.com/repo@HEAD~1", "cannot name")):
        with pytest.raises(VcsError, match=said):
            parse_vcs_url(refused)
    assert str(parse_requirement("git+https://example.com/repo@v1#egg=Pkg")) == (
        "Pkg @ git+https://example.com/repo@v1#egg=Pkg")
    with pytest.raises(InvalidRequirementError, match="write NAME @ git"):
        parse_requirement("git+https://example.com/repo@v1")


def test_a_password_git_repeats_is_not_shown(world: dict[str, Any]) -> None:
    """An unreachable server: git's own message names the URL, the warning shows no
    password."""
    url = "git+http://user:s3cret@127.0.0.1:9/repo.git@v1"
    result = _resolve(world, [f"gitlib @ {url}"])
    assert result.plan is None
    [warning] = [d for d in result.diagnostics if "git failed" in d.message]
    assert "s3cret" not in warning.message + warning.culprit
    assert "user:****@127.0.0.1:9" in warning.culprit


def _cli(world: dict[str, Any], *arguments: str, path: str | None = None,
         cwd: Path | None = None, output: str = "requirements",
         ) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("PIP_", "UV_", "DEPSAT_"))}
    if path is not None:
        environment["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "depsat", "resolve", *arguments, "--index-url", world["index"],
         "--no-config", "--cache-dir", str(world["cache"]), "--format", output],
        capture_output=True, text=True, timeout=120, check=False, env=environment, cwd=cwd)


def test_the_command_pins_an_editable_reference_and_never_remembers_a_branch(
        world: dict[str, Any], tmp_path: Path) -> None:
    """``-e git+URL@main#egg=gitlib`` in a requirements file, as pip takes it: pinned
    ``-e git+URL@<commit>#egg=gitlib``. The branch moves between two identical runs: the
    second sees it (a remembered answer would not)."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"-e {world['url']}@main#egg=gitlib\n")
    first = _cli(world, "-r", str(requirements))
    assert first.returncode == 0, first.stderr
    assert f"-e git+{world['repo'].as_uri()}@{world['second']}#egg=gitlib" in first.stdout
    third = _commit(world["repo"], "1.2", ["lib"], "three")
    again = _cli(world, "-r", str(requirements))
    assert again.returncode == 0, again.stderr
    assert f"-e git+{world['repo'].as_uri()}@{third}#egg=gitlib" in again.stdout


def test_without_git_the_warning_says_so(world: dict[str, Any], tmp_path: Path) -> None:
    empty = tmp_path / "no-git"
    empty.mkdir()
    run = _cli(world, f"gitlib @ {world['url']}", path=str(empty))
    assert run.returncode == 1
    assert "git is not installed" in run.stderr and world["url"] in run.stderr


def test_a_projects_own_references_are_read_too(world: dict[str, Any], tmp_path: Path) -> None:
    """A project directory that names a git project and another directory by URL, as a
    monorepo's do: both are read (uv reads a reference's references) and pinned."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "pyproject.toml").write_text(
        '[project]\nname = "shared"\nversion = "0.3"\ndependencies = ["extra-dep"]\n')
    app = tmp_path / "app"
    app.mkdir()
    (app / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1.0"\n'
        f'dependencies = ["gitlib @ {world["url"]}@v1.0", "shared @ {shared.as_uri()}"]\n')
    result = _resolve(world, [f"app @ {app.as_uri()}"])
    assert _chosen(result) == {"app": "1.0", "gitlib": "1.0", "lib": "1.0", "shared": "0.3",
                               "extra-dep": "1.0"}
    assert verify(result.universe, result.plan.chosen, {}) == []
    lines = requirements_lines(result)
    assert f"gitlib @ git+{world['repo'].as_uri()}@{world['first']}" in lines
    assert f"shared @ {shared.as_uri()}" in lines


# -- [tool.uv.sources] ------------------------------------------------------------------------

def _uv_project(directory: Path, dependencies: list[str], sources: str,
                extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text(
        f'[project]\nname = "{directory.name}"\nversion = "0.1"\n'
        f"dependencies = {json.dumps(dependencies)}\n\n[tool.uv.sources]\n{sources}\n{extra}")
    return directory / "pyproject.toml"


def test_uv_sources_of_a_pyproject_are_direct_references(world: dict[str, Any],
                                                         tmp_path: Path) -> None:
    """``-r pyproject.toml`` as ``uv pip compile pyproject.toml`` reads it: a git source
    (tag), an editable path source, a URL source and a workspace member become references,
    pinned; an index source is a pin, not a reference; ``--no-sources`` takes the index."""
    shared = tmp_path / "root" / "libs" / "shared"
    _uv_project(shared, ["extra-dep"], "")
    member = tmp_path / "root" / "packages" / "member"
    _uv_project(member, ["member2"], "member2 = { workspace = true }\n")  # (the root's)
    member2 = tmp_path / "root" / "packages" / "member2"
    _uv_project(member2, [], "")
    wheel = next((tmp_path / "index" / "files").glob("lib-1.0-*.whl"))
    pyproject = _uv_project(
        tmp_path / "root", ["gitlib", "shared", "lib", "member"],
        f'gitlib = {{ git = "{world["repo"].as_uri()}", tag = "v1.0" }}\n'
        'shared = { path = "libs/shared", editable = true }\n'
        f'lib = {{ url = "{wheel.as_uri()}" }}\n'
        'member = { workspace = true }\n',
        '[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    run = _cli(world, "-r", str(pyproject))
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if not line.startswith(" ")]
    assert f"gitlib @ git+{world['repo'].as_uri()}@{world['first']}" in lines
    assert "-e libs/shared" in lines  # (a path source as its table gives it, as uv writes it)
    assert f"lib @ {wheel.as_uri()}" in lines
    assert f"-e {member.as_uri()}" in lines  # (members are editable, as uv has them)
    assert f"-e {member2.as_uri()}" in lines
    assert "extra-dep==1.0" in lines  # (shared's dependency, from the index)
    assert f"    # via root ({pyproject})" in run.stdout.splitlines()  # (as uv names it)
    plain = _cli(world, "-r", str(pyproject), "--no-sources")
    assert plain.returncode == 1  # gitlib, shared and member are on no index
    assert "gitlib" in plain.stderr and "git+" not in plain.stderr


def test_a_git_projects_path_source_is_the_same_repository(world: dict[str, Any],
                                                          tmp_path: Path) -> None:
    """A project in a git repository whose source is a path in the same repository (a
    monorepo): the plan pins that repository at the same commit with the subdirectory, not
    the cache's checkout."""
    repository = world["repo"]
    (repository / "pyproject.toml").write_text(
        '[project]\nname = "gitlib"\nversion = "2.0"\ndependencies = ["subpkg"]\n'
        '[tool.uv.sources]\nsubpkg = { path = "sub" }\n')
    commit = _commit_all(repository)
    result = _resolve(world, [f"gitlib @ {world['url']}@{commit}"])
    assert _chosen(result) == {"gitlib": "2.0", "subpkg": "1.1", "lib": "1.0"}
    assert (f"subpkg @ git+{repository.as_uri()}@{commit}#subdirectory=sub"
            in requirements_lines(result))


def _commit_all(repository: Path) -> str:
    _git(repository, "add", "-A")
    _git(repository, "commit", "--quiet", "-m", "more")
    return _git(repository, "rev-parse", "HEAD")


def test_uv_sources_with_markers_are_chosen_by_the_target(world: dict[str, Any],
                                                          tmp_path: Path) -> None:
    """uv's per-platform sources: the first whose marker holds on the target is taken (one
    target, one source), and the indexes where none holds."""
    for version in ("7.0", "8.0"):
        _uv_project(tmp_path / f"lib{version[0]}", [], "").write_text(
            f'[project]\nname = "lib"\nversion = "{version}"\n')
    pyproject = _uv_project(
        tmp_path / "proj", ["lib"],
        'lib = [{ path = "../lib7", marker = "sys_platform == \'win32\'" },\n'
        '       { path = "../lib8", marker = "sys_platform == \'linux\'" }]\n')
    for platform, pin in (("x86_64-pc-windows-msvc", "../lib7"),  # (as the table gives it)
                          ("x86_64-unknown-linux-gnu", "../lib8"),
                          ("aarch64-apple-darwin", "lib==2.0")):
        run = _cli(world, "-r", str(pyproject), "--python-platform", platform,
                   "--python-version", "3.12")
        assert run.returncode == 0, run.stderr
        assert pin in run.stdout.splitlines(), (platform, run.stdout)


@pytest.mark.parametrize(("entry", "said"), [
    ('lib = { path = "a", marker = "sys_platform ==" }', "tool.uv.sources.lib.marker"),
    ("lib = [1, 2]", "tool.uv.sources.lib is not a table or a list of tables"),
    ('lib = { path = "a", url = "https://example.com/a.whl" }', "needs exactly one of"),
    ('lib = { git = "https://example.com/r", tag = "a", branch = "b" }',
     "more than one of rev, tag and branch"),
    ("lib = { workspace = true }", "no member of [tool.uv.workspace] is that project"),
])
def test_a_uv_source_that_cannot_be_read_is_an_error_naming_it(world: dict[str, Any],
                                                               tmp_path: Path, entry: str,
                                                               said: str) -> None:
    pyproject = _uv_project(tmp_path / "proj", ["lib"], entry)
    run = _cli(world, "-r", str(pyproject))
    assert run.returncode == 2, run.stdout
    assert said in run.stderr and str(pyproject) in run.stderr, run.stderr
    # The same project as a reference: it cannot be used, and the explanation says why.
    result = _resolve(world, [f"proj @ {pyproject.parent.as_uri()}"])
    assert result.plan is None
    assert said in " ".join(explain(result).text().split())


def test_what_was_installed_from_the_same_commit_is_kept(world: dict[str, Any],
                                                        tmp_path: Path) -> None:
    """pip recorded ``git+URL@<commit>`` (PEP 610) for gitlib installed from tag v1.0: asking
    for ``gitlib @ git+URL@v1.0`` again keeps it, as uv does (the tag stands at that
    commit); ``@main`` stands elsewhere, so gitlib is installed from the checkout."""
    from envbuild import write_dist_info

    site = tmp_path / "site"
    site.mkdir()
    write_dist_info(site, "gitlib", "1.0", requires=["lib<2"], direct_url=json.dumps(
        {"url": world["repo"].as_uri(),
         "vcs_info": {"vcs": "git", "commit_id": world["first"],
                      "requested_revision": "v1.0"}}))
    write_dist_info(site, "lib", "1.0")
    for revision, action, version in (("@v1.0", "keep", "1.0"), ("@main", "upgrade", "1.1")):
        run = _cli(world, f"gitlib @ {world['url']}{revision}", "--layer", str(site),
                   "--python-version", "3.12", output="json")
        assert run.returncode == 0, run.stderr
        packages = {p["name"]: p for p in json.loads(run.stdout)["packages"]}
        assert packages["gitlib"]["action"] == action, packages["gitlib"]
        assert packages["gitlib"]["version"] == version
    # In process: the kept distribution passes the verifier, which checks the commit itself.
    from depsat.model import Request
    from depsat.sources.installed import InstalledSource

    environment = InstalledSource.from_paths([site], python=sys.executable)
    installed = tuple(c for c in map(environment.visible, environment.projects()) if c)
    http = HttpClient(cache_dir=world["cache"])
    url = f"{world['url']}@v1.0"
    sources = [environment, IndexSource(world["index"], "index", client=http),
               DirectSource([(canonicalize_name("gitlib"), url)], client=http)]
    try:
        result = resolve_request(
            Request(requirements=(parse_requirement(f"gitlib @ {url}"),), installed=installed),
            sources, Target.for_python("3.12"))
    finally:
        for source in sources[1:]:
            source.close()
        http.close()
    [gitlib] = [c for c in result.plan.chosen if c.name == "gitlib"]
    assert gitlib.installed is not None
    assert verify(result.universe, result.plan.chosen, {}) == []


def test_a_branch_with_a_slash_and_no_cache(world: dict[str, Any], tmp_path: Path) -> None:
    """A branch named ``release/1.x``, read with ``--no-cache``: the repository is fetched
    into a directory of the run's own, gone afterwards."""
    _git(world["repo"], "branch", "release/1.x", world["first"])
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("PIP_", "UV_", "DEPSAT_"))}
    environment["TMPDIR"] = str(scratch)
    run = subprocess.run(
        [sys.executable, "-m", "depsat", "resolve", f"gitlib @ {world['url']}@release/1.x",
         "--index-url", world["index"], "--no-config", "--no-cache", "--format",
         "requirements"], capture_output=True, text=True, timeout=120, check=False,
        env=environment)
    assert run.returncode == 0, run.stderr
    assert f"gitlib @ git+{world['repo'].as_uri()}@{world['first']}" in run.stdout
    assert not any(p.name.startswith("depsat-git-") for p in scratch.iterdir())
    # Closing the source removes its directory (not the collector, some time later).
    client = HttpClient(no_cache=True)
    source = DirectSource([(canonicalize_name("gitlib"), f"{world['url']}@release/1.x")],
                          client=client)
    assert len(source.candidates(canonicalize_name("gitlib"))) == 1
    checkouts = source._git_checkouts().root
    assert checkouts.is_dir() and not checkouts.is_relative_to(world["cache"])
    source.close()
    assert not checkouts.exists()
    client.close()
