"""One GET on the wire, for `depsat.sources._network.Network`: libcurl through pycurl when it
is installed (``pip install depsat[curl]``), urllib3 otherwise.

Why two: a cold resolve is bound by the client's CPU, and on 127.0.0.1 a GET through pycurl
costs about 0.10 ms of CPU where urllib3 costs 0.28-0.35 ms (`http.client` parses every
response head with the `email` package); at 1000 x 10 that was 12% of a cold resolve's wall
time. pycurl has no musllinux wheel (on Alpine pip builds it from source, given libcurl's
headers), so it stays optional and urllib3, pure Python, is always there. Both behave alike for
`Network`: no redirects followed, the same proxies (`Proxies`), bodies read whole with their
content codings undone, a short body an error, and the same three kinds of failure
(`TransportTimeout`, `TransportError`, `BadResponse`).

Proxies come from the environment, as pip and uv read them: ``http_proxy``, ``https_proxy``
and ``all_proxy`` (either case; credentials in the proxy's URL are sent to the proxy as
``Proxy-Authorization``), and ``no_proxy`` for the hosts to reach directly. Plain HTTP is
forwarded by the proxy; HTTPS goes through a ``CONNECT`` tunnel, so certificates are still
checked against the index's host. The standard library's `urllib.request` reads those
variables (the same rules as `requests`, which pip uses), and is imported only when one is
set.

Only this module imports either library; the choice is `HttpClient(transport=...)`:
``"auto"`` (pycurl when importable, unless `verify` is an `ssl.SSLContext`, which libcurl
cannot take), ``"curl"`` or ``"urllib3"``; the environment variable `DEPSAT_HTTP_TRANSPORT`
sets what ``"auto"`` means (benchmarks compare the two with it).
"""

from __future__ import annotations

import binascii
import math
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast
from urllib.parse import urlsplit, urlunsplit

import attrs

if TYPE_CHECKING:
    import ssl

    import pycurl
    import urllib3

__all__ = [
    "TRANSPORTS",
    "BadResponse",
    "Proxies",
    "Transport",
    "TransportError",
    "TransportTimeout",
    "WireResponse",
    "make_transport",
]

TRANSPORTS = ("auto", "curl", "urllib3")
_ENVIRONMENT = "DEPSAT_HTTP_TRANSPORT"


class TransportTimeout(Exception):
    """The server did not answer, or stopped sending, within the timeout."""


class TransportError(Exception):
    """A connection, TLS or protocol failure, or a truncated body: asking again may work."""


class BadResponse(Exception):
    """A response that asking again would not mend (a corrupt encoded body, a bad URL)."""


@attrs.frozen(slots=True)
class WireResponse:
    """A response as it came: status, header fields in order (names as sent), whole body."""

    status: int
    fields: tuple[tuple[str, str], ...]
    content: bytes = attrs.field(repr=False)

    def grouped(self) -> dict[str, list[str]]:
        """Lower-cased names to their values, in order."""
        grouped: dict[str, list[str]] = {}
        for name, value in self.fields:
            grouped.setdefault(name.lower(), []).append(value)
        return grouped

    def merged(self) -> dict[str, str]:
        """Lower-cased names to their values joined by ", "."""
        return {name: ", ".join(values) for name, values in self.grouped().items()}


class Transport(Protocol):
    """What `Network` needs of the wire."""

    name: str
    decoded: frozenset[str]
    """Content codings the transport undoes as it reads a body ("identity" included)."""

    def get(self, url: str, headers: Mapping[str, str],
            credentials: tuple[str, str] | None) -> WireResponse:
        """A GET with exactly these headers (plus credentials), not following redirects."""
        ...

    def close(self) -> None: ...


