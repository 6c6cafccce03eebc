"""pip-style requirements files: their lines, nesting and the options pip and uv read there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from indexbuild import build_index

from depsat.cli import build_parser
from depsat.cli.requirements_file import apply_options, read_requirements_files
from depsat.errors import ConfigurationError


def test_options_in_files_apply_as_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "wheels").mkdir()
    (tmp_path / "sub").mkdir()
    (tmp_path / "requirements.txt").write_text(
        "# the sources\n"
        "-i https://first.example/simple\n"
        "--extra-index-url=https://second.example/simple\n"
        "-f wheels\n"
        "--pre\n"
        "--no-binary foo\n"
        "-r sub/more.txt\n"
        "-c constraints.txt\n"
        "bar>=1 \\\n    --hash=sha256:abc --hash=sha256:def  # pinned\n"
        'baz ; python_version >= "3.8"\n')
    (tmp_path / "sub" / "more.txt").write_text(
        "qux[extra]\n--extra-index-url https://third.example/simple\n")
    (tmp_path / "constraints.txt").write_text("quux<2\n--only-binary=:all:\n")
    files = read_requirements_files([str(tmp_path / "requirements.txt")], [])
    assert files.requirements == ["qux[extra]", "bar>=1", 'baz ; python_version >= "3.8"']
    assert files.constraints == ["quux<2"]
    assert files.index_url == "https://first.example/simple"
    assert files.extra_index_urls == ["https://second.example/simple",
                                      "https://third.example/simple"]
    assert files.find_links == [(tmp_path / "wheels").as_posix()]  # beside the file
    assert files.pre and not files.no_index
    assert (files.no_binary, files.only_binary) == (["foo"], [":all:"])

    args = build_parser().parse_args(["resolve", "-i", "https://cli.example/simple",
                                      "--extra-index-url", "https://second.example/simple",
                                      "--no-binary", "bar"])
    apply_options(args, files)
    assert args.index_url == "https://cli.example/simple"  # the command line's wins
    assert args.extra_index_url == ["https://second.example/simple",
                                    "https://third.example/simple"]
    assert args.prerelease == "allow" and args.no_binary == ["bar", "foo"]
    assert args.find_links == [(tmp_path / "wheels").as_posix()]


@pytest.mark.parametrize(("line", "said"), [
    ("--trusted-host example.com", "option '--trusted-host' is not supported in requirements"),
    ("foo --install-option=x", "option '--install-option' is not supported on a requirement"),
    ("-i", "option '-i' takes one value"),
    ("-e", "option '-e' takes one value"),
    ("--extra-index-url 'unclosed", "cannot split options"),
])
def test_what_cannot_be_read_names_the_file_and_line(tmp_path: Path, line: str,
                                                     said: str) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(f"ok\n{line}\n")
    with pytest.raises(ConfigurationError) as raised:
        read_requirements_files([str(path)], [])
    assert raised.value.culprit == str(path)
    assert str(raised.value).startswith(f"{path}: line 2: {said}"), str(raised.value)


def test_an_index_named_in_the_file_is_the_one_resolved_from(tmp_path: Path) -> None:
    """A requirements file with ``--index-url`` works as pip and uv run it: no index on the
    command line, and PyPI (unreachable from the tests) is never asked."""
    simple = build_index({"alpha": {"1.0": {"requires": ["beta"]}, "2.0": {"requires": ["beta"]}},
                          "beta": {"1.0": {}, "1.1b1": {}}}, tmp_path / "idx")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"--index-url {simple.as_uri()}\n--pre\nalpha<2\n")
    run = subprocess.run([sys.executable, "-m", "depsat", "resolve", "-r", str(requirements),
                          "--no-config", "--cache-dir", str(tmp_path / "cache"),
                          "--format", "requirements"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    pins = [line for line in run.stdout.splitlines() if not line.startswith(" ")]
    assert pins == ["alpha==1.0", "beta==1.1b1"]  # --pre: the prerelease is newest


PYPROJECT = """\
[project]
name = "My_App"
version = "1.0"
dependencies = ["alpha<2", 'beta ; python_version >= "3.8"']

