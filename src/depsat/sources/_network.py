"""The network half of `depsat.sources.http.HttpClient`: redirects, retries, hishel's RFC 9111
state machine for project pages, and hishel's storage in the cache database. The wire itself
(libcurl or urllib3) is `depsat.sources._transport`'s.

Imported only when a request must reach the network (a cache miss, a stale page, a
redirect, offline mode's error path): reading a warm cache, a `file://` index or a universe
file never loads the HTTP stack. TLS is set up on the first `https://` request only, so plain
HTTP does not pay for loading the CA bundle.

Why hishel's state machine driven here, and not httpx with hishel's httpx transport
(depsat's first design): a cold resolve is bound by the client's CPU, and httpx took about
twice urllib3's CPU per GET (0.45 against 0.24 ms on 127.0.0.1) and 50 ms more to import.
hishel's core is sans-IO (a request and the stored entries in, the next state out), so any
client can drive it; `_cached_get` is that loop.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import attrs
import hishel

from depsat.sources._transport import (
    BadResponse,
    TransportError,
    TransportTimeout,
    WireResponse,
    make_transport,
)
from depsat.sources.cache_store import CacheStore
from depsat.sources.http import (
    Fetched,
    HttpError,
    cache_entry_id,
    cache_key,
    redact_url,
)

if TYPE_CHECKING:
    import ssl

    from depsat.sources.http import HttpClient

__all__ = ["DatabaseStorage", "Network"]

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10


class DatabaseStorage(hishel.BaseStorage):
    """A hishel storage in the cache database (`CacheStore`): one entry per cache key.

    An entry is the request and response heads as one line of JSON (no credentials) and the
    raw body. It is written in one transaction once the body has been read to the end;
    a truncated or abandoned stream stores nothing. depsat sends the same headers for a URL
    every time, so keeping the newest entry per key (the contract allows entries to
    disappear) loses nothing and bounds the cache. `HttpClient` reads these entries directly
    on its cache-hit fast path.
    """

    def __init__(self, store: CacheStore) -> None:
        super().__init__()
        self.store = store

    @staticmethod
    def _id(key: str) -> uuid.UUID:
        """Entry ids derive from keys (one entry per key)."""
        return uuid.UUID(hex=cache_entry_id(key))

    @staticmethod
    def _head(entry_id: uuid.UUID, request: hishel.Request, status: int,
              headers: hishel.Headers) -> bytes:
        request_headers = {k: request.headers.get_list(k) or [] for k in request.headers
                           if k not in ("authorization", "cookie", "proxy-authorization")}
        head = {
            "id": str(entry_id),
            "stored": time.time(),
            "request": {"method": request.method, "url": request.url,
                        "headers": request_headers},
            "response": {"status": status,
                         "headers": {k: headers.get_list(k) or [] for k in headers}},
        }
        return json.dumps(head, separators=(",", ":")).encode()

    def create_entry(self, request: hishel.Request, response: hishel.Response, key: str, *,
                     ttl: float | None = None, tti: float | None = None) -> hishel.Entry:
        entry_id = self._id(key)
        head = self._head(entry_id, request, response.status_code, response.headers)
        source = response.stream
        assert source is not None and not hasattr(source, "__aiter__")
        store = self.store

        def saving() -> Iterator[bytes]:
            chunks = []
            for chunk in source:
                chunks.append(chunk)
                yield chunk
            store.put_response(key, entry_id.hex, head, b"".join(chunks))

        stored = hishel.Response(status_code=response.status_code, headers=response.headers,
                                 stream=saving())
        return hishel.Entry(id=entry_id, request=request, response=stored)

    def get_entries(self, key: str) -> list[hishel.Entry]:
        found = self.store.response(key)
        if found is None:
            return []
        head_bytes, body = found
        try:
            head = json.loads(head_bytes)
            request = hishel.Request(method=head["request"]["method"], url=head["request"]["url"],
                                     headers=hishel.Headers(head["request"]["headers"]))
            response = hishel.Response(status_code=int(head["response"]["status"]),
                                       headers=hishel.Headers(head["response"]["headers"]),
                                       stream=iter([body]))
            return [hishel.Entry(id=uuid.UUID(head["id"]), request=request, response=response)]
        except (KeyError, TypeError, ValueError):
            return []

    def update_headers(self, id: uuid.UUID, headers: hishel.Headers) -> None:
        head_bytes = self.store.response_head(id.hex)
        if head_bytes is None:
            return
        try:
            head = json.loads(head_bytes)
            head["response"]["headers"] = {k: headers.get_list(k) or [] for k in headers}
        except (KeyError, TypeError, ValueError):
            return
        self.store.set_response_head(id.hex, json.dumps(head, separators=(",", ":")).encode())

    def remove_entry(self, id: uuid.UUID) -> None:
        self.store.remove_response(entry_id=id.hex)


class _NotCached(Exception):
    """Offline mode, and the cache does not have the URL."""


@attrs.frozen(slots=True)
class _Reply:
    """A response as `Network` reads it: whole body, decoded."""

    status: int
    headers: Mapping[str, str]
    """Names lower-cased; a repeated header's values joined by ", "."""
    content: bytes
    from_cache: bool = False
    revalidated: bool = False
    """From the cache, after the server confirmed it (a request all the same)."""

    @classmethod
    def of(cls, response: hishel.Response, status: hishel.CacheStatus) -> _Reply:
        stream = response.stream
        assert stream is not None and not hasattr(stream, "__aiter__")
        content = b"".join(stream)  # (sync: asserted above)
        headers = {k.lower(): ", ".join(response.headers.get_list(k) or [])
                   for k in response.headers}
        return cls(response.status_code, headers, content, status["from_cache"],
                   status["revalidated"])


