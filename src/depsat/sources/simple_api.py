"""The simple repository API, parsed: PEP 503 HTML and PEP 691 JSON project pages.

Pure parsing, no I/O: the caller fetches a page and hands over its bytes, content type and
final URL (after redirects, since relative links resolve against it). Both forms give the
same `ProjectPage`, so the rest of depsat never knows which one the index served.

Covered: PEP 503 (anchors, hash fragments, `<base>`), PEP 592 (yanked, with reason), PEP 629
(`api-version`: a newer major version is refused, a newer minor one is a warning), PEP 658 /
PEP 714 (`core-metadata`, falling back to `dist-info-metadata`), PEP 700 (`versions`, `size`,
`upload-time`), `requires-python` (HTML-unescaped). The same HTML parser reads find-links pages.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import attrs

__all__ = [
    "ACCEPT",
    "HTML_CONTENT_TYPES",
    "JSON_CONTENT_TYPES",
    "ProjectFile",
    "ProjectPage",
    "SimpleApiError",
    "parse_hash_fragment",
    "parse_html_page",
    "parse_json_page",
    "parse_project_page",
]

SUPPORTED_API_VERSION = (1, 1)
JSON_CONTENT_TYPES = ("application/vnd.pypi.simple.v1+json",
                      "application/vnd.pypi.simple.latest+json")
HTML_CONTENT_TYPES = ("application/vnd.pypi.simple.v1+html",
                      "application/vnd.pypi.simple.latest+html", "text/html")
ACCEPT = ("application/vnd.pypi.simple.v1+json, "
          "application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01")
"""What depsat asks an index for: JSON preferred (PEP 691), HTML accepted."""

_HASH_NAMES = frozenset(hashlib.algorithms_guaranteed)


class SimpleApiError(ValueError):
    """A page that is not a valid simple-API page; the message says what is wrong."""


@attrs.frozen(slots=True)
class ProjectFile:
    """One file a project page lists, with every URL already absolute and fragment-free."""

    filename: str
    url: str
    hashes: Mapping[str, str] = attrs.field(factory=dict, eq=False, hash=False)
    requires_python: str | None = None
    """As written (HTML already unescaped); the caller parses it, so one bad value costs a file."""
    yanked: bool = False
    yanked_reason: str | None = None
    core_metadata: bool = False
    """PEP 658/714: the index serves `<url>.metadata`."""
    core_metadata_hashes: Mapping[str, str] = attrs.field(factory=dict, eq=False, hash=False)
    size: int | None = None
    upload_time: str | None = None

    @property
    def metadata_url(self) -> str:
        return self.url + ".metadata"


@attrs.frozen(slots=True)
class ProjectPage:
    """A parsed project page."""

    url: str
    name: str | None
    files: tuple[ProjectFile, ...]
    api_version: str | None = None
    versions: tuple[str, ...] | None = None
    """PEP 700 (JSON only): every version the project has, files or not."""
    warnings: tuple[str, ...] = ()


def parse_hash_fragment(fragment: str) -> dict[str, str]:
    """`sha256=abc` (PEP 503 URL fragment, or `data-core-metadata`): known algorithms only."""
    hashes: dict[str, str] = {}
    for part in fragment.split("&"):
        algorithm, sep, value = part.partition("=")
        algorithm = algorithm.strip().lower()
        if sep and value and algorithm in _HASH_NAMES:
            hashes[algorithm] = value.strip().lower()
    return hashes


def _check_api_version(version: str | None, url: str) -> list[str]:
    """PEP 629: refuse a newer major version, warn about a newer minor one."""
    if version is None:
        return []
    try:
        major, minor = (int(part) for part in version.split(".", 1))
    except ValueError as exc:
        raise SimpleApiError(f"invalid repository api-version {version!r}") from exc
    if major > SUPPORTED_API_VERSION[0]:
        raise SimpleApiError(
            f"repository api-version {version} is newer than depsat understands "
            f"({SUPPORTED_API_VERSION[0]}.x)")
    if (major, minor) > SUPPORTED_API_VERSION:
        return [f"{url}: repository api-version {version} is newer than "
                f"{'.'.join(map(str, SUPPORTED_API_VERSION))}; newer fields are ignored"]
    return []


def _filename_from_url(url: str) -> str:
    return unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])


_PLAIN_SEGMENT = re.compile(r"[^\x00-\x20\x7f/?#;]+")
"""A last path segment that `urljoin` leaves alone: no separators, delimiters or spaces."""
_PLAIN_ABSOLUTE = re.compile(r"https?://[^\x00-\x20\x7f/?#;]+/[^\x00-\x20\x7f?#;]*")
"""An absolute URL that `urljoin` returns as it is: http(s), a host, a path, and no
parameters or query (which `urlunparse` could respell)."""


class _Resolver:
    """`urldefrag(urljoin(base, href))` and the filename, for the many links of one page.

    Links on a page mostly share a directory (``../../files/``); `urljoin` (and
    `urlsplit` for the filename) cost more than the rest of parsing a file entry, so the
    directory is joined once and a plain last segment is appended: the same result, since
    joining a plain segment onto a directory changes neither. PyPI's links are absolute,
    each in a directory of its own, and `urljoin` gives such a link back as it is: it is
    taken as it is (jupyterlab's 90 pages on PyPI list 29,585 files; joining each was
    about a fifth of a warm resolve in a profile). Anything else goes through `urljoin`."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._directories: dict[str, str] = {}

    def resolve(self, href: str) -> tuple[str, str, str]:
        """(absolute URL without fragment, fragment, filename)."""
        if "\t" in href or "\n" in href or "\r" in href:  # (which urlsplit removes)
            return self._joined(href)
        path, _, fragment = href.partition("#")
        head, sep, tail = path.rpartition("/")
        if _PLAIN_ABSOLUTE.fullmatch(path) and tail not in ("", ".", ".."):
            return path, fragment, unquote(tail) if "%" in tail else tail
        # A relative directory only: after "//" the last segment is a host ("//host"), and
        # an absolute one urljoin may respell ("HTTPS:" -> "https:") once it is defragged.
        if sep and not head.endswith("/") and not any(c in head for c in ":?;") and (
                tail not in (".", "..")) and _PLAIN_SEGMENT.fullmatch(tail):
            directory = self._directories.get(head)
            if directory is None:
                directory = urljoin(self.base, head + "/")
                self._directories[head] = directory
            if directory.endswith("/") and "?" not in directory and "#" not in directory:
                return (directory + tail, fragment,
                        unquote(tail) if "%" in tail else tail)
        return self._joined(href)

    def _joined(self, href: str) -> tuple[str, str, str]:
        absolute, fragment = urldefrag(urljoin(self.base, href))
        return absolute, fragment, _filename_from_url(absolute)