@attrs.frozen(slots=True)
class Proxies:
    """Which proxy, if any, each URL goes through: read once from the environment."""

    by_scheme: Mapping[str, str] = attrs.field(factory=dict)
    """``http``, ``https``, ``all`` (the fallback) and ``no`` (the bypass list), as
    `urllib.request.getproxies_environment` names them."""

    @classmethod
    def from_environment(cls) -> Proxies:
        """The proxies the environment names now (a transport reads them once)."""
        if not any(name.lower().endswith("_proxy") and value
                   for name, value in os.environ.items()):
            return cls()  # (the usual case: urllib.request, 15 ms, is not imported)
        import urllib.request

        return cls(urllib.request.getproxies_environment())

    def proxy_for(self, url: str) -> str | None:
        """The proxy URL for `url`, or None to connect directly."""
        if not self.by_scheme:
            return None
        parts = urlsplit(url)
        proxy = self.by_scheme.get(parts.scheme) or self.by_scheme.get("all")
        if not proxy:
            return None
        import urllib.request

        # (public, documented with getproxies_environment, but missing from typeshed)
        bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
        if bypass(parts.netloc, self.by_scheme):
            return None
        return proxy if "://" in proxy else f"http://{proxy}"


def _shown_proxy(proxy: str) -> str:
    """A proxy URL for messages: without its credentials."""
    parts = urlsplit(proxy)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _proxy_credentials(proxy: str) -> tuple[str, tuple[str, str] | None]:
    """The proxy's URL without userinfo, and the userinfo (percent-decoded) if any."""
    from urllib.parse import unquote

    parts = urlsplit(proxy)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return proxy, None
    user, _, password = userinfo.partition(":")
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return bare, (unquote(user), unquote(password))


def _basic_auth(credentials: tuple[str, str]) -> str:
    encoded = binascii.b2a_base64(":".join(credentials).encode("latin-1"), newline=False)
    return "Basic " + encoded.decode("ascii")


def _is_context(verify: object) -> bool:
    """Whether `verify` is an `ssl.SSLContext` (told without importing `ssl`, 20 ms, which
    `http.py`'s import of this module must not pay on a warm run)."""
    return not isinstance(verify, (bool, str, os.PathLike))


def _ca_file(verify: bool | str | Path) -> str | None:
    """The CA bundle both transports check certificates against (None: no checks):
    `verify`'s path, else SSL_CERT_FILE (a corporate or private CA), else certifi's bundle
    (as pip uses)."""
    if verify is False:
        return None
    if verify is True:
        found = os.environ.get("SSL_CERT_FILE")
        if found:
            return found
        import certifi

        return str(certifi.where())
    return str(verify)


def _ssl_context(verify: bool | str | Path | ssl.SSLContext) -> ssl.SSLContext | None:
    """The certificate checks for urllib3: a context as is, else one for `_ca_file`."""
    import ssl

    if isinstance(verify, ssl.SSLContext):
        return verify
    ca_file = _ca_file(verify)
    return None if ca_file is None else ssl.create_default_context(cafile=ca_file)


