"""The CLI through a real subprocess (exit codes, formats, bad input), and in process where
the interpreter's state is the point."""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import PACKSE, ROOT, clean_env
from indexbuild import build_index, serve

from depsat.api import Resolution
from depsat.cli import memo

EXAMPLE = ROOT / "examples" / "web-app.toml"


def depsat(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "depsat", *args], capture_output=True,
                          text=True, timeout=120, env=env, check=False)


def _uv() -> str:
    """The uv beside this interpreter (a dev dependency), run as a peer; the test is skipped
    where it is not installed. Runs with `conftest.clean_env`: no uv configuration."""
    found = shutil.which("uv", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("uv is not installed in this environment")
    return found


def test_table_plan_for_bundled_example() -> None:
    run = depsat("resolve", "--universe", str(EXAMPLE))
    assert run.returncode == 0, run.stderr
    assert "webapp" in run.stdout and "install" in run.stdout
    assert "required by you" in run.stdout


def test_json_plan_schema() -> None:
    run = depsat("resolve", "--universe", str(EXAMPLE), "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["schema"] == "depsat.plan/1"
    assert data["status"] == "solved"
    by_name = {p["name"]: p for p in data["packages"]}
    assert by_name["webapp"]["version"] == "2.0.0"
    assert by_name["webapp"]["extras"] == ["postgres"]
    for package in data["packages"]:
        assert {"name", "version", "action", "source", "reason"} <= package.keys()
        assert package["reason"], package  # every package says who required it
        assert package["reason"][0]["required_by"] is None  # the chain starts with you


def test_requirements_format() -> None:
    run = depsat("resolve", "--universe", str(EXAMPLE), "--format", "requirements")
    assert run.returncode == 0, run.stderr
    pins = [line for line in run.stdout.splitlines() if not line.startswith(" ")]
    assert "webapp[postgres]==2.0.0" in pins
    assert all("==" in line for line in pins)


def test_requirements_file_and_unsatisfiable_exit_code(tmp_path: Path) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("# pinned on purpose\nwebapp>=2\nframework<3  # too old\n")
    run = depsat("resolve", "--universe", str(EXAMPLE), "-r", str(reqs))
    assert run.returncode == 1
    assert "framework<3" in run.stderr and "webapp" in run.stderr
    data = json.loads(depsat("resolve", "--universe", str(EXAMPLE), "-r", str(reqs),
                             "--json").stdout)
    assert data["status"] == "unsatisfiable"
    assert any(fact["requirement"] == "framework<3" for fact in data["core"])


def test_packse_scenario_directly() -> None:
    run = depsat("resolve", "--universe",
                 str(PACKSE / "backtracking" / "backtrack-with-missing-package.toml"),
                 "--format", "requirements")
    assert run.returncode == 0, run.stderr
    assert "a==1.0.0" in run.stdout and "b==2.0.0" in run.stdout


def test_malformed_requirement_is_one_line_exit_2() -> None:
    run = depsat("resolve", "--universe", str(EXAMPLE), "fr amework")
    assert run.returncode == 2
    assert "fr amework" in run.stderr
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_a_direct_reference_or_a_path_is_not_taken_for_its_name(tmp_path: Path) -> None:
    """The example's index has a framework; the file named is another: resolving the name
    alone would answer the index's release without a word. A direct reference, or a
    wheel's path as pip takes it, is the file it names (`test_direct`), here one that is not
    there; a directory without a project table, or no file at all, is refused."""
    missing = tmp_path / "framework-3.1.0-py3-none-any.whl"
    for given in (f"framework @ {missing.as_uri()}", str(missing)):
        run = depsat("resolve", "--universe", str(EXAMPLE), given)
        assert run.returncode == 1, run.stdout
        assert f"You require framework @ {missing.as_uri()} (framework 3.1.0), but framework " \
            f"3.1.0 cannot be used: {missing.as_uri()} does not exist" in (
                " ".join(run.stderr.split()))
    run = depsat("resolve", "--universe", str(EXAMPLE), str(tmp_path))
    assert run.returncode == 2, run.stdout
    assert run.stderr == (f"depsat: error: {str(tmp_path)!r} is a directory without a "
                          "pyproject.toml that names its [project]: only its build could tell "
                          "what it is, and depsat builds no project\n"), run.stderr
    run = depsat("resolve", "--universe", str(EXAMPLE), str(tmp_path / "nowhere"))
    assert run.returncode == 2, run.stdout
    assert "is a path or a URL, but neither a wheel's or an sdist's, a project " \
        "directory's nor a git repository's" in run.stderr


def test_bad_universe_file_names_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[packages.a.versions.'1.0']\nrequires = ['b >>> 1']\n")
    run = depsat("resolve", "--universe", str(bad), "a")
    assert run.returncode == 2
    assert "bad.toml" in run.stderr and "b >>> 1" in run.stderr
    assert "Traceback" not in run.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("[packages\n")
    run = depsat("resolve", "--universe", str(broken), "a")
    assert run.returncode == 2 and "broken.toml" in run.stderr
    missing = depsat("resolve", "--universe", str(tmp_path / "nope.toml"), "a")
    assert missing.returncode == 2 and "nope.toml" in missing.stderr


def test_missing_requirements_file(tmp_path: Path) -> None:
    run = depsat("resolve", "--universe", str(EXAMPLE), "-r", str(tmp_path / "absent.txt"))
    assert run.returncode == 2 and "absent.txt" in run.stderr


def test_python_version_override_changes_target() -> None:
    run = depsat("resolve", "--universe", str(EXAMPLE), "--python-version", "3.7", "--json")
    data = json.loads(run.stdout)
    assert data["target"]["python_version"] == "3.7.0"
    by_name = {p["name"]: p["version"] for p in data.get("packages", [])}
    assert by_name.get("urllib3") != "2.2.1"  # urllib3 2.2.1 requires Python >=3.8
    bad = depsat("resolve", "--universe", str(EXAMPLE), "--python-version", "three")
    assert bad.returncode == 2 and "three" in bad.stderr


def test_a_problem_many_files_share_is_one_warning_naming_the_first(tmp_path: Path) -> None:
    """PyPI's pyzmq page gives 244 files one invalid Requires-Python: a person reads one
    line naming the first file and counting the others; JSON keeps every file."""
    old = {f"1.{minor}": {"requires_python": ">=2.7,!=3.0*"} for minor in range(5)}
    simple = build_index({"alpha": {**old, "2.0": {}},
                          "beta": {"1.0": {"requires_python": ">=3,!=3.1*"}, "1.1": {}}},
                         tmp_path / "idx")
    files = tmp_path / "idx" / "files"
    command = ("resolve", "alpha", "beta", "--index-url", simple.as_uri(), "--no-config",
               "--cache-dir", str(tmp_path / "cache"), "--python-version", "3.12")
    run = depsat(*command)
    assert run.returncode == 0, run.stderr
    warnings = sorted(line for line in run.stderr.splitlines() if line.startswith("warning:"))
    assert warnings == [
        f"warning: {(files / 'alpha-1.0-py3-none-any.whl').as_uri()} (and 9 more): "
        "ignored invalid Requires-Python '>=2.7,!=3.0*'",
        f"warning: {(files / 'beta-1.0-py3-none-any.whl').as_uri()} (and 1 more): "
        "ignored invalid Requires-Python '>=3,!=3.1*'",
    ]
    data = json.loads(depsat(*command, "--json").stdout)
    assert sorted(d["culprit"].rsplit("/", 1)[1] for d in data["diagnostics"]) == sorted(
        [f"alpha-1.{minor}{suffix}" for minor in range(5)
         for suffix in ("-py3-none-any.whl", ".tar.gz")]
        + ["beta-1.0-py3-none-any.whl", "beta-1.0.tar.gz"])


def test_the_command_flushes_everything_and_keeps_its_exit_code(tmp_path: Path) -> None:
    """The command leaves without tearing the interpreter down (`depsat.cli.entry`): what it
    printed must still arrive whole, a reader that stops early must not cause a traceback,
    and the exit code is main's."""
    # Buffered output, as a user's shell gives it (this machine sets PYTHONUNBUFFERED).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    out = tmp_path / "plan.json"
    with out.open("w") as stream:
        done = subprocess.run([sys.executable, "-m", "depsat", "resolve", "--universe",
                               str(EXAMPLE), "--json"], stdout=stream, stderr=subprocess.PIPE,
                              text=True, timeout=120, check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["status"] == "solved"
    # A plan of about 120 kB: more than a pipe holds, so the writes meet the closed pipe.
    from benchmarks.generate import GeneratorConfig, generate, write_universe

    big = write_universe(generate(GeneratorConfig(packages=1000, versions=10)),
                         tmp_path / "big.json")
    reader = subprocess.Popen([sys.executable, "-m", "depsat", "resolve", "--universe",
                               str(big), "--json"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, cwd=ROOT, env=env)
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.read(1)
    reader.stdout.close()  # the reader goes away after one byte
    assert reader.wait(timeout=120) == 0
    assert reader.stderr.read() == b""
    reader.stderr.close()


def test_the_command_keeps_the_collector_paused_until_it_is_done(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`main` holds `collector_paused` around the whole command (rendering included), a
    nested pause (`resolve`'s own) does not end it early, and the collector's state is
    restored afterwards, whatever it was."""
    from depsat import api
    from depsat.cli import main, resolve_command

    seen: list[bool] = []
    printed = resolve_command._printed

    def spying(args: argparse.Namespace, resolution: Resolution) -> memo.Remembered:
        seen.append(gc.isenabled())  # after `resolve` returned, while the plan is rendered
        return printed(args, resolution)

    monkeypatch.setattr(resolve_command, "_printed", spying)
    assert gc.isenabled()
    assert main(["resolve", "--universe", str(EXAMPLE), "--no-memo", "-q"]) == 0
    assert seen == [False]
    assert gc.isenabled()
    gc.disable()
    try:
        with api.collector_paused():
            with api.collector_paused():
                pass
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off before: left off
    finally:
        gc.enable()


def test_what_outlives_a_pause_goes_to_the_oldest_generation_unscanned() -> None:
    """The objects a pause leaves (a `Resolution`) are long-lived: they go straight to the
    oldest generation, and the youngest starts empty, instead of the next passes scanning
    them all. A program's own frozen objects stay frozen (nothing is moved then)."""
    from depsat import api

    with api.collector_paused():
        kept = [[n] for n in range(5000)]
    assert gc.get_count()[0] < 1000  # the young count restarted: no pass is due
    assert any(o is kept for o in gc.get_objects(generation=2))
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with api.collector_paused():
            also = [[n] for n in range(5000)]
        assert gc.get_freeze_count() == frozen
        assert not any(o is also for o in gc.get_objects(generation=2))
    finally:
        gc.unfreeze()


def test_generate_hashes_writes_every_files_hash_for_pip(tmp_path: Path) -> None:
    """As pip-compile --generate-hashes: each pin followed by its release's files' hashes,
    which pip's --require-hashes checks (the index published them: build_index's sha256)."""
    import hashlib

    simple = build_index({"alpha": {"1.0": {"requires": ["beta"]}}, "beta": {"2.0": {}}},
                         tmp_path / "idx")
    command = ("resolve", "alpha", "--index-url", simple.as_uri(), "--no-config",
               "--cache-dir", str(tmp_path / "cache"), "--format", "requirements",
               "--generate-hashes")
    run = depsat(*command)
    assert run.returncode == 0, run.stderr

    def digests(name: str) -> list[str]:
        files = sorted((tmp_path / "idx" / "files").glob(f"{name}-*"))
        return sorted(f"sha256:{hashlib.sha256(f.read_bytes()).hexdigest()}" for f in files
                      if not f.name.endswith(".metadata"))

    alpha, beta = digests("alpha"), digests("beta")
    assert len(alpha) == len(beta) == 2  # (a wheel and an sdist each)
    assert run.stdout.splitlines() == [
        "alpha==1.0 \\", f"    --hash={alpha[0]} \\", f"    --hash={alpha[1]}",
        "beta==2.0 \\", f"    --hash={beta[0]} \\", f"    --hash={beta[1]}",
        "    # via alpha"]
    refused = depsat(*command[:-3], "--generate-hashes")
    assert refused.returncode == 2 and "--format requirements" in refused.stderr
    # A universe file publishes no hashes: each pin is named, as pip would refuse it.
    bare = depsat("resolve", "--universe", str(EXAMPLE), "--format", "requirements",
                  "--generate-hashes")
    assert bare.returncode == 0 and "--hash" not in bare.stdout
    assert "warning: no hash known for webapp 2.0.0" in bare.stderr, bare.stderr


def test_an_output_file_is_written_whole_and_only_when_solved(tmp_path: Path) -> None:
    out = tmp_path / "requirements.txt"
    solved = depsat("resolve", "--universe", str(EXAMPLE), "-o", str(out))  # (requirements)
    assert solved.returncode == 0, solved.stderr
    written = out.read_text()
    assert written.startswith("# This file was autogenerated by depsat via the following "
                              "command:\n#    depsat resolve --universe ")
    assert written.endswith(solved.stdout) and "webapp[postgres]==2.0.0\n" in written
    failed = depsat("resolve", "--universe", str(EXAMPLE), "framework<1", "-o", str(out))
    assert failed.returncode == 1 and out.read_text() == written  # (left as it was)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requirements.txt"]  # no leftover
    nowhere = depsat("resolve", "--universe", str(EXAMPLE), "-o",
                     str(tmp_path / "missing" / "out.txt"))
    assert nowhere.returncode == 2 and "cannot write the output file" in nowhere.stderr
    # The command a Makefile or a pre-commit hook runs, named instead (uv's option).
    custom = depsat("resolve", "--universe", str(EXAMPLE), "-o", str(out),
                    "--custom-compile-command", "make lock")
    assert custom.returncode == 0, custom.stderr
    assert out.read_text() == ("# This file was autogenerated by depsat via the following "
                               "command:\n#    make lock\n" + custom.stdout)


def test_the_pins_of_an_earlier_output_file_are_kept_until_upgraded(tmp_path: Path) -> None:
    """As uv pip compile -o and pip-compile: re-resolving into an existing output keeps its
    pins while they fit; -P NAME frees one, -U all; a pin that no longer fits moves."""
    simple = build_index({"alpha": {"1.0": {"requires": ["beta"]}, "2.0": {"requires": ["beta"]}},
                          "beta": {"1.0": {}, "2.0": {}}}, tmp_path / "idx")
    out = tmp_path / "requirements.txt"

    def pins(*args: str) -> list[str]:
        run = depsat("resolve", *args, "--index-url", simple.as_uri(), "--no-config",
                     "--cache-dir", str(tmp_path / "cache"), "-o", str(out))
        assert run.returncode == 0, run.stderr
        return [line for line in out.read_text().splitlines() if "==" in line]

    assert pins("alpha<2", "beta<2") == ["alpha==1.0", "beta==1.0"]
    assert pins("alpha") == ["alpha==1.0", "beta==1.0"]  # kept, though 2.0 is newer
    assert pins("alpha", "-P", "beta") == ["alpha==1.0", "beta==2.0"]
    assert pins("alpha", "alpha>1") == ["alpha==2.0", "beta==2.0"]  # alpha moved; beta was 2.0
    assert pins("alpha<2", "beta<2") == ["alpha==1.0", "beta==1.0"]
    assert pins("alpha", "-U") == ["alpha==2.0", "beta==2.0"]
    out.unlink()
    assert pins("alpha") == ["alpha==2.0", "beta==2.0"]  # nothing pinned before


def test_exclude_newer_keeps_to_what_the_index_dated_before_the_cutoff(tmp_path: Path) -> None:
    """As uv's --exclude-newer (PEP 700 upload-time): a date, a timestamp or an age; a file
    the index does not date cannot be shown older, so it is left out too."""
    from datetime import datetime, timedelta, timezone

    recent = (datetime.now(timezone.utc) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    simple = build_index({"alpha": {"1.0": {"upload_time": "2023-03-01T10:00:00Z"},
                                    "2.0": {"upload_time": "2024-09-01T10:00:00.123456Z"},
                                    "3.0": {"upload_time": recent},
                                    "4.0": {}}}, tmp_path / "idx")

    def resolve(*args: str) -> subprocess.CompletedProcess[str]:
        return depsat("resolve", *args, "--index-url", simple.as_uri(), "--no-config",
                      "--cache-dir", str(tmp_path / "cache"), "--format", "requirements")

    assert resolve("alpha").stdout.strip() == "alpha==4.0"
    assert resolve("alpha", "--exclude-newer", "2024-06-01").stdout.strip() == "alpha==1.0"
    assert resolve("alpha", "--exclude-newer", "2024-09-01T10:00:01Z").stdout.strip() == (
        "alpha==2.0")
    assert resolve("alpha", "--exclude-newer", "7 days").stdout.strip() == "alpha==2.0"
    assert resolve("alpha", "--exclude-newer", "1 hour").stdout.strip() == "alpha==3.0"
    refused = resolve("alpha==4.0", "--exclude-newer", "1 hour")
    assert refused.returncode == 1
    assert "alpha 4.0 has a file its index does not date (PEP 700 upload-time)" in (
        " ".join(refused.stderr.split())), refused.stderr
    too_new = resolve("alpha==2.0", "--exclude-newer", "2024-06-01")
    assert "alpha 2.0 was uploaded after 2024-06-01 00:00 UTC (--exclude-newer)" in (
        " ".join(too_new.stderr.split())), too_new.stderr
    bad = resolve("alpha", "--exclude-newer", "last tuesday")
    assert bad.returncode == 2 and "--exclude-newer" in bad.stderr


def test_an_override_replaces_every_requirement_on_its_package(tmp_path: Path) -> None:
    """uv's --override: app 1.0 caps lib<2 wrongly; the override makes every requirement
    on lib ask for lib>=2 instead, yours too, so lib 2.0 is taken; without it, no plan."""
    simple = build_index({"app": {"1.0": {"requires": ["lib<2"]}},
                          "tool": {"1.0": {"requires": ["lib[fast]<2 ; python_version >= '3'"]}},
                          "lib": {"1.0": {}, "2.0": {}}}, tmp_path / "idx")
    overrides = tmp_path / "overrides.txt"
    overrides.write_text("lib>=2\n")

    def resolve(*args: str) -> subprocess.CompletedProcess[str]:
        return depsat("resolve", *args, "--index-url", simple.as_uri(), "--no-config",
                      "--cache-dir", str(tmp_path / "cache"), "--format", "requirements")

    assert resolve("app", "lib==2.0").returncode == 1
    run = resolve("app", "tool", "lib==2.0", "--override", str(overrides))
    assert run.returncode == 0, run.stderr
    assert [line for line in run.stdout.splitlines() if "==" in line] == [
        "app==1.0", "lib==2.0", "tool==1.0"]
    # Holding nowhere here, it drops every requirement on lib, as uv does (lib is not
    # installed at all).
    overrides.write_text("lib>=2 ; python_version < '3'\n")
    dropped = resolve("app", "--override", str(overrides))
    assert dropped.returncode == 0, dropped.stderr
    assert [line for line in dropped.stdout.splitlines() if "==" in line] == ["app==1.0"]


OVERRIDDEN = {
    "app": {"1.0": {"requires": ["lib[y] ; python_version < '3'"], "sdist": False}},
    "tool": {"1.0": {"requires": ["lib[y]"], "sdist": False}},
    "lib": {v: {"sdist": False, "extras": {"x": ["xdep"], "y": ["ydep"]}}
            for v in ("1.0", "2.0")},
    "xdep": {"1.0": {"sdist": False}},
    "ydep": {"1.0": {"sdist": False}},
}


@pytest.mark.parametrize(("roots", "override"), [
    ("app", "lib[x]==1.0"),  # the override's extras; the requirement's marker dropped
    ("tool", "lib==1.0"),  # the requirement's extras dropped
    ("tool", "lib==1.0 ; sys_platform == 'win32'"),  # holds nowhere: lib is not required
    ("app\ntool", "lib[x]>=1 ; sys_platform == 'linux'\nlib<2 ; sys_platform != 'linux'"),
    ("tool", "lib[x]>=1\nlib<2"),  # both hold: both apply
])
def test_overrides_agree_with_uv(roots: str, override: str, tmp_path: Path) -> None:
    """``--override`` as uv 0.13.9 applies it, over one real local index: the same pins as
    ``uv pip compile --override``."""
    uv = _uv()
    build_index(OVERRIDDEN, tmp_path / "index")
    index = (tmp_path / "index" / "simple").as_uri()
    (tmp_path / "requirements.in").write_text(roots + "\n")
    (tmp_path / "overrides.txt").write_text(override + "\n")
    common = [str(tmp_path / "requirements.in"), "--index-url", index, "--override",
              str(tmp_path / "overrides.txt"), "--python-version", "3.12",
              "--python-platform", "x86_64-unknown-linux-gnu"]
    ours = depsat("resolve", "-r", *common, "--no-config", "--cache-dir",
                  str(tmp_path / "cache"), "--format", "requirements", "--strip-extras")
    theirs = subprocess.run(
        [uv, "pip", "compile", *common, "--no-header", "--no-annotate", "--cache-dir",
         str(tmp_path / "uv-cache"), "--python", sys.executable, "--offline"],
        capture_output=True, text=True, timeout=120, check=False, env=clean_env())
    assert ours.returncode == 0 and theirs.returncode == 0, ours.stderr + theirs.stderr

    def pins(text: str) -> list[str]:
        return sorted(line for line in text.splitlines() if "==" in line)

    assert pins(ours.stdout) == pins(theirs.stdout), (ours.stdout, theirs.stdout)


@pytest.mark.parametrize(("constraint", "locked"), [
    ("lib<2 ; sys_platform == 'win32'",
     ["lib==1.0 ; sys_platform == 'win32'", "lib==2.0 ; sys_platform != 'win32'"]),
    ("lib<2 ; sys_platform == 'linux'",
     ["lib==1.0 ; sys_platform == 'linux'", "lib==2.0 ; sys_platform != 'linux'"]),
    ("lib<2 ; python_version < '3.12'", ["lib==2.0"]),  # (3.12 on: it never applies)
])
def test_a_constraints_marker_decides_where_it_applies_as_uv_reads_it(
        constraint: str, locked: list[str], tmp_path: Path) -> None:
    """A constraint applies only where its marker holds (Linux, Python 3.12 here): the same
    pins as ``uv pip compile -c``, and in a universal lock only where it holds."""
    uv = _uv()
    build_index(OVERRIDDEN, tmp_path / "index")
    index = (tmp_path / "index" / "simple").as_uri()
    (tmp_path / "requirements.in").write_text("tool\n")
    (tmp_path / "constraints.txt").write_text(constraint + "\n")
    common = [str(tmp_path / "requirements.in"), "--index-url", index, "-c",
              str(tmp_path / "constraints.txt"), "--python-version", "3.12"]
    platform = ["--python-platform", "x86_64-unknown-linux-gnu"]
    ours = depsat("resolve", "-r", *common, *platform, "--no-config", "--cache-dir",
                  str(tmp_path / "cache"), "--format", "requirements", "--strip-extras")
    theirs = subprocess.run(
        [uv, "pip", "compile", *common, *platform, "--no-header", "--no-annotate",
         "--cache-dir", str(tmp_path / "uv-cache"), "--python", sys.executable, "--offline"],
        capture_output=True, text=True, timeout=120, check=False, env=clean_env())
    assert ours.returncode == 0 and theirs.returncode == 0, ours.stderr + theirs.stderr
    pins = sorted(line for line in ours.stdout.splitlines() if "==" in line)
    assert pins == sorted(line for line in theirs.stdout.splitlines() if "==" in line)
    assert ("lib==1.0" in pins) is ("linux" in constraint)
    universal = depsat("resolve", "--universal", "-r", *common, "--no-config", "--cache-dir",
                       str(tmp_path / "cache"), "--format", "requirements", "--no-annotate",
                       "--strip-extras")
    assert [line for line in universal.stdout.splitlines() if line.startswith("lib")] == locked


def test_requirements_may_come_among_the_options() -> None:
    """As pip and uv take them: ``depsat resolve webapp --format requirements templating<3``;
    an unknown option is still refused."""
    run = depsat("resolve", "--universe", str(EXAMPLE), "webapp", "--format", "requirements",
                 "templating<3")
    assert run.returncode == 0, run.stderr
    assert "templating==2.2.0" in run.stdout.splitlines()
    bad = depsat("resolve", "--universe", str(EXAMPLE), "webapp", "--bogus", "x")
    assert bad.returncode == 2 and "unrecognized arguments: --bogus x" in bad.stderr


LOWER_BOUNDS = {
    "app": {"1.0": {"requires": ["lib>=1.0"], "sdist": False},
            "1.1": {"requires": ["lib>=1.1"], "sdist": False},
            "2.0": {"requires": ["lib>=2.0", "helper"], "sdist": False}},
    "lib": {v: {"sdist": False} for v in ("1.0", "1.1", "2.0", "2.1")},
    "helper": {"1.0": {"sdist": False}, "1.5": {"sdist": False}},
    # an extra asking for the package's own others (dask[complete]): no self-requirer
    "kit": {"1.0": {"sdist": False, "extras": {"all": ["kit[fast]"], "fast": ["helper"]}}},
}


def _pins_of_both(spec: dict[str, Any], roots: str, tmp_path: Path,
                  *options: str) -> list[str]:
    """Build `spec` as a local index, compile `roots` with depsat and with
    ``uv pip compile`` (the same `options`, Python 3.12), and return the pins, which must be
    the same."""
    uv = _uv()
    build_index(spec, tmp_path / "index")
    index = (tmp_path / "index" / "simple").as_uri()
    (tmp_path / "requirements.in").write_text(roots)
    options = ("--index-url", index, "--python-version", "3.12", *options)
    ours = depsat("resolve", "-r", str(tmp_path / "requirements.in"), *options, "--no-config",
                  "--cache-dir", str(tmp_path / "cache"), "--format", "requirements")
    theirs = subprocess.run(
        [uv, "pip", "compile", str(tmp_path / "requirements.in"), *options, "--no-header",
         "--no-annotate", "--cache-dir", str(tmp_path / "uv-cache"), "--python",
         sys.executable, "--offline"],
        capture_output=True, text=True, timeout=120, check=False, env=clean_env())
    assert ours.returncode == 0 and theirs.returncode == 0, ours.stderr + theirs.stderr

    def pins(text: str) -> list[str]:
        return sorted(line for line in text.splitlines() if "==" in line)

    assert pins(ours.stdout) == pins(theirs.stdout), (ours.stdout, theirs.stdout)
    return pins(ours.stdout)


@pytest.mark.parametrize("resolution", ["highest", "lowest", "lowest-direct"])
def test_resolution_strategies_agree_with_uv(resolution: str, tmp_path: Path) -> None:
    """``--resolution`` as uv takes it, over one real local index: the same pins as
    ``uv pip compile --resolution`` (on an index where uv's first choices are optimal)."""
    pins = _pins_of_both(LOWER_BOUNDS, "app>=1.1\n", tmp_path, "--resolution", resolution)
    assert len(pins) == (3 if resolution == "highest" else 2)


PRERELEASES = {
    "app": {"1.0": {"requires": ["dep>=1"], "sdist": False},
            "2.0": {"requires": ["dep==2.0b1"], "sdist": False}},
    "dep": {"1.0": {"requires": [], "sdist": False},
            "2.0b1": {"requires": ["tool>0.1"], "sdist": False}},
    "tool": {v: {"sdist": False} for v in ("0.1", "1.0a1")},
    "other": {v: {"sdist": False} for v in ("1.0", "2.0rc1")},
}


@pytest.mark.parametrize(("prerelease", "resolution", "roots"), [
    ("if-necessary-or-explicit", "highest", "app\nother>=1\n"),
    ("if-necessary", "highest", "app\nother>=1\n"),
    ("allow", "highest", "app\nother>=1\n"),
    ("if-necessary-or-explicit", "lowest", "app>=2\nother\n"),
])
def test_prereleases_are_taken_where_no_final_release_will_do_as_uv_takes_them(
        prerelease: str, resolution: str, roots: str, tmp_path: Path) -> None:
    """A release's ``dep==2.0b1`` and a ``tool>0.1`` that only a prerelease meets take the
    prerelease; ``other>=1`` keeps the final 1.0 over 2.0rc1 (unless prereleases are
    allowed): the same pins as ``uv pip compile`` (0.12+), over one real local index."""
    options = ("--prerelease", prerelease, "--resolution", resolution)
    assert "tool==1.0a1" in _pins_of_both(PRERELEASES, roots, tmp_path, *options)
    if prerelease != "allow" and resolution == "highest":
        why = depsat("why", "other", "-r", str(tmp_path / "requirements.in"), *options,
                     "--index-url", (tmp_path / "index" / "simple").as_uri(),
                     "--python-version", "3.12", "--no-config", "--cache-dir",
                     str(tmp_path / "cache"))
        assert why.returncode == 0, why.stderr
        assert "It is the newest final release of other." in why.stdout, why.stdout
        assert "other 2.0rc1 is a prerelease, taken only where no final release will do" \
            in why.stdout, why.stdout


PINNED_BELOW = {
    "app": {"1.0": {"requires": ["torch"], "sdist": False}},
    "torch": {"1.0": {"requires": ["cuda-a", "cuda-b", "cuda-c"], "sdist": False},
              "2.0": {"requires": ["cuda-a==1.0", "cuda-b==1.0", "cuda-c==1.0"],
                      "sdist": False}},
    **{name: {v: {"sdist": False} for v in ("1.0", "2.0", "3.0")}
       for name in ("cuda-a", "cuda-b", "cuda-c")},
}


def test_what_your_requirements_require_is_newest_before_the_rest_as_uv_takes_it(
        tmp_path: Path) -> None:
    """torch 2.0 pins three CUDA packages two releases back; torch 1.0 takes their newest.
    Summed, torch 1.0 was cheaper (one step against six); but torch is what `app` requires
    and the CUDA packages what torch requires, and the plan takes the newest torch, as
    ``uv pip compile`` does (the newest-required tier), over one real local index."""
    assert "torch==2.0" in _pins_of_both(PINNED_BELOW, "app\n", tmp_path)


def test_strip_extras_pins_names_alone() -> None:
    """``--strip-extras`` (uv pip compile's default): ``webapp==2.0.0`` instead of
    ``webapp[postgres]==2.0.0``; the extra's dependencies stay pinned."""
    kept = depsat("resolve", "--universe", str(EXAMPLE), "--format", "requirements")
    stripped = depsat("resolve", "--universe", str(EXAMPLE), "--format", "requirements",
                      "--strip-extras")
    assert kept.returncode == 0 and stripped.returncode == 0, kept.stderr + stripped.stderr

    def pins(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith(" ")]

    assert "webapp[postgres]==2.0.0" in pins(kept.stdout)
    assert pins(stripped.stdout) == [re.sub(r"\[[^]]*\]", "", line)
                                     for line in pins(kept.stdout)]
    assert "    # via webapp" in stripped.stdout.splitlines()
    assert "[" not in stripped.stdout
    assert "psycopg-c==3.2.1" in pins(stripped.stdout)


def test_no_annotate_and_no_header(tmp_path: Path) -> None:
    """uv's ``--no-annotate`` (no ``# via`` lines) and ``--no-header`` (an ``-o`` file
    without the command that wrote it): the pins stay the same."""
    lock = tmp_path / "requirements.txt"
    plain = depsat("resolve", "--universe", str(EXAMPLE), "--format", "requirements",
                   "--no-memo")
    bare = depsat("resolve", "--universe", str(EXAMPLE), "--no-annotate", "--no-header",
                  "-o", str(lock), "--no-memo")
    assert plain.returncode == 0 and bare.returncode == 0, plain.stderr + bare.stderr
    pins = [line for line in plain.stdout.splitlines() if not line.startswith(" ")]
    assert "    # via webapp" in plain.stdout.splitlines()
    assert bare.stdout.splitlines() == pins
    assert lock.read_text().splitlines() == pins  # (no header either)
    omitted = depsat("resolve", "--universe", str(EXAMPLE), "--no-annotate", "--format",
                     "requirements", "--no-emit-package", "Typing_Extensions", "--no-memo")
    assert omitted.stdout.splitlines() == [p for p in pins if "typing-extensions" not in p]
    assert len(omitted.stdout.splitlines()) == len(pins) - 1


def test_no_deps_agrees_with_uv_and_the_verifier(tmp_path: Path) -> None:
    """``--no-deps``: what you name alone, as ``uv pip compile --no-deps``; the verifier
    asks nothing of the releases' dependencies then."""
    from depsat.api import request_from_strings, resolve
    from depsat.sources.index import IndexSource
    from depsat.target import Target
    from depsat.verify import verify

    build_index(LOWER_BOUNDS, tmp_path / "index")
    index = (tmp_path / "index" / "simple").as_uri()
    (tmp_path / "requirements.in").write_text("app>=1.1\n")
    ours = depsat("resolve", "-r", str(tmp_path / "requirements.in"), "--index-url", index,
                  "--no-deps", "--python-version", "3.12", "--no-config", "--cache-dir",
                  str(tmp_path / "cache"), "--format", "requirements")
    assert ours.returncode == 0, ours.stderr
    assert [line for line in ours.stdout.splitlines() if "==" in line] == ["app==2.0"]
    if shutil.which("uv", path=str(Path(sys.executable).parent)) is not None:
        theirs = subprocess.run(
            [_uv(), "pip", "compile", str(tmp_path / "requirements.in"), "--index-url", index,
             "--no-deps", "--python-version", "3.12", "--no-header", "--no-annotate",
             "--cache-dir", str(tmp_path / "uv-cache"), "--python", sys.executable,
             "--offline"], capture_output=True, text=True, timeout=120, check=False,
            env=clean_env())
        assert theirs.stdout.split() == ["app==2.0"], theirs.stderr
    import attrs

    source = IndexSource(index, "index")
    try:
        request = attrs.evolve(request_from_strings(["app>=1.1"]), no_deps=True)
        result = resolve(request, [source], Target.for_python("3.12"))
    finally:
        source.close()
    assert result.plan is not None and result.plan.versions() == {"app": "2.0"}
    assert verify(result.universe, result.plan.chosen, {}) == []


@pytest.mark.parametrize("where", [".", "app"])
def test_a_projects_path_sources_are_written_as_uv_writes_them(tmp_path: Path,
                                                                where: str) -> None:
    """``[tool.uv.sources]`` paths are written as the table gives them (``-e ../libs/one``,
    ``./libs/two``), wherever the command runs, as ``uv pip compile pyproject.toml`` does:
    the same output, byte for byte."""
    uv = _uv()
    build_index(LOWER_BOUNDS, tmp_path / "index")
    index = (tmp_path / "index" / "simple").as_uri()
    for name, dependencies in (("one", '["helper"]'), ("two", "[]"), ("three", "[]")):
        (tmp_path / "libs" / name).mkdir(parents=True)
        (tmp_path / "libs" / name / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\nversion = "1.0"\ndependencies = {dependencies}\n'
            '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n')
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1"\n'
        'dependencies = ["one", "two", "three", "lib"]\n'
        '[tool.uv.sources]\n'
        'one = { path = "../libs/one", editable = true }\n'
        'two = { path = "./../libs/two" }\n'
        f'three = {{ path = "{(tmp_path / "libs" / "three").as_posix()}" }}\n')
    cwd = tmp_path / where
    pyproject = os.path.relpath(tmp_path / "app" / "pyproject.toml", cwd)
    ours = subprocess.run(
        [sys.executable, "-m", "depsat", "resolve", "-r", pyproject, "--index-url", index,
         "--python-version", "3.12", "--no-config", "--cache-dir", "cache",
         "--format", "requirements"],
        capture_output=True, text=True, timeout=120, check=False, cwd=cwd)
    theirs = subprocess.run(
        [uv, "pip", "compile", pyproject, "--index-url", index, "--python-version", "3.12",
         "--no-header", "--cache-dir", "uv-cache", "--python", sys.executable, "--offline"],
        capture_output=True, text=True, timeout=120, check=False, env=clean_env(), cwd=cwd)
    assert ours.returncode == 0 and theirs.returncode == 0, ours.stderr + theirs.stderr
    assert ours.stdout == theirs.stdout
    assert ours.stdout.startswith("-e ../libs/one\n")
    assert "\n./../libs/two\n" in ours.stdout


def test_the_indexes_are_emitted_as_uv_emits_them(tmp_path: Path) -> None:
    """``--emit-index-url`` and ``--emit-find-links``: the option lines above the pins, as
    ``uv pip compile`` writes them (the default index first, a file's index too), without
    the credentials of a URL."""
    uv = _uv()
    build_index(LOWER_BOUNDS, tmp_path / "index")
    build_index({"extra": {"1.0": {"sdist": False}}}, tmp_path / "other")
    index, other = ((tmp_path / name / "simple").as_uri() for name in ("index", "other"))
    (tmp_path / "requirements.in").write_text(f"--extra-index-url {other}\napp\nextra\n")
    options = ["--index-url", index, "--find-links", str(tmp_path / "other" / "files"),
               "--emit-index-url", "--emit-find-links"]
    ours = subprocess.run(
        [sys.executable, "-m", "depsat", "resolve", "-r", "requirements.in",
         "--python-version", "3.12", "--no-config", "--cache-dir", "cache", "--format",
         "requirements", "--strip-extras", *options],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    theirs = subprocess.run(
        [uv, "pip", "compile", "requirements.in", "--python-version", "3.12", "--no-header",
         "--cache-dir", "uv-cache", "--python", sys.executable, "--offline", *options],
        capture_output=True, text=True, timeout=120, check=False, env=clean_env(),
        cwd=tmp_path)
    assert ours.returncode == 0 and theirs.returncode == 0, ours.stderr + theirs.stderr
    assert ours.stdout == theirs.stdout
    assert ours.stdout.startswith(f"--index-url {index}\n--extra-index-url {other}\n"
                                  f"--find-links {tmp_path / 'other' / 'files'}\n\n")
    # One URL as a file's extra index and as the default: one index (uv takes it too).
    (tmp_path / "again.in").write_text(f"--extra-index-url {index}\napp\n")
    again = depsat("resolve", "-r", str(tmp_path / "again.in"), "--index-url", index,
                   "--python-version", "3.12", "--no-config", "--cache-dir",
                   str(tmp_path / "cache"), "--format", "requirements", "--emit-index-url")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"--index-url {index}\n\napp==2.0\n"), again.stdout
    # An index reached with the credentials in its URL is written without them.
    with serve(tmp_path / "index", auth=("alice", "s3cret")) as url:
        secret = url.index_url.replace("http://", "http://alice:s3cret@")
        run = depsat("resolve", "app", "--index-url", secret, "--python-version", "3.12",
                     "--no-config", "--cache-dir", str(tmp_path / "cache2"), "--format",
                     "requirements", "--emit-index-url")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"--index-url {url.index_url}\n\n"), run.stdout
    assert "s3cret" not in run.stdout


@pytest.mark.parametrize("style", [[], ["--annotation-style", "line"],
                                   ["--annotation-style", "line", "--generate-hashes"]])
def test_the_requirements_output_is_uvs_line_for_line(tmp_path: Path,
                                                      style: list[str]) -> None:
    """Pins and ``# via`` lines (where you asked for each, the constraints and overrides
    that bound it, and every package of the plan that requires it) exactly as ``uv pip
    compile --no-header`` writes them, in either ``--annotation-style``, with hashes too."""
    uv = _uv()
    build_index(LOWER_BOUNDS, tmp_path / "index")
    index = (tmp_path / "index" / "simple").as_uri()
    (tmp_path / "zzz").mkdir()
    (tmp_path / "zzz" / "pyproject.toml").write_text(
        '[project]\nname = "zzz"\nversion = "0.1"\ndependencies = ["helper"]\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n')
    (tmp_path / "requirements.in").write_text("app>=1.1\nlib\n-e ./zzz\nkit[all]\n")
    (tmp_path / "constraints.txt").write_text("lib<3\n")
    (tmp_path / "overrides.txt").write_text("helper>=1\n")
    style = [*style, "-c", "constraints.txt", "--override", "overrides.txt"]
    ours = subprocess.run(
        [sys.executable, "-m", "depsat", "resolve", "-r", "requirements.in", "--index-url",
         index, "--python-version", "3.12", "--no-config", "--cache-dir", "cache",
         "--format", "requirements", "--strip-extras", *style],  # (uv's default)
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    theirs = subprocess.run(
        [uv, "pip", "compile", "requirements.in", "--index-url", index, "--python-version",
         "3.12", "--no-header", "--cache-dir", "uv-cache", "--python", sys.executable,
         "--offline", *style],
        capture_output=True, text=True, timeout=120, check=False, env=clean_env(),
        cwd=tmp_path)
    assert ours.returncode == 0 and theirs.returncode == 0, ours.stderr + theirs.stderr
    assert ours.stdout == theirs.stdout
    if "--annotation-style" not in style:
        assert ("    # via\n    #   -c constraints.txt\n    #   -r requirements.in\n"
                "    #   app\n") in ours.stdout
        assert "helper==1.5\n    # via\n    #   --override overrides.txt\n" in ours.stdout
        assert ours.stdout.startswith("-e ./zzz\n")  # (editables first, as written)
    elif "--generate-hashes" in style:
        assert "    # via app, -c constraints.txt, -r requirements.in\n" in ours.stdout
    else:  # (beside the pin, padded to 24 columns; the requirers first)
        assert ("\nlib==2.1                  # via app, -c constraints.txt, "
                "-r requirements.in\n") in ours.stdout
        assert ours.stdout.startswith("-e ./zzz                  # via -r requirements.in\n")
