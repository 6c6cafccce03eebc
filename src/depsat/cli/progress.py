"""Progress of long fetches, drawn with rich on a terminal from the sources' `FetchEvent`s.

One transient status line on stderr ("fetching project pages 120/300, metadata 80/170"),
erased when the resolution is done. Shown only when stderr is a terminal, and never with
`--quiet` or JSON output. rich is imported on the first event of a run that shows progress,
so piped, scripted and universe-file runs never load it. The sources know nothing of this:
they report to the HTTP client's `progress` callback, which `RichProgress` is.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import threading
from typing import TYPE_CHECKING, Any, TextIO

from depsat.sources.http import FetchEvent, FetchKind

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

__all__ = ["FetchCounts", "RichProgress", "wants_progress"]


def wants_progress(args: argparse.Namespace, stream: TextIO | None = None) -> bool:
    """Whether to draw progress: a terminal on stderr, not `--quiet`, not JSON output."""
    if getattr(args, "quiet", False) or getattr(args, "json", False):
        return False
    if getattr(args, "format", None) == "json":
        return False
    stream = stream if stream is not None else sys.stderr
    try:
        if not stream.isatty():
            return False
    except (AttributeError, ValueError):  # no stream, or a closed one
        return False
    return importlib.util.find_spec("rich") is not None  # an install without it: no line


class FetchCounts:
    """Queued and finished work per kind, from events on any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.queued: dict[FetchKind, int] = {}
        self.done: dict[FetchKind, int] = {}

    def __call__(self, event: FetchEvent) -> None:
        with self._lock:
            counts = self.done if event.done else self.queued
            counts[event.kind] = counts.get(event.kind, 0) + 1

    def totals(self) -> tuple[int, int]:
        """(finished, queued) over every kind."""
        with self._lock:
            return sum(self.done.values()), sum(self.queued.values())

    def text(self) -> str:
        """"fetching project pages 3/5, metadata 1/2": the kinds seen so far, in order."""
        with self._lock:
            parts = [f"{kind.value} {self.done.get(kind, 0)}/{self.queued[kind]}"
                     for kind in FetchKind if kind in self.queued]
        return "fetching " + ", ".join(parts) if parts else "fetching"


class RichProgress(FetchCounts):
    """`FetchCounts` drawn as a transient rich progress line, started by the first event.

    `console` defaults to rich's stderr console; tests pass one writing to a `StringIO`."""

    def __init__(self, console: Console | None = None) -> None:
        super().__init__()
        self._console = console
        self._start_lock = threading.Lock()
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._closed = False

    def __call__(self, event: FetchEvent) -> None:
        super().__call__(event)
        with self._start_lock:
            if self._closed:
                return
            if self._progress is None:
                self._start()
            progress, task = self._progress, self._task
        assert progress is not None and task is not None
        done, queued = self.totals()
        progress.update(task, description=self.text(), completed=done, total=queued)

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        console = self._console if self._console is not None else Console(stderr=True)
        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                  BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                  console=console, transient=True,
                                  redirect_stdout=False)  # stdout may be a pipe: the plan
        self._task = self._progress.add_task("fetching", total=None)
        self._progress.start()

    def close(self) -> None:
        """Erase the line (if one was drawn); later events are counted, not drawn."""
        with self._start_lock:
            self._closed = True
            progress, self._progress = self._progress, None
        if progress is not None:
            progress.stop()

    def __enter__(self) -> RichProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
