"""Build real package indexes on disk, and serve them over real HTTP(S), for tests and benchmarks.

Two entry points, both reusable outside the tests (benchmarks, packse conformance):

* `build_index(spec, root)` writes real wheels (zip: ``METADATA``, ``WHEEL``, ``RECORD``) and
  sdists (tar.gz with ``PKG-INFO``) for a packse-style spec, plus a simple index over them::

      root/files/<wheel or sdist>            the distributions
      root/files/<file>.metadata             PEP 658 metadata (with pep658=True)
      root/simple/index.html (+ index.json)  the project list
      root/simple/<name>/index.html          PEP 503 page (relative links, sha256 fragments)
      root/simple/<name>/index.json          PEP 691 page (with json=True)

  It returns ``root/simple``, usable as a ``file://`` index at once.

* `serve(root)` runs a `http.server.ThreadingHTTPServer` on 127.0.0.1 in a thread and yields its
  base URL (the index is at ``url.index_url``). It negotiates JSON/HTML on ``Accept`` for
  project pages, answers conditional requests (``ETag``/``Last-Modified`` → 304), redirects
  un-normalized project names (301), can demand Basic auth, serve HTTPS with a `trustme` CA
  (``url.ca_file`` for the client's ``verify=``), and inject faults: ``"500"``, ``"hang"``
  (longer than any sane client timeout), ``"truncate"`` (half the promised body, then close),
  ``"wrong-hash"`` (the file's bytes changed after its hash was published). Files are served
  in part for a ``Range`` request (206), unless ``ranges=False``.

The spec is packse's ``packages`` table: ``{name: {version: {...}}}`` (a ``{"versions": {...}}``
level in between is accepted too, as packse writes it). Per-version keys: ``requires``,
``extras`` ({extra: [requirements]}), ``requires_python``, ``yanked`` (bool, or a reason string),
``wheel_tags`` (default ``["py3-none-any"]``, one wheel per entry), ``wheel``/``sdist`` (default
true), and knobs for bad files: ``sdist_metadata_version`` (default "2.2"), ``dynamic`` (PKG-INFO
Dynamic fields), ``metadata_version_override`` (METADATA claims another version),
``corrupt_wheel`` (the wheel is not a zip), ``wheel_padding`` (that many incompressible bytes
of package data before the ``.dist-info`` members, as a real wheel of that size),
``upload_time`` (PEP 700's ``upload-time`` on the JSON page), ``wheel_modules`` (that many
small modules before them, as a wide wheel: torch's list 12,482
files, so the directory outgrows the end of the wheel a range read fetches first),
``wheel_dist_info_first`` (the ``.dist-info`` members before the modules instead, as torch's
2.2-2.7 wheels on PyPI have them: a range read finds them only in the whole directory). For sdists
that must be built: ``sdist_backend``
(the source of an in-tree PEP 517 backend module, ``_backend/depsat_test_backend.py`` in the
sdist, named by ``backend-path``, so a build needs nothing downloaded), ``build_requires``
(``[build-system] requires``, default none) and ``build_backend`` (the backend's name, default
``depsat_test_backend``). ``sdist_padding``: that many incompressible bytes of sources
after ``PKG-INFO`` (setuptools sorts the entries), or before it with ``sdist_layout`` "last"
(older setuptools) or "egg-info" (the same, with the ``.egg-info/PKG-INFO`` copy first).
An sdist's ``pyproject.toml`` has a ``[project]`` table whose dependencies are dynamic, unless
``sdist_pyproject_static`` (then it states the spec's ``requires`` and ``extras``); with
``sdist_pyproject`` false it has none (a setup.py-only sdist).
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import gzip
import hashlib
import html
import io
import json as jsonlib
import random
import re
import ssl
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterator, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name

__all__ = ["BaseUrl", "Fault", "build_index", "load_scenario_packages", "serve"]

_FIXED_TIME = (2024, 1, 1, 0, 0, 0)
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def _dist_stem(name: str, version: str) -> str:
    return f"{canonicalize_name(name).replace('-', '_')}-{version}"


def _metadata_text(name: str, version: str, meta: Mapping[str, Any], metadata_version: str,
                   dynamic: list[str] | None = None) -> str:
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}"]
    if meta.get("requires_python"):
        lines.append(f"Requires-Python: {meta['requires_python']}")
    for field in dynamic or []:
        lines.append(f"Dynamic: {field}")
    lines.extend(f"Requires-Dist: {req}" for req in meta.get("requires", []))
    for extra, requirements in (meta.get("extras") or {}).items():
        lines.append(f"Provides-Extra: {extra}")
        for req in requirements:
            marker = f'extra == "{extra}"'
            if ";" in req:
                base, _, existing = req.partition(";")
                lines.append(f"Requires-Dist: {base.strip()} ; ({existing.strip()}) and {marker}")
            else:
                lines.append(f"Requires-Dist: {req} ; {marker}")
    return "\n".join(lines) + "\n\n"


def _zip(members: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(zipfile.ZipInfo(member, _FIXED_TIME), data)
    return buffer.getvalue()


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest},{len(data)}"


def _wheel(name: str, version: str, tag: str, metadata: str, padding: int = 0,
           modules: int = 0, dist_info_first: bool = False) -> bytes:
    stem = _dist_stem(name, version)
    module = canonicalize_name(name).replace("-", "_")
    tags = []
    pythons, abis, platforms = tag.split("-")
    for py in pythons.split("."):
        for abi in abis.split("."):
            for plat in platforms.split("."):
                tags.append(f"Tag: {py}-{abi}-{plat}")
    files = {f"{module}/__init__.py": f"__version__ = {version!r}\n".encode()}
    for number in range(modules):  # a wide wheel: its directory outgrows a range read's tail
        files[f"{module}/module_{number:05}.py"] = f"NUMBER = {number}\n".encode()
    if padding:  # package data, before .dist-info as wheel builders write it
        files[f"{module}/padding.bin"] = random.Random(f"{stem}-{tag}").randbytes(padding)
    files |= {
        f"{stem}.dist-info/METADATA": metadata.encode(),
        f"{stem}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: depsat-tests\nRoot-Is-Purelib: true\n"
            + "\n".join(tags) + "\n").encode(),
    }
    record = "".join(f"{path},{_record_hash(data)}\n" for path, data in files.items())
    record += f"{stem}.dist-info/RECORD,,\n"
    files[f"{stem}.dist-info/RECORD"] = record.encode()
    if dist_info_first:  # (as torch 2.2-2.7 wheels on PyPI list it: modules last)
        files = dict(sorted(files.items(), key=lambda item: ".dist-info/" not in item[0]))
    return _zip(files)


def _sdist(name: str, version: str, pkg_info: str, *, backend: str | None = None,
           build_requires: list[str] | None = None,
           build_backend: str = "depsat_test_backend", padding: int = 0,
           layout: str = "sorted", stated: Mapping[str, Any] | None = None,
           pyproject: bool = True) -> bytes:
    stem = _dist_stem(name, version)
    # [project] as a setup.py-computed project has it (dependencies dynamic), or, `stated`,
    # with the spec's dependencies written out
    dynamic = ('dynamic = ["dependencies", "optional-dependencies"]\n' if stated is None
               else f"dependencies = {jsonlib.dumps(list(stated.get('requires', [])))}\n"
               + "".join(f"optional-dependencies.{extra} = {jsonlib.dumps(list(lines))}\n"
                         for extra, lines in stated.get("extras", {}).items()))
    members = {
        f"{stem}/PKG-INFO": pkg_info.encode(),
        f"{stem}/pyproject.toml": (
            '[build-system]\nrequires = ["setuptools"]\nbuild-backend = '
            f'"setuptools.build_meta"\n\n[project]\nname = "{name}"\nversion = "{version}"\n'
            + dynamic).encode(),
    }
    if not pyproject:
        del members[f"{stem}/pyproject.toml"]
    if padding:  # sources, incompressible: after PKG-INFO as setuptools sorts them
        members[f"{stem}/src/padding.bin"] = random.Random(stem).randbytes(padding)
    if layout in ("last", "egg-info"):  # older setuptools: walked order, PKG-INFO last
        top = members.pop(f"{stem}/PKG-INFO")
        if layout == "egg-info":  # … and its .egg-info copy first
            members = {f"{stem}/{name}.egg-info/PKG-INFO": top, **members}
        members[f"{stem}/PKG-INFO"] = top
    if backend is not None:
        members[f"{stem}/pyproject.toml"] = (
            f"[build-system]\nrequires = {jsonlib.dumps(build_requires or [])}\n"
            f'build-backend = "{build_backend}"\nbackend-path = ["_backend"]\n').encode()
        members[f"{stem}/_backend/depsat_test_backend.py"] = backend.encode()
    return gzip.compress(tar_archive(members), mtime=0)  # reproducible: same spec, same bytes


def tar_archive(members: Mapping[str, bytes]) -> bytes:
    """An uncompressed tar of these files, in this order (dated 2024-01-01: reproducible)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for member, data in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            info.mtime = 1704067200
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _versions(package: Mapping[str, Any]) -> Mapping[str, Any]:
    versions = package.get("versions")
    return versions if isinstance(versions, dict) else package


