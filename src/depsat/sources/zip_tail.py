"""A zip archive's members found from part of its directory: its end, or its start.

Why: `zipfile` reads an archive's whole central directory before it opens a member. A
wheel's ``.dist-info`` comes last (the wheel spec asks for it), so the entries a resolver
wants sit in the archive's last bytes, beside the end record that a range read fetches
first (`RangedFile.open_tail`). torch's wheels list 12,482 files: 1.2 MB of directory to
fetch and 40 ms of zipfile's parsing (under the interpreter lock) for each of the twenty or
so torch releases an exact resolve of ``transformers[torch]`` reads on PyPI, which has no
PEP 658 files for them. Here only the entries within the bytes already fetched are parsed.
Older torch wheels list their ``.dist-info`` first, so the directory's first part has to be
fetched too; `entries_named` then finds the one entry wanted by searching for its name
instead of parsing every record. No library reads part of a zip's directory, or one entry of
it, so it is written here, small, for what wheels use (stored or deflated members, no
encryption, no data before the archive); for anything else it answers None and the caller
reads the archive with `zipfile`.
"""

from __future__ import annotations

import struct
import zlib
from typing import Protocol

import attrs

__all__ = [
    "Readable",
    "ZipEntry",
    "directory_span",
    "entries_in_tail",
    "entries_named",
    "read_member",
]

_END = struct.Struct("<4s4H2LH")
_END_SIGNATURE = b"PK\x05\x06"
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")
_ENTRY = struct.Struct("<4s6H3L5H2L")
_ENTRY_SIGNATURE = b"PK\x01\x02"
_LOCAL = struct.Struct("<4s5H3L2H")
_SATURATED = 0xFFFFFFFF
"""A 32-bit field that says "see the zip64 extra field"."""
_STARTS_TRIED = 32
"""Places in the tail that look like an entry's start, tried before giving up: a name or
an extra field may hold the signature's four bytes by chance, rarely more than once."""


class Readable(Protocol):
    """What a member is read from: an open file, or a remote one (`ranged.RangedFile`)."""

    def seek(self, offset: int, whence: int = ..., /) -> int: ...

    def read(self, size: int = ..., /) -> bytes: ...


@attrs.frozen(slots=True)
class ZipEntry:
    """One central-directory entry: what `read_member` needs to find and check a member."""

    name: str
    flags: int
    method: int
    crc: int
    compressed_size: int
    size: int
    header_offset: int


def directory_span(tail: bytes, tail_start: int) -> tuple[int, int] | None:
    """(offset, size) of the central directory, from the end record in `tail` (the archive's
    bytes from offset `tail_start` to its end). None when the end record is not in `tail`,
    or the offsets do not add up (data before the archive, or a record that lies: zipfile
    copes with those)."""
    end_at = tail.rfind(_END_SIGNATURE, max(0, len(tail) - _END.size - 0xFFFF))
    if end_at < 0 or end_at + _END.size > len(tail):
        return None
    _, _, _, _, count, size, offset, _ = _END.unpack_from(tail, end_at)
    directory_end = tail_start + end_at  # (absolute offsets from here on)
    if _SATURATED in (size, offset) or count == 0xFFFF:
        located = _zip64_directory(tail, tail_start, end_at)
        if located is None:
            return None
        size, offset, directory_end = located
    if offset + size != directory_end:
        return None
    return offset, size


def entries_in_tail(tail: bytes, tail_start: int) -> list[ZipEntry] | None:
    """The central directory's last entries, those wholly within `tail` (the archive's bytes
    from offset `tail_start` to its end), in the archive's order. None when the end record is
    not in `tail`, or the entries cannot be walked exactly to the directory's end."""
    span = directory_span(tail, tail_start)
    if span is None:
        return None
    offset, size = span
    directory_end = offset + size
    first = max(offset, tail_start) - tail_start
    stop = directory_end - tail_start
    if offset >= tail_start:
        return _walk(tail, first, stop)
    at = tail.find(_ENTRY_SIGNATURE, first, stop)
    for _ in range(_STARTS_TRIED):
        if at < 0:
            return []  # no record starts in the tail
        entries = _walk(tail, at, stop)
        if entries is not None and _plausible(entries, offset):
            return entries
        at = tail.find(_ENTRY_SIGNATURE, at + 1, stop)
    return None


def _plausible(entries: list[ZipEntry], directory: int) -> bool:
    """Whether entries walked from a guessed start can be the directory's last ones: their
    members lie in archive order before the directory, each clear of the next. A start
    guessed inside a name, an extra field or a comment can walk to the directory's end by
    chance; its first "entry" then has an offset and sizes taken from that text, which
    this rules out (and then the next start is tried, or the caller reads with zipfile)."""
    bounds = [*(e.header_offset for e in entries[1:]), directory]
    for entry, bound in zip(entries, bounds, strict=True):
        if _SATURATED in (entry.header_offset, entry.compressed_size):
            return False  # (zip64 fields: not checked here, the caller falls back)
        if entry.header_offset + _LOCAL.size + entry.compressed_size > bound:
            return False
    return True


