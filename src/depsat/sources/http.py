"""Fetching index pages and distribution files: HTTP(S) and file://, cached, retried.

Library choices:

* **httpx**: maintained, typed, thread-safe connection pooling (one client serves the
  metadata thread pool), strict about truncated bodies (a short read is an error, not a short
  file), explicit timeouts, `verify=` for a private CA (tests use a `trustme` CA).
* **hishel** (2.x): the RFC 9111 state machine (freshness, `ETag`/`Last-Modified`
  revalidation, `Vary`) as an httpx transport. Its storage is pluggable, and depsat plugs in
  `AtomicFileStorage` below: one file per URL, written to a temporary file and moved into
  place with `os.replace` only once the body has been read to the end, so an interrupted or
  truncated download never leaves a cache entry behind, and concurrent writers never see each
  other's halves.
* **platformdirs**: the per-user cache directory (`~/.cache/depsat` on Linux).

Files whose hash the index published are content-checked by the caller, so they are served
from the cache without revalidation ("immutable"); project pages follow RFC 9111. Offline mode
reads the cache only (any age) and names the URL it could not find. Credentials come from the
URL's userinfo (remembered for the host, like pip) or from netrc; they are never written to
the cache and never appear in messages.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import netrc
import os
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit
from urllib.request import url2pathname

import attrs
import hishel
import httpx
import platformdirs
from hishel.httpx import CacheTransport

from depsat.errors import SourceError

__all__ = [
    "AtomicFileStorage",
    "Fetched",
    "HttpClient",
    "HttpError",
    "default_cache_dir",
    "redact_url",
]

_CACHE_FORMAT = "http-v1"
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10
_CHUNK = 256 * 1024


class HttpError(SourceError):
    """A URL that could not be fetched; `culprit` is the (redacted) URL."""


def default_cache_dir() -> Path:
    """The per-user cache directory depsat uses when no `cache_dir` is given."""
    return Path(platformdirs.user_cache_dir("depsat", appauthor=False))


def redact_url(url: str) -> str:
    """The URL without its password, for messages and cache keys."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:****@" if parts.password is not None else f"{parts.username}@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def _strip_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return clean, (unquote(parts.username), unquote(parts.password or ""))


@attrs.frozen(slots=True)
class Fetched:
    """A fetched resource. `url` is the final URL, after redirects (relative links use it)."""

    url: str
    status: int
    content: bytes = attrs.field(repr=False)
    content_type: str | None = None
    from_cache: bool = False


