"""Fetching index pages and distribution files: HTTP(S) and file://, cached, retried.

Library choices:

* **libcurl through pycurl, or urllib3** (`depsat.sources._transport`): connection reuse,
  explicit timeouts, certificate checks with certifi's bundle or a private CA (tests use a
  `trustme` CA), and a truncated body is an error, not a short file. A cold resolve is bound
  by the client's CPU: a GET on 127.0.0.1 costs about 0.10 ms of CPU through pycurl, 0.28-0.35
  ms through urllib3 and 0.45 ms through httpx (depsat's first client). pycurl is optional
  (``depsat[curl]``; it has no musllinux wheel), urllib3 always there.
* **hishel** (2.x): the RFC 9111 state machine (freshness, `ETag`/`Last-Modified`
  revalidation, `Vary`) for project pages. It is sans-IO, and `depsat.sources._network`
  drives it with the transport. Its storage is pluggable, and depsat plugs in `DatabaseStorage`:
  one entry per URL in the cache database (`CacheStore`, SQLite), written in one
  transaction only once the body has been read to the end, so an interrupted or truncated
  download never leaves a cache entry behind, and concurrent writers never see each other's
  halves.
* **platformdirs**: the per-user cache directory (`~/.cache/depsat` on Linux).

Files whose hash the index published are content-checked by the caller, so they are served
from the cache without revalidation ("immutable"); fetching one cold goes around hishel
(its state machine and storage calls were 1.2 ms of a 2 ms fetch), and the file is kept
decoded, beside the responses. Project pages follow RFC 9111. Offline mode
reads the cache only (any age) and names the URL it could not find. Credentials come from the
URL's userinfo (remembered for the host, like pip) or from netrc; they are never written to
the cache and never appear in messages. Proxies come from the environment (``http_proxy``,
``https_proxy``, ``all_proxy``, ``no_proxy``), read by the transport (`depsat.sources._transport`).

**The cache-hit fast path.** A warm resolution reads thousands of cache entries; going
through the HTTP stack and hishel for each (request objects, parsing URLs, header objects,
the RFC 9111 state machine) cost about 0.6 ms a hit, seconds in all. So `HttpClient.get`
first looks the entry up itself: the cache key comes from the URL with plain string
operations and a SHA-256, the entry is one database row (written in one transaction, so a
read sees one whole entry), and it is served when hishel would
serve it without a request: an immutable file the database holds, any stored 200 in
offline mode, and
for a page a 200 that is fresh by the same rules hishel applies for a private cache
(`max-age`, else 10% of the time since `Last-Modified`, at most a week; age from `Date`;
`Vary: Accept` matched). Anything else (a stale or unusual entry, a redirect, an error
status, a body stored still encoded) goes the full way through the transport and hishel,
which are imported only then (`_network`), so a warm run, a `file://` index or a universe
file never loads the HTTP stack at all.

**Progress.** The client carries the one progress callback (`progress=`, default none) that
every source sharing it reports through: a `FetchEvent` when a project page, a metadata read
or a metadata build is queued and when it is finished. Sources never know how (or whether)
progress is shown; the CLI renders the events.
"""

from __future__ import annotations

import calendar
import enum
import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import unquote, urlsplit, urlunsplit

import attrs

from depsat.errors import SourceError
from depsat.sources._transport import TRANSPORTS
from depsat.sources.cache_store import CACHE_DATABASE, CACHE_FORMAT, CacheStore, default_cache_dir
from depsat.sources.stamps import ReadLog, read_file

if TYPE_CHECKING:
    import netrc
    import ssl

    from depsat.sources._network import DatabaseStorage, Network

__all__ = [
    "CACHE_DATABASE",
    "CACHE_FORMAT",
    "CONCURRENT_FETCHES",
    "NEAR_FETCHES",
    "DatabaseStorage",
    "FetchEvent",
    "FetchKind",
    "Fetched",
    "HttpClient",
    "HttpError",
    "ProgressCallback",
    "cache_entry_id",
    "cache_key",
    "default_cache_dir",
    "extract_key",
    "fresh_until",
    "no_progress",
    "redact_url",
    "url2pathname",
]

