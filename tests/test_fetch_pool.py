"""The fetch pool runs as many threads as the index's round trip calls for.

Real threads and, for the round trips, a real server on 127.0.0.1 (one of them answering
each request 50 ms late, as a far index does); no timing is asserted except that a request
to that server takes at least its delay.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from indexbuild import build_index, serve

from depsat.sources.fetch_pool import FetchPool
from depsat.sources.http import CONCURRENT_FETCHES, NEAR_FETCHES, HttpClient
from depsat.sources.index import IndexSource

WAIT = 10.0  # seconds any step here may take before the test fails instead of hanging


class _Gauge:
    """Tasks that block until released, counting how many run at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.order: list[int] = []
        self.release = threading.Event()

    def task(self, number: int) -> Callable[[], int]:
        def run() -> int:
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
                self.order.append(number)
            try:
                assert self.release.wait(WAIT)
            finally:
                with self.lock:
                    self.now -= 1
            return number
        return run


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_no_more_tasks_run_at_once_than_the_limit_and_each_result_comes_back() -> None:
    gauge = _Gauge()
    pool = FetchPool(32, lambda: 3)
    futures = [pool.submit(gauge.task(i)) for i in range(20)]
    _until(lambda: gauge.now == 3)
    time.sleep(0.05)  # (time for a fourth to start, if one could)
    assert gauge.most == 3 and pool.threads == 3
    gauge.release.set()
    assert [f.result(WAIT) for f in futures] == list(range(20))
    assert gauge.most == 3
    pool.shutdown()
    assert pool.threads == 0


def test_tasks_start_in_the_order_they_came_and_failures_reach_their_future() -> None:
    gauge = _Gauge()
    gauge.release.set()
    pool = FetchPool(8, lambda: 1)

    def fail() -> None:
        raise ValueError("bad page")

    futures: list[Any] = [pool.submit(gauge.task(i)) for i in range(5)]
    failed = pool.submit(fail)
    futures += [pool.submit(gauge.task(i)) for i in range(5, 8)]
    assert [f.result(WAIT) for f in futures] == list(range(8))
    with pytest.raises(ValueError, match="bad page"):
        failed.result(WAIT)
    assert gauge.order == list(range(8))
    pool.shutdown()


def test_the_pool_follows_its_limit_up_and_down() -> None:
    gauge = _Gauge()
    limit = [2]
    pool = FetchPool(32, lambda: limit[0])
    first = [pool.submit(gauge.task(i)) for i in range(10)]
    _until(lambda: gauge.now == 2)
    limit[0] = 6  # a far index: more may run; the next task queued starts threads
    first.append(pool.submit(gauge.task(10)))
    _until(lambda: gauge.now == 3)
    gauge.release.set()  # each one finishing starts another while tasks wait
    assert [f.result(WAIT) for f in first] == list(range(11))
    assert 3 <= gauge.most <= 6
    assert pool.threads >= 3
    limit[0] = 1  # near again: a thread over the limit ends after its next task
    for number in range(8):
        assert pool.submit(gauge.task(number)).result(WAIT) == number
    _until(lambda: pool.threads == 1)
    pool.shutdown()


def test_shutting_down_cancels_what_waits_and_refuses_more() -> None:
    gauge = _Gauge()
    pool = FetchPool(4, lambda: 1)
    running = pool.submit(gauge.task(0))
    waiting = [pool.submit(gauge.task(i)) for i in range(1, 4)]
    _until(lambda: gauge.now == 1)
    done = threading.Thread(target=pool.shutdown)
    done.start()
    _until(lambda: all(f.cancelled() for f in waiting))
    gauge.release.set()
    done.join(WAIT)
    assert not done.is_alive()
    assert running.result(WAIT) == 0 and gauge.order == [0]
    with pytest.raises(RuntimeError):
        pool.submit(gauge.task(9))


def test_a_pool_nobody_holds_ends_its_threads() -> None:
    """As `ThreadPoolExecutor`'s do: a source dropped without `close` must not leave its
    threads, and their connections, behind (a test suite ran out of file descriptors)."""
    pool = FetchPool(4, lambda: 4)
    futures = [pool.submit(threading.current_thread) for _ in range(4)]
    workers = {future.result(WAIT) for future in futures}
    assert workers and threading.current_thread() not in workers
    del pool, futures
    gc.collect()
    for worker in workers:
        worker.join(WAIT)
        assert not worker.is_alive()


def test_requests_in_flight_follow_the_fastest_round_trip(tmp_path: Path) -> None:
    """Enough to keep the client busy through a round trip (Little's law), between near
    and the connection cap; near before any answer; a slower answer later changes nothing.
    With several hosts, the farthest decides: a near mirror must not hold a far index's
    fetches at eight."""
    near, index = "http://127.0.0.1:8080/simple/a/", "https://index.example/simple/a/"
    client = HttpClient(cache_dir=tmp_path)
    assert client.fetches_in_flight() == NEAR_FETCHES
    client.note_round_trip(near, 0.0004)
    assert client.fetches_in_flight() == NEAR_FETCHES
    client.note_round_trip(near, 0.5)
    assert client.fetches_in_flight() == NEAR_FETCHES
    client.note_round_trip(index, 0.05)
    assert client.fetches_in_flight() == CONCURRENT_FETCHES
    far = HttpClient(cache_dir=tmp_path)
    far.note_round_trip(index, 0.005)
    assert NEAR_FETCHES < far.fetches_in_flight() < CONCURRENT_FETCHES
    far.note_round_trip(index, 0.05)  # (not that host's fastest: no change)
    assert NEAR_FETCHES < far.fetches_in_flight() < CONCURRENT_FETCHES
    far.note_round_trip(near, 0.0004)  # (a nearer host: the farther one still decides)
    assert NEAR_FETCHES < far.fetches_in_flight() < CONCURRENT_FETCHES
    farther = HttpClient(cache_dir=tmp_path)
    farther.note_round_trip(index, 0.05)
    assert farther.fetches_in_flight() == CONCURRENT_FETCHES
    capped = HttpClient(cache_dir=tmp_path, max_connections=4)
    assert capped.fetches_in_flight() == 4


SPEC = {f"p{i:02d}": {"1.0": {}} for i in range(40)}


def test_a_far_index_gets_more_requests_in_flight_than_a_near_one(tmp_path: Path) -> None:
    """Against a server that answers 50 ms late, the pool grows past the near limit while
    a burst of page fetches waits; every page is read either way."""
    root = tmp_path / "index"
    build_index(SPEC, root)
    with serve(root, latency=0.05) as url:
        source = IndexSource(f"{url}simple/", client=HttpClient(cache_dir=tmp_path / "c"))
        with source:
            source.prefetch_projects(sorted(SPEC))
            assert source._executor is not None
            grown = 0
            for name in sorted(SPEC):
                assert [str(c.version) for c in source.candidates(name)] == ["1.0"]
                grown = max(grown, source._executor.threads)
            assert source.client.fetches_in_flight() == CONCURRENT_FETCHES
            assert grown > NEAR_FETCHES
