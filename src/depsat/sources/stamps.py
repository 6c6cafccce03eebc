"""Stamps of local files and directories: enough to tell later that they have not changed.

`ReadLog` (`depsat.sources.http`) stamps the local files and folders a run reads, and the
resolution memo (`depsat.cli.memo`) checks the stamps before it answers. Standard library
only: the memo checks them before anything else is loaded.

A file's stamp is its modification and status-change times, size and inode; any write
changes the status-change time, which no program can set back. A write in the same tick of
the file system's clock as the stamp is not seen by it (the "racily clean" files of git), so
a file changed less than `RACY_SECONDS` before it was stamped is also hashed, and checked by
content. A directory is stamped by its sorted listing (each name, and whether it is a file).
"""

from __future__ import annotations

import hashlib
import os
import time

__all__ = ["RACY_SECONDS", "FileStamp", "file_stamp", "is_racy", "listing", "listing_digest"]

RACY_SECONDS = 2.0
"""Coarser than any file system clock in use (FAT's is 2 s)."""

FileStamp = tuple[int, int, int, int]
"""(mtime ns, ctime ns, size, inode)."""


def file_stamp(path: str | os.PathLike[str]) -> FileStamp | None:
    """The stamp of the file at `path`, None if there is none (or it cannot be stat'ed)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino


def is_racy(stamp: FileStamp, now_ns: int | None = None) -> bool:
    """Whether the file changed too recently for its stamp to show a change made now."""
    now = time.time_ns() if now_ns is None else now_ns
    return max(stamp[0], stamp[1]) > now - int(RACY_SECONDS * 1e9)


def listing(path: str | os.PathLike[str]) -> list[tuple[str, bool]]:
    """(name, is a file) of each entry of the directory at `path`, sorted; OSError if it
    cannot be listed."""
    with os.scandir(path) as entries:
        return sorted((entry.name, entry.is_file()) for entry in entries)


def listing_digest(entries: list[tuple[str, bool]]) -> str:
    digest = hashlib.sha256()
    for name, is_file in entries:
        digest.update(f"{int(is_file)}{name}\0".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()
