"""A thread pool for fetches that runs only as many threads as the index's round trip calls
for.

Worker threads are how a source overlaps its requests: while one waits for the network,
another sends. How many are worth running depends on how far the index is. A far one needs
many in flight to hide its round trip (with 20 ms added to each response, a cold 1000 x 10
resolve took 5.6 s with 8 and 3.2 s with 32); a near one needs few, and every thread beyond
them only wakes up to contend for the interpreter lock, and holds a connection of its own
that the server serves on a thread of its own (against the test server on 127.0.0.1, 32
cost 10-15% over 8). So before each task the pool asks how many may run (`limit`, from
`HttpClient.fetches_in_flight`, which follows the round trips measured so far): it starts a
thread when fewer run and a task waits, and a thread beyond the limit ends once its task is
done. Tasks start first come, first served.

Written by hand because `concurrent.futures.ThreadPoolExecutor` cannot change its size once
running, and capping the tasks handed to it still spreads them over all its threads (each
with its connection). It is built the same way: a queue of tasks, and a count of idle
threads that decides whether a new task needs a new thread; what differs is that the
number of threads is `limit()`, asked each time, and a thread over it ends.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["FetchPool"]

_T = TypeVar("_T")
_Task = tuple[Future[Any], Callable[[], Any]]


class FetchPool:
    """Run tasks on at most `min(workers, limit())` threads, first come first served;
    `limit` is asked again whenever a task is queued or done. A thread starts when a task is
    queued and none is idle, or when one finishes a task while others wait (so a limit that
    went up is reached within a round trip); a thread over the limit ends after its task."""

    def __init__(self, workers: int, limit: Callable[[], int], *, name: str = "") -> None:
        self._workers = max(1, workers)
        self._limit = limit
        self._name = name or "fetch"
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)  # a token per thread waiting for a task
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._alive = 0
        self._closed = False

    @property
    def threads(self) -> int:
        """Worker threads alive now."""
        with self._lock:
            return self._alive

    def submit(self, call: Callable[..., _T], *args: Any) -> Future[_T]:
        """Queue `call(*args)`; its future, as `ThreadPoolExecutor.submit` gives."""
        future: Future[_T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a pool that was shut down")
            self._tasks.put((future, lambda: call(*args)))
            # An idle thread takes it; else a new thread, if one more may run.
            if not self._idle.acquire(blocking=False):
                self._grow()
        return future

    def shutdown(self, *, wait: bool = True) -> None:
        """Cancel what has not started, and end the threads (after their running tasks,
        with `wait`)."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        while True:
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                break
            if task is not None:
                task[0].cancel()
        for _thread in threads:
            self._tasks.put(None)  # (one each: a thread that takes it ends)
        if wait:
            for thread in threads:
                thread.join()

    def _allowed(self) -> int:
        """How many threads may run. `limit` takes the client's lock inside this pool's; the
        client never calls the pool, so the two cannot deadlock."""
        return max(1, min(self._workers, self._limit()))

    def _grow(self) -> None:
        """Start a thread if one more may run; the caller holds the lock."""
        if self._alive < self._allowed():
            self._threads = [t for t in self._threads if t.is_alive()]
            thread = threading.Thread(target=self._work, daemon=True,
                                      name=f"{self._name}_{len(self._threads)}")
            self._alive += 1
            self._threads.append(thread)
            thread.start()

    def _work(self) -> None:
        counted = True  # (a thread ending stops counting itself as it decides to end, under
        try:            # the lock: two deciding at once must not both leave the queue alone)
            while True:
                task = self._tasks.get()
                if task is None:
                    return
                future, call = task
                if future.set_running_or_notify_cancel():
                    _run(future, call)
                del task, future, call  # (not kept alive while this thread waits)
                with self._lock:
                    if self._closed or self._alive > self._allowed():
                        self._alive -= 1  # (over the limit, since it went down)
                        counted = False
                        return
                    if not self._tasks.empty():
                        self._grow()  # (tasks wait, and the limit may have gone up)
                self._idle.release()
        finally:
            if counted:
                with self._lock:
                    self._alive -= 1


def _run(future: Future[Any], call: Callable[[], Any]) -> None:
    try:
        result = call()
    except BaseException as exc:  # (handed to whoever waits on the future)
        future.set_exception(exc)
    else:
        future.set_result(result)
