"""depsat's HTTP cache on disk: one SQLite database.

Four kinds of entries:

* **files** named by their hash (PEP 658 metadata, wheels): immutable, so only the decoded
  body and its content type are kept, and they are served without any HTTP caching rules;
* **responses** (project pages) for hishel's RFC 9111 cache (`DatabaseStorage` in
  `_network`): the request and response heads as one line of JSON, and the decoded body;
* **local reads**: the URLs of `file:` metadata a run read, a hint for the next run's lazy
  reading (`IndexSource.metadata_on_hand`); the files themselves are not copied;
* **resolutions**: what a `depsat resolve` printed, with what it read (`depsat.cli.memo`),
  so that the same command on unchanged inputs answers without resolving again.

This module imports nothing but the standard library: the CLI opens the cache to look for a
remembered resolution before it loads the resolver.

Why a database and not a file per entry (hishel's usual layout, and depsat's first one):
creating a file cost about 0.25 ms on this machine's ext4, and a cold resolve at 1000 x 10
writes about 1,550 entries: storing them took over 1 s of a 3.7 s run. SQLite (standard
library) in WAL mode inserts one in about 35 us and reads one in 7 us. Each write is its own
transaction, so an interrupted run keeps every finished entry and never half of one, and
several depsat processes can share the cache (SQLite's locking, waited on for up to
`_BUSY_SECONDS`).

A store remembers the keys it looked up and did not find until it stores them: a cold
resolve asks about every page up to three times (where it is wanted, on the pool, and in
hishel) and every file twice before the fetch that stores it, 1,500 of its 4,200 statements
at 1000 x 10. The keys of the pages, of the files and of the local reads are each read all
at once, on the first question about one, when there are at most `_KEYS_LISTED` (a cache
holds a page per project used; a cold run's cache holds nothing): then one not among them
nor stored since is absent without a query or the lock. A bigger table is asked key by key.
An entry another process stores meanwhile is then fetched again, as if it had not been
there yet.

A storage failure (read-only or full disk, a database another program damaged) never stops
a fetch: the store answers "not cached" and stops saving; a damaged database is moved aside
once and started afresh.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["CACHE_DATABASE", "CACHE_FORMAT", "CacheStore", "default_cache_dir"]

CACHE_FORMAT = "http-v3"
"""The cache's subdirectory; bump it when the entry format changes (v3: pages are stored
decoded, as urllib3 reads them; v2 kept them as the wire had them, often gzipped)."""
CACHE_DATABASE = "cache.sqlite3"
"""The cache database (`CacheStore`), in the cache's subdirectory."""

_BUSY_SECONDS = 10.0
_RESOLUTIONS_KEPT = 50
_KEYS_PER_QUERY = 500
"""Well under SQLite's smallest limit on a statement's parameters (999 before 3.32)."""
_KEYS_LISTED = 20_000
"""The most keys of one kind (pages, files, local reads) a store reads all at once to answer
from memory. Asked by the resolver's thread while the fetch threads store what they fetch,
each query waits for the store's lock and then for the interpreter lock: with the pages
asked one by one, a cold resolve at 1000 x 10 over HTTP waited 0.25-0.29 s in 2,899 lookups;
with the files asked a project at a time, a cold resolve of jupyterlab on PyPI spent 0.61 s
of its 1.05 s in 90 questions (0.06 s of CPU), and one at 1000 x 10 0.40-0.49 s in 319.
The listing is paid even by a small resolve against a big cache: 5,000, 20,000 and 50,000
keys took 2.1, 10.2 and 27.8 ms to read; past this bound a table is asked as before."""
_LISTED = {"responses": "SELECT key FROM responses", "files": "SELECT key FROM files",
           "local_reads": "SELECT url FROM local_reads"}
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS files (key TEXT PRIMARY KEY, url TEXT NOT NULL, "
    "content_type TEXT, body BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
    "head BLOB NOT NULL, body BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS local_reads (url TEXT PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS resolutions (key TEXT PRIMARY KEY, body BLOB NOT NULL)",
)