CONCURRENT_FETCHES = 32
"""The most requests the sources' fetch pools keep in flight, and the connections a client
keeps per host; `HttpClient.fetches_in_flight` says how many of them are worth running. A
real index is far away: with 20 ms added to each response of the test server, a cold 1000 x
10 resolve took 5.5-5.7 s with 8 (uv: 0.9-1.0 s), 3.2 s with 32 and 3.0-3.2 s with 64
(session 11)."""

NEAR_FETCHES = 8
"""Requests in flight when the index is near (its round trip is a few client CPU times per
request, `_CLIENT_SECONDS_PER_FETCH`). Every worker beyond those the round trip needs only
wakes up to contend for the interpreter lock (one cold run with 32 made 88,925 futex calls,
55 a request). Session 13, cold 1000 x 10 at conflict 0.2 against a Python test server on
127.0.0.1 that had served many runs: a median 1.60 s with 32 in flight, 1.38 s with 8
(five runs each, alternating); four was no better than eight. In `bench_index` (a fresh
server per universe, median of five) the pool sized this way against the fixed 32:
1000 x 10 1.78 and 1.60 s against 1.92 and 1.96 s, 3000 x 10 3.38 and 3.26 s against 3.42
and 3.51 s, 1000 x 10 at 0.2 1.72 and 1.89 s against 1.79 and 1.90 s."""

_CLIENT_SECONDS_PER_FETCH = 0.00025
"""What one fetch costs the client (Python and libcurl, measured at 0.15-0.18 ms of CPU a
GET on 127.0.0.1, rounded up for the thread that waits for it). By Little's law, keeping the
client busy through a round trip of R seconds takes R / this many requests in flight."""

_ONE_WEEK = 604800
"""hishel's ceiling for a heuristic freshness lifetime."""
_MAX_AGE_CAP = 2147483647
_FAST_CACHE_CONTROL = frozenset({"max-age", "public", "private", "immutable", "must-revalidate",
                                 "proxy-revalidate", "s-maxage", "stale-while-revalidate",
                                 "stale-if-error", "no-transform"})
"""Cache-Control response directives the fast path understands (as hishel does, for a
private cache that does not serve stale entries); any other sends the request through hishel."""


class HttpError(SourceError):
    """A URL that could not be fetched; `culprit` is the (redacted) URL."""


def redact_url(url: str) -> str:
    """The URL without its password, for messages and cache keys. A user name alone is
    taken for a token (``https://TOKEN@github.com``) and hidden too, as pip hides it, except
    ``git`` (``git+ssh://git@github.com``: PEP 610's example of a name that is no secret)."""
    if "@" not in url:  # no userinfo possible: the common case, without parsing
        return url
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.password is not None:
        user = f"{parts.username}:****@"
    else:
        user = "git@" if parts.username == "git" else "****@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def _strip_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    if "@" not in url:
        return url, None
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


def url2pathname(path: str) -> str:
    """`urllib.request.url2pathname`, without importing urllib.request (which loads
    http.client, email and ssl): on POSIX it is `unquote`."""
    if os.name == "nt":  # pragma: no cover - Windows
        from nturl2path import url2pathname as nt_url2pathname

        return nt_url2pathname(path)
    return unquote(path)


def cache_key(url: str) -> str:
    """The cache key of a GET of `url` (without userinfo)."""
    return hashlib.sha256(f"GET {url}".encode()).hexdigest()


def extract_key(url: str) -> str:
    """The cache key of what a caller extracted from the file at `url` (`keep_extracted`)."""
    return hashlib.sha256(f"EXTRACT {url}".encode()).hexdigest()


def _hash_tag(hashes: Mapping[str, str]) -> str:
    """The published hashes an extract was checked against, as one string."""
    return ",".join(f"{name}={value}" for name, value in sorted(hashes.items()))


def cache_entry_id(key: str) -> str:
    """The id (32 hex digits, a UUID for hishel) of the cache entry for `key`: one entry per
    key, so the id derives from the key alone."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def __getattr__(name: str) -> Any:
    if name == "DatabaseStorage":  # lazily: it needs hishel
        from depsat.sources._network import DatabaseStorage

        return DatabaseStorage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@attrs.frozen(slots=True)
class Fetched:
    """A fetched resource. `url` is the final URL, after redirects (relative links use it)."""

    url: str
    status: int
    content: bytes = attrs.field(repr=False)
    content_type: str | None = None
    from_cache: bool = False
    content_range: str | None = None
    """A 206 response's ``Content-Range`` (`HttpClient.get_range`)."""


