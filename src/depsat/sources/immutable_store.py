"""The cache of files named by their hash (PEP 658 metadata, wheels): one SQLite database.

Such a file never changes, so it needs no HTTP caching rules, only a fast place to keep it.
A file per entry (hishel's layout, which project pages still use) cost about 0.25 ms per
entry in file creation alone on this machine's ext4; a cold resolve at 1000 x 10 writes
1,200 metadata files, and storing them took 1.0 s of its 3.7 s. SQLite (standard library) in
WAL mode inserts one in about 35 us and reads one in 7 us. Each insert is its own
transaction, so an interrupted run keeps every finished entry and never half of one, and
several depsat processes can share the database (SQLite's locking, waited on for up to
`_BUSY_SECONDS`).

A storage failure (read-only or full disk, a database another program damaged) never
stops a fetch: the store answers "not cached" and stops saving; a damaged database is
moved aside once and started afresh.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from pathlib import Path

__all__ = ["ImmutableStore"]

_BUSY_SECONDS = 10.0
_SCHEMA = ("CREATE TABLE IF NOT EXISTS files (key TEXT PRIMARY KEY, url TEXT NOT NULL, "
           "content_type TEXT, body BLOB NOT NULL)")


class ImmutableStore:
    """Bodies of immutable files by cache key; thread-safe (one connection, one lock).

    The database is opened on first use and created on the first `put`, so reading a cache
    that has none (or running with nothing to store) leaves no file behind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._broken = False

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
                    connection.execute(_SCHEMA)
                except sqlite3.DatabaseError:
                    connection.close()
                    raise
            except sqlite3.DatabaseError as exc:
                if "not a database" in str(exc) or "malformed" in str(exc):
                    self._set_aside()
                    continue
                self._broken = True  # unwritable or locked for good: run without it
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

    def get(self, key: str) -> tuple[bytes, str | None] | None:
        """The stored body and content type, or None."""
        with self._lock:
            connection = self._connect(create=False)
            if connection is None:
                return None
            try:
                row = connection.execute(
                    "SELECT body, content_type FROM files WHERE key = ?", (key,)).fetchone()
            except sqlite3.Error:
                return None
        return None if row is None else (bytes(row[0]), row[1])

    def has(self, key: str) -> bool:
        with self._lock:
            connection = self._connect(create=False)
            if connection is None:
                return False
            try:
                return connection.execute(
                    "SELECT 1 FROM files WHERE key = ?", (key,)).fetchone() is not None
            except sqlite3.Error:
                return False

    def put(self, key: str, url: str, body: bytes, content_type: str | None) -> None:
        """Store a body (decoded, the whole file); replaces what `key` had."""
        with self._lock:
            connection = self._connect(create=True)
            if connection is None:
                return
            with contextlib.suppress(sqlite3.Error):
                connection.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                                   (key, url, content_type, body))

    def remove(self, key: str) -> None:
        with self._lock:
            connection = self._connect(create=False)
            if connection is None:
                return
            with contextlib.suppress(sqlite3.Error):
                connection.execute("DELETE FROM files WHERE key = ?", (key,))

    def close(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
