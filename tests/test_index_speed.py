"""Warm and local index reads happen in the asking thread; network reads stay on the pool.

Real indexes served on 127.0.0.1 and real caches: the plan must not depend on where the
work ran, a stale page must still be revalidated, and a damaged cache entry re-fetched.
"""

from __future__ import annotations

import gzip
import http.server
import threading
from pathlib import Path
from typing import Any, ClassVar

import pytest
from indexbuild import build_index, serve

from depsat.api import ResolveOptions, request_from_strings, resolve
from depsat.sources.http import HttpClient, cache_key
from depsat.sources.index import IndexSource
from depsat.target import Target

SPEC: dict[str, Any] = {
    "app": {
        "1.0": {"requires": ["lib>=1", "util"]},
        "2.0": {"requires": ["lib>=2", "util<2"]},
    },
    "lib": {"1.0": {"requires": ["util"]}, "2.0": {"requires": ["util"]},
            "3.0": {"requires": ["util>=3"]}},
    "util": {"1.0": {}, "2.0": {}, "3.0": {}},
}
TARGET = Target.for_python("3.12")


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("speed")
    build_index(SPEC, root)
    return root


def _client(cache: Path) -> HttpClient:
    return HttpClient(cache_dir=cache, timeout=2.0, retries=1, backoff=0.01)


def _plan(source: IndexSource) -> dict[str, str]:
    resolution = resolve(request_from_strings(["app"]), [source], TARGET)
    assert resolution.plan is not None, resolution.failure
    return resolution.plan.versions()



def test_a_local_index_run_again_reads_what_the_last_run_read_at_once(
        index: Path, tmp_path: Path) -> None:
    """A `file://` index has no cache to warm, but a closed source notes the metadata files it
    read; the next run reads those when their projects load, so one round settles it. A run
    whose source was never closed, or with `no_cache`, leaves no note."""
    url = index.joinpath("simple").as_uri() + "/"
    runs = []
    for close, options in ((False, {}), (True, {}), (True, {}), (True, {"no_cache": True})):
        source = IndexSource(url, client=HttpClient(cache_dir=tmp_path, **options))
        resolution = resolve(request_from_strings(["app"]), [source], TARGET)
        assert resolution.plan is not None
        runs.append((resolution.plan.versions(), resolution.timings["rounds"]))
        if close:
            source.close()
    assert [rounds for _, rounds in runs] == [2, 2, 1, 2]
    assert all(plan == runs[0][0] for plan, _ in runs)

def test_warm_run_reads_the_cache_without_the_pool(index: Path, tmp_path: Path) -> None:
    with serve(index, max_age=600) as url:
        cold = IndexSource(f"{url}simple/", client=_client(tmp_path))
        expected = _plan(cold)
        assert cold._executor is not None  # network reads ran concurrently
        before = len(url.requests)
        warm = IndexSource(f"{url}simple/", client=_client(tmp_path))
        assert _plan(warm) == expected == {"app": "2.0", "lib": "2.0", "util": "1.0"}
        assert len(url.requests) == before
        assert warm._executor is None
        assert warm.client.requests_made == 0 and warm.client.cache_hits > 0
        cold.close()
        warm.close()


def test_a_warm_run_reads_what_is_cached_at_once(index: Path, tmp_path: Path) -> None:
    """The cold run needs a second round (the newest lib conflicts); the warm one reads every
    cached release when its project loads, so one round settles it, with no request."""
    with serve(index, max_age=600) as url:
        runs = []
        for _ in range(2):
            source = IndexSource(f"{url}simple/", client=_client(tmp_path))
            resolution = resolve(request_from_strings(["app"]), [source], TARGET)
            assert resolution.plan is not None
            runs.append((resolution.plan.versions(), resolution.timings["rounds"],
                         source.client.requests_made))
            source.close()
    (cold_plan, cold_rounds, cold_requests), (warm_plan, warm_rounds, warm_requests) = runs
    assert warm_plan == cold_plan
    assert cold_rounds == 2 and cold_requests > 0
    assert warm_rounds == 1 and warm_requests == 0