class _AnchorParser(HTMLParser):
    """Collect `<a>` tags, `<base href>` and `<meta name="pypi:repository-version">`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict[str, str | None]] = []
        self.base: str | None = None
        self.api_version: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.anchors.append(attributes)
        elif tag == "base" and self.base is None and attributes.get("href"):
            self.base = attributes["href"]
        elif tag == "meta" and attributes.get("name") == "pypi:repository-version":
            self.api_version = attributes.get("content")


def parse_html_page(text: str, url: str, *, name: str | None = None) -> ProjectPage:
    """A PEP 503 page (or a find-links page: the same anchors). `url` is the page's final URL."""
    parser = _AnchorParser()
    try:
        parser.feed(text)
        parser.close()
    except AssertionError as exc:  # html.parser's way of rejecting hopeless markup
        raise SimpleApiError(f"malformed HTML: {exc}") from exc
    warnings = _check_api_version(parser.api_version, url)
    base = urljoin(url, parser.base) if parser.base else url
    resolver = _Resolver(base)
    files: list[ProjectFile] = []
    for anchor in parser.anchors:
        href = anchor["href"] or ""
        absolute, fragment, filename = resolver.resolve(href.strip())
        if not filename:
            continue
        metadata_attr = anchor.get("data-core-metadata", anchor.get("data-dist-info-metadata"))
        has_metadata = metadata_attr is not None and metadata_attr.strip().lower() != "false"
        yanked_attr = anchor.get("data-yanked")
        files.append(ProjectFile(
            filename=filename,
            url=absolute,
            hashes=parse_hash_fragment(fragment),
            requires_python=(anchor.get("data-requires-python") or "").strip() or None,
            yanked=yanked_attr is not None,
            yanked_reason=(yanked_attr or "").strip() or None,
            core_metadata=has_metadata,
            core_metadata_hashes=parse_hash_fragment(metadata_attr or "") if has_metadata
            else {},
        ))
    return ProjectPage(url=url, name=name, files=tuple(files), api_version=parser.api_version,
                       warnings=tuple(warnings))


