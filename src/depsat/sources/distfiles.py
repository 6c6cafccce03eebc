"""Distribution files: what a wheel or sdist filename says, and the core metadata inside.

Pure functions over names and bytes (no network): the index and find-links sources fetch
the bytes, this module reads them. Filenames are parsed with `packaging.utils` so that
depsat and pip agree on what a file is; metadata with `packaging.metadata` for the same
reason. Only the one member that holds the metadata is read from an archive.
"""

from __future__ import annotations

import bz2
import functools
import io
import lzma
import re
import tarfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any, TypeGuard, cast

import attrs
import tomllib
from packaging.markers import Marker
from packaging.metadata import InvalidMetadata, Metadata, RawMetadata, parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, parse_tag
from packaging.utils import (
    BuildTag,
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from depsat.model import ArtifactKind
from depsat.sources.zip_tail import (
    Readable,
    ZipEntry,
    directory_span,
    entries_in_tail,
    entries_named,
    read_member,
)

__all__ = [
    "CoreMetadata",
    "DistFileError",
    "DistFilename",
    "UnsupportedDistFile",
    "is_static_sdist_metadata",
    "parse_core_metadata",
    "parse_dist_filename",
    "project_dependencies",
    "project_requirements",
    "pyproject_core_metadata",
    "sdist_pkg_info",
    "sdist_pkg_info_in_head",
    "sdist_pyproject",
    "sdist_pyproject_in_head",
    "tar_sdist",
    "wheel_filename_parts",
    "wheel_metadata",
    "wheel_metadata_from_directory",
    "wheel_metadata_from_tail",
]

_LEGACY_SDIST_SUFFIXES = (".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tgz", ".tar")
_UNSUPPORTED_SUFFIXES = (".egg", ".exe", ".msi", ".rpm", ".dmg", ".deb", ".whl.metadata",
                         ".metadata", ".asc", ".sig")
_MAX_METADATA_BYTES = 16 * 1024 * 1024
"""A METADATA member larger than this is treated as corrupt (zip bombs, garbage)."""


class DistFileError(ValueError):
    """A distribution file (name or contents) that cannot be read; the message says why."""


class UnsupportedDistFile(DistFileError):
    """A file that is not a wheel or sdist at all (an egg, an installer, a signature)."""


@attrs.frozen(slots=True)
class DistFilename:
    """What a wheel's or sdist's filename says about it."""

    kind: ArtifactKind
    name: NormalizedName
    version: Version
    tags: frozenset[Tag] = frozenset()
    """Wheels only: the expanded compressed tag set."""


@functools.lru_cache(maxsize=8192)
def _wheel_release(prefix: str) -> tuple[NormalizedName, Version, BuildTag]:
    """What `parse_wheel_filename` reads from a wheel name's part before its tags."""
    name, version, build, _ = parse_wheel_filename(f"{prefix}-py3-none-any.whl")
    return name, version, build


@functools.lru_cache(maxsize=8192)
def _wheel_tags(tags: str) -> frozenset[Tag]:
    """What `parse_wheel_filename` reads from a wheel name's tags (``py-abi-platform``)."""
    return frozenset(parse_tag(tags))


def wheel_filename_parts(filename: str) -> tuple[NormalizedName, Version, frozenset[Tag]] | None:
    """`parse_wheel_filename`, its two halves memoized: a release's wheels share the part
    before the tags, and a project's releases the tags (PyPI lists 4,669 files for pyzmq,
    29,585 on jupyterlab's 90 pages; parsing each name whole was a fifth of reading those
    pages, and memoizing took 8-10% off the whole resolve). None when the name is not
    plainly ``name-version[-build]-py-abi-platform.whl`` or a half is refused:
    `parse_wheel_filename` on the whole name then says why."""
    if not filename.endswith(".whl"):
        return None
    parts = filename[:-4].split("-")
    if len(parts) not in (5, 6):
        return None
    try:
        name, version, _build = _wheel_release("-".join(parts[:-3]))
        return name, version, _wheel_tags("-".join(parts[-3:]))
    except (InvalidWheelFilename, InvalidVersion, ValueError):
        return None


def _version_after(stem: str, project: NormalizedName) -> Version | None:
    """The version in an sdist's stem after `project`'s name, as pip and uv read it on a
    project's page: packaging splits at the last hyphen, so ``cffi-1.0.2-2.tar.gz`` (an old
    spelling of 1.0.2.post2) would be a file of ``cffi-1-0-2``."""
    for at, char in enumerate(stem):
        if char == "-" and canonicalize_name(stem[:at]) == project:
            try:
                return Version(stem[at + 1:])
            except InvalidVersion:
                return None
    return None


_REASON = re.compile(r"\(([^()]*)\)")


def _reason(exc: Exception) -> str:
    """What packaging found wrong in a filename, without the name, which the caller's
    culprit gives: "Invalid sdist filename (invalid version): 'pytz-2004d.tar.gz'" ->
    "invalid version". A person then reads one warning for the 121 such files of a page
    (`depsat.report.warning_lines`). Its whole text when it gives no reason in parentheses."""
    found = _REASON.search(str(exc))
    return found.group(1) if found else str(exc)


def _sdist(sdist_name: str, stem: str, project: NormalizedName | None) -> DistFilename:
    try:
        name, version = parse_sdist_filename(sdist_name)
    except (InvalidSdistFilename, InvalidVersion) as exc:
        if project is None or (legacy := _version_after(stem, project)) is None:
            raise DistFileError(f"not a valid sdist filename ({_reason(exc)})") from exc
        return DistFilename(ArtifactKind.SDIST, project, legacy)
    if project is not None and name != project \
            and (legacy := _version_after(stem, project)) is not None:
        return DistFilename(ArtifactKind.SDIST, project, legacy)
    return DistFilename(ArtifactKind.SDIST, name, version)


def parse_dist_filename(filename: str, project: NormalizedName | None = None) -> DistFilename:
    """Parse a wheel or sdist filename (legacy `.tar.bz2`/`.tgz`/... sdists included).

    Raises `UnsupportedDistFile` for eggs, installers and signatures (not errors: indexes
    list them), `DistFileError` for a wheel or sdist name that packaging rejects. With the
    `project` a page lists, an sdist whose name packaging splits elsewhere is read as that
    project's when what follows its name is a version (`_version_after`).
    """
    lower = filename.lower()
    if lower.endswith(".whl"):
        parsed = wheel_filename_parts(filename)
        if parsed is not None:
            return DistFilename(ArtifactKind.WHEEL, *parsed)
        try:
            name, version, _build, tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion) as exc:
            raise DistFileError(f"not a valid wheel filename ({_reason(exc)})") from exc
        return DistFilename(ArtifactKind.WHEEL, name, version, frozenset(tags))
    sdist_name = filename
    for suffix in _LEGACY_SDIST_SUFFIXES:
        if lower.endswith(suffix):
            sdist_name = filename[: -len(suffix)] + ".tar.gz"
            break
    for sdist_suffix in (".tar.gz", ".zip"):
        if sdist_name.lower().endswith(sdist_suffix):
            return _sdist(sdist_name, sdist_name[: -len(sdist_suffix)], project)
    if lower.endswith(_UNSUPPORTED_SUFFIXES):
        raise UnsupportedDistFile(f"{filename!r} is neither a wheel nor an sdist")
    raise DistFileError("neither a wheel nor an sdist")


