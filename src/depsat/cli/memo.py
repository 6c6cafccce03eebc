"""Remembered resolutions: `depsat resolve` run again on unchanged inputs prints what it printed.

Why: a warm resolve still reads every cached page and metadata file it needs, parses them,
encodes and solves: 0.5-0.8 s at 1,000-3,000 projects, where uv (compiled) answers in
0.04 s. Most repeated runs (CI jobs, editors, scripts that resolve before each step) change
nothing, and `uv lock` already skips resolving when its lock still fits the project; this is
the same idea, checked more strictly.

A resolution is decided by its command line, the files it reads, the index pages it reads
and, for an installed environment, what its interpreter says about itself. After a run, the
memo keeps under a key of everything that is not read from files or pages (the command
line, the working directory, the interpreter and platform that give the default target, the
installed code of depsat and its libraries, ``DEPSAT_*`` variables):

* the output (stdout, stderr) and the exit code;
* the SHA-256 of every input file (requirements, constraints, the universe file, the
  configuration file, and the configuration files that were looked for and absent);
* what the sources logged in their `ReadLog` (`depsat.sources.stamps`): the stamps of the
  local files and folders read (index files, find-links folders, installed layers and the
  metadata in them, `.pth` and `.egg-link` files: a file's times, size and inode, and its
  content for one changed just before; a folder's listing), whether each installed layer
  was writable, the digest of each interpreter's answer about itself, and the index pages
  read over HTTP: their cache keys and URLs, digests of their stored heads (a stored
  response's head holds the moment it was stored, so a page fetched again has a new one) and
  bodies, and the earliest moment one of them goes stale by the HTTP caching rules.

The next run with the same key answers from the memo only while all of that holds (the
interpreter is asked again, 20-40 ms). Then resolving would read exactly what the
remembered run read (metadata and files of an index over HTTP are named by the hash their
page publishes, so their content is fixed) and decide the same. Pages gone stale (PyPI's
last ten minutes) are first asked of their servers again, in parallel, as a resolution
would ask them, with the credentials it would send (from netrc, or from the index URLs of
the command line and configuration, read again from there: the memo keeps none): if each
comes back as it was (304, or a body with the same digest), the pages are fresh again and
the memo answers. Anything else resolves as before, and the new result replaces the memo.

Not remembered (resolved every time): ``--no-memo``, ``--no-cache`` (the memo lives in the
cache), ``--offline``, ``--build-metadata``, ``--format json`` (its timings would be the
old run's), a run that read a page the cache does not keep as one (a 404 from an index
without the project: the next run must ask again), a wheel read by ranges whose hash the
index did not publish, and a layer that could not be listed. A page with no freshness
information at all (neither ``max-age`` nor ``Last-Modified``) is asked again every time,
as a resolution asks it.

This module imports only the standard library and two modules of `depsat.sources` that do
too (`cache_store`, `stamps`); the HTTP client is loaded only when pages must be asked
again. Looking up a memo must cost less than the interpreter's start, or it would not be
worth having.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from depsat.sources.cache_store import CacheStore, default_cache_dir
from depsat.sources.stamps import file_stamp, listing, listing_digest, writable

if TYPE_CHECKING:
    from depsat.sources.stamps import ReadLog

__all__ = ["Remembered", "file_digest", "memo_key", "recall", "remember"]

_FORMAT = 3
"""Bump when the memo's key or entry changes meaning."""


class Remembered(NamedTuple):
    """What a remembered run printed and returned."""

    stdout: str
    stderr: str
    code: int


def _cache_dir(argv: Sequence[str]) -> Path:
    """The cache directory `argv` names (``--cache-dir``), else the default one.

    An abbreviated option (argparse accepts ``--cache-d``) is not recognised here; the memo is
    then looked for in the default directory, where a run with this command line never stored
    one, so the lookup misses and the run resolves: never a wrong answer."""
    for index, argument in enumerate(argv):
        if argument == "--cache-dir" and index + 1 < len(argv):
            return Path(argv[index + 1])
        if argument.startswith("--cache-dir="):
            return Path(argument.partition("=")[2])
    return default_cache_dir()


def _tree_stamp(root: Path) -> list[tuple[str, int, int]]:
    """(path, mtime, size) of every module under `root`: depsat's own code, so that an
    edited checkout (an editable install keeps its version number) is not answered for."""
    stamps: list[tuple[str, int, int]] = []
    pending = [root]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir() and entry.name != "__pycache__":
                    pending.append(Path(entry.path))
                elif entry.name.endswith(".py"):
                    info = entry.stat()
                    stamps.append((entry.path, info.st_mtime_ns, info.st_size))
    return sorted(stamps)