def _field(name: str, index: int | None) -> str:
    """A field's name for a message: ``name``, or ``files[index].name`` for a file's."""
    return name if index is None else f"files[{index}].{name}"


def _str_or_none(value: Any, name: str, index: int | None = None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise SimpleApiError(f"{_field(name, index)!r} must be a string, "
                         f"not {type(value).__name__}")


def _hash_dict(value: Any, name: str, index: int | None = None) -> dict[str, str]:
    """A table of hash names to hex digests, both lower-cased, the names depsat does not know
    left out."""
    hashes = _known_hashes(value) if isinstance(value, dict) else None
    if hashes is None:
        raise SimpleApiError(f"{_field(name, index)!r} must be a table of hash names to hex "
                             "digests")
    return hashes


def _json_file(entry: Any, resolver: _Resolver, index: int) -> ProjectFile:
    """One entry of a PEP 691 page's ``files``, checked. A page can list thousands (the 130
    pages apache-airflow reads on PyPI list 87,846): an entry shaped as PyPI writes them
    takes one pass of plain type tests (`_checked_file` when any fails, to say which field is
    wrong), and the names of fields for messages are only spelled out then."""
    if type(entry) is dict:
        filename, file_url = entry.get("filename"), entry.get("url")
        table = entry.get("hashes", _NO_TABLE)
        metadata = entry.get("core-metadata", entry.get("dist-info-metadata", False))
        yanked = entry.get("yanked", False)
        size = entry.get("size")
        requires_python = entry.get("requires-python")
        upload_time = entry.get("upload-time")
        if (type(filename) is str and filename and type(file_url) is str
                and type(table) is dict and (type(metadata) is bool or type(metadata) is dict)
                and (yanked is False or yanked is True or type(yanked) is str)
                and (size is None or type(size) is int)
                and (requires_python is None or type(requires_python) is str)
                and (upload_time is None or type(upload_time) is str)):
            hashes = _known_hashes(table)
            metadata_hashes = _known_hashes(metadata) if type(metadata) is dict else {}
            if hashes is not None and metadata_hashes is not None:
                absolute, fragment, _ = resolver.resolve(file_url)
                if fragment:  # (the table's digests win over the link's)
                    hashes = {**parse_hash_fragment(fragment), **hashes}
                return ProjectFile(
                    filename, absolute, hashes,
                    requires_python.strip() or None if requires_python else None,
                    yanked is not False,
                    yanked.strip() or None if type(yanked) is str else None,
                    metadata is not False, metadata_hashes, size, upload_time)
    return _checked_file(entry, resolver, index)


def _known_hashes(table: dict[Any, Any]) -> dict[str, str] | None:
    """A JSON hash table's known algorithms, names and digests lower-cased; None when a name
    or a digest is not a string."""
    hashes: dict[str, str] = {}
    for hash_name, digest in table.items():
        if type(hash_name) is not str or type(digest) is not str:
            return None
        hash_name = hash_name.lower()
        if hash_name in _HASH_NAMES:
            hashes[hash_name] = digest.lower()
    return hashes


_NO_TABLE: dict[str, str] = {}


def _checked_file(entry: Any, resolver: _Resolver, index: int) -> ProjectFile:
    """`_json_file` for an entry not shaped as PyPI writes them: each field checked in turn,
    the first wrong one named."""
    if not isinstance(entry, dict):
        raise SimpleApiError(f"files[{index}] must be an object")
    filename, file_url = entry.get("filename"), entry.get("url")
    if not isinstance(filename, str) or not isinstance(file_url, str) or not filename:
        raise SimpleApiError(f"files[{index}] needs string 'filename' and 'url'")
    absolute, fragment, _ = resolver.resolve(file_url)
    hashes = parse_hash_fragment(fragment) if fragment else {}
    hashes.update(_hash_dict(entry.get("hashes", {}), "hashes", index))
    metadata = entry.get("core-metadata", entry.get("dist-info-metadata", False))
    if isinstance(metadata, dict):
        metadata_hashes = _hash_dict(metadata, "core-metadata", index)
        has_metadata = True
    elif isinstance(metadata, bool):
        metadata_hashes, has_metadata = {}, metadata
    else:
        raise SimpleApiError(f"files[{index}].core-metadata must be a boolean or a table of "
                             "hashes")
    yanked = entry.get("yanked", False)
    if not isinstance(yanked, (bool, str)):
        raise SimpleApiError(f"files[{index}].yanked must be a boolean or a string")
    size = entry.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool)):
        raise SimpleApiError(f"files[{index}].size must be an integer")
    requires_python = _str_or_none(entry.get("requires-python"), "requires-python", index)
    return ProjectFile(
        filename=filename,
        url=absolute,
        hashes=hashes,
        requires_python=(requires_python or "").strip() or None,
        yanked=yanked is not False,
        yanked_reason=yanked.strip() or None if isinstance(yanked, str) else None,
        core_metadata=has_metadata,
        core_metadata_hashes=metadata_hashes,
        size=size,
        upload_time=_str_or_none(entry.get("upload-time"), "upload-time", index),
    )


