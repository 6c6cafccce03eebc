"""Proxies from the environment (http_proxy, https_proxy, all_proxy, no_proxy), as pip and uv
honour them: through a real forward proxy on 127.0.0.1, on both HTTP transports."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import clean_env, quick_client
from forward_proxy import forward_proxy
from indexbuild import build_index, serve

from depsat.errors import SourceError
from depsat.model import canonicalize_name
from depsat.sources._transport import Proxies
from depsat.sources.index import IndexSource

SPEC = {"app": {"1.0": {"requires": ["lib>=1"]}}, "lib": {"1.0": {}, "2.0": {}}}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("proxied")
    build_index(SPEC, root)
    return root


@pytest.fixture
def server(index: Path, http_transport: str) -> Iterator[Any]:
    with serve(index) as url:
        yield url


def versions(source: IndexSource) -> list[str]:
    lib = source.candidates(canonicalize_name("lib"))
    assert source.metadata(lib[0])  # the PEP 658 file comes through the proxy too
    return sorted(str(c.version) for c in lib)


def test_plain_http_is_forwarded(server: Any, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with forward_proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        source = IndexSource(server.index_url, client=quick_client(tmp_path))
        assert versions(source) == ["1.0", "2.0"]
    targets = [target for method, target, _ in proxy.asked if method == "GET"]
    assert f"{server.index_url}lib/" in targets  # absolute URLs: a forward proxy's requests
    assert any(target.endswith(".metadata") for target in targets)


def test_no_proxy_goes_direct(server: Any, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    with forward_proxy() as proxy:
        monkeypatch.setenv("http_proxy", proxy.url)
        monkeypatch.setenv("no_proxy", "example.org, 127.0.0.1")
        source = IndexSource(server.index_url, client=quick_client(tmp_path))
        assert versions(source) == ["1.0", "2.0"]
    assert proxy.asked == []
    assert server.requests  # the index was asked directly


@pytest.mark.usefixtures("http_transport")
def test_https_goes_through_a_connect_tunnel(index: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with serve(index, https=True) as url, forward_proxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # (not for https URLs)
        source = IndexSource(url.index_url, client=quick_client(tmp_path, verify=url.ca_file))
        assert versions(source) == ["1.0", "2.0"]
        # The certificate is still checked against the index's host, inside the tunnel.
        untrusted = IndexSource(url.index_url, client=quick_client(tmp_path / "untrusted"))
        with pytest.raises(SourceError, match=r"(?i)certificate"):
            untrusted.candidates(canonicalize_name("lib"))
    host = url.split("//", 1)[1].rstrip("/")
    assert ("CONNECT", host, None) in proxy.asked
    assert all(method == "CONNECT" for method, _, _ in proxy.asked)


def test_proxy_credentials(server: Any, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    expected = "Basic " + base64.b64encode(b"bob:p@ss word").decode()
    with forward_proxy(credentials=expected) as proxy:
        port = proxy.url.rsplit(":", 1)[1]
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        refused = IndexSource(server.index_url, client=quick_client(tmp_path / "refused"))
        with pytest.raises(SourceError, match="407"):
            refused.candidates(canonicalize_name("lib"))

        monkeypatch.setenv("HTTP_PROXY", f"http://bob:p%40ss%20word@127.0.0.1:{port}")
        source = IndexSource(server.index_url, client=quick_client(tmp_path / "ok"))
        assert versions(source) == ["1.0", "2.0"]
    assert any(given == expected for _, _, given in proxy.asked)
    # Credentials go to the proxy only: never to the index, never into the cache.
    assert all(b"p@ss" not in path.read_bytes() and b"p%40ss" not in path.read_bytes()
               for path in (tmp_path / "ok").rglob("*") if path.is_file())


def test_an_unreachable_proxy_is_named(server: Any, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    monkeypatch.setenv("ALL_PROXY", f"http://carol:secret@127.0.0.1:{port}")
    source = IndexSource(server.index_url, client=quick_client(tmp_path))
    with pytest.raises(SourceError) as error:
        source.candidates(canonicalize_name("lib"))
    message = str(error.value)
    assert f"{server.index_url}lib/" in message
    assert f"through the proxy http://127.0.0.1:{port}" in message
    assert "secret" not in message and "carol" not in message


def test_the_cli_honours_the_environment(server: Any, tmp_path: Path) -> None:
    with forward_proxy() as proxy:
        env = {**clean_env(), "HTTP_PROXY": proxy.url}
        run = subprocess.run(
            [sys.executable, "-m", "depsat", "resolve", "app", "--index-url", server.index_url,
             "--cache-dir", str(tmp_path / "cache"), "--no-config", "--json"],
            capture_output=True, text=True, timeout=120, env=env, check=False)
    assert run.returncode == 0, run.stderr
    assert {step["name"]: step["version"] for step in json.loads(run.stdout)["packages"]} == {
        "app": "1.0", "lib": "2.0"}
    assert f"{server.index_url}app/" in [target for _, target, _ in proxy.asked]


@pytest.mark.parametrize(("environment", "url", "expected"), [
    ({}, "https://pypi.org/simple/", None),
    ({"https_proxy": "proxy:3128"}, "https://pypi.org/simple/", "http://proxy:3128"),
    ({"https_proxy": "http://proxy:3128"}, "http://pypi.org/simple/", None),
    ({"ALL_PROXY": "http://proxy:8080"}, "http://pypi.org/simple/", "http://proxy:8080"),
    ({"HTTP_PROXY": "http://a:1", "ALL_PROXY": "http://b:2"}, "http://x/", "http://a:1"),
    ({"ALL_PROXY": "http://b:2", "NO_PROXY": ".internal"}, "http://pkgs.internal/s/", None),
    ({"ALL_PROXY": "http://b:2", "NO_PROXY": "*"}, "http://x/", None),
    ({"ALL_PROXY": "http://b:2", "NO_PROXY": "x:81"}, "http://x:80/", "http://b:2"),
])
def test_which_proxy(environment: dict[str, str], url: str, expected: str | None,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert Proxies.from_environment().proxy_for(url) == expected
