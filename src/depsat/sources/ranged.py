"""A remote file read as a seekable file, part by part, with HTTP range requests.

Why: an index without PEP 658 files (private indexes, mirrors, the wheel index of a Linux
distribution) leaves a resolver the whole wheel to download for the few kilobytes of its
METADATA. A wheel is a zip archive, whose directory sits at its end, so `zipfile` over this
file reads the end (one request, which often holds the member too), finds the member and
reads it (one more, if not). Resolving jupyterlab from PyPI through a mirror without PEP 658
files: 90 wheels, 47 MB downloaded before; 99 range requests, 4.8 MB after (pandas,
matplotlib and scikit-learn: 35 requests, 1.7 MB). pip (``--use-feature=fast-deps``) and uv
read wheels the same way; no maintained library does it over a client of one's own, so it
is written here, small: `zip_tail` reads the entries already in the end fetched first (a
wide wheel's directory outgrows it), or finds the METADATA entry by its name in the
directory's start, else the rest of it; `zipfile` reads what those cannot.

The bytes are fetched by a function given from outside (`RangeFetch`), so this module does
no I/O of its own: the index source passes `HttpClient.get_range`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

__all__ = ["NoRanges", "RangeFetch", "RangedFile"]

RangeFetch = Callable[[str], tuple[int, bytes, str | None]]
"""``fetch("bytes=...")`` -> (HTTP status, body, its ``Content-Range``)."""

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
_MIN_READ = 16 * 1024
"""Bytes asked for at the least: zipfile reads a member's local header (30 bytes), its name
and then its data in separate reads; one request serves them all."""


class NoRanges(Exception):
    """The server answered a range request with the whole file (status 200): `whole`."""

    def __init__(self, whole: bytes) -> None:
        super().__init__("the server does not serve byte ranges")
        self.whole = whole


class RangedFile(io.RawIOBase):
    """A read-only, seekable view of a remote file of known size; the parts read are kept.

    Made with `open_tail`, which fetches the last `tail` bytes (a zip archive's directory)
    and learns the size from the answer. At most `max_requests` further requests are made;
    one more is an `OSError`, as is an answer that does not match what was asked."""

    def __init__(self, fetch: RangeFetch, size: int, *, max_requests: int = 8) -> None:
        super().__init__()
        self._fetch = fetch
        self._size = size
        self._position = 0
        self._parts: list[tuple[int, bytes]] = []
        self._requests_left = max_requests
        self.requests = 0
        """Range requests made, the first included."""

    @classmethod
    def open_tail(cls, fetch: RangeFetch, tail: int = 64 * 1024, *,
                  max_requests: int = 8) -> RangedFile:
        """The file, with its last `tail` bytes fetched. Raises `NoRanges` when the server
        sent the whole file instead, `OSError` for an answer that makes no sense."""
        status, body, content_range = fetch(f"bytes=-{tail}")
        if status == 200:
            raise NoRanges(body)
        start, end, size = _parse_range(status, content_range)
        if end - start + 1 != len(body):
            raise OSError(f"a range of {end - start + 1} bytes came with {len(body)}")
        ranged = cls(fetch, size, max_requests=max_requests)
        ranged._parts.append((start, body))
        ranged.requests = 1
        return ranged

    @property
    def tail(self) -> tuple[int, bytes]:
        """(offset, bytes) of the part `open_tail` fetched: where a zip's directory ends."""
        return self._parts[0]

    # -- io.RawIOBase ---------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError("seek before the start of the file")
        self._position = base + offset
        return self._position

    def read(self, size: int = -1, /) -> bytes:
        """RawIOBase's, typed as it behaves here: never None (nothing here blocks)."""
        data = super().read(size)
        return b"" if data is None else data

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        wanted = min(len(buffer), max(0, self._size - self._position))
        if wanted == 0:
            return 0
        data = self._read(self._position, wanted)
        buffer[:wanted] = data
        self._position += wanted
        return wanted

    # -- the parts --------------------------------------------------------------------------
    def _read(self, start: int, length: int) -> bytes:
        for part_start, part in self._parts:
            if part_start <= start and start + length <= part_start + len(part):
                offset = start - part_start
                return part[offset:offset + length]
        if self._requests_left <= 0:
            raise OSError("too many range requests for one file")
        self._requests_left -= 1
        self.requests += 1
        end = min(self._size, start + max(length, _MIN_READ)) - 1
        status, body, content_range = self._fetch(f"bytes={start}-{end}")
        got_start, got_end, size = _parse_range(status, content_range)
        if (got_start, got_end, size) != (start, end, self._size) or (
                len(body) != end - start + 1):
            raise OSError(f"asked for bytes {start}-{end}, got {content_range!r}")
        self._parts.append((start, body))
        return body[:length]


def _parse_range(status: int, content_range: str | None) -> tuple[int, int, int]:
    found = _CONTENT_RANGE.fullmatch((content_range or "").strip())
    if status != 206 or found is None:
        raise OSError(f"not a range answer (HTTP {status}, Content-Range {content_range!r})")
    start, end, size = (int(group) for group in found.groups())
    if not start <= end < size:
        raise OSError(f"a range that makes no sense: {content_range!r}")
    return start, end, size
