"""`depsat.sources.zip_tail` against `zipfile` on archives zipfile writes: the entries found
in an archive's end are the last of zipfile's, and every member read is zipfile's bytes."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depsat.sources.distfiles import (
    DistFileError,
    parse_dist_filename,
    wheel_metadata,
    wheel_metadata_from_directory,
)
from depsat.sources.zip_tail import (
    ZipEntry,
    directory_span,
    entries_in_tail,
    entries_named,
    read_member,
)

LIMIT = 1 << 20


@st.composite
def archives(draw: st.DrawFn) -> bytes:
    """Archives with stored and deflated members, names that may hold an entry's signature,
    member and archive comments."""
    names = draw(st.lists(
        st.text(st.sampled_from("abcé/_.PK\x01\x02"), min_size=1, max_size=40)
        .filter(lambda n: not n.endswith("/")), max_size=60, unique=True))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            info = zipfile.ZipInfo(name)
            info.compress_type = draw(st.sampled_from([zipfile.ZIP_STORED,
                                                       zipfile.ZIP_DEFLATED]))
            info.comment = draw(st.binary(max_size=8))
            archive.writestr(info, draw(st.binary(max_size=300)))
        # (zipfile itself cannot read an archive whose comment holds the end's signature)
        archive.comment = draw(st.binary(max_size=30).filter(lambda c: b"PK" not in c))
    return buffer.getvalue()


def _records(data: bytes, archive: zipfile.ZipFile,
             ) -> tuple[list[zipfile.ZipInfo], int, list[int]]:
    """zipfile's entries, where the end record starts, and where each entry's directory
    record starts, from zipfile's view of them."""
    infos = archive.infolist()
    end = len(data) - 22 - len(archive.comment)
    record = struct.unpack_from("<L", data, end + 16)[0]
    starts = []
    for info in infos:
        starts.append(record)
        name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
        record += 46 + len(name) + len(info.extra) + len(info.comment)
    return infos, end, starts


def _fields(info: zipfile.ZipInfo) -> tuple[object, ...]:
    return (info.filename, info.CRC, info.compress_size, info.file_size, info.header_offset)


def _entry_fields(entry: ZipEntry) -> tuple[object, ...]:
    return (entry.name, entry.crc, entry.compressed_size, entry.size, entry.header_offset)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(archives(), st.data())
def test_the_entries_in_the_end_are_zipfiles_last_and_read_alike(data: bytes,
                                                                 draw: st.DataObject) -> None:
    start = draw.draw(st.integers(0, len(data)), label="tail start")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos, end, starts = _records(data, archive)
        found = entries_in_tail(data[start:], start)
        if start > end:  # the end record is not all there
            assert found is None
            return
        # Exactly the entries whose records lie within the tail.
        assert found is not None
        assert [_entry_fields(e) for e in found] == [
            _fields(info) for info, at in zip(infos, starts, strict=True) if at >= start]
        for entry in found:
            assert read_member(io.BytesIO(data), entry, LIMIT) == archive.read(entry.name)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(archives(), st.sampled_from(["a", "_.", "/a", "PK", "K\x01\x02", "b.c"]))
def test_the_entries_named_so_are_zipfiles_and_read_alike(data: bytes, suffix: str) -> None:
    """Found by searching the whole directory for `suffix`, in names that may hold it twice
    or hold an entry's signature, beside comments that may hold it too."""
    span = directory_span(data, 0)
    assert span is not None
    offset, size = span
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        found = entries_named(data[offset:offset + size], suffix)
        assert [_entry_fields(e) for e in found] == [
            _fields(info) for info in archive.infolist() if info.filename.endswith(suffix)]
        for entry in found:
            assert read_member(io.BytesIO(data), entry, LIMIT) == archive.read(entry.name)


