"""What a run read, stamped well enough to tell later that reading again would give the same.

Sources log their reads in a `ReadLog` (index pages by cache key, local files and folders by
stamp, the answer of an interpreter that was asked), and the resolution memo
(`depsat.cli.memo`) checks them before it answers. Standard library only: the memo checks
them before anything else is loaded.

A file's stamp is its modification and status-change times, size and inode; any write
changes the status-change time, which no program can set back. A write in the same tick of
the file system's clock as the stamp is not seen by it (the "racily clean" files of git), so
a file changed less than `RACY_SECONDS` before it was stamped is also hashed, and checked by
content. A directory is stamped by its listing (each name, and whether it is a file, a
directory or something else).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time

__all__ = [
    "RACY_SECONDS",
    "FileStamp",
    "ReadLog",
    "file_stamp",
    "is_racy",
    "listing",
    "listing_digest",
    "read_file",
    "read_listing",
    "writable",
]

RACY_SECONDS = 2.0
"""Coarser than any file system clock in use (FAT's is 2 s)."""

FileStamp = tuple[int, int, int, int]
"""(mtime ns, ctime ns, size, inode)."""


def file_stamp(path: str | os.PathLike[str]) -> FileStamp | None:
    """The stamp of what is at `path` (following links), None if nothing is."""
    try:
        return _stamp_of(os.stat(path))
    except (OSError, ValueError):
        return None


def _stamp_of(info: os.stat_result) -> FileStamp:
    """The stamp `os.stat` or `os.fstat` gave."""
    return info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino


def is_racy(stamp: FileStamp, now_ns: int | None = None) -> bool:
    """Whether the file changed too recently for its stamp to show a change made now."""
    now = time.time_ns() if now_ns is None else now_ns
    return max(stamp[0], stamp[1]) > now - int(RACY_SECONDS * 1e9)


def listing(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """(name, kind) of each entry of the directory at `path`, in the order the file system
    lists them (the order `importlib.metadata` finds distributions in); kind is "f" for a
    file, "d" for a directory, "o" for anything else (links followed). OSError if the
    directory cannot be listed."""
    found: list[tuple[str, str]] = []
    with os.scandir(path) as entries:
        for entry in entries:
            kind = "f" if entry.is_file() else "d" if entry.is_dir() else "o"
            found.append((entry.name, kind))
    return found


def listing_digest(entries: list[tuple[str, str]]) -> str:
    """A digest of a listing, in any order."""
    digest = hashlib.sha256()
    for name, kind in sorted(entries):
        digest.update(f"{kind}{name}\0".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def read_file(path: str | os.PathLike[str], log: ReadLog | None = None, *,
              limit: int = -1) -> bytes:
    """A local file's bytes (at most `limit`), as ``open(path, "rb").read()`` with its
    errors; logged in `log`, stamped before it is read (a change meanwhile shows).

    The stamp is the open file's (`os.fstat`), not the path's: one lookup of the path instead
    of two (a cold resolve over `file://` reads 1,400-9,400 files), and the stamp is surely
    of the file read, even if another replaced it at that path meanwhile."""
    if log is None:
        with open(path, "rb") as handle:
            return handle.read(limit)
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below, once it is stamped)
    except OSError:
        log.local_file(os.fspath(path), file_stamp(path), None)
        raise
    with handle:
        stamp = _stamp_of(os.fstat(handle.fileno()))
        try:
            data = handle.read(limit)
        except OSError:
            log.local_file(os.fspath(path), stamp, None)
            raise
    log.local_file(os.fspath(path), stamp, data)
    return data


def read_listing(path: str | os.PathLike[str],
                 log: ReadLog | None = None) -> list[tuple[str, str]]:
    """`listing`, logged in `log`: the listing, or the stamp of what is at `path` when it
    cannot be listed (then OSError, as `listing` raises it)."""
    try:
        entries = listing(path)
    except OSError:
        if log is not None:
            log.checked(os.fspath(path))
        raise
    if log is not None:
        log.listing(os.fspath(path), entries)
    return entries


def writable(path: str | os.PathLike[str]) -> bool:
    """Whether the current user may write to `path` (an installed layer: its role)."""
    return os.access(path, os.W_OK)


class ReadLog:
    """What one run read, for telling later whether reading again would give the same
    (`depsat.cli.memo`). Thread-safe. Sources that are given one log every read:

    * files named by the hash their page publishes are not logged: their content is fixed;
    * pages (anything fetched by URL alone) by cache key, with the `Accept` they were asked
      with (`page`);
    * local files by their stamp taken before reading, and the digest of what was read for a
      file changed just before (`local_file`); a path only looked at (does it exist, is it a
      directory) by its stamp (`checked`); a folder by its listing (`listing`); whether a
      layer is writable (`access`);
    * an interpreter's answer about itself by its digest (`interpreter`);
    * whether credentials were taken from a URL (`url_credentials`), not the credentials;
    * anything a later run could not check makes the run `unrepeatable` (a wheel's METADATA
      read by ranges and kept under no hash)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pages: dict[str, str] = {}
        """Cache key -> the `Accept` header of the GET."""
        self.local_files: dict[str, tuple[FileStamp | None, str | None]] = {}
        """Path -> (stamp before reading or None if absent, SHA-256 of a racy file's
        content)."""
        self.listings: dict[str, str] = {}
        """Directory path -> `listing_digest` of what was listed."""
        self.access: dict[str, bool] = {}
        """Path -> `writable` as it was asked."""
        self.interpreters: dict[str, tuple[str, str]] = {}
        """Executable -> (the introspection script run, SHA-256 of its answer)."""
        self.used_url_credentials = False
        """Whether a URL read carried credentials in its userinfo (an index URL on the
        command line or in the configuration): asking its host again needs that URL."""
        self._unrepeatable: list[str] = []
        self._ranged: set[str] = set()

    def page(self, key: str, accept: str | None) -> None:
        with self._lock:
            self.pages[key] = accept or "*/*"

    def local_file(self, path: str, stamp: FileStamp | None, content: bytes | None) -> None:
        """A local file read (`content`), or looked for and not read (`content` None)."""
        digest = (hashlib.sha256(content).hexdigest()
                  if stamp is not None and content is not None and is_racy(stamp) else None)
        with self._lock:
            if path not in self.local_files or digest is not None:
                self.local_files[path] = (stamp, digest)

    def checked(self, path: str) -> None:
        """`path` was looked at (exists? a file? a directory? a zip?), or is read in parts
        (a zip's members). One changed just before is also hashed (a file) or listed."""
        stamp = file_stamp(path)
        digest = None
        if stamp is not None and is_racy(stamp):
            try:
                if os.path.isdir(path):
                    self.listing(path, listing(path))
                else:
                    with open(path, "rb") as handle:
                        digest = hashlib.sha256(handle.read()).hexdigest()
            except OSError:
                pass
        with self._lock:
            if path not in self.local_files or digest is not None:
                self.local_files[path] = (stamp, digest)

    def listing(self, path: str, entries: list[tuple[str, str]]) -> None:
        with self._lock:
            self.listings[path] = listing_digest(entries)

    def writable(self, path: str) -> bool:
        """`writable(path)`, logged."""
        answer = writable(path)
        with self._lock:
            self.access[path] = answer
        return answer

    def interpreter(self, executable: str, script: str, answer: bytes) -> None:
        with self._lock:
            self.interpreters[executable] = (script, hashlib.sha256(answer).hexdigest())

    def url_credentials(self) -> None:
        """Credentials were taken from a URL's userinfo (never logged themselves)."""
        self.used_url_credentials = True

    def unrepeatable(self, what: str) -> None:
        """Something was read that a later run could not check."""
        with self._lock:
            self._unrepeatable.append(what)

    def ranged(self, url: str) -> None:
        with self._lock:
            self._ranged.add(url)

    def extracted(self, url: str) -> None:
        """What was read from `url` by ranges is now kept under its published hash."""
        with self._lock:
            self._ranged.discard(url)

    def unrepeatable_reads(self) -> list[str]:
        """What was read in ways a later run could not check."""
        with self._lock:
            return [*self._unrepeatable, *sorted(self._ranged)]