@pytest.mark.usefixtures("http_transport")
def test_stale_pages_are_revalidated_on_the_pool(index: Path, tmp_path: Path) -> None:
    with serve(index, max_age=0) as url:
        expected = _plan(IndexSource(f"{url}simple/", client=_client(tmp_path)))
        again = IndexSource(f"{url}simple/", client=_client(tmp_path))
        assert _plan(again) == expected
        assert again._executor is not None
        assert again.client.requests_made > 0  # pages asked again (conditionally)
        assert again.client.cache_hits > 0  # metadata files still from the cache
        again.close()


def test_a_damaged_cached_metadata_file_is_fetched_again(index: Path, tmp_path: Path) -> None:
    with serve(index, max_age=600) as url:
        cold = IndexSource(f"{url}simple/", client=_client(tmp_path))
        expected = _plan(cold)
        wheel = next(u for u, f in cold._files.items() if f.filename.startswith("app-2.0-"))
        metadata_url = cold._files[wheel].metadata_url
        key = cache_key(metadata_url)
        assert cold.client.store.has_file(key)
        cold.client.store.put_file(key, metadata_url, b"Metadata-Version: 2.1\nName: garbage\n",
                                   None)
        before = len(url.requests)
        warm = IndexSource(f"{url}simple/", client=_client(tmp_path))
        assert _plan(warm) == expected
        fetched = [str(r) for r in url.requests[before:]]
        assert len(fetched) == 1 and "app-2.0-" in fetched[0] and ".metadata" in fetched[0]
        assert not [d for d in warm.diagnostics() if "hash" in d.message]
        cold.close()
        warm.close()


def test_a_file_index_is_read_without_threads(index: Path, tmp_path: Path) -> None:
    source = IndexSource((index / "simple").as_uri(), client=_client(tmp_path))
    eager = resolve(request_from_strings(["app"]), [source], TARGET,
                    ResolveOptions(lazy=False))
    assert eager.plan is not None
    assert _plan(source) == eager.plan.versions()
    assert source._executor is None
    source.close()


