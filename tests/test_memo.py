"""The resolution memo (`depsat.cli.memo`): `depsat resolve` run again answers from the cache
only while a resolution would read exactly what the remembered one read. Every run here is
the real command in a subprocess against a real index server on 127.0.0.1.

How a test tells a remembered answer from a resolution: the metadata files (which the memo
does not check: their content is fixed by the hash their page publishes) are deleted from
the cache and the server is stopped. A resolution then cannot read them; the memo answers."""

from __future__ import annotations

import contextlib
import email.utils
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import clean_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from indexbuild import build_index, serve

from depsat.sources.cache_store import CACHE_DATABASE, CACHE_FORMAT
from depsat.sources.http import _fresh, fresh_until
from depsat.sources.stamps import RACY_SECONDS

SPEC: dict[str, Any] = {
    "app": {"1.0": {"requires": ["lib>=1"]}},
    "lib": {"1.0": {}, "2.0": {}},
    "tool": {"1.0": {}},
}


@pytest.fixture()
def world(tmp_path: Path) -> dict[str, Path]:
    """An index (built, served by each test), a cache, and a working directory with a
    requirements file and no configuration file."""
    build_index(SPEC, tmp_path / "index")
    work = tmp_path / "work"
    work.mkdir()
    (work / "requirements.in").write_text("app\n")
    return {"index": tmp_path / "index", "cache": tmp_path / "cache", "work": work}