def _link_attributes(entry: Mapping[str, Any]) -> str:
    attributes = []
    if entry.get("requires_python"):
        attributes.append(f'data-requires-python="{html.escape(entry["requires_python"])}"')
    if entry["yanked"] is not False:
        reason = entry["yanked"] if isinstance(entry["yanked"], str) else ""
        attributes.append(f'data-yanked="{html.escape(reason)}"')
    if entry.get("metadata_sha256"):
        value = f"sha256={entry['metadata_sha256']}"
        attributes.append(f'data-core-metadata="{value}" data-dist-info-metadata="{value}"')
    return (" " + " ".join(attributes)) if attributes else ""


def build_index(spec: Mapping[str, Any], root: Path, *, pep658: bool = True,
                json: bool = True) -> Path:
    """Write distributions and a simple index for `spec` under `root`; return ``root/simple``."""
    files_dir = root / "files"
    simple = root / "simple"
    files_dir.mkdir(parents=True, exist_ok=True)
    simple.mkdir(parents=True, exist_ok=True)
    project_names: list[str] = []
    for raw_name, package in spec.items():
        name = canonicalize_name(raw_name)
        project_names.append(name)
        entries: list[dict[str, Any]] = []
        for version, meta in _versions(package or {}).items():
            meta = meta or {}
            yanked = meta.get("yanked", False)
            metadata = _metadata_text(raw_name, meta.get("metadata_version_override", version),
                                      meta, "2.1")
            made: list[tuple[str, bytes, str | None]] = []
            if meta.get("wheel", True):
                for tag in meta.get("wheel_tags") or ["py3-none-any"]:
                    data = (b"this is not a zip file" if meta.get("corrupt_wheel")
                            else _wheel(raw_name, version, tag, metadata,
                                        int(meta.get("wheel_padding", 0)),
                                        int(meta.get("wheel_modules", 0)),
                                        bool(meta.get("wheel_dist_info_first", False))))
                    made.append((f"{_dist_stem(raw_name, version)}-{tag}.whl", data, metadata))
            if meta.get("sdist", True):
                pkg_info = _metadata_text(raw_name, meta.get("metadata_version_override", version),
                                          meta, meta.get("sdist_metadata_version", "2.2"),
                                          meta.get("dynamic"))
                made.append((f"{_dist_stem(raw_name, version)}.tar.gz",
                             _sdist(raw_name, version, pkg_info, backend=meta.get("sdist_backend"),
                                    build_requires=meta.get("build_requires"),
                                    build_backend=meta.get("build_backend",
                                                           "depsat_test_backend"),
                                    padding=int(meta.get("sdist_padding", 0)),
                                    layout=meta.get("sdist_layout", "sorted"),
                                    stated=meta if meta.get("sdist_pyproject_static")
                                    else None,
                                    pyproject=meta.get("sdist_pyproject", True)),
                             pkg_info))
            for filename, data, metadata_text in made:
                (files_dir / filename).write_bytes(data)
                entry: dict[str, Any] = {
                    "filename": filename,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "size": len(data),
                    "requires_python": meta.get("requires_python"),
                    "upload_time": meta.get("upload_time"),
                    "yanked": yanked if isinstance(yanked, str) else bool(yanked),
                }
                if pep658 and metadata_text is not None:
                    metadata_bytes = metadata_text.encode()
                    (files_dir / f"{filename}.metadata").write_bytes(metadata_bytes)
                    entry["metadata_sha256"] = hashlib.sha256(metadata_bytes).hexdigest()
                entries.append(entry)
        _write_project_pages(simple / name, raw_name, entries, json=json,
                             versions=list(_versions(package or {})))
    links = "\n".join(f'    <a href="{n}/">{n}</a><br/>' for n in sorted(project_names))
    (simple / "index.html").write_text(_html_page("Simple index", links))
    if json:
        (simple / "index.json").write_text(jsonlib.dumps({
            "meta": {"api-version": "1.1"},
            "projects": [{"name": n} for n in sorted(project_names)],
        }))
    return simple