def _as_stored(response: WireResponse, decoded: frozenset[str]) -> hishel.Response:
    """A response as hishel keeps it: the body the transport decoded, so without the content
    codings it undid (and with the decoded length), and no transfer coding."""
    grouped = response.grouped()
    grouped.pop("transfer-encoding", None)
    codings = [c.strip().lower() for v in grouped.get("content-encoding", [])
               for c in v.split(",") if c.strip()]
    if codings and all(c in decoded for c in codings):
        del grouped["content-encoding"]
        grouped["content-length"] = [str(len(response.content))]
    return hishel.Response(status_code=response.status, headers=hishel.Headers(grouped),
                           stream=iter([response.content]))


class Network:
    """Requests that reach the network (or, offline, the cache's last word), for
    `HttpClient`.

    The client owns credentials, counters and the fast path; this class does everything
    that needs an HTTP request: redirects, retries with backoff, RFC 9111 for pages
    (freshness, revalidation, storing), storing files named by their hash."""

    def __init__(self, owner: HttpClient, *, timeout: float,
                 verify: bool | str | Path | ssl.SSLContext, max_connections: int,
                 user_agent: str, transport: str = "auto") -> None:
        self.owner = owner
        self.storage = None if owner.no_cache else DatabaseStorage(owner.store)
        self.transport = make_transport(transport, verify=verify, timeout=timeout,
                                        max_connections=max_connections)
        self.headers = {"User-Agent": user_agent, "Accept": "*/*",
                        "Accept-Encoding": "gzip, deflate"}
        """What every request sends, unless it says otherwise."""
        self._options = hishel.CacheOptions(shared=False)

    def close(self) -> None:
        self.transport.close()

    def get(self, url: str, *, accept: str | None, immutable: bool, keep: bool = True,
            headers: Mapping[str, str] | None = None) -> Fetched:
        current, credentials = self.owner.prepare(url)
        if urlsplit(current).scheme not in ("http", "https"):
            raise HttpError(f"unsupported URL scheme in {redact_url(url)}", redact_url(url))
        for _hop in range(_MAX_REDIRECTS + 1):
            reply = self._get_with_retries(current, accept, credentials, immutable, keep,
                                           headers)
            location = reply.headers.get("location")
            if reply.status in _REDIRECT_STATUSES and location:
                target = urljoin(current, location)
                current, new_credentials = self.owner.prepare(target)
                if urlsplit(current).netloc != urlsplit(url).netloc:
                    credentials = new_credentials  # never send one host's credentials to another
                else:
                    credentials = new_credentials or credentials
                if immutable:  # the file a redirect points to may be stored already
                    hit = self.owner.cached(current, accept=accept, immutable=True)
                    if hit is not None:
                        return hit
                continue
            return self._finish(current, reply)
        raise HttpError(f"too many redirects fetching {redact_url(url)}", redact_url(url))

    @staticmethod
    def _finish(url: str, reply: _Reply) -> Fetched:
        status = reply.status
        shown = redact_url(url)
        if status == 404 or status == 410:
            return Fetched(url, 404, b"", reply.headers.get("content-type"))
        if status in (401, 403):
            raise HttpError(f"HTTP {status} (credentials missing or refused) for {shown}", shown)
        if status >= 400:
            raise HttpError(f"HTTP {status} for {shown}", shown)
        return Fetched(url, status, reply.content, reply.headers.get("content-type"),
                       from_cache=reply.from_cache,
                       content_range=reply.headers.get("content-range"))

    def _fetch(self, url: str, accept: str | None, credentials: tuple[str, str] | None,
               immutable: bool, keep: bool, extra: Mapping[str, str] | None) -> _Reply:
        """One GET: from the cache alone offline; a file named by its hash directly (no RFC
        9111: it never changes), stored decoded unless not `keep`; a page through hishel's
        state machine."""
        headers = {**self.headers, "Accept": accept} if accept else self.headers
        if extra:
            headers = {**headers, **extra}
        key = cache_key(url)
        if self.owner.offline:
            assert self.storage is not None  # (offline needs the cache: HttpClient checks)
            entries = self.storage.get_entries(key)
            if not entries:
                raise _NotCached(url)
            return _Reply.of(entries[0].response, hishel.CacheStatus(
                from_cache=True, revalidated=False, stored=False))
        if immutable or self.storage is None:
            response = self._send(url, headers, credentials)
            reply = _Reply(response.status, response.merged(), response.content)
            if immutable and keep and reply.status == 200 and self.storage is not None:
                self.owner.store.put_file(key, url, reply.content,
                                          reply.headers.get("content-type"))
            return reply
        return self._cached_get(url, headers, credentials, key, self.storage)

    def _send(self, url: str, headers: Mapping[str, str],
              credentials: tuple[str, str] | None) -> WireResponse:
        """One request on the wire; its round trip goes to the client's measure of how far
        the index is (`HttpClient.fetches_in_flight`)."""
        start = time.perf_counter()
        response = self.transport.get(url, headers, credentials)
        self.owner.note_round_trip(url, time.perf_counter() - start)
        return response

    def _cached_get(self, url: str, headers: Mapping[str, str],
                    credentials: tuple[str, str] | None, key: str,
                    storage: DatabaseStorage) -> _Reply:
        """A page under RFC 9111: hishel's state machine, driven with the transport.

        The request hishel sees carries the headers that are sent (for `Vary`) except the
        credentials, which are added on the wire only, so they never reach the cache."""
        state: hishel.AnyState = hishel.IdleClient(options=self._options)
        request = hishel.Request(method="GET", url=url, headers=hishel.Headers(headers))
        revalidated = False
        while True:
            if isinstance(state, hishel.IdleClient):
                state = state.next(request, storage.get_entries(key))
            elif isinstance(state, (hishel.CacheMiss, hishel.NeedRevalidation)):
                revalidated = isinstance(state, hishel.NeedRevalidation)
                sent = {k: ", ".join(state.request.headers.get_list(k) or [])
                        for k in state.request.headers}
                state = state.next(_as_stored(self._send(url, sent, credentials),
                                              self.transport.decoded))
            elif isinstance(state, hishel.StoreAndUse):
                entry = storage.create_entry(request, state.response, key)
                return _Reply.of(entry.response, hishel.CacheStatus(
                    from_cache=False, revalidated=revalidated, stored=True))
            elif isinstance(state, hishel.CouldNotBeStored):
                return _Reply.of(state.response, hishel.CacheStatus(
                    from_cache=False, revalidated=revalidated, stored=False))
            elif isinstance(state, hishel.FromCache):
                return _Reply.of(state.entry.response, hishel.CacheStatus(
                    from_cache=True, revalidated=revalidated, stored=False))
            elif isinstance(state, hishel.NeedToBeUpdated):
                for entry in state.updating_entries:
                    storage.update_headers(entry.id, entry.response.headers)
                state = state.next()
            elif isinstance(state, hishel.InvalidateEntries):
                for entry_id in state.entry_ids:
                    storage.remove_entry(entry_id)
                state = state.next()
            else:  # pragma: no cover - a state a later hishel adds
                raise HttpError(f"unexpected HTTP cache state {type(state).__name__} for "
                                f"{redact_url(url)}", redact_url(url))

    def _get_with_retries(self, url: str, accept: str | None,
                          credentials: tuple[str, str] | None, immutable: bool,
                          keep: bool = True,
                          extra: Mapping[str, str] | None = None) -> _Reply:
        """One GET, retried with exponential backoff on connection errors, timeouts,
        truncated bodies and 429/5xx; a bounded number of times, so a dead index fails fast."""
        owner = self.owner
        shown = redact_url(url)
        attempt = 0
        while True:
            problem: str
            cause: Exception | None = None
            try:
                reply = self._fetch(url, accept, credentials, immutable, keep, extra)
            except _NotCached as exc:
                raise HttpError(f"{shown} is not in the cache (offline mode)", shown) from exc
            except TransportTimeout as exc:
                problem, cause = f"timed out fetching {shown}", exc
            except BadResponse as exc:  # e.g. a corrupt gzip body: asking again gives the same
                raise HttpError(f"cannot fetch {shown}: {exc}", shown) from exc
            except TransportError as exc:  # connection, truncated body, TLS
                problem, cause = f"cannot fetch {shown}: {exc}", exc
            except OSError as exc:  # the cache vanished under a reader
                raise HttpError(f"cannot read the cached copy of {shown}: {exc}", shown) from exc
            else:
                owner.count(cache_hit=reply.from_cache and not reply.revalidated)
                if reply.status not in _RETRY_STATUSES:
                    return reply
                problem = f"HTTP {reply.status} for {shown}"
            if cause is not None:
                owner.count(cache_hit=False)
            if attempt >= owner.retries:
                tries = f" (after {attempt + 1} attempts)" if attempt else ""
                raise HttpError(problem + tries, shown) from cause
            time.sleep(min(owner.backoff * 2**attempt, 2.0))
            attempt += 1
