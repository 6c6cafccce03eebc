"""A forward HTTP proxy on 127.0.0.1 for tests: plain requests are forwarded, HTTPS goes
through a CONNECT tunnel, as corporate proxies (squid and the like) do.

Written here rather than taken from a package: the tests need to see what the proxy was asked
(request lines and Proxy-Authorization) and to demand credentials, in about a hundred lines of
the standard library, while proxy packages are whole servers with their own CLI and plugins.
"""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import attrs

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authorization", "proxy-connection",
                         "te", "trailer", "transfer-encoding", "upgrade"})


@attrs.define
class Proxy:
    """A running proxy: its URL, and what it was asked (method, target, Proxy-Authorization)."""

    url: str
    asked: list[tuple[str, str, str | None]] = attrs.field(factory=list)


def _handler(proxy: Proxy, credentials: str | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _allowed(self) -> bool:
            given = self.headers.get("Proxy-Authorization")
            proxy.asked.append((self.command, self.path, given))
            if credentials is None or given == credentials:
                return True
            self.send_response(407)
            self.send_header("Proxy-Authenticate", 'Basic realm="test proxy"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False

        def do_CONNECT(self) -> None:
            if not self._allowed():
                return
            host, _, port = self.path.rpartition(":")
            try:
                upstream = socket.create_connection((host, int(port)), timeout=5)
            except OSError:
                self.send_error(502)
                return
            self.send_response(200, "Connection established")
            self.end_headers()
            self.close_connection = True
            sockets = [self.connection, upstream]
            with upstream:
                while True:
                    readable, _, _ = select.select(sockets, [], [], 5)
                    if not readable:
                        return
                    for source in readable:
                        data = source.recv(65536)
                        if not data:
                            return
                        (upstream if source is self.connection else self.connection
                         ).sendall(data)

        def do_GET(self) -> None:
            if not self._allowed():
                return
            target = urlsplit(self.path)
            if target.scheme != "http" or not target.hostname:
                self.send_error(400, "a forward proxy wants an absolute http URL")
                return
            path = target.path + (f"?{target.query}" if target.query else "")
            headers = {name: value for name, value in self.headers.items()
                       if name.lower() not in _HOP_BY_HOP}
            upstream = http.client.HTTPConnection(target.hostname, target.port or 80,
                                                  timeout=5)
            try:
                upstream.request("GET", path, headers=headers)
                response = upstream.getresponse()
                body = response.read()
            except OSError:
                self.send_error(502)
                return
            finally:
                upstream.close()
            self.send_response(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextlib.contextmanager
def forward_proxy(credentials: str | None = None) -> Iterator[Proxy]:
    """Run a proxy on 127.0.0.1 until the block exits; `credentials` (a whole
    ``Proxy-Authorization`` value) makes it answer 407 to requests without them."""
    proxy = Proxy("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy, credentials))
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