def depsat(world: dict[str, Path], url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`depsat resolve -r requirements.in` on the index at `url` (or with `args` only)."""
    where = ["-r", "requirements.in", "--index-url", f"{url}simple/"] if url else []
    command = [sys.executable, "-m", "depsat", "resolve", *where, "--cache-dir",
               str(world["cache"]), "--python-version", "3.12", "--format", "requirements",
               *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env=clean_env(), cwd=world["work"], check=False)


_RESOLVED_SCRIPT = ("import sys; from depsat.cli import main; code = main(sys.argv[1:]); "
                    "print('resolved' if 'depsat.api' in sys.modules else 'remembered'); "
                    "sys.exit(code)")


def how_answered(world: dict[str, Path], *args: str,
                 env: dict[str, str] | None = None) -> tuple[str, str]:
    """Run ``depsat resolve ARGS`` in a fresh interpreter (with `env` added to its
    environment); return what it printed and whether it resolved (loaded the resolver) or
    answered from the memo."""
    command = [sys.executable, "-c", _RESOLVED_SCRIPT, "resolve", "--cache-dir",
               str(world["cache"]), "--python-version", "3.12", "--format", "requirements",
               *args]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120,
                         env={**clean_env(), **(env or {})}, cwd=world["work"], check=False)
    assert run.returncode == 0, run.stderr
    printed, _, how = run.stdout.rstrip("\n").rpartition("\n")
    return printed, how


def database(world: dict[str, Path]) -> sqlite3.Connection:
    return sqlite3.connect(world["cache"] / CACHE_FORMAT / CACHE_DATABASE)


def forget_metadata(world: dict[str, Path]) -> None:
    """Delete the files named by their hash from the cache: a resolution must fetch them."""
    with database(world) as db:
        db.execute("DELETE FROM files")


def remembered(world: dict[str, Path]) -> int:
    with database(world) as db:
        return int(db.execute("SELECT count(*) FROM resolutions").fetchone()[0])


def outcome(run: subprocess.CompletedProcess[str]) -> tuple[int, str, str]:
    return run.returncode, run.stdout, run.stderr


def test_the_same_command_answers_from_the_memo(world: dict[str, Path]) -> None:
    with serve(world["index"], max_age=600) as url:
        first = depsat(world, url)
        assert first.returncode == 0, first.stderr
        assert first.stdout.startswith("app==1.0\n    # via -r requirements.in\nlib==2.0\n")
        assert remembered(world) == 1
        url.requests.clear()
        assert outcome(depsat(world, url)) == outcome(first)
        assert url.requests == []
    forget_metadata(world)  # and the server is gone
    assert outcome(depsat(world, url)) == outcome(first)
    resolved = depsat(world, url, "--no-memo")  # a resolution needs the metadata
    assert resolved.returncode != 0 and resolved.stdout != first.stdout


def test_an_output_file_is_remembered_as_the_run_left_it(world: dict[str, Path]) -> None:
    """With ``-o FILE``: the next identical run answers from the memo while FILE is as the
    run wrote it (it already holds the answer; its pins are that answer's); a FILE changed
    since is an input changed, so the command resolves again, and keeps its pins."""
    out = world["work"] / "requirements.txt"
    with serve(world["index"], max_age=600) as url:
        args = ("-r", "requirements.in", "--index-url", f"{url}simple/", "-o", str(out))
        printed, how = how_answered(world, *args)
        assert how == "resolved" and "lib==2.0" in printed
        written = out.read_text()
        assert how_answered(world, *args) == (printed, "remembered")
        assert out.read_text() == written
        out.write_text(written.replace("lib==2.0", "lib==1.0"))  # pinned by hand
        printed, how = how_answered(world, *args)
        assert how == "resolved" and "lib==1.0" in printed  # (the pin is kept)
        assert how_answered(world, *args) == (printed, "remembered")


def test_changed_input_files_are_resolved_again(world: dict[str, Path]) -> None:
    """Requirements files (nested ones too) and the configuration file, present or not:
    after each change the answer is what a resolution gives."""
    work = world["work"]
    with serve(world["index"], max_age=600) as url:
        steps: list[tuple[str, str, str]] = [
            ("requirements.in", "app\ntool\n", "tool==1.0"),
            ("requirements.in", "app\n-r more.in\n", "lib==2.0"),
            ("more.in", "lib<2\n", "lib==1.0"),
            ("more.in", "lib\n", "lib==2.0"),
        ]
        (work / "more.in").write_text("lib\n")
        depsat(world, url)
        for name, text, expected in steps:
            (work / name).write_text(text)
            run = depsat(world, url)
            assert run.returncode == 0, run.stderr
            assert expected in run.stdout
            assert outcome(run) == outcome(depsat(world, url, "--no-memo"))
        (work / "depsat.toml").write_text("index-strategy = 'no-such-strategy'\n")
        broken = depsat(world, url)
        assert broken.returncode == 2 and "depsat.toml" in broken.stderr
        (work / "depsat.toml").unlink()
        assert depsat(world, url).returncode == 0


def test_a_new_release_is_seen_once_the_page_expires(world: dict[str, Path]) -> None:
    with serve(world["index"], max_age=4) as url:
        first = depsat(world, url)
        assert "lib==2.0" in first.stdout and remembered(world) == 1
        build_index({**SPEC, "lib": {"1.0": {}, "2.0": {}, "3.0": {}}}, world["index"])
        url.requests.clear()
        assert outcome(depsat(world, url)) == outcome(first)  # the page is still fresh
        assert url.requests == []
        time.sleep(4.5)
        later = depsat(world, url)
        assert "lib==3.0" in later.stdout and url.requests


def test_a_page_gone_from_the_cache_is_read_again(world: dict[str, Path]) -> None:
    """The memo holds only while the cache holds the very page entries the run read."""
    with serve(world["index"], max_age=600) as url:
        first = depsat(world, url)
        with database(world) as db:
            db.execute("DELETE FROM responses")
        url.requests.clear()
        assert outcome(depsat(world, url)) == outcome(first)
        assert sorted(path for _m, path, _a in url.requests) == ["/simple/app/", "/simple/lib/"]


def _remembered_once_stale(world: dict[str, Path], url: Any, args: tuple[str, ...]) -> str:
    """Resolve `args` (max-age 3 pages), wait until the pages are stale, and check that the
    memo answers after asking the server for both pages again (304s: nothing sent again).
    What the command printed."""
    printed, how = how_answered(world, *args)
    assert how == "resolved" and "lib==2.0" in printed
    time.sleep(3.5)
    url.requests.clear()
    url.sent.clear()
    assert how_answered(world, *args) == (printed, "remembered")
    assert sorted(p for _m, p, _a in url.requests) == ["/simple/app/", "/simple/lib/"]
    assert url.sent == []
    return printed


def test_stale_pages_are_asked_again_and_the_memo_answers_if_unchanged(
        world: dict[str, Path]) -> None:
    """Once its pages are stale the memo asks their server again, as a resolution would
    first: 304s (the page unchanged) renew them and the memo answers; a page that changed
    resolves again."""
    with serve(world["index"], max_age=3) as url:
        args = ("-r", "requirements.in", "--index-url", f"{url}simple/")
        printed = _remembered_once_stale(world, url, args)
        url.requests.clear()
        assert how_answered(world, *args) == (printed, "remembered")  # fresh again
        assert url.requests == []
        build_index({**SPEC, "lib": {"1.0": {}, "2.0": {}, "3.0": {}}}, world["index"])
        time.sleep(3.5)
        printed, how = how_answered(world, *args)
        assert how == "resolved" and "lib==3.0" in printed


@pytest.mark.parametrize("where", ["command line", "configuration"])
def test_stale_pages_behind_credentials_in_a_url_are_asked_with_them(
        world: dict[str, Path], where: str) -> None:
    """An index that wants credentials, given in its URL: the memo keeps no credentials, so
    asking its stale pages again takes them from where the run took them (the command line,
    or the configuration file), and the memo answers; without them the server would refuse
    (401) and every run would resolve again."""
    with serve(world["index"], max_age=3, auth=("alice", "s3cret")) as url:
        index = f"{url}simple/".replace("http://", "http://alice:s3cret@")
        if where == "configuration":
            (world["work"] / "depsat.toml").write_text(
                f'[[index]]\nname = "private"\nurl = "{index}"\ndefault = true\n')
            args: tuple[str, ...] = ("-r", "requirements.in")
        else:
            args = ("-r", "requirements.in", "--index-url", index, "--no-config")
        _remembered_once_stale(world, url, args)  # (the 304s answered the credentials)


def test_pages_fresh_by_their_age_are_remembered(world: dict[str, Path]) -> None:
    """No Cache-Control: a page is fresh for a tenth of the time since it was last
    modified. Just built, it is stale at once, so the memo asks the server first (304s);
    built a day ago, it is fresh for hours and nothing is asked."""
    with serve(world["index"]) as url:
        printed, how = how_answered(world, "app", "--index-url", f"{url}simple/")
        assert how == "resolved" and remembered(world) == 1
        url.requests.clear()
        url.sent.clear()
        assert how_answered(world, "app", "--index-url", f"{url}simple/") == (
            printed, "remembered")
        assert url.requests and url.sent == []
        day_ago = time.time() - 86400
        for path in world["index"].rglob("*"):
            os.utime(path, (day_ago, day_ago))
        how_answered(world, "app", "--index-url", f"{url}simple/")  # renews Last-Modified
        url.requests.clear()
        assert how_answered(world, "app", "--index-url", f"{url}simple/") == (
            printed, "remembered")
        assert url.requests == []


def test_pages_without_freshness_are_asked_again_every_time(world: dict[str, Path]) -> None:
    """A page with only an ``ETag`` (no ``max-age``, no ``Last-Modified``) is never fresh:
    a resolution asks its server every time, and so does the memo, first."""
    with serve(world["index"], last_modified=False) as url:
        args = ("app", "--index-url", f"{url}simple/")
        printed, how = how_answered(world, *args)
        assert how == "resolved" and remembered(world) == 1
        for _ in range(2):
            url.requests.clear()
            url.sent.clear()
            assert how_answered(world, *args) == (printed, "remembered")
            assert sorted(p for _m, p, _a in url.requests) == ["/simple/app/", "/simple/lib/"]
            assert url.sent == []  # 304s


@pytest.mark.parametrize("args", [("--format", "json"), ("--no-memo",), ("--no-cache",)])
def test_runs_that_are_not_remembered(world: dict[str, Path], args: tuple[str, ...]) -> None:
    with serve(world["index"], max_age=600) as url:
        assert depsat(world, url, *args).returncode == 0
    assert not (world["cache"] / CACHE_FORMAT / CACHE_DATABASE).exists() or (
        remembered(world) == 0)


def test_a_page_the_index_does_not_have_is_not_remembered(world: dict[str, Path]) -> None:
    """A 404 is asked again by the next resolution (the project may appear)."""
    (world["work"] / "requirements.in").write_text("app\nmissing\n")
    with serve(world["index"], max_age=600) as url:
        assert depsat(world, url).returncode == 1
        assert remembered(world) == 0


def test_a_failure_is_remembered_with_its_explanation(world: dict[str, Path]) -> None:
    (world["work"] / "requirements.in").write_text("app\nlib<1\n")
    with serve(world["index"], max_age=600) as url:
        first = depsat(world, url)
        assert first.returncode == 1 and "no solution" in first.stderr
    forget_metadata(world)
    assert outcome(depsat(world, url)) == outcome(first)


def test_a_damaged_memo_is_resolved_past(world: dict[str, Path]) -> None:
    with serve(world["index"], max_age=600) as url:
        first = depsat(world, url)
        with database(world) as db:
            db.execute("UPDATE resolutions SET body = x'7b6e6f'")  # '{no'
        assert outcome(depsat(world, url)) == outcome(first)
        with database(world) as db:
            body = db.execute("SELECT body FROM resolutions").fetchone()[0]
        assert json.loads(body)["stdout"] == first.stdout


def test_a_remembered_answer_loads_no_resolver(world: dict[str, Path]) -> None:
    """The memo is looked up before the command line is parsed: a remembered answer loads
    neither packaging nor PySAT nor the resolver."""
    script = ("import sys; from depsat.cli import main; code = main(sys.argv[1:]); "
              "print(sorted(m for m in ('packaging', 'pysat', 'depsat.api', 'attrs') "
              "if m in sys.modules)); sys.exit(code)")
    with serve(world["index"], max_age=600) as url:
        args = ["resolve", "-r", "requirements.in", "--index-url", f"{url}simple/",
                "--cache-dir", str(world["cache"]), "--python-version", "3.12"]
        runs = [subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                               text=True, timeout=120, env=clean_env(), cwd=world["work"],
                               check=False) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    assert "'packaging'" in runs[0].stdout
    assert runs[1].stdout.endswith("[]\n")


def test_a_local_index_is_remembered_until_it_changes(world: dict[str, Path]) -> None:
    """A file:// index: every page and metadata file read is stamped, and a release
    published into it is seen by the next run."""
    args = ("-r", "requirements.in", "--index-url", (world["index"] / "simple").as_uri())
    printed, how = how_answered(world, *args)
    assert how == "resolved" and "lib==2.0" in printed
    assert how_answered(world, *args) == (printed, "remembered")
    build_index({**SPEC, "lib": {"1.0": {}, "2.0": {}, "3.0": {}}}, world["index"])
    printed, how = how_answered(world, *args)
    assert how == "resolved" and "lib==3.0" in printed


def test_a_find_links_folder_is_remembered_until_a_file_appears(world: dict[str, Path],
                                                                tmp_path: Path) -> None:
    args = ("app", "--no-index", "--find-links", str(world["index"] / "files"))
    printed, how = how_answered(world, *args)
    assert how == "resolved" and "lib==2.0" in printed
    assert how_answered(world, *args) == (printed, "remembered")
    build_index({"lib": {"3.0": {}}}, tmp_path / "newer")
    for made in (tmp_path / "newer" / "files").iterdir():
        (world["index"] / "files" / made.name).write_bytes(made.read_bytes())
    printed, how = how_answered(world, *args)
    assert how == "resolved" and "lib==3.0" in printed


def test_a_universe_file_is_remembered_until_it_changes(world: dict[str, Path]) -> None:
    universe = world["work"] / "world.toml"
    text = Path(__file__).parents[1].joinpath("examples", "web-app.toml").read_text()
    universe.write_text(text)
    printed, how = how_answered(world, "--universe", "world.toml")
    assert how == "resolved"
    assert how_answered(world, "--universe", "world.toml") == (printed, "remembered")
    universe.write_text(text + "\n# a comment changes nothing but the file\n")
    assert how_answered(world, "--universe", "world.toml") == (printed, "resolved")


def test_a_file_rewritten_in_place_is_seen(world: dict[str, Path]) -> None:
    """A local file older than the file system's clock can blur is checked by its stamp
    alone; a rewrite of the same size with its old modification time put back still
    changes its status-change time, which no program can set."""
    time.sleep(RACY_SECONDS + 0.1)
    args = ("-r", "requirements.in", "--index-url", (world["index"] / "simple").as_uri())
    printed, how = how_answered(world, *args)
    assert how == "resolved" and "lib==2.0" in printed
    assert how_answered(world, *args) == (printed, "remembered")
    page = world["index"] / "simple" / "lib" / "index.json"  # (read before index.html)
    before = page.stat()
    text = page.read_text()
    changed = text.replace("lib-2.0", "lib-2.1").replace("lib_2.0", "lib_2.1")
    assert len(changed) == len(text) and changed != text
    page.write_text(changed)
    os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))
    printed, how = how_answered(world, *args)
    assert how == "resolved"


def test_an_installed_environment_is_remembered_until_it_changes(world: dict[str, Path],
                                                                  tmp_path: Path) -> None:
    """A real venv: the interpreter is asked again (its answer compared), and the layers'
    listings and metadata files are checked. Upgrading, editing or adding a distribution
    resolves again."""
    import shutil

    from envbuild import make_venv, site_packages, write_dist_info

    python = make_venv(Path(sys.executable), tmp_path / "venv")
    site = site_packages(python)
    installed = write_dist_info(site, "lib", "1.0")
    args = ("app", "--index-url", (world["index"] / "simple").as_uri(), "--python", str(python))
    printed, how = how_answered(world, *args)
    assert how == "resolved" and "lib==1.0" in printed  # kept: it is installed
    assert how_answered(world, *args) == (printed, "remembered")

    shutil.rmtree(installed)  # upgraded by another tool
    installed = write_dist_info(site, "lib", "2.0")
    printed, how = how_answered(world, *args)
    assert how == "resolved" and "lib==2.0" in printed
    assert how_answered(world, *args) == (printed, "remembered")

    metadata = installed / "METADATA"  # edited in place: now needs a project nobody has
    metadata.write_text(metadata.read_text() + "Requires-Dist: tool>=1\n")
    printed, how = how_answered(world, *args)
    assert how == "resolved" and "tool==1.0" in printed

    write_dist_info(site, "tool", "0.5")  # a new distribution in the layer
    printed, how = how_answered(world, *args)
    assert how == "resolved"
    assert how_answered(world, *args) == (printed, "remembered")

    # Only the interpreter's own answer changes: the venv now sees the base's packages.
    config = tmp_path / "venv" / "pyvenv.cfg"
    config.write_text(config.read_text().replace("include-system-site-packages = false",
                                                 "include-system-site-packages = true"))
    printed, how = how_answered(world, *args)
    assert how == "resolved"
    assert how_answered(world, *args) == (printed, "remembered")


def test_a_layer_given_as_a_path_is_remembered_until_it_changes(world: dict[str, Path],
                                                                tmp_path: Path) -> None:
    from envbuild import write_dist_info

    layer = tmp_path / "layer"
    write_dist_info(layer, "lib", "1.0")
    args = ("app", "--index-url", (world["index"] / "simple").as_uri(), "--layer", str(layer))
    printed, how = how_answered(world, *args)
    assert how == "resolved" and "lib==1.0" in printed
    assert how_answered(world, *args) == (printed, "remembered")
    (layer / "extra.pth").write_text(str(tmp_path / "elsewhere") + "\n")
    write_dist_info(tmp_path / "elsewhere", "tool", "1.0")
    printed, how = how_answered(world, *args)
    assert how == "resolved"


_NAMES = ("app", "lib", "tool", "extra")
_ACTIONS = st.one_of(
    st.tuples(st.just("require"),
              st.lists(st.tuples(st.sampled_from(_NAMES),
                                 st.sampled_from(["", ">=1", "<2", "==1.0", "!=2.0"])),
                       min_size=1, max_size=3)),
    st.tuples(st.just("publish"), st.sampled_from(_NAMES), st.sampled_from(["1.5", "2.5", "3.0"]),
              st.lists(st.sampled_from(_NAMES), max_size=2)),
    st.tuples(st.just("config"), st.sampled_from([None, "fewest-packages", "newest-direct"])),
    st.just(("nothing",)),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=st.lists(_ACTIONS, min_size=1, max_size=4))
def test_the_memo_answers_what_a_resolution_would(actions: list[tuple[Any, ...]]) -> None:
    """Whatever changes between runs (requirements, releases published into a file://
    index, the configuration file, or nothing), the memo's answer is exactly what
    ``depsat resolve --no-memo`` prints: the exit code, stdout and stderr."""
    from depsat.cli import main, memo

    def argv(*extra: str) -> list[str]:
        return ["resolve", "-r", "requirements.in", "--index-url", index_url, "--cache-dir",
                str(root / "cache"), "--python-version", "3.12", "--format", "requirements",
                *extra]

    def run(*extra: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv(*extra))
        return code, out.getvalue(), err.getvalue()

    spec: dict[str, dict[str, Any]] = {name: {"1.0": {}, "2.0": {}} for name in _NAMES}
    spec["app"]["2.0"] = {"requires": ["lib>=1"]}
    root = Path(tempfile.mkdtemp(prefix="depsat-memo-"))
    cwd = os.getcwd()
    try:
        build_index(spec, root / "index")
        index_url = (root / "index" / "simple").as_uri()
        (root / "requirements.in").write_text("app\n")
        os.chdir(root)
        run()
        for action in actions:
            if action[0] == "require":
                lines = sorted({f"{name}{specifier}" for name, specifier in action[1]})
                (root / "requirements.in").write_text("\n".join(lines) + "\n")
            elif action[0] == "publish":
                _kind, name, version, requires = action
                spec[name][version] = {"requires": [f"{r}>=1" for r in requires if r != name]}
                build_index(spec, root / "index")
            elif action[0] == "config":
                config = root / "depsat.toml"
                if action[1] is None:
                    config.unlink(missing_ok=True)
                else:
                    config.write_text(f'objectives = ["{action[1]}"]\n')
            run()  # answered or resolved, and remembered
            hit = memo.recall(argv())
            assert hit is not None, action
            assert (hit.code, hit.stdout, hit.stderr) == run("--no-memo"), action
    finally:
        os.chdir(cwd)
        shutil.rmtree(root, ignore_errors=True)


def _head(headers: dict[str, str]) -> bytes:
    return json.dumps({
        "id": "0" * 32, "stored": 0.0,
        "request": {"method": "GET", "url": "https://x/simple/a/",
                    "headers": {"accept": ["text/html"]}},
        "response": {"status": 200, "headers": {k: [v] for k, v in headers.items()}},
    }).encode()


@given(
    date=st.one_of(st.none(), st.integers(1_000_000_000, 1_000_100_000)),
    rule=st.one_of(st.integers(0, 100_000).map(lambda n: ("max-age", n)),
                   st.integers(900_000_000, 1_000_100_000).map(lambda m: ("modified", m))),
    since=st.floats(0, 200_000),
    fractions=st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=5),
)
def test_fresh_until_is_a_lower_bound(date: int | None, rule: tuple[str, int], since: float,
                                      fractions: list[float]) -> None:
    """From the moment it is asked until the moment it answers, the fast path serves the
    page without asking the server."""
    headers = {"vary": "Accept"}
    if date is not None:
        headers["date"] = email.utils.formatdate(date, usegmt=True)
    if rule[0] == "max-age":
        headers["cache-control"] = f"max-age={rule[1]}"
    else:
        headers["last-modified"] = email.utils.formatdate(rule[1], usegmt=True)
    now = (date or 1_000_000_000) + since
    head = _head(headers)
    request = json.loads(head)["request"]
    listed = {k: [v] for k, v in headers.items()}
    until = fresh_until(head, "text/html", now)
    fresh = _fresh(request, listed, "text/html", now)
    assert until is not None  # a decoded 200: the cache serves it (while fresh)
    assert fresh or until == now  # stale already: nothing to wait for
    if fresh:
        horizon = min(until, now + 10**9)
        for fraction in fractions:
            moment = now + (horizon - now) * fraction
            if moment >= until:  # (a fraction just under 1 can round up to it)
                continue
            assert _fresh(request, listed, "text/html", moment), (now, moment, until)
    assert fresh_until(head, "application/json", now) == now  # Vary: Accept, another one