def _wheel_of(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in members:
            archive.writestr(name, body)
    return buffer.getvalue()


MODULES = [(f"pkg/module_{number:05}.py", f"N = {number}\n".encode()) for number in range(2000)]


TAIL_STARTS = (1024, 32 * 1024, 100 * 1024)
"""How far from the end the tail starts: the directory (130 KB) outgrows the first two by
more than the head read first (64 KB), the third by less: then it is read in one part."""


@pytest.mark.parametrize("members", [
    # .dist-info first (torch 2.2-2.7), then last, as wheel builders write it
    [("pkg-1.0.dist-info/METADATA", b"Name: pkg\nVersion: 1.0\n"), *MODULES],
    [*MODULES, ("pkg-1.0.dist-info/METADATA", b"Name: pkg\nVersion: 1.0\n")],
    # another project's .dist-info first (vendored), and a nested one: not this wheel's
    [("other-2.0.dist-info/METADATA", b"Name: other\n"),
     ("pkg/_vendor/x-1.dist-info/METADATA", b"Name: x\n"), *MODULES,
     ("pkg-1.0.dist-info/METADATA", b"Name: pkg\n")],
])
def test_a_wheels_metadata_from_its_directory_is_zipfiles_pick(
        members: list[tuple[str, bytes]]) -> None:
    data = _wheel_of(members)
    dist = parse_dist_filename("pkg-1.0-py3-none-any.whl")
    for tail_start in (*(len(data) - back for back in TAIL_STARTS), 0):
        found = wheel_metadata_from_directory(io.BytesIO(data), data[tail_start:], tail_start,
                                              dist)
        assert found == wheel_metadata(io.BytesIO(data), dist)


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_a_malformed_wheel_naming_its_metadata_twice_is_read_as_documented() -> None:
    """zipfile opens the last entry of a name; read from the directory's head, the head's
    entry is taken (the rest is not read), as `wheel_metadata_from_directory` says."""
    data = _wheel_of([("pkg-1.0.dist-info/METADATA", b"Name: first\n"), *MODULES,
                      ("pkg-1.0.dist-info/METADATA", b"Name: last\n")])
    dist = parse_dist_filename("pkg-1.0-py3-none-any.whl")
    assert wheel_metadata(io.BytesIO(data), dist) == b"Name: last\n"
    for back, expected in zip(TAIL_STARTS, (b"Name: first\n", b"Name: first\n",
                                            b"Name: last\n"), strict=True):
        tail_start = len(data) - back
        assert wheel_metadata_from_directory(io.BytesIO(data), data[tail_start:], tail_start,
                                             dist) == expected
    assert wheel_metadata_from_directory(io.BytesIO(data), data, 0, dist) == b"Name: last\n"


def test_what_the_whole_directory_cannot_answer_is_left_to_zipfile() -> None:
    dist = parse_dist_filename("pkg-1.0-py3-none-any.whl")
    # Only a .dist-info named for another release (zipfile takes it, as the only one).
    data = _wheel_of([("pkg-0.9.dist-info/METADATA", b"Name: pkg\n"), *MODULES])
    assert wheel_metadata_from_directory(io.BytesIO(data), data[-1024:], len(data) - 1024,
                                         dist) is None
    assert wheel_metadata(io.BytesIO(data), dist) == b"Name: pkg\n"
    # No end record in the tail; a corrupt member (zipfile says what is wrong).
    assert wheel_metadata_from_directory(io.BytesIO(data), data[:-30], 0, dist) is None
    data = _wheel_of([("pkg-1.0.dist-info/METADATA", b"Name: pkg\n" * 50), *MODULES])
    corrupt = bytearray(data)
    corrupt[30 + len("pkg-1.0.dist-info/METADATA") + 5] ^= 0xFF  # (in its deflated bytes)
    assert wheel_metadata_from_directory(io.BytesIO(bytes(corrupt)), bytes(corrupt[-1024:]),
                                         len(data) - 1024, dist) is None
    with pytest.raises(DistFileError, match="not a readable wheel"):
        wheel_metadata(io.BytesIO(bytes(corrupt)), dist)


def test_what_zipfile_copes_with_and_this_does_not_is_left_to_it() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pkg/__init__.py", b"")
        archive.writestr("pkg-1.0.dist-info/METADATA", b"Name: pkg\nVersion: 1.0\n" * 20)
    data = buffer.getvalue()
    [_, metadata] = entries_in_tail(data, 0) or []
    assert read_member(io.BytesIO(data), metadata, LIMIT) == b"Name: pkg\nVersion: 1.0\n" * 20
    # Data before the archive (a self-extracting one): offsets no longer add up.
    assert entries_in_tail(b"#!stub\n" + data, 0) is None
    # No end record in the bytes given.
    assert entries_in_tail(data[:-10], 0) is None
    # A member that does not match its checksum, or its header, is not read here.
    corrupt = bytearray(data)
    body = data.index(b"pkg-1.0.dist-info/METADATA", metadata.header_offset) + 26
    corrupt[body + 5] ^= 0xFF
    assert read_member(io.BytesIO(bytes(corrupt)), metadata, LIMIT) is None
    moved = ZipEntry(metadata.name, metadata.flags, metadata.method, metadata.crc,
                     metadata.compressed_size, metadata.size, 0)
    assert read_member(io.BytesIO(data), moved, LIMIT) is None
    with pytest.raises(ValueError, match="larger than 10 bytes"):
        read_member(io.BytesIO(data), metadata, 10)


def test_a_zip64_archive_is_read_from_its_zip64_end_record() -> None:
    """Over 65,535 members, zipfile writes a zip64 end record (the classic one saturated)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(0xFFFF + 1):
            archive.writestr(f"{number}", b"")
        archive.writestr("pkg-1.0.dist-info/METADATA", b"Name: pkg\n")
    data = buffer.getvalue()
    assert b"PK\x06\x06" in data[-200:]
    start = len(data) - 4096
    found = entries_in_tail(data[start:], start)
    assert found is not None and found[-1].name == "pkg-1.0.dist-info/METADATA"
    assert read_member(io.BytesIO(data), found[-1], LIMIT) == b"Name: pkg\n"


# Found by the property test above: a name holding the entry signature twice ("PK\x01\x02"
# in "PK\x01\x02PK\x01\x02"), whose second occurrence walks to the directory's end as an
# entry of its own; its offset (25 MB) lies past the whole archive.
FOUND_BY_HYPOTHESIS = (
    b'PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00!\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
    b'\x00\x00\x01\x00\x00\x00KPK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00!\x00\x00\x00\x00'
    b'\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00PPK\x03\x04\x14\x00\x00\x00\x00\x00'
    b'\x00\x00!\x00\x1d\xf7"\xc6\x05\x00\x00\x00\x05\x00\x00\x00\x02\x00\x00\x00KK\x00\x00'
    b'\x00\x00\x00PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00!\x00\x00\x00\x00\x00\x00\x00\x00'
    b'\x00\x00\x00\x00\x00\x03\x00\x00\x00KKKPK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00'
    b'!\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00KKKKPK'
    b'\x01\x02\x14\x03\x14\x00\x00\x00\x00\x00\x00\x00!\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
    b'\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x01\x00\x00\x00\x00KPK\x01'
    b'\x02\x14\x03\x14\x00\x00\x00\x00\x00\x00\x00!\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
    b'\x00\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x80\x01\x1f\x00\x00\x00PK\x01\x02P'
    b'K\x01\x02\x14\x03\x14\x00\x00\x00\x00\x00\x00\x00!\x00\x1d\xf7"\xc6\x05\x00\x00\x00\x05'
    b'\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x80\x01>\x00\x00\x00KK\x00'
    b'PK\x01\x02\x14\x03\x14\x00\x00\x00\x00\x00\x00\x00!\x00\x00\x00\x00\x00\x00\x00\x00\x00'
    b'\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x01c\x00\x00\x00KK'
    b'KPK\x01\x02\x14\x03\x14\x00\x00\x00\x00\x00\x00\x00!\x00\x00\x00\x00\x00\x00\x00\x00'
    b'\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x01\x84\x00\x00\x00K'
    b'KKKPK\x05\x06\x00\x00\x00\x00\x05\x00\x05\x00\xf5\x00\x00\x00\xa6\x00\x00\x00\x00'
    b'\x00'
)


def test_a_start_guessed_inside_a_name_is_not_taken() -> None:
    data = FOUND_BY_HYPOTHESIS
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos, end, starts = _records(data, archive)
    for start in range(end + 1):
        found = entries_in_tail(data[start:], start)
        assert found is not None
        assert [_entry_fields(e) for e in found] == [
            _fields(info) for info, at in zip(infos, starts, strict=True) if at >= start]