[project.optional-dependencies]
Fast = ["gamma"]
docs = ["delta>=1"]
all = ["my-app[fast,docs]"]
"""


def test_a_projects_dependencies_with_the_extras_asked_for(tmp_path: Path) -> None:
    """As ``uv pip compile pyproject.toml --extra``: an extra naming its own project stands
    for those extras' dependencies."""
    project = tmp_path / "pyproject.toml"
    project.write_text(PYPROJECT)

    def read(*extras: str, everything: bool = False) -> list[str]:
        return read_requirements_files([str(project)], [], extras=extras,
                                       all_extras=everything).requirements

    assert read() == ["alpha<2", 'beta ; python_version >= "3.8"']
    assert read("fast") == ["alpha<2", 'beta ; python_version >= "3.8"', "gamma"]
    assert sorted(read("all")) == sorted(read(everything=True)) == sorted([
        "alpha<2", 'beta ; python_version >= "3.8"', "gamma", "delta>=1"])
    with pytest.raises(ConfigurationError, match=r"no extra 'nope' .*it has: all, docs, fast"):
        read("nope")
    project.write_text(PYPROJECT.replace('version = "1.0"', 'dynamic = ["dependencies"]'))
    with pytest.raises(ConfigurationError, match="dependencies are dynamic"):
        read()
    plain = tmp_path / "requirements.txt"
    plain.write_text("alpha\n")
    with pytest.raises(ConfigurationError, match="extras and dependency groups are a project's"):
        read_requirements_files([str(plain)], [], extras=["fast"])


def test_the_command_resolves_a_projects_dependencies(tmp_path: Path) -> None:
    simple = build_index({"alpha": {"1.0": {}, "2.0": {}}, "beta": {"1.0": {}},
                          "gamma": {"1.0": {"requires": ["alpha"]}}}, tmp_path / "idx")
    project = tmp_path / "pyproject.toml"
    project.write_text(PYPROJECT.replace('docs = ["delta>=1"]\n', ""))
    run = subprocess.run([sys.executable, "-m", "depsat", "resolve", "-r", str(project),
                          "--extra", "fast", "--index-url", simple.as_uri(), "--no-config",
                          "--cache-dir", str(tmp_path / "cache"), "--format", "requirements"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert [line for line in run.stdout.splitlines() if not line.startswith(" ")] == [
        "alpha==1.0", "beta==1.0", "gamma==1.0"]


def test_dependency_groups_follow_their_includes(tmp_path: Path) -> None:
    """PEP 735: ``--group`` adds a group's requirements, ``include-group`` entries followed;
    a project table is not needed; a cycle, or a group that is not there, is an error."""
    project = tmp_path / "pyproject.toml"
    project.write_text(
        "[dependency-groups]\n"
        'test = ["pytest>=8", {include-group = "Typing"}]\n'
        'typing = ["mypy"]\n'
        'loop = [{include-group = "loop"}]\n')

    def read(*groups: str) -> list[str]:
        return read_requirements_files([str(project)], [], groups=groups).requirements

    assert read("test") == ["pytest>=8", "mypy"]
    assert read("typing", "test") == ["mypy", "pytest>=8"]
    with pytest.raises(ConfigurationError, match="'loop' includes itself"):
        read("loop")
    with pytest.raises(ConfigurationError, match=r"no dependency group 'docs' \(it has: "):
        read("docs")
    with pytest.raises(ConfigurationError, match="no \\[project\\] table"):
        read()  # (without a group, the project's own dependencies are asked for)


def test_standard_input_is_a_requirements_file(tmp_path: Path) -> None:
    """``-r -`` as uv and pip take it; never remembered: the same command with other input
    gives the other answer."""
    example = Path(__file__).parent.parent / "examples" / "web-app.toml"

    def run(given: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "depsat", "resolve", "-r", "-", "--universe", str(example),
             "--format", "requirements", "--cache-dir", str(tmp_path / "cache")],
            input=given, capture_output=True, text=True, timeout=120, check=False,
            cwd=tmp_path)

    older = run("webapp\ntemplating<3\n")
    newer = run("webapp\ntemplating>=3\n")
    assert older.returncode == 0 and newer.returncode == 0, older.stderr + newer.stderr
    assert "templating==2.2.0" in older.stdout.splitlines()
    assert "templating==3.0.0" in newer.stdout.splitlines()