class AtomicFileStorage(hishel.BaseStorage):
    """A hishel storage keeping one entry per cache key in one file, replaced atomically.

    File layout: one line of JSON (request and response heads, no credentials), then the raw
    body. A new entry is streamed to a temporary file beside its final name and moved into
    place only after the body has been read completely; anything else deletes the temporary
    file. depsat sends the same headers for a URL every time, so keeping the newest entry per
    key (the contract allows entries to disappear) loses nothing and bounds the cache.
    """

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory

    @staticmethod
    def _id(key: str) -> uuid.UUID:
        """Entry ids derive from keys (one entry per key), so an id finds its file directly."""
        return uuid.UUID(hex=hashlib.sha256(key.encode()).hexdigest()[:32])

    def _path_for_id(self, entry_id: uuid.UUID) -> Path:
        return self.directory / entry_id.hex[:2] / entry_id.hex

    def _path(self, key: str) -> Path:
        return self._path_for_id(self._id(key))

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
        return json.dumps(head, separators=(",", ":")).encode() + b"\n"

    def _write_atomic(self, path: Path, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """Yield `chunks` while writing them to a temporary file, then move it into place.

        A storage failure (read-only or full disk) stops saving, never the download; an
        unfinished stream (truncated body, reader gone) leaves no file at all."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        except OSError:
            yield from chunks
            return
        out = os.fdopen(fd, "wb")
        saving, completed = True, False
        try:
            for chunk in chunks:
                if saving:
                    try:
                        out.write(chunk)
                    except OSError:
                        saving = False
                yield chunk
            out.close()
            if saving:
                os.replace(tmp, path)
                completed = True
        except OSError:
            pass
        finally:
            if not out.closed:
                out.close()
            if not completed:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def create_entry(self, request: hishel.Request, response: hishel.Response, key: str, *,
                     ttl: float | None = None, tti: float | None = None) -> hishel.Entry:
        entry_id = self._id(key)
        head = self._head(entry_id, request, response.status_code, response.headers)
        source = response.stream
        assert source is not None and not hasattr(source, "__aiter__")
        body = iter(source)

        def with_head() -> Iterator[bytes]:
            yield head
            yield from body

        def body_only() -> Iterator[bytes]:
            chunks = self._write_atomic(self._path(key), with_head())
            next(chunks)  # the head
            yield from chunks

        stored = hishel.Response(status_code=response.status_code, headers=response.headers,
                                 stream=body_only())
        return hishel.Entry(id=entry_id, request=request, response=stored)

    def _read_head(self, path: Path) -> tuple[dict[str, Any], int] | None:
        try:
            with path.open("rb") as handle:
                line = handle.readline()
            head = json.loads(line)
        except (OSError, ValueError):
            return None
        if not isinstance(head, dict) or "response" not in head:
            return None
        return head, len(line)

    def _body(self, path: Path, offset: int) -> Iterator[bytes]:
        with path.open("rb") as handle:
            handle.seek(offset)
            while chunk := handle.read(_CHUNK):
                yield chunk

    def get_entries(self, key: str) -> list[hishel.Entry]:
        path = self._path(key)
        found = self._read_head(path)
        if found is None:
            return []
        head, offset = found
        try:
            request = hishel.Request(method=head["request"]["method"], url=head["request"]["url"],
                                     headers=hishel.Headers(head["request"]["headers"]))
            response = hishel.Response(status_code=int(head["response"]["status"]),
                                       headers=hishel.Headers(head["response"]["headers"]),
                                       stream=self._body(path, offset))
            return [hishel.Entry(id=uuid.UUID(head["id"]), request=request, response=response)]
        except (KeyError, TypeError, ValueError):
            return []

    def update_headers(self, id: uuid.UUID, headers: hishel.Headers) -> None:
        path = self._path_for_id(id)
        found = self._read_head(path)
        if found is None:
            return
        head, offset = found
        head["response"]["headers"] = {k: headers.get_list(k) or [] for k in headers}
        new_head = json.dumps(head, separators=(",", ":")).encode() + b"\n"
        with contextlib.suppress(OSError):
            for _ in self._write_atomic(path, iter([new_head, *self._body(path, offset)])):
                pass

    def remove_entry(self, id: uuid.UUID) -> None:
        with contextlib.suppress(OSError):
            self._path_for_id(id).unlink()

    def remove_key(self, key: str) -> None:
        """Drop whatever is stored under `key`."""
        self.remove_entry(self._id(key))


class _NotCached(httpx.TransportError):
    """Offline mode and the cache does not have the URL."""


class _OfflineTransport(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise _NotCached(f"{request.url} is not in the cache", request=request)


def _cache_key(url: str) -> str:
    return hashlib.sha256(f"GET {url}".encode()).hexdigest()


class HttpClient:
    """One HTTP client for all of depsat's sources: pooled, cached, retried, authenticated.

    Thread-safe: the metadata thread pool shares one instance. `get` never raises anything
    but `HttpError` (a `SourceError` naming the URL, one line).
    """

    def __init__(
        self,
        *,
        cache_dir: str | Path | None = None,
        offline: bool = False,
        no_cache: bool = False,
        timeout: float = 15.0,
        retries: int = 2,
        backoff: float = 0.25,
        verify: bool | str | Path | ssl.SSLContext = True,
        netrc_file: str | Path | None = None,
        max_connections: int = 16,
        user_agent: str = "depsat",
    ) -> None:
        if offline and no_cache:
            raise SourceError("--offline needs the cache, but --no-cache turns it off")
        self.offline = offline
        self.no_cache = no_cache
        self.retries = max(0, retries)
        self.backoff = backoff
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self._netrc_file = netrc_file
        self._netrc: netrc.netrc | None = None
        self._netrc_loaded = False
        self._host_credentials: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self.requests_made = 0
        """Requests that reached the network (redirect hops and retries included)."""
        self.cache_hits = 0
        ssl_verify: bool | ssl.SSLContext = verify if isinstance(verify, bool) else True
        if verify is True and os.environ.get("SSL_CERT_FILE"):
            verify = os.environ["SSL_CERT_FILE"]  # a corporate or private CA bundle
        if isinstance(verify, (str, Path)):
            ssl_verify = ssl.create_default_context(cafile=str(verify))
        elif isinstance(verify, ssl.SSLContext):
            ssl_verify = verify
        limits = httpx.Limits(max_connections=max_connections,
                              max_keepalive_connections=max_connections)
        network: httpx.BaseTransport = httpx.HTTPTransport(verify=ssl_verify, limits=limits,
                                                           retries=0)
        self.storage: AtomicFileStorage | None = None
        if offline:
            self.storage = AtomicFileStorage(self.cache_dir / _CACHE_FORMAT)
            transport: httpx.BaseTransport = CacheTransport(_OfflineTransport(), self.storage,
                                                            rfc=False)
        elif no_cache:
            transport = network
        else:
            self.storage = AtomicFileStorage(self.cache_dir / _CACHE_FORMAT)
            transport = CacheTransport(network, self.storage,
                                       rfc=hishel.CacheOptions(shared=False))
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            headers={"User-Agent": user_agent},
            trust_env=False,
        )

    # -- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- credentials ----------------------------------------------------------------------
    def _netrc_credentials(self, host: str) -> tuple[str, str] | None:
        with self._lock:
            if not self._netrc_loaded:
                self._netrc_loaded = True
                path = self._netrc_file or os.environ.get("NETRC") or Path.home() / ".netrc"
                try:
                    self._netrc = netrc.netrc(str(path))
                except (OSError, netrc.NetrcParseError):
                    self._netrc = None
            if self._netrc is None:
                return None
            found = self._netrc.authenticators(host)
        if found is None:
            return None
        login, _account, password = found
        return login or "", password or ""

    def _prepare(self, url: str) -> tuple[str, httpx.Auth | None]:
        """Strip userinfo from `url` (remembering it for the host) and pick credentials."""
        clean, userinfo = _strip_userinfo(url)
        host = urlsplit(clean).netloc
        if userinfo is not None:
            with self._lock:
                self._host_credentials[host] = userinfo
        with self._lock:
            credentials = self._host_credentials.get(host)
        if credentials is None:
            credentials = self._netrc_credentials(urlsplit(clean).hostname or "")
        return clean, httpx.BasicAuth(*credentials) if credentials else None

    # -- fetching -------------------------------------------------------------------------
    def get(self, url: str, *, accept: str | None = None, immutable: bool = False) -> Fetched:
        """Fetch `url` (http, https or file). 404 is returned, not raised: it often means
        "not here", which the caller decides about. `immutable` serves a cached copy without
        revalidation (for files the caller checks against a published hash)."""
        if url.startswith("file:"):
            return self._get_file(url)
        current, auth = self._prepare(url)
        if urlsplit(current).scheme not in ("http", "https"):
            raise HttpError(f"unsupported URL scheme in {redact_url(url)}", redact_url(url))
        for _hop in range(_MAX_REDIRECTS + 1):
            response = self._get_with_retries(current, accept, auth, immutable)
            location = response.headers.get("location")
            if response.status_code in _REDIRECT_STATUSES and location:
                target = str(httpx.URL(current).join(location))
                current, new_auth = self._prepare(target)
                if urlsplit(current).netloc != urlsplit(url).netloc:
                    auth = new_auth  # never send one host's credentials to another
                else:
                    auth = new_auth or auth
                continue
            return self._finish(current, response)
        raise HttpError(f"too many redirects fetching {redact_url(url)}", redact_url(url))

    def _finish(self, url: str, response: httpx.Response) -> Fetched:
        status = response.status_code
        shown = redact_url(url)
        if status == 404 or status == 410:
            return Fetched(url, 404, b"", response.headers.get("content-type"))
        if status in (401, 403):
            raise HttpError(f"HTTP {status} (credentials missing or refused) for {shown}", shown)
        if status >= 400:
            raise HttpError(f"HTTP {status} for {shown}", shown)
        caching = response.extensions.get("caching") or {}
        return Fetched(url, status, response.content, response.headers.get("content-type"),
                       from_cache=bool(caching.get("from_cache")))

    def _get_with_retries(self, url: str, accept: str | None, auth: httpx.Auth | None,
                          immutable: bool) -> httpx.Response:
        """One GET, retried with exponential backoff on connection errors, timeouts,
        truncated bodies and 429/5xx; a bounded number of times, so a dead index fails fast."""
        headers = {"Accept": accept} if accept else {}
        caching: dict[str, Any] = {"key": _cache_key(url)}
        if immutable:
            caching["rfc"] = False
        extensions: dict[str, Any] = {} if self.no_cache else {"caching": caching}
        shown = redact_url(url)
        attempt = 0
        while True:
            problem: str
            cause: Exception | None = None
            try:
                response = self._client.get(url, headers=headers, auth=auth,
                                            extensions=extensions)
            except _NotCached as exc:
                raise HttpError(f"{shown} is not in the cache (offline mode)", shown) from exc
            except httpx.TimeoutException as exc:
                problem, cause = f"timed out fetching {shown}", exc
            except httpx.TransportError as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                problem, cause = f"cannot fetch {shown}: {reason}", exc
            except (httpx.RequestError, httpx.InvalidURL) as exc:  # e.g. a corrupt gzip body
                raise HttpError(f"cannot fetch {shown}: {exc}", shown) from exc
            except OSError as exc:  # the cache vanished under a reader
                raise HttpError(f"cannot read the cached copy of {shown}: {exc}", shown) from exc
            else:
                status = response.extensions.get("caching") or {}
                from_cache = bool(status.get("from_cache")) and not status.get("revalidated")
                with self._lock:
                    if from_cache:
                        self.cache_hits += 1
                    else:
                        self.requests_made += 1
                if response.status_code not in _RETRY_STATUSES:
                    return response
                problem = f"HTTP {response.status_code} for {shown}"
            if cause is not None:
                with self._lock:
                    self.requests_made += 1
            if attempt >= self.retries:
                tries = f" (after {attempt + 1} attempts)" if attempt else ""
                raise HttpError(problem + tries, shown) from cause
            time.sleep(min(self.backoff * 2**attempt, 2.0))
            attempt += 1

    def _get_file(self, url: str) -> Fetched:
        parts = urlsplit(url)
        path = Path(url2pathname(parts.path))
        if parts.netloc not in ("", "localhost"):
            path = Path(f"//{parts.netloc}{url2pathname(parts.path)}")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return Fetched(url, 404, b"")
        except IsADirectoryError as exc:
            raise HttpError(f"{url} is a directory", url) from exc
        except OSError as exc:
            raise HttpError(f"cannot read {url}: {exc.strerror}", url) from exc
        content_type = None
        if path.suffix == ".json":
            content_type = "application/vnd.pypi.simple.v1+json"
        elif path.suffix in (".html", ".htm"):
            content_type = "text/html"
        return Fetched(url, 200, data, content_type)

    def forget(self, url: str) -> None:
        """Drop `url` from the cache (a cached file that failed its hash check)."""
        if self.storage is not None:
            clean, _ = _strip_userinfo(url)
            self.storage.remove_key(_cache_key(clean))