def memo_key(argv: Sequence[str]) -> str:
    """The key of a run: everything that decides it and is not read from files or pages.

    The interpreter's path entries are stamped by their modification times: installing,
    upgrading or removing a distribution there (packaging, python-sat, depsat) renames or
    creates a directory in them. The working directory's entry (``python -m depsat``) is
    not: writing the plan to a new file there would change it."""
    import depsat

    package = Path(depsat.__file__).parent
    cwd = os.getcwd()
    path_stamps: list[tuple[str, int | None]] = []
    for entry in sys.path:
        if entry in ("", cwd):  # (`python -m`: any file made here would change the key)
            path_stamps.append((entry, None))
            continue
        try:
            path_stamps.append((entry, os.stat(entry).st_mtime_ns))
        except OSError:
            path_stamps.append((entry, None))
    libc = os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else None
    parts = {
        "format": _FORMAT,
        "argv": list(argv),
        "cwd": cwd,
        "python": [sys.executable, sys.version, sys.platform, sys.implementation.name],
        "uname": list(os.uname()) if hasattr(os, "uname") else None,
        "libc": libc,
        "depsat": _tree_stamp(package),
        "path": path_stamps,
        "environ": sorted((k, v) for k, v in os.environ.items()
                          if k.startswith("DEPSAT_") or k == "MACOSX_DEPLOYMENT_TARGET"),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def file_digest(path: str | Path, content: bytes | None = None) -> str | None:
    """The SHA-256 of a file (of `content`, if the caller has read it), None if absent or
    unreadable."""
    if content is None:
        try:
            content = Path(path).read_bytes()
        except OSError:
            return None
    return hashlib.sha256(content).hexdigest()


def _entries_digest(keys: Sequence[str], entries: Mapping[str, bytes]) -> str | None:
    """One digest of what is stored for `keys` (their heads, or bodies), None if one is
    missing."""
    digest = hashlib.sha256()
    for key in keys:
        stored = entries.get(key)
        if stored is None:
            return None
        digest.update(key.encode())
        digest.update(len(stored).to_bytes(8, "big"))
        digest.update(stored)
    return digest.hexdigest()


class _Pages(NamedTuple):
    """What the cache holds now for the pages a run read."""

    until: float
    """When the first of them goes stale."""
    heads: str
    bodies: str
    urls: list[str]


def _pages_now(store: CacheStore, pages: Sequence[tuple[str, str]],
               now: float) -> _Pages | None:
    """The stored entries of `pages` (cache key, `Accept`), if each is one the cache's fast
    path serves while fresh (`until` is when the first goes stale, maybe already); else
    None. `bodies` digests each body with its content type: what the page parser reads."""
    from depsat.sources.http import fresh_until

    keys = [key for key, _accept in pages]
    heads = store.response_heads(keys)
    until = float("inf")
    urls: list[str] = []
    bodies: dict[str, bytes] = {}
    for key, accept in pages:
        head = heads.get(key)
        deadline = None if head is None else fresh_until(head, accept, now)
        body = None if head is None else store.response_body(key, head)
        if head is None or deadline is None or body is None:
            return None
        until = min(until, deadline)
        stored = json.loads(head)
        urls.append(str(stored["request"]["url"]))
        # The body as the page parser sees it: with its content type (JSON or HTML).
        types = {k.lower(): v for k, v in stored["response"]["headers"].items()}
        bodies[key] = json.dumps(types.get("content-type")).encode() + b"\n" + body
    heads_digest, bodies_digest = _entries_digest(keys, heads), _entries_digest(keys, bodies)
    if heads_digest is None or bodies_digest is None:
        return None
    return _Pages(min(until, 2.0**62), heads_digest, bodies_digest, urls)


def _url_credentials(argv: Sequence[str]) -> list[str]:
    """The index and find-links locations `argv` names (on its command line or in its
    configuration file), with the credentials in them: the memo keeps no credentials, so
    asking a page again with those the run took from a URL needs that URL again. (This
    parses the command line, which loads the resolver's option modules: only then.)"""
    from depsat.cli import parse_arguments
    from depsat.cli.requirements_file import apply_options, read_requirements_files
    from depsat.cli.source_options import load_config, source_locations

    args = parse_arguments(argv)
    # (Unchanged since the run, or the memo would not be asked: their digests are checked.)
    apply_options(args, read_requirements_files(args.requirement_files,
                                                args.constraint_files, uv_sources=False))
    return [url for url in source_locations(args, load_config(args)) if "@" in url]


def _revalidated(store: CacheStore, cache_dir: Path, entry: dict[str, Any],
                 moment: float, argv: Sequence[str]) -> _Pages | None:
    """The remembered run's pages after asking their servers again (in parallel, as a
    resolution would: a 304 renews a stored page), if every one is still what the run read
    (by the digest of the bodies); else None."""
    from concurrent.futures import ThreadPoolExecutor

    from depsat.errors import DepsatError
    from depsat.sources.http import HttpClient

    pages = [(key, accept) for key, accept, _url in entry["pages"]]
    client = HttpClient(cache_dir=cache_dir, retries=0)
    try:
        if entry.get("url_credentials"):
            for url in _url_credentials(argv):
                client.learn_credentials(url)
        # Eight at once: with 16, a burst of connections (each its own DNS lookup with
        # urllib3 then) left some stalled for 5 s on PyPI; a remembered run's pages are few.
        with ThreadPoolExecutor(max_workers=8) as pool:
            fetched = list(pool.map(lambda page: client.get(page[2], accept=page[1]),
                                    entry["pages"]))
    except DepsatError:
        return None
    finally:
        client.close()
    if any(f.status != 200 for f in fetched):
        return None
    now = _pages_now(store, pages, max(moment, time.time()))
    return now if now is not None and now.bodies == entry["bodies"] else None


def _answer_digest(executable: str, script: str) -> str | None:
    """The digest of what `executable` answers to the introspection `script` now (as
    `depsat.sources.environment.inspect_interpreter` asks it), None if it cannot be run."""
    import subprocess

    try:
        completed = subprocess.run([executable, "-c", script], capture_output=True,
                                   stdin=subprocess.DEVNULL, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return hashlib.sha256(completed.stdout).hexdigest() if completed.returncode == 0 else None


def recall(argv: Sequence[str], *, now: float | None = None) -> Remembered | None:
    """What the remembered run of `argv` printed, if it still holds; else None (resolve).

    Never raises: an unreadable cache or entry is a miss."""
    if not argv or argv[0] != "resolve" or "--no-memo" in argv:
        return None
    try:
        cache_dir = _cache_dir(argv)
        store = CacheStore.in_cache_dir(cache_dir)
    except (OSError, ValueError):
        return None
    try:
        if not store.path.exists():
            return None
        body = store.resolution(memo_key(argv))
        if body is None:
            return None
        entry = json.loads(body)
        moment = time.time() if now is None else now
        if moment < entry["made"]:
            return None
        if any(file_digest(path) != digest for path, digest in entry["files"]):
            return None
        for path, stamp, digest in entry["local"]:
            now_stamp = file_stamp(path)
            if (None if now_stamp is None else list(now_stamp)) != stamp or (
                    digest is not None and file_digest(path) != digest):
                return None
        for path, digest in entry["listings"]:
            if listing_digest(listing(path)) != digest:
                return None
        for path, was_writable in entry["access"]:
            if writable(path) != was_writable:
                return None
        for executable, script, digest in entry["interpreters"]:  # (a process each)
            if _answer_digest(executable, script) != digest:
                return None
        keys = [key for key, _accept, _url in entry["pages"]]
        if not (moment < entry["until"]
                and _entries_digest(keys, store.response_heads(keys)) == entry["heads"]):
            # Stale (or stored again): ask the servers, as a resolution would first.
            renewed = _revalidated(store, cache_dir, entry, moment, argv)
            if renewed is None:
                return None
            entry.update(until=renewed.until, heads=renewed.heads)
            store.put_resolution(memo_key(argv), json.dumps(entry).encode())
        return Remembered(str(entry["stdout"]), str(entry["stderr"]), int(entry["code"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None
    finally:
        store.close()


def remember(argv: Sequence[str], cache_dir: Path, printed: Remembered, *,
             input_files: Mapping[str, str | None], read_log: ReadLog,
             made: float) -> bool:
    """Keep what the run of `argv` printed, with what it read: `input_files` (path -> the
    `file_digest` of what was read, None for a file looked for and absent) and what the
    sources read (`read_log`). `made` is when the run began: the memo answers only from then
    on. A page gone stale meanwhile is fine (the next run asks its server first); one the
    cache never serves is not. Returns whether the run was kept (not after a read the memo
    cannot check, nor after such a page)."""
    if read_log.unrepeatable_reads():
        return False
    read = sorted(read_log.pages.items())
    store = CacheStore.in_cache_dir(cache_dir)
    try:
        pages = _pages_now(store, read, time.time())
        if pages is None:
            return False
        entry = {
            "made": made, "until": pages.until,
            "files": [[path, digest] for path, digest in sorted(input_files.items())],
            "local": [[path, None if stamp is None else list(stamp), digest]
                      for path, (stamp, digest) in sorted(read_log.local_files.items())],
            "listings": sorted([path, digest] for path, digest in read_log.listings.items()),
            "access": sorted([path, answer] for path, answer in read_log.access.items()),
            "interpreters": sorted([executable, script, digest] for executable, (script, digest)
                                   in read_log.interpreters.items()),
            "pages": [[key, accept, url] for (key, accept), url in zip(read, pages.urls,
                                                                         strict=True)],
            "heads": pages.heads, "bodies": pages.bodies,
            "url_credentials": read_log.used_url_credentials,
            "stdout": printed.stdout, "stderr": printed.stderr, "code": printed.code,
        }
        store.put_resolution(memo_key(argv), json.dumps(entry).encode())
        return True
    finally:
        store.close()