class Urllib3Transport:
    """urllib3's connection pools: per proxy (or none), one for plain HTTP and one for HTTPS
    (made on first use, since loading a CA bundle takes tens of milliseconds)."""

    name = "urllib3"

    def __init__(self, *, verify: bool | str | Path | ssl.SSLContext, timeout: float,
                 max_connections: int) -> None:
        import urllib3

        self._urllib3 = urllib3
        self.decoded = frozenset(urllib3.response.HTTPResponse.CONTENT_DECODERS) | {"identity"}
        self._verify = verify
        self._options: dict[str, Any] = {
            "num_pools": 32, "maxsize": max_connections, "retries": False,
            "timeout": urllib3.Timeout(connect=timeout, read=timeout)}
        self._proxies = Proxies.from_environment()
        self._lock = threading.Lock()
        self._managers: dict[tuple[str | None, bool], urllib3.PoolManager] = {}

    def _pool(self, proxy: str | None, secure: bool) -> urllib3.PoolManager:
        manager = self._managers.get((proxy, secure))  # (made once: no lock on every GET)
        if manager is not None:
            return manager
        with self._lock:
            manager = self._managers.get((proxy, secure))
            if manager is None:
                options = dict(self._options)
                if secure:
                    context = _ssl_context(self._verify)
                    if context is None:
                        options.update(cert_reqs="CERT_NONE", assert_hostname=False)
                    else:
                        options.update(ssl_context=context)
                if proxy is None:
                    manager = self._urllib3.PoolManager(**options)
                else:
                    bare, credentials = _proxy_credentials(proxy)
                    if credentials is not None:
                        options["proxy_headers"] = {
                            "Proxy-Authorization": _basic_auth(credentials)}
                    manager = self._urllib3.ProxyManager(bare, **options)
                self._managers[(proxy, secure)] = manager
            return manager

    def get(self, url: str, headers: Mapping[str, str],
            credentials: tuple[str, str] | None) -> WireResponse:
        exceptions = self._urllib3.exceptions
        sent = dict(headers)
        if credentials is not None:
            sent["Authorization"] = _basic_auth(credentials)
        proxy = self._proxies.proxy_for(url)
        via = "" if proxy is None else f" (through the proxy {_shown_proxy(proxy)})"
        try:
            response = self._pool(proxy, url.startswith("https:")).request(
                "GET", url, headers=sent, redirect=False, preload_content=True)
        except exceptions.NewConnectionError as exc:  # (a ConnectTimeoutError, for history)
            raise TransportError(_first_line(exc) + via) from exc
        except exceptions.TimeoutError as exc:
            raise TransportTimeout(str(exc) + via) from exc
        except (exceptions.DecodeError, exceptions.LocationValueError) as exc:
            raise BadResponse(str(exc)) from exc
        except exceptions.HTTPError as exc:  # connection, truncated body, TLS, proxy
            raise TransportError(_first_line(exc) + via) from exc
        return WireResponse(response.status, tuple(response.headers.items()), response.data)

    def close(self) -> None:
        with self._lock:
            managers = list(self._managers.values())
            self._managers.clear()
        for manager in managers:
            manager.clear()


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


_CURL_TIMEOUT = 28  # CURLE_OPERATION_TIMEDOUT
_CURL_PERMANENT = frozenset({
    1,   # CURLE_UNSUPPORTED_PROTOCOL
    3,   # CURLE_URL_MALFORMAT
    61,  # CURLE_BAD_CONTENT_ENCODING
})


class CurlTransport:
    """libcurl easy handles, one per thread (a handle is not thread-safe; each keeps its
    connections alive for the next request, so the fetch pool's workers bound the
    connections, where urllib3 has `max_connections`). `perform` releases the GIL for the whole
    transfer, and libcurl parses the response head in C.

    libcurl measures a stall in whole seconds (`LOW_SPEED_TIME`), so a timeout below one
    second waits one second for an answer that stopped coming."""

    name = "curl"
    decoded = frozenset({"gzip", "x-gzip", "deflate", "identity"})

    def __init__(self, *, verify: bool | str | Path, timeout: float) -> None:
        import pycurl

        self._pycurl = pycurl
        self._ca_file = _ca_file(verify)
        self._verify = verify is not False
        self._timeout = timeout
        self._proxies = Proxies.from_environment()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._handles: list[pycurl.Curl] = []
        # One DNS cache for every handle: with a lookup per handle, the fetch pool's first
        # burst (32 at once, `CONCURRENT_FETCHES`) left some waiting 5 s on this machine's
        # resolver (a cold jupyterlab resolve on PyPI: 6.1 s against 1.2 s). pycurl locks it.
        self._share = pycurl.CurlShare()
        self._share.setopt(pycurl.SH_SHARE, pycurl.LOCK_DATA_DNS)

    def _handle(self) -> pycurl.Curl:
        handle: pycurl.Curl | None = getattr(self._local, "handle", None)
        if handle is not None:
            return handle
        pycurl = self._pycurl
        handle = pycurl.Curl()
        handle.setopt(pycurl.NOSIGNAL, 1)  # threads: no SIGALRM for DNS timeouts
        handle.setopt(pycurl.SHARE, self._share)
        handle.setopt(pycurl.PROXY, "")  # set per request from `Proxies`, never libcurl's own
        handle.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(self._timeout * 1000)))
        handle.setopt(pycurl.LOW_SPEED_LIMIT, 1)
        handle.setopt(pycurl.LOW_SPEED_TIME, max(1, math.ceil(self._timeout)))
        handle.setopt(pycurl.SSL_VERIFYPEER, 1 if self._verify else 0)
        handle.setopt(pycurl.SSL_VERIFYHOST, 2 if self._verify else 0)
        if self._ca_file is not None:
            handle.setopt(pycurl.CAINFO, self._ca_file)
        self._local.handle = handle
        with self._lock:
            self._handles.append(handle)
        return handle

    def get(self, url: str, headers: Mapping[str, str],
            credentials: tuple[str, str] | None) -> WireResponse:
        pycurl = self._pycurl
        handle = self._handle()
        lines: list[str] = []
        encodings = ""
        for name, value in headers.items():
            if name.lower() == "accept-encoding":
                encodings = value  # libcurl sends it and undoes what it names
            else:
                lines.append(f"{name}: {value}")
        if credentials is not None:
            lines.append(f"Authorization: {_basic_auth(credentials)}")
        body: list[bytes] = []
        head: list[bytes] = []
        proxy = self._proxies.proxy_for(url)
        handle.setopt(pycurl.URL, url)
        handle.setopt(pycurl.PROXY, proxy or "")  # (libcurl reads a proxy's credentials in it)
        handle.setopt(pycurl.HTTPHEADER, lines)
        if encodings:
            handle.setopt(pycurl.ACCEPT_ENCODING, encodings)
        else:
            handle.unsetopt(pycurl.ACCEPT_ENCODING)
        handle.setopt(pycurl.WRITEFUNCTION, body.append)
        handle.setopt(pycurl.HEADERFUNCTION, head.append)
        try:
            handle.perform()
        except pycurl.error as exc:
            code, message = (*exc.args, 0, "")[:2]
            reason = str(message) or f"libcurl error {code}"
            if proxy is not None:
                reason += f" (through the proxy {_shown_proxy(proxy)})"
            if code == _CURL_TIMEOUT:
                raise TransportTimeout(reason) from exc
            if code in _CURL_PERMANENT:
                raise BadResponse(reason) from exc
            raise TransportError(reason) from exc
        return WireResponse(int(handle.getinfo(pycurl.RESPONSE_CODE)), _fields(head),
                            b"".join(body))

    def close(self) -> None:
        with self._lock:
            handles, self._handles = self._handles, []
        for handle in handles:
            handle.close()