def default_cache_dir() -> Path:
    """The per-user cache directory depsat uses when no `cache_dir` is given."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("depsat", appauthor=False))


class CacheStore:
    """The cache database; thread-safe (one connection, one lock).

    It is opened on first use and created on the first write, so reading a cache that has
    none (or running with nothing to store) leaves no file behind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        """The database file; `in_cache_dir` gives the one of a cache directory."""
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._broken = False
        # Keys looked up and not found, per table, until stored here (see the module's notes).
        self._absent: dict[str, set[str]] = {"files": set(), "responses": set()}
        # Per table (`_LISTED`), its keys, read all at once on the first question when there
        # are at most `_KEYS_LISTED`, and those stored here since: any other key is absent
        # (`_by_key`). `_unlisted` names the tables that had more.
        self._held: dict[str, set[str]] = {}
        self._unlisted: set[str] = set()

    @classmethod
    def in_cache_dir(cls, cache_dir: Path) -> CacheStore:
        """The store of the cache directory `cache_dir` (what `HttpClient` uses)."""
        return cls(cache_dir / CACHE_FORMAT / CACHE_DATABASE)

    # -- files named by their hash ----------------------------------------------------------
    def file(self, key: str) -> tuple[bytes, str | None] | None:
        """The stored body and content type, or None."""
        row = self._by_key("files", "SELECT body, content_type FROM files WHERE key = ?", key)
        return None if row is None else (bytes(row[0]), row[1])

    def has_file(self, key: str) -> bool:
        return self._by_key("files", "SELECT 1 FROM files WHERE key = ?", key) is not None

    def stored_files(self, keys: Sequence[str]) -> set[str]:
        """Those of `keys` whose files are stored. A project's files are asked about
        together (at 1000 x 10, 329 queries instead of 3,290 a resolve), and when the files
        are few enough to list, not asked of the database at all."""
        absent = self._absent["files"]
        held = self._held_keys("files")
        if held is not None:
            return {key for key in keys if key in held and key not in absent}
        with self._lock:
            asked = [key for key in keys if key not in absent]
            found = self._present("SELECT key FROM files WHERE key IN", asked)
            absent.update(key for key in asked if key not in found)
        return found

    # -- local files read before ------------------------------------------------------------
    def local_reads(self, urls: Sequence[str]) -> set[str]:
        """Those of `urls` (local files) that `remember_local_reads` noted."""
        held = self._held_keys("local_reads")
        if held is not None:
            return {url for url in urls if url in held}
        with self._lock:
            return self._present("SELECT url FROM local_reads WHERE url IN", urls)

    def remember_local_reads(self, urls: Sequence[str]) -> None:
        """Note that these local files were read, all in one transaction."""
        if urls:
            self._write_many("INSERT OR IGNORE INTO local_reads VALUES (?)",
                             [(url,) for url in urls], stored=("local_reads", urls))

    # -- remembered resolutions (`depsat.cli.memo`) -----------------------------------------
    def resolution(self, key: str) -> bytes | None:
        row = self._one("SELECT body FROM resolutions WHERE key = ?", (key,))
        return None if row is None else bytes(row[0])

    def put_resolution(self, key: str, body: bytes) -> None:
        """Keep a resolution; only the `_RESOLUTIONS_KEPT` newest are kept (each command
        line has its own, and a command run once, on a port or in a directory that is gone,
        is never asked for again)."""
        self._write("INSERT OR REPLACE INTO resolutions VALUES (?, ?)", (key, body))
        self._write("DELETE FROM resolutions WHERE rowid NOT IN (SELECT rowid FROM "
                    "resolutions ORDER BY rowid DESC LIMIT ?)", (_RESOLUTIONS_KEPT,))

    def remove_resolution(self, key: str) -> None:
        self._write("DELETE FROM resolutions WHERE key = ?", (key,), create=False)

    def response_heads(self, keys: Sequence[str]) -> dict[str, bytes]:
        """The stored heads of those of `keys` the cache holds, asked all at once."""
        heads: dict[str, bytes] = {}
        with self._lock:
            for start in range(0, len(keys), _KEYS_PER_QUERY):
                chunk = keys[start:start + _KEYS_PER_QUERY]
                rows = self._execute("SELECT key, head FROM responses WHERE key IN "
                                     f"({', '.join('?' * len(chunk))})", chunk)
                heads.update((row[0], bytes(row[1])) for row in rows)
        return heads

    def put_file(self, key: str, url: str, body: bytes, content_type: str | None) -> None:
        """Store a file's whole, decoded body; replaces what `key` had."""
        self._write("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                    (key, url, content_type, body), stored=("files", key))

    def remove_file(self, key: str) -> None:
        self._write("DELETE FROM files WHERE key = ?", (key,), create=False,
                    removed=("files", key))

    # -- HTTP responses (hishel's entries) --------------------------------------------------
    def response(self, key: str) -> tuple[bytes, bytes] | None:
        """The stored head (JSON) and raw body for `key`, or None."""
        row = self._by_key("responses", "SELECT head, body FROM responses WHERE key = ?", key)
        return None if row is None else (bytes(row[0]), bytes(row[1]))

    def response_head_of(self, key: str) -> bytes | None:
        """The stored head (JSON) for `key`, without its body."""
        row = self._by_key("responses", "SELECT head FROM responses WHERE key = ?", key)
        return None if row is None else bytes(row[0])

    def response_body(self, key: str, head: bytes) -> bytes | None:
        """The body stored for `key` with this very head (None if the entry changed since)."""
        row = self._one("SELECT body FROM responses WHERE key = ? AND head = ?", (key, head))
        return None if row is None else bytes(row[0])

    def response_head(self, entry_id: str) -> bytes | None:
        row = self._one("SELECT head FROM responses WHERE id = ?", (entry_id,))
        return None if row is None else bytes(row[0])

    def put_response(self, key: str, entry_id: str, head: bytes, body: bytes) -> None:
        self._write("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)",
                    (key, entry_id, head, body), stored=("responses", key))

    def set_response_head(self, entry_id: str, head: bytes) -> None:
        self._write("UPDATE responses SET head = ? WHERE id = ?", (head, entry_id),
                    create=False)

    def remove_response(self, *, key: str | None = None, entry_id: str | None = None) -> None:
        if key is not None:
            self._write("DELETE FROM responses WHERE key = ?", (key,), create=False,
                        removed=("responses", key))
        if entry_id is not None:
            self._write("DELETE FROM responses WHERE id = ?", (entry_id,), create=False)

    def close(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    # -- the connection ---------------------------------------------------------------------
    def _one(self, sql: str, parameters: Sequence[Any]) -> Any:
        """The first row `sql` finds (the queries here look up a primary key), or None."""
        rows = self._all(sql, parameters)
        return rows[0] if rows else None

    def _by_key(self, table: str, sql: str, key: str) -> Any:
        """`_one` for a key of `table`, answered without a query for a key known absent,
        and without the lock: the calling thread is often the resolver's, and the lock is
        the fetch threads' for every entry they store (at 1000 x 10 over HTTP, the resolver
        waited 0.25-0.29 s in 2,899 lookups, nearly all of keys known absent). A set is read
        safely while another thread changes it; a key stored meanwhile is missed once, as
        one another process stores is."""
        absent = self._absent[table]
        if key in absent:
            return None
        held = self._held_keys(table)
        if held is not None and key not in held:
            return None
        with self._lock:
            if key in absent:
                return None
            rows = self._execute(sql, (key,))
            if not rows:
                absent.add(key)
            return rows[0] if rows else None

    def _held_keys(self, table: str) -> set[str] | None:
        """The keys of `table` (pages, files or local reads), read on the first question and
        kept up to date by this store's writes; None when there were more than
        `_KEYS_LISTED`, and the table is asked key by key. (With no database yet, none: what
        is stored later is added as it is stored.)"""
        held = self._held.get(table)
        if held is not None or table in self._unlisted:
            return held
        with self._lock:
            held = self._held.get(table)
            if held is not None or table in self._unlisted:
                return held
            connection = self._connect(create=False)
            try:
                rows = [] if connection is None else connection.execute(
                    f"{_LISTED[table]} LIMIT ?", (_KEYS_LISTED + 1,)).fetchall()
            except sqlite3.Error:
                return None  # (asked key by key this time, as a bigger table is)
            if len(rows) > _KEYS_LISTED:
                self._unlisted.add(table)
                return None
            held = self._held[table] = {row[0] for row in rows}
            return held

    def _present(self, query: str, values: Sequence[str]) -> set[str]:
        """The values `query` (``... WHERE column IN``) finds, asked `_KEYS_PER_QUERY` at a
        time; the caller holds the lock."""
        found: set[str] = set()
        for start in range(0, len(values), _KEYS_PER_QUERY):
            chunk = values[start:start + _KEYS_PER_QUERY]
            rows = self._execute(f"{query} ({', '.join('?' * len(chunk))})", chunk)
            found.update(row[0] for row in rows)
        return found

    def _all(self, sql: str, parameters: Sequence[Any]) -> list[Any]:
        with self._lock:
            return self._execute(sql, parameters)

    def _execute(self, sql: str, parameters: Sequence[Any]) -> list[Any]:
        """The rows `sql` finds; the caller holds the lock."""
        connection = self._connect(create=False)
        if connection is None:
            return []
        try:
            return connection.execute(sql, parameters).fetchall()
        except sqlite3.Error:
            return []

    def _write(self, sql: str, parameters: Sequence[Any], *, create: bool = True,
               stored: tuple[str, str] | None = None,
               removed: tuple[str, str] | None = None) -> None:
        """Run `sql`; `stored` is the (table, key) it stores, no longer absent, `removed` the
        one it deletes. The listed keys change only once the statement succeeded."""
        with self._lock:
            if stored is not None:
                self._absent[stored[0]].discard(stored[1])
            connection = self._connect(create=create)
            if connection is None:
                return
            try:
                connection.execute(sql, parameters)
            except sqlite3.Error:
                return
            if stored is not None and (held := self._held.get(stored[0])) is not None:
                held.add(stored[1])
            if removed is not None and (held := self._held.get(removed[0])) is not None:
                held.discard(removed[1])

    def _write_many(self, sql: str, rows: Sequence[Sequence[Any]], *,
                    stored: tuple[str, Sequence[str]] | None = None) -> None:
        """`sql` for every row, in one transaction; `stored` is the (table, keys) it stores."""
        with self._lock:
            connection = self._connect(create=True)
            if connection is None:
                return
            try:
                connection.execute("BEGIN")
                connection.executemany(sql, rows)
                connection.execute("COMMIT")
            except sqlite3.Error:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
                return
            if stored is not None and (held := self._held.get(stored[0])) is not None:
                held.update(stored[1])

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        """The open connection; opening (and with `create`, making) the database once."""
        if self._connection is not None or self._broken:
            return self._connection
        if not create and not self.path.exists():
            return None
        for _attempt in range(2):
            try:
                if create:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, timeout=_BUSY_SECONDS,
                                             isolation_level=None, check_same_thread=False)
                try:
                    connection.execute("PRAGMA journal_mode=WAL")
                    connection.execute("PRAGMA synchronous=NORMAL")
                    for statement in _SCHEMA:
                        connection.execute(statement)
                except sqlite3.DatabaseError:
                    connection.close()
                    raise
            except sqlite3.DatabaseError as exc:
                if "not a database" in str(exc) or "malformed" in str(exc):
                    self._set_aside()
                    continue
                self._broken = True  # unwritable, or locked for good: run without it
                return None
            except OSError:
                self._broken = True
                return None
            self._connection = connection
            return connection
        self._broken = True
        return None

    def _set_aside(self) -> None:
        """Move a damaged database (and its WAL files) out of the way."""
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.replace(f"{self.path}{suffix}", f"{self.path}.damaged{suffix}")