def _zip64_directory(tail: bytes, tail_start: int,
                     end_at: int) -> tuple[int, int, int] | None:
    """(size, offset, end) of a zip64 archive's directory, from its zip64 end record."""
    locator_at = end_at - _END64_LOCATOR.size
    if locator_at < 0:
        return None
    signature, _, record_offset, _ = _END64_LOCATOR.unpack_from(tail, locator_at)
    record_at = record_offset - tail_start
    if signature != b"PK\x06\x07" or record_at < 0 or record_at + _END64.size > locator_at:
        return None
    fields = _END64.unpack_from(tail, record_at)
    if fields[0] != b"PK\x06\x06":
        return None
    return fields[8], fields[9], record_offset


def _walk(tail: bytes, at: int, stop: int) -> list[ZipEntry] | None:
    """The entries from `at`, if they end exactly at `stop`."""
    entries = []
    while at < stop:
        if at + _ENTRY.size > stop:
            return None
        (signature, _, _, flags, method, _, _, crc, compressed, size, name_length,
         extra_length, comment_length, _, _, _, offset) = _ENTRY.unpack_from(tail, at)
        if signature != _ENTRY_SIGNATURE:
            return None
        name_at = at + _ENTRY.size
        at = name_at + name_length + extra_length + comment_length
        if at > stop:
            return None
        name = _decoded(tail[name_at:name_at + name_length], flags)
        entries.append(ZipEntry(name, flags, method, crc, compressed, size, offset))
    return entries


def entries_named(directory: bytes, suffix: str) -> list[ZipEntry]:
    """The entries of a central directory (`directory`: its bytes from its first record, to
    its last or to any point: a record cut off there is not found) whose names end with
    `suffix` (ASCII), in the directory's order.

    Found by searching the bytes for `suffix`, not by walking every record: on a directory
    of 12,500 records (torch's) the walk took 23 ms and zipfile 38 ms, the search 0.2 ms. A
    place counts when a record starts where a name ending there begins: the nearest
    signature before it whose name length reaches exactly there. Only a name, extra field or
    comment holding a whole record's shape could fake one (or, inside a record's own name,
    hide it): `read_member` then finds no member of that name with that checksum, and the
    caller reads the archive with zipfile."""
    needle = suffix.encode("ascii")
    found: list[ZipEntry] = []
    at = directory.find(needle)
    while at >= 0:
        end = at + len(needle)
        lowest = max(0, end - _ENTRY.size - 0xFFFF)  # (a name is at most 65,535 bytes)
        start = directory.rfind(_ENTRY_SIGNATURE, lowest,
                                end - _ENTRY.size - len(needle) + len(_ENTRY_SIGNATURE))
        while start >= 0:
            fields = _ENTRY.unpack_from(directory, start)
            if start + _ENTRY.size + fields[10] == end:
                name = _decoded(directory[start + _ENTRY.size:end], fields[3])
                found.append(ZipEntry(name, fields[3], fields[4], fields[7], fields[8],
                                      fields[9], fields[16]))
                break
            start = directory.rfind(_ENTRY_SIGNATURE, lowest, start)
        at = directory.find(needle, at + 1)
    return found


def _decoded(name: bytes, flags: int) -> str:
    """As zipfile decodes names: UTF-8 when flag bit 11 says so, else code page 437."""
    return name.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")


def read_member(archive: Readable, entry: ZipEntry, limit: int) -> bytes | None:
    """`entry`'s bytes, read from the seekable `archive`; None for what is left to zipfile
    (zip64 sizes, encryption, other compressions, a local header or a checksum that does
    not match: zipfile then says what is wrong). `ValueError` when it is over `limit` bytes."""
    if entry.flags & 0x1 or entry.method not in (0, 8) or _SATURATED in (
            entry.compressed_size, entry.size, entry.header_offset):
        return None
    if entry.size > limit:
        raise ValueError(f"{entry.name} is larger than {limit} bytes")
    archive.seek(entry.header_offset)
    header = archive.read(_LOCAL.size)
    if len(header) != _LOCAL.size:
        return None
    signature, _, flags, _, _, _, _, _, _, name_length, extra_length = _LOCAL.unpack(header)
    if signature != b"PK\x03\x04" or _decoded(archive.read(name_length), flags) != entry.name:
        return None
    archive.seek(extra_length, 1)
    data = archive.read(entry.compressed_size)
    if len(data) != entry.compressed_size:
        return None
    if entry.method == 8:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            data = inflater.decompress(data, entry.size + 1)
        except zlib.error:
            return None
    if len(data) != entry.size or zlib.crc32(data) != entry.crc:
        return None
    return data
