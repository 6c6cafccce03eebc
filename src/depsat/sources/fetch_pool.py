"""A thread pool for fetches that runs only as many threads as the index's round trip calls
for.

Worker threads are how a source overlaps its requests: while one waits for the network,
another sends. How many are worth running depends on how far the index is. A far one needs
many in flight to hide its round trip (with 20 ms added to each response, a cold 1000 x 10
resolve took 5.6 s with 8 and 3.2 s with 32); a near one needs few, and every thread beyond
them only wakes up to contend for the interpreter lock, and holds a connection of its own
that the server serves on a thread of its own (against the test server on 127.0.0.1, 32
cost up to 15% over 8: `sources.http.NEAR_FETCHES` has the figures). So before each task
the pool asks how many may run (`limit`, from `HttpClient.fetches_in_flight`, which follows
the round trips measured so far): it starts a thread when fewer run and a task waits, and a
thread beyond the limit ends once its task is done. Tasks start first come, first served.

Written by hand because `concurrent.futures.ThreadPoolExecutor` cannot change its size once
running, and capping the tasks handed to it still spreads them over all its threads (each
with its connection). It is built the same way: a queue of tasks, and a count of idle
threads that decides whether a new task needs a new thread; what differs is that the
number of threads is `limit()`, asked each time, and a thread over it ends.
"""

from __future__ import annotations

import queue
import threading
import weakref
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
    went up is reached within a round trip); a thread over the limit ends after its task.

    Like `ThreadPoolExecutor`, a pool that nobody holds any more ends its threads: they hold
    only what they share (`_Shared`), not the pool, so their connections close with them."""

    def __init__(self, workers: int, limit: Callable[[], int], *, name: str = "") -> None:
        self._shared = _Shared(max(1, workers), limit, name or "fetch")
        weakref.finalize(self, self._shared.shutdown, wait=False)

    @property
    def threads(self) -> int:
        """Worker threads alive now."""
        with self._shared.lock:
            return self._shared.alive

    def submit(self, call: Callable[..., _T], *args: Any) -> Future[_T]:
        """Queue `call(*args)`; its future, as `ThreadPoolExecutor.submit` gives."""
        future: Future[_T] = Future()
        self._shared.submit(future, lambda: call(*args))
        return future

    def shutdown(self, *, wait: bool = True) -> None:
        """Cancel what has not started, and end the threads (after their running tasks,
        with `wait`)."""
        self._shared.shutdown(wait=wait)


class _Shared:
    """A pool's queue and threads, and what they count."""

    def __init__(self, workers: int, limit: Callable[[], int], name: str) -> None:
        self.workers = workers
        self.limit = limit
        self.name = name
        self.tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self.idle = threading.Semaphore(0)  # a token per thread waiting for a task
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        self.alive = 0
        self.closed = False

    def submit(self, future: Future[Any], call: Callable[[], Any]) -> None:
        with self.lock:
            if self.closed:
                raise RuntimeError("cannot submit to a pool that was shut down")
            self.tasks.put((future, call))
            # An idle thread takes it; else a new thread, if one more may run.
            if not self.idle.acquire(blocking=False):
                self._grow()

    def shutdown(self, *, wait: bool) -> None:
        with self.lock:
            self.closed = True
            threads = list(self.threads)
        while True:
            try:
                task = self.tasks.get_nowait()
            except queue.Empty:
                break
            if task is not None:
                task[0].cancel()
        for _thread in threads:
            self.tasks.put(None)  # (one each: a thread that takes it ends)
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()

    def _allowed(self) -> int:
        """How many threads may run. `limit` takes the client's lock inside this pool's; the
        client never calls the pool, so the two cannot deadlock."""
        return max(1, min(self.workers, self.limit()))

    def _grow(self) -> None:
        """Start a thread if one more may run; the caller holds the lock."""
        if self.alive < self._allowed():
            self.threads = [t for t in self.threads if t.is_alive()]
            thread = threading.Thread(target=self._work, daemon=True,
                                      name=f"{self.name}_{len(self.threads)}")
            self.alive += 1
            self.threads.append(thread)
            thread.start()

    def _work(self) -> None:
        counted = True  # (a thread ending stops counting itself as it decides to end, under
        try:            # the lock: two deciding at once must not both leave the queue alone)
            while True:
                task = self.tasks.get()
                if task is None:
                    return
                future, call = task
                if future.set_running_or_notify_cancel():
                    _run(future, call)
                del task, future, call  # (not kept alive while this thread waits)
                with self.lock:
                    if self.closed or self.alive > self._allowed():
                        self.alive -= 1  # (over the limit, since it went down)
                        counted = False
                        return
                    if not self.tasks.empty():
                        self._grow()  # (tasks wait, and the limit may have gone up)
                self.idle.release()
        finally:
            if counted:
                with self.lock:
                    self.alive -= 1


def _run(future: Future[Any], call: Callable[[], Any]) -> None:
    try:
        result = call()
    except BaseException as exc:  # (handed to whoever waits on the future)
        future.set_exception(exc)
    else:
        future.set_result(result)