def _html_page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        '    <meta name="pypi:repository-version" content="1.1">\n'
        f"    <title>{html.escape(title)}</title>\n  </head>\n  <body>\n{body}\n  </body>\n"
        "</html>\n"
    )


def _write_project_pages(directory: Path, name: str, entries: list[dict[str, Any]], *,
                         json: bool, versions: list[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    links = "\n".join(
        f'    <a href="../../files/{e["filename"]}#sha256={e["sha256"]}"'
        f'{_link_attributes(e)}>{html.escape(e["filename"])}</a><br/>'
        for e in entries
    )
    (directory / "index.html").write_text(_html_page(f"Links for {name}", links))
    if not json:
        return
    files = []
    for e in entries:
        item: dict[str, Any] = {
            "filename": e["filename"],
            "url": f"../../files/{e['filename']}",
            "hashes": {"sha256": e["sha256"]},
            "size": e["size"],
            "yanked": e["yanked"],
        }
        if e.get("requires_python"):
            item["requires-python"] = e["requires_python"]
        if e.get("upload_time"):  # (PEP 700: JSON pages only)
            item["upload-time"] = e["upload_time"]
        if e.get("metadata_sha256"):
            item["core-metadata"] = {"sha256": e["metadata_sha256"]}
            item["dist-info-metadata"] = {"sha256": e["metadata_sha256"]}
        files.append(item)
    (directory / "index.json").write_text(jsonlib.dumps({
        "meta": {"api-version": "1.1"}, "name": name, "files": files, "versions": versions,
    }, indent=1))


def load_scenario_packages(path: Path) -> dict[str, Any]:
    """A packse scenario's ``packages`` table with packse's defaults applied
    (``requires_python = ">=3.12"`` unless a version says otherwise), ready for `build_index`."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    data = tomllib.loads(path.read_text())
    packages: dict[str, Any] = {}
    for name, package in (data.get("packages") or {}).items():
        packages[name] = {}
        for version, meta in _versions(package or {}).items():
            meta = dict(meta or {})
            meta.setdefault("requires_python", ">=3.12")
            packages[name][version] = meta
    return packages


# -- serving -----------------------------------------------------------------------------

class Fault:
    """A fault injected by the test server: `kind` on every path containing `match`."""

    KINDS = ("500", "hang", "truncate", "wrong-hash")

    def __init__(self, kind: str, match: str = "") -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {self.KINDS}")
        self.kind = kind
        self.match = match


class BaseUrl(str):
    """The served root URL (a `str`, ending in "/"), with what a test needs to know about it."""

    index_url: str
    """``<url>simple/``: the simple index."""
    ca_file: str | None
    """The trustme CA's PEM file for HTTPS servers (pass as the client's ``verify``)."""
    requests: list[tuple[str, str, str]]
    """(method, path, Accept header) of every request received, in order."""
    sent: list[tuple[str, int]]
    """(path, bytes of body) of every response sent with a body, in order."""


def _accepts_json(accept: str) -> bool:
    """Whether the client prefers PEP 691 JSON over HTML."""
    best_json = best_html = -1.0
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                with contextlib.suppress(ValueError):
                    quality = float(value)
        if media in (JSON_TYPE, "application/vnd.pypi.simple.latest+json"):
            best_json = max(best_json, quality)
        elif media in ("text/html", "application/vnd.pypi.simple.v1+html", "*/*"):
            best_html = max(best_html, quality)
    return best_json > 0 and best_json >= best_html


def _make_handler(root: Path, fault: Fault | None, auth: tuple[str, str] | None,
                  hang_seconds: float, stop: threading.Event,
                  log: list[tuple[str, str, str]], max_age: int | None,
                  nodelay: bool = True, ranges: bool = True,
                  sent: list[tuple[str, int]] | None = None,
                  last_modified: bool = True, latency: float = 0.0) -> type:
    expected_auth = None
    if auth is not None:
        expected_auth = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # TCP_NODELAY: `http.server` sends a response's head and body in two writes; with
        # Nagle's algorithm on, the body waits for the client's delayed ACK of the head
        # (about 40 ms on Linux) on every keep-alive request. Real servers (nginx's
        # ``tcp_nodelay on``) do not do that.
        disable_nagle_algorithm = nodelay

        def log_message(self, format: str, *args: Any) -> None:
            pass

        head_only = False

        def do_HEAD(self) -> None:
            """As GET, without the body (uv asks first whether a wheel serves ranges)."""
            self.head_only = True
            try:
                self.do_GET()
            finally:
                self.head_only = False

        def do_GET(self) -> None:
            log.append(("HEAD" if self.head_only else "GET", self.path,
                        self.headers.get("Accept", "")))
            if latency:
                stop.wait(latency)  # a far server: each answer leaves this much later
            if expected_auth is not None and self.headers.get("Authorization") != expected_auth:
                self._send(401, b"authentication required", "text/plain",
                           {"WWW-Authenticate": 'Basic realm="depsat-tests"'})
                return
            path = unquote(urlsplit(self.path).path)
            active = fault if fault is not None and fault.match in path else None
            if active is not None and active.kind == "500":
                self._send(500, b"internal server error (injected)", "text/plain")
                return
            if active is not None and active.kind == "hang":
                stop.wait(hang_seconds)
                self.close_connection = True
                return
            parts = [p for p in path.split("/") if p]
            if (len(parts) >= 2 and parts[-2] == "simple"
                    and parts[-1] != canonicalize_name(parts[-1])):
                location = "/" + "/".join([*parts[:-1], canonicalize_name(parts[-1])]) + "/"
                self._send(301, b"", "text/plain", {"Location": location})
                return
            target = (root / "/".join(parts)).resolve()
            if not target.is_relative_to(root.resolve()):
                self._send(404, b"not found", "text/plain")
                return
            if target.is_dir():
                if not path.endswith("/"):
                    self._send(301, b"", "text/plain", {"Location": path + "/"})
                    return
                wants_json = _accepts_json(self.headers.get("Accept", ""))
                if wants_json and (target / "index.json").is_file():
                    target, content_type = target / "index.json", JSON_TYPE
                else:
                    target, content_type = target / "index.html", "text/html; charset=utf-8"
            elif target.name.endswith(".metadata"):
                content_type = "application/octet-stream"
            elif target.suffix in (".html", ".htm"):
                content_type = "text/html; charset=utf-8"
            elif target.suffix == ".json":
                content_type = "application/json"
            elif target.suffix == ".whl":
                content_type = "application/zip"
            else:
                content_type = "application/octet-stream"
            if not target.is_file():
                self._send(404, b"not found", "text/plain")
                return
            body = target.read_bytes()
            if active is not None and active.kind == "wrong-hash":
                body = body + b"tampered"
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            modified = email.utils.formatdate(target.stat().st_mtime, usegmt=True)
            extra = {"ETag": etag, "Vary": "Accept"}
            if last_modified:
                extra["Last-Modified"] = modified
            if max_age is not None:
                extra["Cache-Control"] = f"max-age={max_age}"
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", None, extra)
                return
            if active is not None and active.kind == "truncate":
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if ranges:
                extra["Accept-Ranges"] = "bytes"
            wanted = self.headers.get("Range")
            if wanted and ranges and not self.head_only:
                self._send_range(wanted, body, content_type)
                return
            self._send(200, body, content_type, extra)

        def _send_range(self, wanted: str, body: bytes, content_type: str) -> None:
            """One ``bytes=a-b``, ``bytes=a-`` or ``bytes=-n`` range, as real servers do."""
            found = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted.strip())
            size = len(body)
            if found is None or found.groups() == ("", ""):
                self._send(400, b"bad range", "text/plain")
                return
            first, last = found.groups()
            if not first:
                start, end = max(0, size - int(last)), size - 1
            else:
                start, end = int(first), min(size - 1, int(last)) if last else size - 1
            if start >= size or start > end:
                self._send(416, b"", "text/plain", {"Content-Range": f"bytes */{size}"})
                return
            self._send(206, body[start:end + 1], content_type,
                       {"Content-Range": f"bytes {start}-{end}/{size}",
                        "Accept-Ranges": "bytes"})

        def _send(self, status: int, body: bytes, content_type: str | None,
                  headers: Mapping[str, str] | None = None) -> None:
            self.send_response(HTTPStatus(status))
            if content_type:
                self.send_header("Content-Type", content_type)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304 and not self.head_only:
                if sent is not None:  # before writing: the client may look once it has read
                    sent.append((self.path, len(body)))
                self.wfile.write(body)

    return Handler


class _Server(ThreadingHTTPServer):
    """`ThreadingHTTPServer` with a listen backlog of 128, not `socketserver`'s 5: a client
    opening 32 connections at once (depsat's fetch pool, uv's downloads) otherwise has some
    of its SYNs dropped, and each waits a second to send it again (cold runs at 1000 x 10
    went 1.4 s -> 2.4 s now and then). Real servers listen with hundreds (nginx: 511)."""

    request_queue_size = 128


@contextlib.contextmanager
def serve(root: Path, *, https: bool = False, fault: Fault | str | None = None,
          auth: tuple[str, str] | None = None, hang_seconds: float = 10.0,
          max_age: int | None = None, nagle: bool = False,
          ranges: bool = True, last_modified: bool = True,
          latency: float = 0.0) -> Iterator[BaseUrl]:
    """Serve `root` (as laid out by `build_index`) on 127.0.0.1; yield its `BaseUrl`.

    Files are served whole or, for a ``Range: bytes=...`` request, in part (206), as real
    servers do; `ranges=False` ignores ``Range`` (the whole file, 200), as some do.

    Connections set TCP_NODELAY unless `nagle` (kept to measure what Nagle's algorithm costs).
    `last_modified=False` leaves out ``Last-Modified``: with no `max_age` either, a response
    carries no freshness information at all, only its ``ETag`` (as some mirrors serve).
    `latency` seconds pass before each request is answered, as from a server far away (each
    connection has its own thread, so concurrent requests wait together).

    The server thread is stopped, and hanging handlers released, when the block exits."""
    if isinstance(fault, str):
        fault = Fault(fault)
    stop = threading.Event()
    log: list[tuple[str, str, str]] = []
    sent: list[tuple[str, int]] = []
    handler = _make_handler(root, fault, auth, hang_seconds, stop, log, max_age,
                            nodelay=not nagle, ranges=ranges, sent=sent,
                            last_modified=last_modified, latency=latency)
    server = _Server(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    ca_file: str | None = None
    ca_dir: contextlib.ExitStack = contextlib.ExitStack()
    if https:
        import tempfile

        import trustme

        ca = trustme.CA()
        certificate = ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        tmp = Path(ca_dir.enter_context(tempfile.TemporaryDirectory(prefix="depsat-ca-")))
        ca_file = str(tmp / "ca.pem")
        ca.cert_pem.write_to_path(ca_file)
    port = server.server_address[1]
    url = BaseUrl(f"{'https' if https else 'http'}://127.0.0.1:{port}/")
    url.index_url = f"{url}simple/"
    url.ca_file = ca_file
    url.requests = log
    url.sent = sent
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"indexbuild-server-{port}", daemon=True)
    thread.start()
    try:
        yield url
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        ca_dir.close()
        time.sleep(0)