def parse_json_page(content: bytes | str, url: str) -> ProjectPage:
    """A PEP 691 JSON project page. `url` is the page's final URL."""
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SimpleApiError(f"malformed JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SimpleApiError("the JSON page must be an object")
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        raise SimpleApiError("'meta' must be an object")
    api_version = _str_or_none(meta.get("api-version"), "meta.api-version")
    warnings = _check_api_version(api_version, url)
    files = data.get("files")
    if not isinstance(files, list):
        raise SimpleApiError("'files' must be a list")
    versions = data.get("versions")
    if versions is not None and (
        not isinstance(versions, list) or not all(isinstance(v, str) for v in versions)
    ):
        raise SimpleApiError("'versions' must be a list of strings")
    resolver = _Resolver(url)
    return ProjectPage(
        url=url,
        name=_str_or_none(data.get("name"), "name"),
        files=tuple(_json_file(entry, resolver, i) for i, entry in enumerate(files)),
        api_version=api_version,
        versions=tuple(versions) if versions is not None else None,
        warnings=tuple(warnings),
    )


def parse_project_page(content: bytes, content_type: str | None, url: str) -> ProjectPage:
    """Dispatch on the content type; sniff when the server did not say (file://, bad servers)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in JSON_CONTENT_TYPES or media == "application/json":
        return parse_json_page(content, url)
    if media and media not in HTML_CONTENT_TYPES and not media.startswith("text/"):
        raise SimpleApiError(f"unexpected content type {media!r} for a project page")
    if not media and content.lstrip()[:1] == b"{":
        return parse_json_page(content, url)
    charset = "utf-8"
    for param in (content_type or "").split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        text = content.decode(charset)
    except (LookupError, UnicodeDecodeError) as exc:
        raise SimpleApiError(f"page is not valid {charset}: {exc}") from exc
    return parse_html_page(text, url)