class FetchKind(enum.Enum):
    """What a unit of source work is; the value is how a progress display names it."""

    PAGE = "project pages"
    METADATA = "metadata"
    BUILD = "builds"


@attrs.frozen(slots=True)
class FetchEvent:
    """One unit of source work queued (`done` false) or finished, successfully or not.

    Every queued unit is finished exactly once, so a display can show "done of queued"."""

    kind: FetchKind
    done: bool
    subject: str = ""
    """What the work is about (a project name, a release, a file), for a display."""


ProgressCallback: TypeAlias = Callable[[FetchEvent], None]
"""Called from worker threads: it must be thread-safe, quick, and must not raise."""


def no_progress(event: FetchEvent) -> None:
    """The default `ProgressCallback`: nobody is watching."""


def _parse_date(value: str | None) -> int | None:
    """An HTTP date as a Unix time, exactly as hishel reads it."""
    if not value:
        return None
    from email.utils import parsedate_tz

    try:
        parsed = parsedate_tz(value)
        if parsed is None:
            return None
        return calendar.timegm(parsed[:6])
    except Exception:
        return None


def _one(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return ", ".join(values) if values else None


def _lifetime(request: dict[str, Any], headers: dict[str, list[str]], accept: str,
              ) -> tuple[int | None, int | None] | None:
    """How a stored response's freshness lifetime is found, as hishel finds it (private
    cache, no stale entries): ``(max_age, None)`` for an explicit ``max-age``, ``(None,
    last_modified)`` for the heuristic (10% of the time since `Last-Modified`). None when the
    fast path does not understand the response (then hishel decides)."""
    vary = _one(headers, "vary")
    if vary:
        for field in vary.split(","):
            field = field.strip().lower()
            if not field:
                continue
            if field != "accept":
                return None
            stored_headers = request.get("headers") or {}
            stored = next((", ".join(v) for k, v in stored_headers.items()
                           if k.lower() == "accept"), None)
            if stored != accept:
                return None
    control = _one(headers, "cache-control")
    lifetime: int | None = None
    if control:
        for directive in control.split(","):
            name, sep, value = directive.strip().partition("=")
            name = name.strip().lower()
            if not name:
                continue
            if name not in _FAST_CACHE_CONTROL or '"' in value or (
                    name == "private" and sep):
                return None
            if name == "max-age":
                if not value.strip().isdigit():
                    return None
                lifetime = min(int(value.strip()), _MAX_AGE_CAP)
    if lifetime is not None:
        return lifetime, None
    if "expires" in headers:
        return None
    modified = _parse_date(_one(headers, "last-modified"))
    return None if modified is None else (None, modified)


def _fresh(request: dict[str, Any], headers: dict[str, list[str]], accept: str,
           now: float) -> bool:
    """Whether hishel (private cache, no stale entries) would serve this stored response
    without asking the server. False also means "not sure": the caller then asks hishel."""
    rule = _lifetime(request, headers, accept)
    if rule is None:
        return False
    max_age, modified = rule
    if max_age is not None:
        lifetime = max_age
    else:
        assert modified is not None
        lifetime = min(_ONE_WEEK, int((now - modified) * 0.1))
    date = _parse_date(_one(headers, "date"))
    age = int(max(0, now - date)) if date is not None else 0
    return age < lifetime


def _still_encoded(headers: dict[str, list[str]]) -> bool:
    """Whether a stored body is still content-encoded (bodies are stored decoded)."""
    return any(e.strip().lower() not in ("", "identity")
               for v in headers.get("content-encoding", []) for e in v.split(","))


_FOREVER = float(2**62)
"""`fresh_until` for a response that never goes stale (one without a `Date`)."""


def fresh_until(head: bytes, accept: str, now: float) -> float | None:
    """Until when (Unix time) the stored page with this head is served without a request:
    `now` if it is stale already, or if its caching rules are ones the fast path leaves to
    hishel (no freshness information, say: every use asks the server); None if it is not a
    decoded 200 of a GET, which the cache does not serve as a page at all.

    A lower bound, for deciding ahead of time (`depsat.cli.memo`): freshness only ends once
    it began (age grows by a second a second, a heuristic lifetime by a tenth), so the page
    is fresh from `now` until this moment. The truncations to whole seconds are paid for
    with a second of margin."""
    try:
        parsed = json.loads(head)
        request, response = parsed["request"], parsed["response"]
        headers = {k.lower(): list(v) for k, v in response["headers"].items()}
        if int(response["status"]) != 200 or request["method"] != "GET":
            return None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if _still_encoded(headers):
        return None
    rule = _lifetime(request, headers, accept)
    if rule is None or not _fresh(request, headers, accept, now):
        return now
    max_age, modified = rule
    date = _parse_date(_one(headers, "date"))
    if date is None:  # the age is always 0, and the lifetime never shrinks
        return _FOREVER
    if max_age is not None:  # int(now - date) < max_age  <=>  now < date + max_age
        return date + max_age
    assert modified is not None
    # int(now - date) < min(week, int((now - modified) / 10)) holds while
    # now - date < week and now - date < (now - modified) / 10 - 1.
    return max(now, min(date + _ONE_WEEK, (date - modified / 10 - 1) / 0.9))


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
        max_connections: int = CONCURRENT_FETCHES,
        user_agent: str = "depsat",
        progress: ProgressCallback = no_progress,
        transport: str = "auto",
        read_log: ReadLog | None = None,
    ) -> None:
        if offline and no_cache:
            raise SourceError("--offline needs the cache, but --no-cache turns it off")
        if transport not in TRANSPORTS:
            raise ValueError(f"unknown HTTP transport {transport!r}: expected one of "
                             f"{', '.join(TRANSPORTS)}")
        self.offline = offline
        self.no_cache = no_cache
        self.progress = progress
        """Where the sources sharing this client report their work (see `FetchEvent`)."""
        self.read_log = read_log
        """Where what is read is logged (`ReadLog`), if anywhere."""
        self.retries = max(0, retries)
        self.backoff = backoff
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.store = CacheStore.in_cache_dir(self.cache_dir)
        """The cache on disk: responses and files named by their hash (`CacheStore`)."""
        self._network_options: dict[str, Any] = {
            "timeout": timeout, "verify": verify, "max_connections": max_connections,
            "user_agent": user_agent, "transport": transport}
        self._network: Network | None = None
        self._netrc_file = netrc_file
        self._netrc: netrc.netrc | None = None
        self._netrc_loaded = False
        self._host_credentials: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self.requests_made = 0
        """Requests that reached the network (redirect hops and retries included)."""
        self.cache_hits = 0
        self.max_connections = max(1, max_connections)
        self._round_trips: dict[str, float] = {}  # host -> its fastest network GET, seconds

    # -- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            network, self._network = self._network, None
        if network is not None:
            network.close()
        self.store.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _net(self) -> Network:
        """The urllib3/hishel half, imported and built on the first request that needs it."""
        with self._lock:
            if self._network is None:
                from depsat.sources._network import Network

                self._network = Network(self, **self._network_options)
            return self._network

    @property
    def storage(self) -> DatabaseStorage | None:
        """The hishel storage (None with `no_cache`); builds the network half."""
        return self._net().storage

    def count(self, *, cache_hit: bool) -> None:
        with self._lock:
            if cache_hit:
                self.cache_hits += 1
            else:
                self.requests_made += 1

    def note_round_trip(self, url: str, seconds: float) -> None:
        """A network GET of `url` took `seconds`, from sending to the end of its body."""
        host = urlsplit(url).netloc
        with self._lock:
            fastest = self._round_trips.get(host)
            if fastest is None or seconds < fastest:
                self._round_trips[host] = seconds

    def fetches_in_flight(self) -> int:
        """How many requests are worth keeping in flight (`FetchPool` asks): enough to keep
        the client busy through the round trip of the farthest host it has asked, at least
        `NEAR_FETCHES` (also before the first answer) and at most `max_connections`.

        A host's round trip is the fastest measured: one measured with many requests queued
        at the server counts their wait too, and the fastest is nearest to the distance
        itself. The farthest host, because one client serves every source: a near mirror
        beside a far index must not leave the far one's fetches at eight (the near one's
        pool then runs more threads than it needs, as every pool did before session 13).
        Starting near costs a far index one round trip more on a first wave of over eight
        requests; starting far would leave a near one with threads it has no use for (the
        pool ends a thread over the limit only when it finishes a task)."""
        near = min(NEAR_FETCHES, self.max_connections)
        with self._lock:
            round_trip = max(self._round_trips.values(), default=None)
        if round_trip is None:
            return near
        wanted = math.ceil(round_trip / _CLIENT_SECONDS_PER_FETCH)
        return max(near, min(wanted, self.max_connections))

    # -- credentials ----------------------------------------------------------------------
    def _netrc_credentials(self, host: str) -> tuple[str, str] | None:
        import netrc

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

    def _remember(self, url: str) -> str:
        """`url` without userinfo; the userinfo is remembered for its host."""
        clean, userinfo = _strip_userinfo(url)
        if userinfo is not None:
            with self._lock:
                self._host_credentials[urlsplit(clean).netloc] = userinfo
            if self.read_log is not None:
                self.read_log.url_credentials()
        return clean

    def learn_credentials(self, url: str) -> None:
        """Remember the userinfo of `url` (if any) for its host, as a request to it would:
        for asking a host again without the URL that named it (`depsat.cli.memo`)."""
        self._remember(url)

    def prepare(self, url: str) -> tuple[str, tuple[str, str] | None]:
        """Strip userinfo from `url` (remembering it for the host) and pick credentials."""
        clean = self._remember(url)
        host = urlsplit(clean).netloc
        with self._lock:
            credentials = self._host_credentials.get(host)
        if credentials is None:
            credentials = self._netrc_credentials(urlsplit(clean).hostname or "")
        return clean, credentials

    # -- fetching -------------------------------------------------------------------------
    def get(self, url: str, *, accept: str | None = None, immutable: bool = False,
            keep: bool = True) -> Fetched:
        """Fetch `url` (http, https or file). 404 is returned, not raised: it often means
        "not here", which the caller decides about. `immutable` serves a cached copy without
        revalidation (for files the caller checks against a published hash); `keep=False`
        does not store an immutable file fetched now (the caller keeps what it extracts)."""
        if url.startswith("file:"):
            return self._get_file(url)
        if self.read_log is not None and not immutable:
            self.read_log.page(cache_key(_strip_userinfo(url)[0]), accept)
        if not self.no_cache:
            hit = self._from_cache(self._remember(url), accept, immutable)
            if hit is not None:
                self.count(cache_hit=True)
                return hit
        return self._net().get(url, accept=accept, immutable=immutable, keep=keep)

    def get_range(self, url: str, byte_range: str) -> Fetched:
        """A GET of part of `url` (``Range: bytes=...``), never cached: 206 with the part
        and its `content_range`, or a server that ignores ranges: 200 with the whole file.
        For reading a wheel's METADATA without downloading the wheel."""
        if self.read_log is not None:
            self.read_log.ranged(_strip_userinfo(url)[0])
        return self._net().get(url, accept=None, immutable=True, keep=False,
                               headers={"Range": byte_range, "Accept-Encoding": "identity"})

    def extracted(self, url: str, hashes: Mapping[str, str]) -> bytes | None:
        """What `keep_extracted` stored for the file at `url` with these published hashes."""
        if self.no_cache or url.startswith("file:") or not hashes:
            return None
        clean, _ = _strip_userinfo(url)
        stored = self.store.file(extract_key(clean))
        if stored is None or stored[1] != _hash_tag(hashes):
            return None  # (a file published again under the same URL: extract it again)
        self.count(cache_hit=True)
        return stored[0]

    def keep_extracted(self, url: str, hashes: Mapping[str, str], data: bytes) -> None:
        """Store what the caller extracted from the file at `url` published with `hashes`
        (checked against them when the whole file was read), in its place: a wheel read for
        its METADATA (an index without PEP 658 files) is megabytes, its METADATA a few
        kilobytes, and reading the wheel again from the cache cost more than the rest of a
        warm resolve (90 wheels, 47 MB, for jupyterlab)."""
        if not self.no_cache and not url.startswith("file:") and hashes:
            clean, _ = _strip_userinfo(url)
            self.store.put_file(extract_key(clean), clean, data, _hash_tag(hashes))
            if self.read_log is not None:
                self.read_log.extracted(clean)

    def cached(self, url: str, *, accept: str | None = None,
               immutable: bool = False) -> Fetched | None:
        """The stored response `get` would serve for `url` without a request, else None.

        Sources use it to do warm work in the calling thread: on a thread pool, parsing
        cache hits only contends for the GIL (warm 1000 x 10: discovery 0.46 -> 0.33 s)."""
        if self.no_cache or url.startswith("file:"):
            return None
        hit = self._from_cache(self._remember(url), accept, immutable)
        if hit is not None:
            self.count(cache_hit=True)
            if self.read_log is not None and not immutable:
                self.read_log.page(cache_key(_strip_userinfo(url)[0]), accept)
        return hit

    def is_local(self, url: str) -> bool:
        """Whether reading `url` reads a local file only: a `file:` URL, or an immutable
        file (or what was extracted from it) already in the cache (its content is checked
        by hash)."""
        if url.startswith("file:"):
            return True
        if self.no_cache:
            return False
        clean, _ = _strip_userinfo(url)
        return self.store.has_file(cache_key(clean)) or self.store.has_file(extract_key(clean))

    def read_before(self, urls: Sequence[str]) -> set[str]:
        """Those of `urls` that an earlier run read and that cost no request now: files the
        cache holds (or what was extracted from them), and `file:` URLs noted by
        `remember_local_reads`. Asked of the cache all at once."""
        if self.no_cache:
            return set()
        local = [url for url in urls if url.startswith("file:")]
        keys: dict[str, str] = {}
        for url in urls:
            if not url.startswith("file:"):
                clean = _strip_userinfo(url)[0]
                keys[cache_key(clean)] = keys[extract_key(clean)] = url
        found = self.store.local_reads(local) if local else set()
        return found | {keys[key] for key in self.store.stored_files(list(keys))}

    def remember_local_reads(self, urls: Sequence[str]) -> None:
        """Note `file:` URLs a run read, for `read_before` in later runs (a hint of what will
        be wanted again; the files themselves are not kept)."""
        if not self.no_cache:
            self.store.remember_local_reads([url for url in urls if url.startswith("file:")])

    def _from_cache(self, url: str, accept: str | None, immutable: bool) -> Fetched | None:
        """The fast path: the stored entry for `url`, if hishel would serve it as it is."""
        if immutable:
            stored = self.store.file(cache_key(url))
            if stored is not None:
                return Fetched(url, 200, stored[0], stored[1], from_cache=True)
            if not self.offline:
                return None
        key = cache_key(url)
        head_bytes = self.store.response_head_of(key)
        if head_bytes is None:
            return None
        try:
            head = json.loads(head_bytes)
            request, response = head["request"], head["response"]
            status = int(response["status"])
            headers = {k.lower(): list(v) for k, v in response["headers"].items()}
            method = request["method"]
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        if status != 200 or method != "GET":
            return None
        if not (immutable or self.offline) and (
                request.get("url") != url
                or not _fresh(request, headers, accept or "*/*", time.time())):
            return None
        if _still_encoded(headers):
            return None  # (bodies are stored decoded; one urllib3 could not decode is odd)
        # The body only now: a stale page's (megabytes for big projects) would be read for
        # nothing. Read with its head, so an entry replaced meanwhile is not served.
        body = self.store.response_body(key, head_bytes)
        if body is None:
            return None
        return Fetched(url, 200, body, _one(headers, "content-type"), from_cache=True)

    def _get_file(self, url: str) -> Fetched:
        if os.name == "posix" and url.startswith("file:///") and not any(
                c in url for c in "%?#\t\r\n"):
            path = url[7:]  # what url2pathname would give, without parsing
        else:
            parts = urlsplit(url)
            path = url2pathname(parts.path)
            if parts.netloc not in ("", "localhost"):
                path = f"//{parts.netloc}{url2pathname(parts.path)}"
        try:
            data = read_file(path, self.read_log)
        except FileNotFoundError:
            return Fetched(url, 404, b"")
        except IsADirectoryError as exc:
            raise HttpError(f"{url} is a directory", url) from exc
        except OSError as exc:
            raise HttpError(f"cannot read {url}: {exc.strerror}", url) from exc
        content_type = None
        suffix = os.path.splitext(path)[1]
        if suffix == ".json":
            content_type = "application/vnd.pypi.simple.v1+json"
        elif suffix in (".html", ".htm"):
            content_type = "text/html"
        return Fetched(url, 200, data, content_type)

    def forget(self, url: str) -> None:
        """Drop `url` from the cache (a cached file that failed its hash check)."""
        if not self.no_cache:
            clean, _ = _strip_userinfo(url)
            key = cache_key(clean)
            self.store.remove_file(key)
            self.store.remove_response(key=key)