class _GzipHandler(http.server.BaseHTTPRequestHandler):
    """Serves one immutable file, gzipped when the client accepts it, and logs requests."""

    body = b"Metadata-Version: 2.1\nName: lib\nVersion: 1.0\n" * 50
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        if self.path.startswith("/moved/"):
            self.send_response(301)
            self.send_header("Location", self.path.replace("/moved/", "/files/"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path != "/files/lib-1.0-py3-none-any.whl.metadata":
            self.send_error(404)
            return
        _send_gzipped_if_accepted(self, self.body, {"Content-Type": "binary/octet-stream"})

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _send_gzipped_if_accepted(handler: http.server.BaseHTTPRequestHandler, body: bytes,
                              headers: dict[str, str]) -> None:
    """A 200 with `body`, gzipped when the request accepts it, and `headers`."""
    zipped = "gzip" in handler.headers.get("Accept-Encoding", "")
    data = gzip.compress(body) if zipped else body
    handler.send_response(200)
    for name, value in headers.items():
        handler.send_header(name, value)
    if zipped:
        handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


@pytest.mark.usefixtures("http_transport")
def test_immutable_files_skip_hishel_but_are_cached_decoded(tmp_path: Path) -> None:
    """Files named by their hash go around hishel; the stored entry (decoded: the wire's gzip
    is gone) is what a warm client and offline mode read, with no request. Behind a
    redirect, the file is still read from the cache."""
    _GzipHandler.requests.clear()  # (the test runs once per transport)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _GzipHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/files/lib-1.0-py3-none-any.whl.metadata"
        cold = _client(tmp_path)
        fetched = cold.get(url, immutable=True)
        assert (fetched.status, fetched.content, fetched.from_cache) == (
            200, _GzipHandler.body, False)
        assert len(_GzipHandler.requests) == 1
        for warm in (_client(tmp_path), HttpClient(cache_dir=tmp_path, offline=True)):
            again = warm.get(url, immutable=True)
            assert (again.content, again.from_cache) == (_GzipHandler.body, True)
        assert len(_GzipHandler.requests) == 1
        missing = _client(tmp_path).get(url.replace("lib-1.0", "lib-2.0"), immutable=True)
        assert missing.status == 404  # not stored: asked again next time
        assert _client(tmp_path).get(url.replace("lib-1.0", "lib-2.0"),
                                     immutable=True).status == 404
        assert len(_GzipHandler.requests) == 3
        moved = url.replace("/files/", "/moved/")
        assert _client(tmp_path).get(moved, immutable=True).content == _GzipHandler.body
        asked = len(_GzipHandler.requests)
        again = _client(tmp_path).get(moved, immutable=True)
        # The redirect is asked again (hishel stored none either); the file is not.
        assert (again.content, _GzipHandler.requests[asked:]) == (
            _GzipHandler.body, ["/moved/lib-1.0-py3-none-any.whl.metadata"])
    finally:
        server.shutdown()
        server.server_close()


class _GzipPageHandler(http.server.BaseHTTPRequestHandler):
    """Serves one project page, gzipped when the client accepts it, with an ETag; answers a
    matching If-None-Match with 304. `max_age` (class attribute) sets Cache-Control."""

    body = b'{"meta": {"api-version": "1.0"}, "name": "lib", "files": []}' * 20
    etag = '"page-1"'
    max_age: ClassVar[int | None] = None
    requests: ClassVar[list[tuple[str, str | None, str | None]]] = []

    def do_GET(self) -> None:
        type(self).requests.append((self.path, self.headers.get("If-None-Match"),
                                    self.headers.get("Accept")))
        freshness = {"Cache-Control": f"max-age={self.max_age}"} if self.max_age else {}
        if self.headers.get("If-None-Match") == self.etag:
            self.send_response(304)
            self.send_header("ETag", self.etag)
            for name, value in freshness.items():
                self.send_header(name, value)
            self.end_headers()
            return
        _send_gzipped_if_accepted(self, self.body, {
            "Content-Type": "application/vnd.pypi.simple.v1+json", "ETag": self.etag,
            **freshness})

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.usefixtures("http_transport")
def test_gzipped_pages_are_stored_decoded_revalidated_then_served_fresh(
        tmp_path: Path) -> None:
    """A page goes through hishel's RFC 9111 state machine: stored decoded (the wire's gzip is
    gone from the entry), revalidated with its ETag when stale (a 304 gives the stored body),
    and, once the server says it is fresh, read by a new client with no request at all."""
    _GzipPageHandler.requests.clear()  # (the test runs once per transport)
    _GzipPageHandler.max_age = None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _GzipPageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    accept = "application/vnd.pypi.simple.v1+json"
    try:
        url = f"http://127.0.0.1:{server.server_port}/simple/lib/"
        first = _client(tmp_path).get(url, accept=accept)
        assert (first.status, first.content, first.from_cache) == (
            200, _GzipPageHandler.body, False)
        stored = HttpClient(cache_dir=tmp_path).store.response(cache_key(url))
        assert stored is not None and stored[1] == _GzipPageHandler.body
        assert b"content-encoding" not in stored[0].lower()
        _GzipPageHandler.max_age = 600  # the 304 makes the stored copy fresh from now on
        second = _client(tmp_path)
        again = second.get(url, accept=accept)
        assert (again.content, again.from_cache, second.requests_made) == (
            _GzipPageHandler.body, True, 1)
        assert _GzipPageHandler.requests[1][1:] == (_GzipPageHandler.etag, accept)
        third = _client(tmp_path)
        assert third.get(url, accept=accept).content == _GzipPageHandler.body
        assert (third.requests_made, len(_GzipPageHandler.requests)) == (0, 2)
    finally:
        server.shutdown()
        server.server_close()
