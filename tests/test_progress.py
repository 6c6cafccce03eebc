"""Progress events from real fetches, and how (and when) the CLI draws them with rich."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import clean_env
from indexbuild import BaseUrl, build_index, serve

from depsat.api import request_from_strings, resolve
from depsat.cli.progress import FetchCounts, RichProgress
from depsat.sources.http import FetchEvent, FetchKind, HttpClient
from depsat.sources.index import IndexSource
from depsat.target import Target

SPEC = {
    "app": {"1.0": {"requires": ["lib>=1"]}},
    "lib": {"1.0": {}, "2.0": {}},
}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseUrl]:
    root = tmp_path_factory.mktemp("progress-index")
    build_index(SPEC, root)
    with serve(root) as url:
        yield url


def test_events_count_what_is_fetched(index: BaseUrl, tmp_path: Path) -> None:
    events: list[FetchEvent] = []
    counts = FetchCounts()

    def record(event: FetchEvent) -> None:
        events.append(event)
        counts(event)

    index.requests.clear()
    http = HttpClient(cache_dir=tmp_path / "cache", timeout=5.0, progress=record)
    source = IndexSource(index.index_url, client=http)
    result = resolve(request_from_strings(["app"]), [source], Target.for_python("3.12"))
    assert result.plan is not None and result.plan.versions() == {"app": "1.0", "lib": "2.0"}
    # Lazy metadata: two pages, and the metadata of the two releases the plan can use.
    assert counts.queued == counts.done == {FetchKind.PAGE: 2, FetchKind.METADATA: 2}
    assert counts.text() == "fetching project pages 2/2, metadata 2/2"
    paths = [path for _m, path, _a in index.requests]
    assert sorted(p for p in paths if p.startswith("/simple/")) == ["/simple/app/", "/simple/lib/"]
    assert len([p for p in paths if p.endswith(".metadata")]) == 2
    for kind, subject in {(e.kind, e.subject) for e in events}:  # queued, then done, once each
        assert [e.done for e in events if (e.kind, e.subject) == (kind, subject)] == [False, True]
    assert {e.subject for e in events if e.kind is FetchKind.PAGE} == {"app", "lib"}


def test_rich_renderer_draws_the_counts() -> None:
    from rich.console import Console

    stream = io.StringIO()
    progress = RichProgress(Console(file=stream, force_terminal=True, width=150))
    assert stream.getvalue() == ""  # nothing is drawn before the first event
    with progress:
        for kind, done in [(FetchKind.PAGE, False), (FetchKind.PAGE, False),
                           (FetchKind.PAGE, True), (FetchKind.METADATA, False),
                           (FetchKind.PAGE, True), (FetchKind.METADATA, False),
                           (FetchKind.METADATA, True)]:
            progress(FetchEvent(kind, done, "x"))
    drawn = stream.getvalue()
    assert "fetching project pages 2/2, metadata 1/2" in drawn
    assert "3/4" in drawn  # everything finished of everything queued
    progress(FetchEvent(FetchKind.BUILD, False, "late"))  # after close: counted, not drawn
    assert stream.getvalue() == drawn and progress.queued[FetchKind.BUILD] == 1


def depsat_command(index: BaseUrl, cache: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "depsat", "resolve", "app", "--index-url", index.index_url,
            "--cache-dir", str(cache), "--no-config", "--python-version", "3.12", *args]


def test_no_progress_without_a_terminal(index: BaseUrl, tmp_path: Path) -> None:
    """Piped stderr: no progress line, nothing on stderr at all."""
    run = subprocess.run(depsat_command(index, tmp_path / "cache"), capture_output=True,
                         text=True, timeout=120, env=clean_env(), check=False)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert "lib>=1 (required by app 1.0)" in run.stdout


def test_rich_is_not_imported_without_a_terminal(tmp_path: Path) -> None:
    """Without a terminal the progress display (rich) is never imported; a `file://` index
    keeps the HTTP stack out of the picture too."""
    simple = build_index(SPEC, tmp_path / "index")
    script = ("import sys; from depsat.cli import main; status = main(sys.argv[1:]); "
              "print('rich imported:', 'rich' in sys.modules); sys.exit(status)")
    run = subprocess.run([sys.executable, "-c", script, "resolve", "app", "--index-url",
                          simple.as_uri(), "--no-config", "--python-version", "3.12"],
                         capture_output=True, text=True, timeout=120, env=clean_env(),
                         check=False)
    assert run.returncode == 0, run.stderr
    assert run.stderr == "" and run.stdout.endswith("rich imported: False\n")


def run_on_terminal(command: list[str]) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run with stderr on a pseudo-terminal (stdout piped); what the terminal received."""
    import pty

    master, slave = pty.openpty()
    received: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the other side is closed
                return
            if not data:
                return
            received.append(data)

    env = {**clean_env(), "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "40"}
    for name in ("NO_COLOR", "TTY_INTERACTIVE", "TTY_COMPATIBLE"):  # rich reads these
        env.pop(name, None)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        run = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=slave, text=True, timeout=120, env=env, check=False)
    finally:
        os.close(slave)
    reader.join(10)
    os.close(master)
    return run, b"".join(received).decode("utf-8", "replace")


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_progress_on_a_terminal(index: BaseUrl, tmp_path: Path) -> None:
    run, terminal = run_on_terminal(depsat_command(index, tmp_path / "cache"))
    assert run.returncode == 0
    assert "fetching project pages 2/2, metadata 2/2" in terminal
    assert "lib" in run.stdout and "fetching" not in run.stdout  # the plan stays clean


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("option", ["--quiet", "--json"])
def test_no_progress_when_quiet_or_json(index: BaseUrl, tmp_path: Path, option: str) -> None:
    run, terminal = run_on_terminal(depsat_command(index, tmp_path / "cache", option))
    assert run.returncode == 0
    assert terminal == ""
