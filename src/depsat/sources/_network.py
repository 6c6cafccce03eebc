"""The network half of `depsat.sources.http.HttpClient`: httpx and hishel for pages, urllib3
for files named by their hash, and hishel's storage in the cache database.

Imported only when a request must reach the network (a cache miss, a stale page, a
redirect, offline mode's error path): reading a warm cache, a `file://` index or a universe
file never loads the HTTP stacks (about 0.15 s of imports), and never builds an
`httpx.Request`. TLS is set up on the first `https://` request only, so plain HTTP does not
pay for loading the CA bundle.
"""

from __future__ import annotations

import json
import os
import ssl
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs
import hishel
import httpx
import urllib3
from hishel.httpx import CacheTransport

from depsat.sources.cache_store import CacheStore
from depsat.sources.http import (
    Fetched,
    HttpError,
    cache_entry_id,
    cache_key,
    redact_url,
)

if TYPE_CHECKING:
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


class _NotCached(httpx.TransportError):
    """Offline mode and the cache does not have the URL."""


class _OfflineTransport(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise _NotCached(f"{request.url} is not in the cache", request=request)


def _ssl_verify(verify: bool | str | Path | ssl.SSLContext) -> bool | ssl.SSLContext:
    """What both HTTP stacks are given to check certificates: the CA bundle named by
    `verify` or by SSL_CERT_FILE (a corporate or private CA), a context as is, else a bool
    (True: httpx's default bundle)."""
    ssl_verify: bool | ssl.SSLContext = verify if isinstance(verify, bool) else True
    if verify is True and os.environ.get("SSL_CERT_FILE"):
        verify = os.environ["SSL_CERT_FILE"]
    if isinstance(verify, (str, Path)):
        ssl_verify = ssl.create_default_context(cafile=str(verify))
    elif isinstance(verify, ssl.SSLContext):
        ssl_verify = verify
    return ssl_verify


class _SchemeTransport(httpx.BaseTransport):
    """Plain HTTP and HTTPS on separate connection pools, the HTTPS one (with its SSL
    context, whose CA bundle takes tens of milliseconds to load) made on first use."""

    def __init__(self, verify: bool | str | Path | ssl.SSLContext, limits: httpx.Limits) -> None:
        self._verify = verify
        self._limits = limits
        self._lock = threading.Lock()
        self._plain: httpx.HTTPTransport | None = None
        self._secure: httpx.HTTPTransport | None = None

    def _transport(self, secure: bool) -> httpx.HTTPTransport:
        with self._lock:
            if secure:
                if self._secure is None:
                    self._secure = httpx.HTTPTransport(verify=_ssl_verify(self._verify),
                                                       limits=self._limits, retries=0)
                return self._secure
            if self._plain is None:
                # verify=False: no CA bundle to load; this pool never speaks TLS.
                self._plain = httpx.HTTPTransport(verify=False, limits=self._limits, retries=0)
            return self._plain

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._transport(request.url.scheme == "https").handle_request(request)

    def close(self) -> None:
        with self._lock:
            transports = [t for t in (self._plain, self._secure) if t is not None]
            self._plain = self._secure = None
        for transport in transports:
            transport.close()


@attrs.frozen(slots=True)
class _Reply:
    """A response as `Network` reads it, from either HTTP stack: whole body, decoded."""

    status: int
    headers: Mapping[str, str]
    """Names lower-cased; a repeated header's values joined by ", "."""
    content: bytes
    from_cache: bool = False
    revalidated: bool = False
    """From the cache, after the server confirmed it (a request all the same)."""

    @classmethod
    def of(cls, response: httpx.Response) -> _Reply:
        caching = response.extensions.get("caching") or {}
        return cls(response.status_code, {k.lower(): v for k, v in response.headers.items()},
                   response.content, bool(caching.get("from_cache")),
                   bool(caching.get("revalidated")))


class _FileFetcher:
    """GETs of files named by their hash (PEP 658 metadata, wheels), with urllib3.

    Why not httpx, which fetches everything else: these files need no RFC 9111 (hishel) and
    none of httpx's models, and they are most of a cold resolve's requests (840 of 1,170 at
    1000 x 10), which is bound by the client's CPU. urllib3's pool takes about half httpx's
    CPU per GET (0.24 against 0.45 ms on 127.0.0.1): that cold resolve went from 2.2 to
    1.9 s. Redirects are not followed (`Network.get` does that, for both) and errors are
    raised as they happen (`Network` retries). Plain HTTP and HTTPS get separate pools, the
    HTTPS one made on first use with the certificate checks httpx uses."""

    def __init__(self, *, verify: bool | str | Path | ssl.SSLContext, timeout: float,
                 max_connections: int, user_agent: str) -> None:
        self._verify = verify
        self._options: dict[str, Any] = {
            "num_pools": 32, "maxsize": max_connections, "retries": False,
            "timeout": urllib3.Timeout(connect=timeout, read=timeout)}
        self._headers = {"User-Agent": user_agent, "Accept": "*/*",
                         "Accept-Encoding": "gzip, deflate"}
        self._lock = threading.Lock()
        self._plain = urllib3.PoolManager(**self._options)
        self._secure: urllib3.PoolManager | None = None

    def _pool(self, secure: bool) -> urllib3.PoolManager:
        if not secure:
            return self._plain
        with self._lock:
            if self._secure is None:
                verify = _ssl_verify(self._verify)
                if verify is False:
                    self._secure = urllib3.PoolManager(cert_reqs="CERT_NONE",
                                                       assert_hostname=False, **self._options)
                else:
                    context = (verify if isinstance(verify, ssl.SSLContext)
                               else httpx.create_ssl_context())
                    self._secure = urllib3.PoolManager(ssl_context=context, **self._options)
            return self._secure

    def get(self, url: str, headers: Mapping[str, str],
            credentials: tuple[str, str] | None) -> _Reply:
        sent = {**self._headers, **headers}
        if credentials is not None:
            sent.update(urllib3.util.make_headers(basic_auth=":".join(credentials)))
        response = self._pool(url.startswith("https:")).request(
            "GET", url, headers=sent, redirect=False, preload_content=True)
        return _Reply(response.status,
                      {k.lower(): v for k, v in response.headers.itermerged()}, response.data)

    def close(self) -> None:
        with self._lock:
            pools = [p for p in (self._plain, self._secure) if p is not None]
            self._secure = None
        for pool in pools:
            pool.clear()


class Network:
    """Requests that go through httpx and hishel (the RFC 9111 cache), for `HttpClient`.

    The client owns credentials, counters and the fast path; this class does everything
    that needs an HTTP request: redirects, retries with backoff, revalidation, storing."""

    def __init__(self, owner: HttpClient, *, timeout: float,
                 verify: bool | str | Path | ssl.SSLContext, max_connections: int,
                 user_agent: str) -> None:
        self.owner = owner
        limits = httpx.Limits(max_connections=max_connections,
                              max_keepalive_connections=max_connections)
        network: httpx.BaseTransport = _SchemeTransport(verify, limits)
        self.storage: DatabaseStorage | None = None
        self._files: _FileFetcher | None = None
        if owner.offline:
            self.storage = DatabaseStorage(owner.store)
            transport: httpx.BaseTransport = CacheTransport(_OfflineTransport(), self.storage,
                                                            rfc=False)
        elif owner.no_cache:
            transport = network
        else:
            self.storage = DatabaseStorage(owner.store)
            transport = CacheTransport(network, self.storage,
                                       rfc=hishel.CacheOptions(shared=False))
            # Files named by their hash (wheels, PEP 658 metadata) never need RFC 9111: they
            # go around hishel, whose per-request state machine and storage calls cost 1.2 ms
            # of a 2 ms cold fetch on 127.0.0.1 (1,200 such fetches at 1000 x 10), and
            # around httpx too (`_FileFetcher`).
            self._files = _FileFetcher(verify=verify, timeout=timeout,
                                       max_connections=max_connections, user_agent=user_agent)
        self._client = self._http_client(transport, timeout, user_agent)

    @staticmethod
    def _http_client(transport: httpx.BaseTransport, timeout: float,
                     user_agent: str) -> httpx.Client:
        return httpx.Client(transport=transport, timeout=httpx.Timeout(timeout),
                            follow_redirects=False, headers={"User-Agent": user_agent},
                            trust_env=False)

    def close(self) -> None:
        if self._files is not None:
            self._files.close()
        self._client.close()

    def get(self, url: str, *, accept: str | None, immutable: bool) -> Fetched:
        current, credentials = self.owner.prepare(url)
        if urlsplit(current).scheme not in ("http", "https"):
            raise HttpError(f"unsupported URL scheme in {redact_url(url)}", redact_url(url))
        for _hop in range(_MAX_REDIRECTS + 1):
            reply = self._get_with_retries(current, accept, credentials, immutable)
            location = reply.headers.get("location")
            if reply.status in _REDIRECT_STATUSES and location:
                target = str(httpx.URL(current).join(location))
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
                       from_cache=reply.from_cache)

    def _get_with_retries(self, url: str, accept: str | None,
                          credentials: tuple[str, str] | None, immutable: bool) -> _Reply:
        """One GET, retried with exponential backoff on connection errors, timeouts,
        truncated bodies and 429/5xx; a bounded number of times, so a dead index fails fast."""
        owner = self.owner
        headers = {"Accept": accept} if accept else {}
        caching: dict[str, Any] = {"key": cache_key(url)}
        if immutable:
            caching["rfc"] = False  # (offline mode: any stored copy is served)
        extensions: dict[str, Any] = {} if owner.no_cache else {"caching": caching}
        files = self._files if immutable else None
        auth = httpx.BasicAuth(*credentials) if credentials and files is None else None
        shown = redact_url(url)
        attempt = 0
        while True:
            problem: str
            cause: Exception | None = None
            try:
                if files is not None:
                    reply = files.get(url, headers, credentials)
                    if reply.status == 200 and self.storage is not None:
                        owner.store.put_file(caching["key"], url, reply.content,
                                             reply.headers.get("content-type"))
                else:
                    reply = _Reply.of(self._client.get(url, headers=headers, auth=auth,
                                                       extensions=extensions))
            except _NotCached as exc:
                raise HttpError(f"{shown} is not in the cache (offline mode)", shown) from exc
            except (httpx.TimeoutException, urllib3.exceptions.TimeoutError) as exc:
                problem, cause = f"timed out fetching {shown}", exc
            except (httpx.RequestError, httpx.InvalidURL, urllib3.exceptions.DecodeError,
                    urllib3.exceptions.LocationValueError) as exc:
                if isinstance(exc, httpx.TransportError):
                    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    problem, cause = f"cannot fetch {shown}: {reason}", exc
                else:  # e.g. a corrupt gzip body: asking again gives the same
                    raise HttpError(f"cannot fetch {shown}: {exc}", shown) from exc
            except urllib3.exceptions.HTTPError as exc:  # connection, truncated body, TLS
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                problem, cause = f"cannot fetch {shown}: {reason}", exc
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