def project_dependencies(table: Mapping[str, object]) -> tuple[list[str], dict[str, list[str]]]:
    """A pyproject.toml ``[project]`` table's ``dependencies`` and ``optional-dependencies``
    as written (PEP 621), for a project directory's metadata and a ``-r pyproject.toml``
    alike; `DistFileError` when they are not lists of strings."""
    base = table.get("dependencies", [])
    optional = table.get("optional-dependencies", {})
    if not _strings(base) or not isinstance(optional, dict) or not all(
            _strings(lines) for lines in optional.values()):
        raise DistFileError("[project] dependencies are not lists of strings")
    return list(base), {str(extra): list(lines) for extra, lines in optional.items()}


def _strings(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _limited_read(stream: IO[bytes], what: str) -> bytes:
    data: bytes = stream.read(_MAX_METADATA_BYTES + 1)
    if len(data) > _MAX_METADATA_BYTES:
        raise DistFileError(f"{what} is larger than {_MAX_METADATA_BYTES} bytes")
    return data


def _named_for(member: str, dist: DistFilename) -> bool:
    """Whether `member` is in the ``.dist-info`` directory named for `dist`."""
    stem = member.split("/", 1)[0][: -len(".dist-info")]
    name, _, version = stem.rpartition("-")
    try:
        return canonicalize_name(name) == dist.name and Version(version) == dist.version
    except InvalidVersion:
        return False


def _pick_dist_info(names: Iterable[str], dist: DistFilename) -> str:
    """The `X.dist-info/METADATA` member, preferring the one named after the distribution."""
    candidates = [
        n for n in names
        if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
    ]
    if not candidates:
        raise DistFileError("no .dist-info/METADATA member in the wheel")
    for member in candidates:
        if _named_for(member, dist):
            return member
    if len(candidates) == 1:
        return candidates[0]
    raise DistFileError(f"several .dist-info directories, none named for {dist.name} "
                        f"{dist.version}")


def wheel_metadata(data: bytes | IO[bytes], dist: DistFilename) -> bytes:
    """The METADATA member of a wheel held in memory, or in any seekable file (a wheel read
    by HTTP range requests): only that member is read and decompressed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as archive:
            member = _pick_dist_info(archive.namelist(), dist)
            with archive.open(member) as stream:
                return _limited_read(stream, member)
    except DistFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise DistFileError(f"not a readable wheel (zip) file: {exc}") from exc


def wheel_metadata_from_tail(archive: Readable, tail: bytes, tail_start: int,
                             dist: DistFilename) -> bytes | None:
    """The METADATA member of a wheel read by ranges, found among the directory entries in
    its last bytes (`tail`, from offset `tail_start`: `depsat.sources.zip_tail` says why);
    None when they do not name one for `dist` (then `wheel_metadata_from_directory`). A
    wheel has one ``.dist-info``, last: the one named for the distribution there is the one
    `wheel_metadata` picks."""
    entries = entries_in_tail(tail, tail_start)
    named = [e for e in entries or () if _is_metadata_for(e.name, dist)]
    if not named or any(e.name != named[-1].name for e in named):
        return None
    return _member(archive, named[-1])  # (the last of equal names, as zipfile opens)


def wheel_metadata_from_directory(archive: Readable, tail: bytes, tail_start: int,
                                  dist: DistFilename) -> bytes | None:
    """The METADATA member of a wheel read by ranges whose last bytes (`tail`, from offset
    `tail_start`) do not hold it, found by its name (`zip_tail.entries_named`) in the
    directory's first `_DIRECTORY_HEAD` bytes (one request: a wheel that does not list its
    ``.dist-info`` last lists it first, as torch's did), else in the rest (one more). None
    when that cannot be done here (then `wheel_metadata` reads it with zipfile, and says
    what is wrong).

    The entry is the one zipfile picks (the first name named for the distribution, its last
    entry), but for a malformed wheel listing that name twice, once in the head: the head's
    is taken, as the rest is not read."""
    span = directory_span(tail, tail_start)
    if span is None:
        return None
    offset, size = span
    try:
        if offset >= tail_start:  # (all of it in the tail)
            return _named_member(archive, tail[offset - tail_start:offset - tail_start + size],
                                 dist)
        archive.seek(offset)
        wanted = min(_DIRECTORY_HEAD, tail_start - offset)
        head = archive.read(wanted)
        if len(head) != wanted:
            return None
        if wanted < tail_start - offset:
            found = _named_member(archive, head, dist)
            if found is not None:
                return found
            rest = archive.read(tail_start - offset - wanted)
            if len(rest) != tail_start - offset - wanted:
                return None
            head += rest
        return _named_member(archive, head + tail[:offset + size - tail_start], dist)
    except (OSError, EOFError) as exc:
        raise DistFileError(f"not a readable wheel (zip) file: {exc}") from exc


_DIRECTORY_HEAD = 64 * 1024
"""The directory's first bytes read before the rest: torch 2.2-2.7 wheels on PyPI name
their METADATA within the first kilobyte of 1.3 MB of directory."""


def _named_member(archive: Readable, directory: bytes, dist: DistFilename) -> bytes | None:
    """The METADATA member named for `dist` among the entries of `directory` (a whole
    directory, or its first part), as zipfile picks it: the first name, its last entry."""
    named = [e for e in entries_named(directory, ".dist-info/METADATA")
             if _is_metadata_for(e.name, dist)]
    if not named:
        return None
    return _member(archive, [e for e in named if e.name == named[0].name][-1])


def _is_metadata_for(name: str, dist: DistFilename) -> bool:
    return (name.count("/") == 1 and name.endswith(".dist-info/METADATA")
            and _named_for(name, dist))


def _member(archive: Readable, entry: ZipEntry) -> bytes | None:
    try:
        return read_member(archive, entry, _MAX_METADATA_BYTES)
    except ValueError as exc:
        raise DistFileError(str(exc)) from exc
    except (OSError, EOFError) as exc:
        raise DistFileError(f"not a readable wheel (zip) file: {exc}") from exc


def sdist_pkg_info(data: bytes, filename: str) -> bytes:
    """The top-level `PKG-INFO` of an sdist (tar, any compression, or zip) held in memory."""
    found = _sdist_top_member(data, filename, "PKG-INFO")
    if found is None:
        raise DistFileError("no top-level PKG-INFO in the sdist")
    return found


def _sdist_top_member(data: bytes, filename: str, member: str) -> bytes | None:
    """The top-level file `member` of a whole sdist (tar, any compression, or zip), or None
    when it has none; `DistFileError` when the archive cannot be read."""
    try:
        if filename.lower().endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = [n for n in archive.namelist()
                           if n.count("/") == 1 and n.endswith(f"/{member}")]
                if not members:
                    return None
                with archive.open(sorted(members, key=len)[0]) as stream:
                    return _limited_read(stream, member)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for info in archive:
                parts = info.name.strip("/").split("/")
                if len(parts) == 2 and parts[1] == member and info.isfile():
                    extracted = archive.extractfile(info)
                    if extracted is None:  # pragma: no cover - isfile() above
                        break
                    return _limited_read(extracted, member)
            return None
    except DistFileError:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise DistFileError(f"not a readable sdist archive: {exc}") from exc


_MAX_HEAD_OUTPUT = 64 * 1024 * 1024
"""The most bytes the first part of a compressed sdist is inflated to when looking for its
PKG-INFO (a part of zeros inflates a thousandfold)."""


def _head_decompressor(filename: str) -> Any:
    """A decompressor for a tar sdist's compression (`None` for a plain tar), or `False`
    when the file is no tar (a zip's PKG-INFO is found from its end, not its start)."""
    lower = filename.lower()
    if lower.endswith((".tar.gz", ".tgz")):
        return zlib.decompressobj(zlib.MAX_WBITS | 16)
    if lower.endswith((".tar.bz2", ".tbz")):
        return bz2.BZ2Decompressor()
    if lower.endswith((".tar.xz", ".txz")):
        return lzma.LZMADecompressor()
    if lower.endswith(".tar"):
        return None
    return False


def tar_sdist(filename: str) -> bool:
    """Whether an sdist's name says it is a tar archive (compressed or not)."""
    return _head_decompressor(filename) is not False


def sdist_pkg_info_in_head(head: bytes, filename: str) -> tuple[bytes, bool] | None:
    """The top-level `PKG-INFO` of a tar sdist, from the first bytes of the file only, and
    True; else the ``*.egg-info/PKG-INFO`` that setuptools writes beside it, and False; None
    when those bytes end before either (or the file is no tar, or they do not read as one:
    the whole file then says what is wrong).

    setuptools writes an sdist's entries sorted by name, so ``PKG-INFO`` comes after the
    few upper-case ones and before the sources; older ones wrote it last, but their
    ``.egg-info`` copy early. pyspark's sdists are 200-300 MB: reading their PKG-INFO (to
    learn that their dependencies need a build) took a 17 GB download for 57 releases."""
    found = _tar_head_members(head, filename, _is_pkg_info)
    top = next((data for parts, data in found if len(parts) == 2), None)
    if top is not None:
        return top, True
    return (found[0][1], False) if found else None


def sdist_pyproject_in_head(head: bytes, filename: str) -> bytes | None:
    """The top-level ``pyproject.toml`` of a tar sdist, from its first bytes only (as
    `sdist_pkg_info_in_head`); None when they end before it."""
    found = _tar_head_members(head, filename, lambda parts: parts == [parts[0], "pyproject.toml"])
    return found[0][1] if found else None


def _is_pkg_info(parts: list[str]) -> bool:
    return parts[-1] == "PKG-INFO" and (len(parts) == 2 or (
        len(parts) == 3 and parts[1].endswith(".egg-info")))


def _tar_head_members(head: bytes, filename: str, wanted: Callable[[list[str]], bool],
                      ) -> list[tuple[list[str], bytes]]:
    """The whole files of a tar sdist's first bytes whose path parts `wanted` accepts, in
    archive order, up to the first one the bytes end inside. `tarfile` cannot stop at a
    truncated archive by itself, hence reading the inflated part as a whole archive and
    taking its end as "further on"."""
    decompressor = _head_decompressor(filename)
    found: list[tuple[list[str], bytes]] = []
    if decompressor is False:
        return found
    try:
        data = head if decompressor is None else decompressor.decompress(head,
                                                                         _MAX_HEAD_OUTPUT)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for info in archive:
                parts = info.name.strip("/").split("/")
                if not info.isfile() or not wanted(parts):
                    continue
                if info.offset_data + info.size > len(data):
                    break  # (its end is further on)
                extracted = archive.extractfile(info)
                if extracted is None:  # pragma: no cover - isfile() above
                    break
                found.append((parts, _limited_read(extracted, parts[-1])))
    except (tarfile.TarError, zlib.error, lzma.LZMAError, OSError, EOFError, ValueError):
        pass
    return found


def sdist_pyproject(data: bytes, filename: str) -> bytes | None:
    """The top-level ``pyproject.toml`` of a whole sdist (tar or zip), or None (also when
    the archive cannot be read: its PKG-INFO was, so that is not this file's to say)."""
    try:
        return _sdist_top_member(data, filename, "pyproject.toml")
    except DistFileError:
        return None


def pyproject_core_metadata(data: bytes) -> CoreMetadata | None:
    """What a ``pyproject.toml``'s ``[project]`` table states as core metadata, when its name,
    version and every field a resolver reads are static (PEP 621: a field it lists neither
    as a value nor in ``dynamic`` is empty); None when one is dynamic or the table is
    missing or malformed. uv reads an sdist's dependencies this way too: an older backend
    writes a PKG-INFO that cannot be trusted for them (Metadata 2.1), and the build it would
    take may need what is not at hand (dbt-core-experimental-parser's downloads a binary)."""
    try:
        table = tomllib.loads(data.decode("utf-8")).get("project")
        if not isinstance(table, dict):
            return None
        dynamic = table.get("dynamic", [])
        if not isinstance(dynamic, list) or {"name", "version", "dependencies",
                                             "optional-dependencies",
                                             "requires-python"} & set(dynamic):
            return None
        base, optional = project_dependencies(table)
        requires, extras = project_requirements(base, optional)
        return CoreMetadata(
            name=canonicalize_name(str(table["name"])), version=Version(str(table["version"])),
            metadata_version="2.2", requires=requires, provides_extras=extras,
            requires_python=(SpecifierSet(str(table["requires-python"]))
                             if "requires-python" in table else None))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError, DistFileError,
            InvalidVersion, InvalidSpecifier):
        return None


def project_requirements(base: Sequence[str], optional: Mapping[str, Sequence[str]],
                         apply: Callable[[str], str] = str,
                         ) -> tuple[tuple[Requirement, ...], frozenset[NormalizedName]]:
    """A ``[project]`` table's dependencies as core metadata has them: an extra's behind
    ``extra == "name"`` markers; and the extras. `apply` rewrites each line first
    (``[tool.uv.sources]``); `DistFileError` names a line that is no requirement."""
    lines: list[tuple[str, NormalizedName | None]] = [(line, None) for line in base]
    for extra_name, extra_lines in optional.items():
        lines += [(line, canonicalize_name(extra_name)) for line in extra_lines]
    requires = []
    for line, extra in lines:
        try:
            requirement = Requirement(apply(line))
        except InvalidRequirement as exc:
            raise DistFileError(f"invalid dependency {line!r}: {exc}") from exc
        if extra is not None:  # (as core metadata says an extra's requirement)
            marker = f'extra == "{extra}"'
            requirement.marker = Marker(f"({requirement.marker}) and {marker}"
                                        if requirement.marker else marker)
        requires.append(requirement)
    return tuple(requires), frozenset(map(canonicalize_name, optional))


@attrs.frozen(slots=True)
class CoreMetadata:
    """The fields of core metadata a resolver needs, already parsed."""

    name: NormalizedName
    version: Version
    metadata_version: str
    requires: tuple[Requirement, ...] = ()
    provides_extras: frozenset[NormalizedName] = frozenset()
    requires_python: SpecifierSet | None = None
    dynamic: frozenset[str] = frozenset()
    """Lower-cased field names declared Dynamic (Metadata 2.2+)."""


_HEADER_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")
"""What the email parser accepts as a header name (printable ASCII, no colon)."""
_WANTED = {"metadata-version": "metadata_version", "name": "name", "version": "version",
           "requires-python": "requires_python", "requires-dist": "requires_dist",
           "provides-extra": "provides_extra", "dynamic": "dynamic"}
_LIST_FIELDS = frozenset({"requires_dist", "provides_extra", "dynamic"})


def _read_headers(text: str) -> RawMetadata | None:
    """The fields depsat needs from core metadata, as `packaging.metadata.parse_email` would
    give them; None when the text is unusual enough that only the email parser should judge.

    Why not `parse_email` every time: it runs the general `email` package over the whole file
    (description included), building a message object per header, about 100 us a file, which
    over a warm resolution of thousands of files was the largest cost after I/O. Core metadata
    headers are simple RFC 822 fields (``Name: value`` lines up to the first empty line), so
    the common case is a split per line. Whatever would need the email parser's judgement
    (continuation lines in a field read here, carriage returns, lines that are not headers,
    a field given twice that may appear once) falls back to it, so the result is the same.
    """
    if "\r" in text:
        return None
    values: dict[str, list[str]] = {}
    wanted: str | None = None
    for line in text.split("\n"):
        if not line:
            break  # the end of the headers; the body (description) is not needed
        if line[0] in " \t":
            if wanted is not None:
                return None  # a folded value of a field depsat reads
            continue
        name, colon, value = line.partition(":")
        if not colon or not _HEADER_NAME.fullmatch(name):
            return None
        wanted = _WANTED.get(name.lower())
        if wanted is not None:
            values.setdefault(wanted, []).append(value.lstrip(" \t"))
    raw: dict[str, str | list[str]] = {}
    for field, found in values.items():
        if field in _LIST_FIELDS:
            raw[field] = found
        elif len(found) == 1:
            raw[field] = found[0]
        else:
            return None  # parse_email leaves a repeated single field out; let it say so
    return cast("RawMetadata", raw)


_REQUIREMENTS: dict[str, Requirement] = {}
_REQUIREMENTS_LOCK = threading.Lock()


def _requirement(text: str) -> Requirement:
    """`Requirement(text)`, memoized: releases of a project repeat the same lines. The
    instances are shared, so callers treat them as immutable (as depsat does)."""
    found = _REQUIREMENTS.get(text)
    if found is None:
        found = Requirement(text)
        with _REQUIREMENTS_LOCK:
            if len(_REQUIREMENTS) >= 1 << 16:
                _REQUIREMENTS.clear()
            _REQUIREMENTS[text] = found
    return found


def _requires_dist(metadata: Metadata, raw: RawMetadata) -> tuple[Requirement, ...]:
    """`metadata.requires_dist`, with the same error, from the memo."""
    lines = raw.get("requires_dist")
    if lines is None:
        return tuple(metadata.requires_dist or ())
    requirements = []
    for line in lines:
        try:
            requirements.append(_requirement(line))
        except InvalidRequirement as exc:
            raise InvalidMetadata("requires-dist",
                                  f"{line!r} is invalid for 'requires-dist'") from exc
    return tuple(requirements)


def parse_core_metadata(raw: bytes) -> CoreMetadata:
    """Parse METADATA / PKG-INFO bytes; `DistFileError` names the first bad field.

    `validate=False` keeps unrelated junk (a bad license classifier) from failing the whole
    file; each field the resolver needs is then converted, and checked, on its own.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    raw_fields = _read_headers(text)
    if raw_fields is None:
        raw_fields, _unparsed = parse_email(text)
    metadata = Metadata.from_raw(raw_fields, validate=False)
    metadata_version = str(raw_fields.get("metadata_version", ""))
    if not metadata_version:
        raise DistFileError("core metadata has no Metadata-Version")
    field = "Name"
    try:
        raw_name, raw_version = metadata.name, metadata.version
        if not raw_name or raw_version is None:
            raise DistFileError("core metadata has no Name or Version")
        field = "Requires-Dist"
        requires = _requires_dist(metadata, raw_fields)
        field = "Provides-Extra"
        extras = frozenset(metadata.provides_extra or ())
        field = "Requires-Python"
        requires_python = metadata.requires_python
        field = "Dynamic"
        dynamic = frozenset(d.lower() for d in metadata.dynamic or ())
    except (InvalidMetadata, ValueError) as exc:
        if isinstance(exc, DistFileError):
            raise
        raise DistFileError(f"invalid {field} in core metadata: {exc}") from exc
    return CoreMetadata(
        name=canonicalize_name(raw_name),
        version=raw_version,
        metadata_version=metadata_version,
        requires=requires,
        provides_extras=extras,
        requires_python=requires_python,
        dynamic=dynamic,
    )


def is_static_sdist_metadata(metadata: CoreMetadata) -> bool:
    """PEP 643: PKG-INFO can be trusted for dependencies from Metadata 2.2 on, unless Dynamic."""
    try:
        new_enough = Version(metadata.metadata_version) >= Version("2.2")
    except InvalidVersion:
        return False
    return new_enough and not {"requires-dist", "requires-python",
                               "provides-extra"} & metadata.dynamic
