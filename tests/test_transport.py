"""The two HTTP transports (libcurl, urllib3) against one real server on 127.0.0.1: the same
request gives the same response, and each failure is the same kind of error."""

from __future__ import annotations

import gzip
import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from depsat.sources._transport import (
    BadResponse,
    Transport,
    TransportError,
    WireResponse,
    _fields,
    make_transport,
)
from depsat.sources.http import HttpClient

BODY = b"Metadata-Version: 2.1\nName: lib\nVersion: 1.0\n" * 40


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real indexes
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        if self.path == "/moved":
            self._send(301, b"", [("Location", "/plain")])
        elif self.path == "/plain":
            self._send(200, BODY, [("Content-Type", "text/plain"), ("X-Twice", "one"),
                                   ("X-Twice", "two")])
        elif self.path == "/zipped":
            zipped = "gzip" in self.headers.get("Accept-Encoding", "")
            self._send(200, gzip.compress(BODY) if zipped else BODY,
                       [("Content-Encoding", "gzip")] if zipped else [])
        elif self.path == "/corrupt-gzip":
            self._send(200, b"this is not gzip at all", [("Content-Encoding", "gzip")])
        elif self.path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY[:100])
            self.close_connection = True
        else:
            self._send(404, b"not here", [])

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def _transport(name: str) -> Transport:
    if name == "curl":
        pytest.importorskip("pycurl")
    return make_transport(name, verify=True, timeout=5.0, max_connections=4)


HEADERS = {"User-Agent": "depsat-test", "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
NAMES = ["curl", "urllib3"]


@pytest.mark.parametrize("name", NAMES)
def test_each_transport_reads_what_the_server_sent(base: str, name: str) -> None:
    transport = _transport(name)
    try:
        plain = transport.get(f"{base}/plain", HEADERS, None)
        assert (plain.status, plain.content) == (200, BODY)
        assert plain.merged()["x-twice"] == "one, two"
        assert plain.grouped()["content-type"] == ["text/plain"]
        moved = transport.get(f"{base}/moved", HEADERS, None)
        assert (moved.status, moved.merged()["location"]) == (301, "/plain")  # not followed
        missing = transport.get(f"{base}/nothing", HEADERS, None)
        assert (missing.status, missing.content) == (404, b"not here")
        zipped = transport.get(f"{base}/zipped", HEADERS, ("user", "pa:ss"))
        assert zipped.content == BODY  # decoded, the coding still named
        assert zipped.merged()["content-encoding"] == "gzip"
        assert "gzip" in transport.decoded
        sent = _Handler.seen[-1]
        assert sent["authorization"] == "Basic dXNlcjpwYTpzcw=="  # user:pa:ss
        assert (sent["user-agent"], sent["accept"]) == ("depsat-test", "*/*")
        assert sent["accept-encoding"] == "gzip, deflate"
    finally:
        transport.close()


def test_both_transports_give_the_same_response(base: str) -> None:
    pytest.importorskip("pycurl")
    responses: dict[str, list[WireResponse]] = {}
    for name in NAMES:
        transport = _transport(name)
        try:
            responses[name] = [transport.get(f"{base}{path}", HEADERS, None)
                               for path in ("/plain", "/moved", "/zipped", "/nothing")]
        finally:
            transport.close()

    def comparable(response: WireResponse) -> tuple[Any, ...]:
        fields = response.grouped()
        fields.pop("date", None)  # the clock moved between the two
        return response.status, response.content, fields

    assert [comparable(r) for r in responses["curl"]] == [
        comparable(r) for r in responses["urllib3"]]


@pytest.mark.parametrize("name", NAMES)
def test_a_short_body_is_a_transport_error_and_a_bad_encoding_is_final(
        base: str, name: str) -> None:
    transport = _transport(name)
    try:
        with pytest.raises(TransportError):
            transport.get(f"{base}/truncated", HEADERS, None)
        with pytest.raises(BadResponse):
            transport.get(f"{base}/corrupt-gzip", HEADERS, None)
        with pytest.raises(TransportError):  # nothing listens on port 9 of 127.0.0.1
            transport.get("http://127.0.0.1:9/", HEADERS, None)
        assert transport.get(f"{base}/plain", HEADERS, None).content == BODY  # still usable
    finally:
        transport.close()


def test_curl_head_fields_keep_only_the_final_response() -> None:
    head = [b"HTTP/1.1 100 Continue\r\n", b"\r\n", b"HTTP/1.1 200 OK\r\n",
            b"Content-Type: text/html\r\n", b"X-Long: first\r\n", b"  second\r\n",
            b"X-Twice: a\r\n", b"X-Twice: b\r\n", b"\r\n"]
    assert _fields(head) == (("Content-Type", "text/html"), ("X-Long", "first second"),
                             ("X-Twice", "a"), ("X-Twice", "b"))


def test_choosing_a_transport(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown HTTP transport 'h2c'"):
        HttpClient(cache_dir=tmp_path, transport="h2c")  # told at once, not at a first fetch
    monkeypatch.delenv("DEPSAT_HTTP_TRANSPORT", raising=False)
    context = ssl.create_default_context()
    assert make_transport("auto", verify=context, timeout=1, max_connections=1).name == "urllib3"
    assert make_transport("urllib3", verify=True, timeout=1, max_connections=1).name == "urllib3"
    with pytest.raises(ValueError, match="unknown HTTP transport 'h3'"):
        make_transport("h3", verify=True, timeout=1, max_connections=1)
    monkeypatch.setenv("DEPSAT_HTTP_TRANSPORT", "urllib3")
    assert make_transport("auto", verify=True, timeout=1, max_connections=1).name == "urllib3"
    monkeypatch.setenv("DEPSAT_HTTP_TRANSPORT", "carrier-pigeon")
    with pytest.raises(ValueError, match="DEPSAT_HTTP_TRANSPORT='carrier-pigeon'"):
        make_transport("auto", verify=True, timeout=1, max_connections=1)
    pytest.importorskip("pycurl")
    monkeypatch.delenv("DEPSAT_HTTP_TRANSPORT")
    assert make_transport("auto", verify=True, timeout=1, max_connections=1).name == "curl"
    with pytest.raises(ValueError, match=r"cannot use an ssl\.SSLContext"):
        make_transport("curl", verify=context, timeout=1, max_connections=1)