def _fields(head: list[bytes]) -> tuple[tuple[str, str], ...]:
    """The header fields of the last response head libcurl saw (an interim 1xx head comes
    first, when a server sends one)."""
    fields: list[tuple[str, str]] = []
    for raw in head:
        line = raw.decode("latin-1").rstrip("\r\n")
        if line.startswith("HTTP/"):
            fields = []
            continue
        name, colon, value = line.partition(":")
        if colon and name and name[0] not in " \t":
            fields.append((name.strip(), value.strip()))
        elif fields and line[:1] in (" ", "\t"):  # an obsolete folded continuation
            name, previous = fields[-1]
            fields[-1] = (name, f"{previous} {line.strip()}")
    return tuple(fields)


def _curl_available() -> bool:
    try:
        import pycurl  # noqa: F401
    except ImportError:
        return False
    return True


def make_transport(choice: str, *, verify: bool | str | Path | ssl.SSLContext,
                   timeout: float, max_connections: int) -> Transport:
    """The transport `choice` names (see the module's docstring)."""
    if choice == "auto":
        choice = os.environ.get(_ENVIRONMENT, "auto") or "auto"
        if choice not in TRANSPORTS:
            raise ValueError(f"{_ENVIRONMENT}={choice!r}: expected one of "
                             f"{', '.join(TRANSPORTS)}")
        if choice == "auto":
            choice = "curl" if not _is_context(verify) and _curl_available() else "urllib3"
    if choice == "curl":
        if _is_context(verify):
            raise ValueError("the curl transport cannot use an ssl.SSLContext; pass a CA file")
        if not _curl_available():
            raise ValueError("the curl transport needs pycurl (pip install 'depsat[curl]')")
        return CurlTransport(verify=cast("bool | str | Path", verify), timeout=timeout)
    if choice == "urllib3":
        return Urllib3Transport(verify=verify, timeout=timeout,
                                max_connections=max_connections)
    raise ValueError(f"unknown HTTP transport {choice!r}: expected one of "
                     f"{', '.join(TRANSPORTS)}")
