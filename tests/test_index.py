"""Index and find-links sources against real files and real HTTP(S) servers on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import json
import re
import socket
import sqlite3
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import quick_client
from hypothesis import given
from hypothesis import strategies as st
from indexbuild import Fault, build_index, serve, tar_archive
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.version import Version

from depsat.errors import SourceError
from depsat.model import ArtifactKind, Candidate, ExclusionKind, canonicalize_name
from depsat.sources.base import MetadataUnavailable
from depsat.sources.distfiles import (
    DistFileError,
    UnsupportedDistFile,
    parse_core_metadata,
    parse_dist_filename,
    pyproject_core_metadata,
    sdist_pkg_info_in_head,
)
from depsat.sources.find_links import FindLinksSource
from depsat.sources.http import (
    CACHE_DATABASE,
    CACHE_FORMAT,
    HttpClient,
    cache_key,
    extract_key,
    redact_url,
)
from depsat.sources.index import IndexSource
from depsat.sources.ranged import NoRanges, RangedFile
from depsat.sources.simple_api import (
    SimpleApiError,
    _filename_from_url,
    _Resolver,
    parse_html_page,
    parse_json_page,
    parse_project_page,
)

SPEC: dict[str, Any] = {
    "alpha": {
        "1.0.0": {"requires": ["beta>=1"], "extras": {"fast": ["gamma"]}},
        "2.0.0": {"requires": ["beta>=2", "gamma; python_version < '3'"],
                  "requires_python": ">=3.8,<4", "wheel_tags": ["py3-none-any",
                                                                "cp312-cp312-manylinux_2_17_x86_64"]},
        "3.0.0": {"yanked": "broke the API", "requires": ["beta"]},
    },
    "beta": {"1.0": {}, "2.0": {"yanked": True}},
    "gamma": {"0.1": {"wheel": False}},
    "Needs_Build": {"1.0": {"wheel": False, "sdist_metadata_version": "2.1"}},
    "dyn": {"1.0": {"wheel": False, "dynamic": ["Requires-Dist"]}},
    "corrupt": {"1.0": {"corrupt_wheel": True, "sdist": False}},
    "liar": {"1.0": {"metadata_version_override": "9.9", "sdist": False}},
}


def summary(candidates: Any) -> list[tuple[Any, ...]]:
    """What must agree between two ways of reading the same index (URLs aside)."""
    return [
        (c.name, c.version, c.yanked, c.yanked_reason, c.requires_python,
         sorted((a.kind.value, a.filename, a.tags, dict(a.hashes).get("sha256"),
                 a.requires_python, a.yanked, a.yanked_reason) for a in c.artifacts))
        for c in candidates
    ]


def deps(candidate: Candidate | MetadataUnavailable) -> tuple[Any, ...]:
    assert isinstance(candidate, Candidate), candidate
    return (sorted(map(str, candidate.requires)), sorted(candidate.provides_extras),
            candidate.requires_python)


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """root/full (JSON + HTML + PEP 658), root/html (HTML only, no PEP 658)."""
    root = tmp_path_factory.mktemp("indexes")
    build_index(SPEC, root / "full")
    build_index(SPEC, root / "html", pep658=False, json=False)
    return root


@pytest.fixture
def server(indexes: Path, http_transport: str) -> Iterator[str]:
    with serve(indexes) as url:
        yield url


def client(tmp_path: Path, **options: Any) -> HttpClient:
    client: HttpClient = quick_client(tmp_path, **options)
    return client


# -- pure parsing --------------------------------------------------------------------------

_URL_PIECES = st.sampled_from([
    "https://", "http://", "HTTPS://", "file:///", "h", "files.example", ":8080", "@", "u:p@",
    "/", "//", "../", "./", ".", "..", "a", "pkg-1.0-py3-none-any.whl", "%2B", "%", "?", "q=1",
    ";", "p", "#", "sha256=ab", " ", "\t", "~", "=", "&", "\u00e9"])


@pytest.mark.parametrize(("field", "value", "named"), [
    ("url", 3, "files[1] needs string 'filename' and 'url'"),
    ("hashes", ["sha256"], "'files[1].hashes' must be a table of hash names"),
    ("hashes", {"sha256": 1}, "'files[1].hashes' must be a table of hash names"),
    ("core-metadata", {"sha256": None}, "'files[1].core-metadata' must be a table"),
    ("core-metadata", 1, "files[1].core-metadata must be a boolean or a table"),
    ("yanked", 1, "files[1].yanked must be a boolean or a string"),
    ("size", "big", "files[1].size must be an integer"),
    ("requires-python", 3.8, "'files[1].requires-python' must be a string, not float"),
    ("upload-time", 0, "'files[1].upload-time' must be a string, not int"),
])
def test_a_bad_file_entry_is_named(field: str, value: Any, named: str) -> None:
    good = {"filename": "p-1.0-py3-none-any.whl", "url": "p-1.0-py3-none-any.whl",
            "hashes": {"SHA256": "AB", "md5": "cd", "other": "x"}}
    page = {"meta": {"api-version": "1.1"}, "name": "p", "files": [good, {**good, field: value}]}
    with pytest.raises(SimpleApiError, match=re.escape(named)):
        parse_json_page(json.dumps(page), "https://h/simple/p/")
    parsed = parse_json_page(json.dumps({**page, "files": [good]}), "https://h/simple/p/")
    assert parsed.files[0].hashes == {"sha256": "ab", "md5": "cd"}


_FIELD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 2), st.floats(allow_nan=False),
    st.sampled_from(["", " ", "p-1.0-py3-none-any.whl", "../f/p-1.0.tar.gz#sha256=AB",
                     ">=3.8 ", " reason ", "2024-01-01T00:00:00Z"]),
    st.dictionaries(st.sampled_from(["sha256", "SHA256", "md5", "blake2b", "other", 1]),
                    st.one_of(st.sampled_from(["AB", "cd"]), st.none(), st.integers()),
                    max_size=3),
    st.lists(st.just("sha256"), max_size=1))


_PYPI_ENTRY = {
    "filename": "p-1.0-py3-none-any.whl",
    "url": "https://h/f/p-1.0-py3-none-any.whl#sha256=EF&md5=01",
    "hashes": {"sha256": "AB", "blake2b_256": "CD"}, "core-metadata": {"sha256": "12"},
    "yanked": " withdrawn ", "size": 10, "requires-python": " >=3.8", "upload-time": "2024"}


@given(st.dictionaries(st.sampled_from([
    "filename", "url", "hashes", "core-metadata", "dist-info-metadata", "yanked", "size",
    "requires-python", "upload-time", "other"]), _FIELD_VALUES, max_size=10),
    st.sampled_from(["p-1.0-py3-none-any.whl", "p-1.0.tar.gz"]),
    st.sampled_from(["https://h/f/p-1.0-py3-none-any.whl#sha256=EF", "../../f/p-1.0.tar.gz",
                     "p-1.0-py3-none-any.whl"]),
    st.lists(st.sampled_from(sorted(_PYPI_ENTRY)), max_size=len(_PYPI_ENTRY), unique=True))
def test_a_file_entry_reads_the_same_by_the_fast_path(entry: dict[str, Any], filename: str,
                                                      url: str, kept: list[str]) -> None:
    """PyPI-shaped entries take `_json_file`'s plain type tests; any entry reads as the
    field-by-field checks read it (`_checked_file`), or fails with the same message."""
    from depsat.sources.simple_api import _checked_file, _json_file, _Resolver

    pypi = {field: _PYPI_ENTRY[field] for field in kept}
    for given_entry in (entry, {"filename": filename, "url": url, **entry},
                        {**entry, "filename": filename, "url": url}, {**entry, **pypi},
                        {**_PYPI_ENTRY, **{k: v for k, v in entry.items() if k not in kept}}):
        outcomes = []
        for read in (_json_file, _checked_file):
            try:
                found = read(given_entry, _Resolver("https://h/simple/p/"), 4)
            except SimpleApiError as exc:
                outcomes.append(("error", str(exc)))
            else:
                outcomes.append(("file", attrs.astuple(found)))
        assert outcomes[0] == outcomes[1]


@given(parts=st.lists(st.sampled_from([
    "pkg", "Pkg_Name", "a__b", "", "1.0", "2.0rc1", "1.0.post1", "not@version", "1", "2b",
    "x1", "py3", "cp312", "py2.py3", "none", "abi3", "cp312", "any", "manylinux_2_17_x86_64",
    "manylinux_2_17_x86_64.manylinux2014_x86_64", "win_amd64", "macosx_11_0_arm64", "a-b",
    "PY3", "..", ".py3"]), min_size=3, max_size=7),
       suffix=st.sampled_from([".whl", ".WHL", ".whl.metadata"]))
def test_wheel_names_are_read_as_packaging_reads_them(parts: list[str], suffix: str) -> None:
    """`parse_dist_filename` memoizes the two halves of a wheel name; what it returns, and
    which names it refuses, are `parse_wheel_filename`'s."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    filename = "-".join(parts) + suffix
    try:
        name, version, _build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        with pytest.raises(DistFileError):
            parse_dist_filename(filename)
        return
    parsed = parse_dist_filename(filename)
    assert (parsed.kind, parsed.name, parsed.version, parsed.tags) == (
        ArtifactKind.WHEEL, name, version, tags)


@given(bases=st.sampled_from(["https://h.example/simple/pkg/", "http://h/a/b/c",
                              "file:///index/simple/pkg/", "https://u:p@h.example:8443/s/x/"]),
       hrefs=st.lists(st.lists(_URL_PIECES, max_size=10).map("".join), max_size=8))
def test_resolving_links_is_urljoin(bases: str, hrefs: list[str]) -> None:
    """The resolver's shortcuts (shared directories, absolute links taken as they are) give
    exactly what `urldefrag(urljoin(base, href))` and the filename of that give."""
    from urllib.parse import urldefrag, urljoin

    resolver = _Resolver(bases)
    for href in [*hrefs, *hrefs]:  # again: the directories joined before are reused
        absolute, fragment = urldefrag(urljoin(bases, href))
        assert resolver.resolve(href) == (absolute, fragment, _filename_from_url(absolute))


def test_html_and_json_pages_on_disk_parse_the_same(indexes: Path) -> None:
    page_dir = indexes / "full" / "simple" / "alpha"
    url = page_dir.as_uri() + "/"
    html = parse_html_page((page_dir / "index.html").read_text(), url)
    json = parse_json_page((page_dir / "index.json").read_bytes(), url)
    # eq covers filename, url, requires-python, yanked, core-metadata; size is PEP 700 JSON-only
    assert html.files == tuple(attrs.evolve(f, size=None) for f in json.files)
    assert all(f.size for f in json.files)
    assert [f.hashes for f in html.files] == [f.hashes for f in json.files]
    assert [f.core_metadata_hashes for f in html.files] == [f.core_metadata_hashes
                                                            for f in json.files]
    assert json.versions == ("1.0.0", "2.0.0", "3.0.0")
    assert html.api_version == json.api_version == "1.1"


def test_html_page_details() -> None:
    page = parse_html_page(
        '<html><head><base href="https://files.example/pkgs/"></head><body>'
        '<a href="a-1.0.tar.gz#sha256=ABCD&amp;egg=a" data-requires-python="&gt;=3.8,&lt;4"'
        ' data-yanked="">a-1.0.tar.gz</a>'
        '<a href="/abs/a-1.0-py3-none-any.whl" data-dist-info-metadata="true">w</a>'
        '<a href="https://other.example/a-2.0.zip" data-yanked="bad &amp; sad"'
        ' data-core-metadata="sha256=ff">a-2.0.zip</a>'
        "</body></html>",
        "https://index.example/simple/a/")
    first, second, third = page.files
    assert first.url == "https://files.example/pkgs/a-1.0.tar.gz"
    assert first.hashes == {"sha256": "abcd"}
    assert first.requires_python == ">=3.8,<4"
    assert first.yanked and first.yanked_reason is None
    assert second.url == "https://files.example/abs/a-1.0-py3-none-any.whl"
    assert second.core_metadata and not second.core_metadata_hashes
    assert third.yanked_reason == "bad & sad"
    assert third.core_metadata_hashes == {"sha256": "ff"}


def test_api_versions() -> None:
    with pytest.raises(SimpleApiError, match="newer"):
        parse_json_page(b'{"meta": {"api-version": "2.0"}, "files": []}', "https://x/")
    page = parse_json_page(b'{"meta": {"api-version": "1.9"}, "files": []}', "https://x/")
    assert page.warnings and "1.9" in page.warnings[0]
    with pytest.raises(SimpleApiError, match="JSON"):
        parse_project_page(b'{"files": [', "application/vnd.pypi.simple.v1+json", "https://x/")
    with pytest.raises(SimpleApiError):
        parse_json_page(b'{"files": [{"filename": 3}]}', "https://x/")


def test_dist_filenames() -> None:
    wheel = parse_dist_filename("Foo_Bar-1.0-py2.py3-none-any.whl")
    assert wheel.kind is ArtifactKind.WHEEL and wheel.name == "foo-bar"
    assert Tag("py2", "none", "any") in wheel.tags
    assert parse_dist_filename("foo-bar-1.0.tar.bz2").version == Version("1.0")
    assert parse_dist_filename("foo-1.0.zip").kind is ArtifactKind.SDIST
    with pytest.raises(UnsupportedDistFile):
        parse_dist_filename("foo-1.0-py2.7.egg")
    with pytest.raises(DistFileError):
        parse_dist_filename("foo-notaversion-py3-none-any.whl")


def test_core_metadata_parsing() -> None:
    meta = parse_core_metadata(
        b"Metadata-Version: 2.1\nName: Foo.Bar\nVersion: 1.0\nRequires-Dist: a>1\n"
        b'Requires-Dist: b ; extra == "X"\nProvides-Extra: X\nRequires-Python: >=3.8\n'
        b"Classifier: not a real classifier\n\nlong description\n")
    assert meta.name == "foo-bar" and meta.version == Version("1.0")
    assert [str(r) for r in meta.requires] == ["a>1", 'b; extra == "x"']
    assert meta.provides_extras == {"x"} and meta.requires_python == SpecifierSet(">=3.8")
    with pytest.raises(DistFileError, match="Requires-Dist"):
        parse_core_metadata(b"Metadata-Version: 2.1\nName: a\nVersion: 1\nRequires-Dist: a>>1\n")


# -- file:// and find-links ----------------------------------------------------------------

@pytest.mark.parametrize("variant", ["full", "html"])
def test_file_index(indexes: Path, tmp_path: Path, variant: str) -> None:
    with IndexSource((indexes / variant / "simple").as_uri(), "local",
                     client=client(tmp_path)) as source:
        alpha = source.candidates(canonicalize_name("alpha"))
        assert [c.version for c in alpha] == [Version("3.0.0"), Version("2.0.0"),
                                              Version("1.0.0")]
        assert alpha[0].origin.kind == "index" and alpha[0].origin.name == "local"
        assert deps(source.metadata(alpha[2])) == (
            ["beta>=1", 'gamma; extra == "fast"'], ["fast"], None)
        assert source.candidates(canonicalize_name("nothing-here")) == ()


def test_find_links_directory(indexes: Path, tmp_path: Path) -> None:
    (indexes / "full" / "files" / "README.txt").write_text("not a distribution")
    try:
        with FindLinksSource(indexes / "full" / "files", client=client(tmp_path)) as source:
            alpha = source.candidates(canonicalize_name("alpha"))
            assert [str(c.version) for c in alpha] == ["3.0.0", "2.0.0", "1.0.0"]
            assert alpha[0].origin.kind == "find-links"
            assert deps(source.metadata(alpha[1]))[0] == ["beta>=2",
                                                          "gamma; python_version < \"3\""]
            gamma = source.candidates(canonicalize_name("gamma"))
            assert deps(source.metadata(gamma[0]))[0] == []
            assert any("README.txt" in d.culprit for d in source.diagnostics())
    finally:
        (indexes / "full" / "files" / "README.txt").unlink()


def test_find_links_html_page_over_http(indexes: Path, server: str, tmp_path: Path) -> None:
    links = "".join(f'<a href="full/files/{p.name}">{p.name}</a>\n'
                    for p in sorted((indexes / "full" / "files").iterdir())
                    if not p.name.endswith(".metadata"))
    (indexes / "links.html").write_text(f"<html><body>{links}</body></html>")
    with FindLinksSource(f"{server}links.html", "page", client=client(tmp_path)) as source:
        beta = source.candidates(canonicalize_name("beta"))
        assert [str(c.version) for c in beta] == ["2.0", "1.0"]
        assert deps(source.metadata(beta[1])) == ([], [], None)
        assert beta[0].artifacts[0].url == f"{server}full/files/beta-2.0-py3-none-any.whl"


def test_missing_find_links_location(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        FindLinksSource(tmp_path / "nope").candidates(canonicalize_name("a"))


# -- HTTP ----------------------------------------------------------------------------------

def test_json_and_html_over_http_give_the_same_candidates(server: Any, tmp_path: Path) -> None:
    http = client(tmp_path)
    full = IndexSource(f"{server}full/simple/", "full", client=http)
    html = IndexSource(f"{server}html/simple", "html", client=http)
    for project in ("alpha", "beta", "gamma", "needs-build"):
        name = canonicalize_name(project)
        assert summary(full.candidates(name)) == summary(html.candidates(name))
    served = {path: accept for _m, path, accept in server.requests}
    assert "application/vnd.pypi.simple.v1+json" in served["/full/simple/alpha/"]


def test_pep658_and_wheel_metadata_agree(server: Any, tmp_path: Path) -> None:
    http = client(tmp_path)
    full = IndexSource(f"{server}full/simple/", "full", client=http)
    html = IndexSource(f"{server}html/simple/", "html", client=http)
    for project in ("alpha", "beta", "gamma"):
        name = canonicalize_name(project)
        from_658 = full.candidates(name)
        from_wheels = html.candidates(name)
        full.prefetch(from_658)
        assert [deps(full.metadata(c)) for c in from_658] == [
            deps(html.metadata(c)) for c in from_wheels]
    paths = [path for _m, path, _a in server.requests]
    assert "/full/files/alpha-1.0.0-py3-none-any.whl.metadata" in paths
    assert "/html/files/alpha-1.0.0-py3-none-any.whl" in paths
    assert not any(p.startswith("/full/files/") and p.endswith(".whl") for p in paths)


def test_yanked_and_requires_python(server: Any, tmp_path: Path) -> None:
    source = IndexSource(f"{server}html/simple/", "html", client=client(tmp_path))
    v3, v2, _v1 = source.candidates(canonicalize_name("alpha"))
    assert v3.yanked and v3.yanked_reason == "broke the API"
    assert all(a.yanked_reason == "broke the API" for a in v3.artifacts)
    assert v2.requires_python == SpecifierSet(">=3.8,<4")
    assert {a.tags for a in v2.artifacts if a.kind is ArtifactKind.WHEEL} == {
        frozenset({Tag("py3", "none", "any")}),
        frozenset({Tag("cp312", "cp312", "manylinux_2_17_x86_64")})}
    assert deps(source.metadata(v2))[2] == SpecifierSet(">=3.8,<4")
    beta2 = source.candidates(canonicalize_name("beta"))[0]
    assert beta2.yanked and beta2.yanked_reason is None


def test_candidate_is_yanked_only_if_every_file_is(tmp_path: Path) -> None:
    simple = build_index({"p": {"1.0": {}}}, tmp_path / "idx", json=False)
    page = simple / "p" / "index.html"
    text = page.read_text()
    page.write_text(text.replace(
        '<a href="../../files/p-1.0-py3-none-any.whl',
        '<a data-yanked="wheel only" href="../../files/p-1.0-py3-none-any.whl'))
    candidate, = IndexSource(simple.as_uri(), client=client(tmp_path)).candidates(
        canonicalize_name("p"))
    assert not candidate.yanked
    assert [a.yanked for a in candidate.artifacts] == [True, False]


def test_sdists_need_static_metadata(server: Any, tmp_path: Path) -> None:
    source = IndexSource(f"{server}html/simple/", "html", client=client(tmp_path))
    for project in ("needs-build", "dyn"):
        result = source.metadata(source.candidates(canonicalize_name(project))[0])
        assert result == MetadataUnavailable(ExclusionKind.NEEDS_BUILD,
                                             "needs a build to know its dependencies")
    gamma = source.metadata(source.candidates(canonicalize_name("gamma"))[0])
    assert isinstance(gamma, Candidate)


def test_bad_files_are_metadata_errors(server: Any, tmp_path: Path) -> None:
    source = IndexSource(f"{server}html/simple/", "html", client=client(tmp_path))
    corrupt = source.metadata(source.candidates(canonicalize_name("corrupt"))[0])
    assert isinstance(corrupt, MetadataUnavailable)
    assert corrupt.kind is ExclusionKind.METADATA_ERROR
    assert f"{server}html/files/corrupt-1.0-py3-none-any.whl" in corrupt.detail
    liar = source.metadata(source.candidates(canonicalize_name("liar"))[0])
    assert isinstance(liar, MetadataUnavailable) and "9.9" in liar.detail
    assert "liar-1.0-py3-none-any.whl" in liar.detail


def test_unparsable_filenames_are_diagnostics(tmp_path: Path) -> None:
    simple = build_index({"p": {"1.0": {}}}, tmp_path / "idx", json=False)
    page = simple / "p" / "index.html"
    page.write_text(page.read_text().replace(
        "</body>", '<a href="../../files/p-bad_version-py3-none-any.whl">x</a>'
                   '<a href="../../files/p-1.0-py2.7.egg">egg</a></body>'))
    source = IndexSource(simple.as_uri(), client=client(tmp_path))
    assert len(source.candidates(canonicalize_name("p"))) == 1
    culprits = [d.culprit for d in source.diagnostics()]
    assert culprits == [(tmp_path / "idx" / "files" / "p-bad_version-py3-none-any.whl")
                        .as_uri()]


def test_an_sdist_is_read_by_the_name_of_the_page_it_is_listed_on(tmp_path: Path) -> None:
    """As pip and uv read them: on cffi's page ``cffi-1.0.2-2.tar.gz`` is cffi 1.0.2.post2
    (packaging alone splits it as ``cffi-1-0-2`` 2); a file of another project, or one with
    no version after the name, is still skipped with a warning naming it."""
    simple = build_index({"p": {"1.0": {}}}, tmp_path / "idx", json=False)
    page = simple / "p" / "index.html"
    page.write_text(page.read_text().replace(
        "</body>", '<a href="../../files/P-1.0-2.tar.gz">old post</a>'
                   '<a href="../../files/p-2.0-1.zip">zip</a>'
                   '<a href="../../files/p-extra-3.0.tar.gz">other</a>'
                   '<a href="../../files/p-0.8-final0.tar.gz">bad</a></body>'))
    source = IndexSource(simple.as_uri(), client=client(tmp_path))
    versions = {str(c.version): [a.filename for a in c.artifacts]
                for c in source.candidates(canonicalize_name("p"))}
    assert versions == {"2.0.post1": ["p-2.0-1.zip"], "1.0.post2": ["P-1.0-2.tar.gz"],
                        "1.0": ["p-1.0-py3-none-any.whl", "p-1.0.tar.gz"]}
    # (The culprit names the file; the message says what is wrong, so that one line can
    # stand for every file with that problem.)
    assert sorted((d.culprit.rsplit("/", 1)[1], d.message) for d in source.diagnostics()) == [
        ("p-0.8-final0.tar.gz", "skipped: not a valid sdist filename (invalid version)"),
        ("p-extra-3.0.tar.gz", "skipped: by its name, not a file of p")]


def test_redirect_to_normalized_name(server: Any, tmp_path: Path) -> None:
    http = client(tmp_path)
    fetched = http.get(f"{server}full/simple/Needs_Build/")
    assert fetched.url == f"{server}full/simple/needs-build/"
    page = parse_project_page(fetched.content, fetched.content_type, fetched.url)
    assert page.files[0].url == f"{server}full/files/needs_build-1.0.tar.gz"


def test_warm_cache_honours_max_age(indexes: Path, tmp_path: Path) -> None:
    with serve(indexes, max_age=600) as url:
        first = IndexSource(f"{url}full/simple/", client=client(tmp_path))
        alpha = first.candidates(canonicalize_name("alpha"))
        [first.metadata(c) for c in alpha]
        assert first.client.requests_made == 4
        second = IndexSource(f"{url}full/simple/", client=client(tmp_path))
        again = second.candidates(canonicalize_name("alpha"))
        assert summary(again) == summary(alpha)
        assert [deps(second.metadata(c)) for c in again] == [deps(first.metadata(c))
                                                             for c in alpha]
        assert second.client.requests_made == 0 and second.client.cache_hits == 4
        assert second.client._network is None  # all from the fast path: no HTTP stack


def test_revalidation_uses_etag(server: Any, tmp_path: Path) -> None:
    IndexSource(f"{server}full/simple/", client=client(tmp_path)).candidates(
        canonicalize_name("beta"))
    http = client(tmp_path)
    IndexSource(f"{server}full/simple/", client=http).candidates(canonicalize_name("beta"))
    assert http.requests_made == 1  # a conditional request answered 304


def test_offline_uses_only_the_cache(indexes: Path, tmp_path: Path) -> None:
    with serve(indexes) as url:
        online = IndexSource(f"{url}full/simple/", client=client(tmp_path))
        beta = online.candidates(canonicalize_name("beta"))
        expected = [deps(online.metadata(c)) for c in beta]
    offline = IndexSource(f"{url}full/simple/", client=client(tmp_path, offline=True))
    again = offline.candidates(canonicalize_name("beta"))
    assert summary(again) == summary(beta)
    assert [deps(offline.metadata(c)) for c in again] == expected
    with pytest.raises(SourceError) as error:
        offline.candidates(canonicalize_name("alpha"))
    assert f"{url}full/simple/alpha/" in str(error.value)
    assert "offline" in str(error.value)


def test_no_cache_writes_nothing(server: Any, tmp_path: Path) -> None:
    source = IndexSource(f"{server}full/simple/", client=client(tmp_path, no_cache=True))
    assert source.candidates(canonicalize_name("beta"))
    assert not (tmp_path / "cache").exists()


@pytest.mark.usefixtures("http_transport")
@pytest.mark.slow
def test_https_with_trustme(indexes: Path, tmp_path: Path) -> None:
    with serve(indexes, https=True) as url:
        assert url.startswith("https://") and url.ca_file
        source = IndexSource(f"{url}full/simple/", client=client(tmp_path, verify=url.ca_file))
        beta = source.candidates(canonicalize_name("beta"))
        assert deps(source.metadata(beta[1])) == ([], [], None)
        untrusted = IndexSource(f"{url}full/simple/", client=client(tmp_path / "2"))
        with pytest.raises(SourceError) as error:
            untrusted.candidates(canonicalize_name("beta"))
        assert f"{url}full/simple/beta/" in str(error.value)
        assert "CERTIFICATE" in str(error.value).upper()


@pytest.mark.usefixtures("http_transport")
def test_netrc_and_url_credentials(indexes: Path, tmp_path: Path) -> None:
    with serve(indexes, auth=("alice", "s3cret")) as url:
        anonymous = IndexSource(f"{url}full/simple/", client=client(tmp_path / "a"))
        with pytest.raises(SourceError) as error:
            anonymous.candidates(canonicalize_name("beta"))
        assert "401" in str(error.value) and f"{url}full/simple/beta/" in str(error.value)

        netrc = tmp_path / "netrc"
        netrc.write_text("machine 127.0.0.1 login alice password s3cret\n")
        netrc.chmod(0o600)
        with_netrc = IndexSource(f"{url}full/simple/",
                                 client=client(tmp_path / "b", netrc_file=netrc))
        beta = with_netrc.candidates(canonicalize_name("beta"))
        assert isinstance(with_netrc.metadata(beta[0]), Candidate)

        in_url = url.replace("http://", "http://alice:s3cret@")
        with_userinfo = IndexSource(f"{in_url}full/simple/", "private",
                                    client=client(tmp_path / "c"))
        beta = with_userinfo.candidates(canonicalize_name("beta"))
        assert isinstance(with_userinfo.metadata(beta[0]), Candidate)
        assert "s3cret" not in repr(beta) and "s3cret" not in with_userinfo.origin.location
        for cache_file in (tmp_path / "c").rglob("*"):
            if cache_file.is_file():
                assert b"s3cret" not in cache_file.read_bytes()
                assert b"Authorization" not in cache_file.read_bytes()
    assert redact_url("https://u:p@h/x") == "https://u:****@h/x"
    assert redact_url("https://ghp_token@github.com/x") == "https://****@github.com/x"
    assert redact_url("git+ssh://git@github.com/o/r.git") == "git+ssh://git@github.com/o/r.git"


# -- faults --------------------------------------------------------------------------------

def test_project_404_is_empty(server: Any, tmp_path: Path) -> None:
    source = IndexSource(f"{server}full/simple/", client=client(tmp_path))
    assert source.candidates(canonicalize_name("no-such-project")) == ()


def test_server_error_names_the_url(indexes: Path, tmp_path: Path) -> None:
    with serve(indexes, fault="500") as url:
        source = IndexSource(f"{url}full/simple/", client=client(tmp_path, retries=2))
        with pytest.raises(SourceError) as error:
            source.candidates(canonicalize_name("alpha"))
        message = str(error.value)
        assert f"{url}full/simple/alpha/" in message and "500" in message
        assert "\n" not in message
        assert len([r for r in url.requests if r[1] == "/full/simple/alpha/"]) == 3


@pytest.mark.usefixtures("http_transport")
@pytest.mark.slow
def test_hang_times_out(indexes: Path, tmp_path: Path) -> None:
    with serve(indexes, fault="hang", hang_seconds=5) as url:
        source = IndexSource(f"{url}full/simple/",
                             client=client(tmp_path, timeout=0.3, retries=1))
        with pytest.raises(SourceError) as error:
            source.candidates(canonicalize_name("alpha"))
        assert f"{url}full/simple/alpha/" in str(error.value)
        assert "timed out" in str(error.value)


@pytest.mark.usefixtures("http_transport")
def test_unreachable_host(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = IndexSource(f"http://127.0.0.1:{port}/simple/", client=client(tmp_path))
    with pytest.raises(SourceError) as error:
        source.candidates(canonicalize_name("alpha"))
    assert f"http://127.0.0.1:{port}/simple/alpha/" in str(error.value)


@pytest.mark.usefixtures("http_transport")
def test_truncated_page_is_an_error_and_not_cached(indexes: Path, tmp_path: Path) -> None:
    with serve(indexes, fault=Fault("truncate", "/simple/")) as url:
        source = IndexSource(f"{url}full/simple/", client=client(tmp_path))
        with pytest.raises(SourceError) as error:
            source.candidates(canonicalize_name("alpha"))
        assert f"{url}full/simple/alpha/" in str(error.value)
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


@pytest.mark.usefixtures("http_transport")
@pytest.mark.parametrize("fault", ["500", "hang"])
def test_a_failing_file_server_is_a_metadata_error_naming_the_file(
        indexes: Path, tmp_path: Path, fault: str) -> None:
    """Files named by their hash go around hishel: they are retried on 5xx and time out like
    pages, and the message names the file."""
    with serve(indexes, fault=Fault(fault, "/files/"), hang_seconds=3) as url:
        source = IndexSource(f"{url}full/simple/",
                             client=client(tmp_path, retries=1, timeout=0.5))
        beta = source.candidates(canonicalize_name("beta"))
        result = source.metadata(beta[1])
        assert isinstance(result, MetadataUnavailable)
        assert f"{url}full/files/beta-1.0-py3-none-any.whl" in result.detail
        assert ("HTTP 500" if fault == "500" else "timed out") in result.detail
        assert "(after 2 attempts)" in result.detail
        asked = [r for r in url.requests if r[1].startswith("/full/files/beta-1.0-")]
        assert len(asked) == 2 if fault == "500" else len(asked) >= 2


@pytest.mark.usefixtures("http_transport")
def test_a_wheel_read_for_its_metadata_leaves_its_metadata_in_the_cache(
        indexes: Path, tmp_path: Path) -> None:
    """An index without PEP 658 files: the wheel is downloaded to read its METADATA, and the
    cache keeps that METADATA (checked against the wheel's published hash), not the wheel. A
    warm run counts it as on hand and reads it with no request; a wheel published again
    with another hash under the same URL is read again."""
    with serve(indexes) as url:
        index_url = f"{url}html/simple/"
        cold = IndexSource(index_url, client=client(tmp_path))
        alpha = cold.candidates(canonicalize_name("alpha"))[-1]  # 1.0.0
        wheel = next(a for a in alpha.artifacts if a.kind is ArtifactKind.WHEEL)
        assert wheel.url is not None and wheel.hashes
        read_cold = cold.metadata(alpha)
        cold.close()
        fetched = [r for r in url.requests if r[1].endswith(".whl")]
        assert len(fetched) == 1
        store = HttpClient(cache_dir=tmp_path / "cache").store
        assert store.file(cache_key(wheel.url)) is None  # the wheel itself is not kept
        kept = store.file(extract_key(wheel.url))
        assert kept is not None and kept[0].startswith(b"Metadata-Version:")

        warm_client = client(tmp_path)
        warm = IndexSource(index_url, client=warm_client)
        again = warm.candidates(canonicalize_name("alpha"))[-1]
        assert warm.metadata_on_hand([again]) == [again]
        asked = len(url.requests)
        assert deps(warm.metadata(again)) == deps(read_cold)
        assert len(url.requests) == asked  # no request at all
        assert warm_client.extracted(wheel.url, {"sha256": "0" * 64}) is None
        warm.close()


@pytest.mark.usefixtures("http_transport")
def test_truncated_file_is_a_metadata_error_and_not_cached(indexes: Path, tmp_path: Path) -> None:
    with serve(indexes, fault=Fault("truncate", "/files/")) as url:
        source = IndexSource(f"{url}html/simple/", client=client(tmp_path))
        beta = source.candidates(canonicalize_name("beta"))
        result = source.metadata(beta[1])
        assert isinstance(result, MetadataUnavailable)
        assert result.kind is ExclusionKind.METADATA_ERROR
        assert f"{url}html/files/beta-1.0-py3-none-any.whl" in result.detail
    source.client.close()
    with sqlite3.connect(tmp_path / "cache" / CACHE_FORMAT / CACHE_DATABASE) as database:
        files = database.execute("SELECT url FROM files").fetchall()
        pages = database.execute("SELECT head FROM responses").fetchall()
    assert files == []  # the truncated wheel is not stored
    assert len(pages) == 1 and b"/simple/beta/" in pages[0][0]  # the project page only


BIG_WHEEL_SPEC: dict[str, Any] = {
    "big": {"1.0": {"requires": ["small>=1"], "wheel_padding": 300_000, "sdist": False}},
    "small": {"1.0": {"sdist": False}},
}


@pytest.fixture(scope="module")
def big_wheel_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index without PEP 658 files whose wheel is large (its .dist-info at the end)."""
    root = tmp_path_factory.mktemp("big-wheel")
    build_index(BIG_WHEEL_SPEC, root, pep658=False)
    return root


@pytest.mark.usefixtures("http_transport")
def test_a_wheel_is_read_by_ranges(big_wheel_index: Path, tmp_path: Path) -> None:
    """Without PEP 658 files, a wheel's METADATA is read with a range request (its end, which
    holds the .dist-info as wheel builders write it), not by downloading the wheel; the
    METADATA is kept, a warm run asks nothing. A server that ignores ranges sends the whole
    wheel once, read as usual. (A member further back: `test_a_ranged_file_checks_every_answer`.)"""
    wheel_size = next((big_wheel_index / "files").glob("big-1.0-*.whl")).stat().st_size
    assert wheel_size > 300_000
    for ranges in (True, False):
        cache = tmp_path / f"cache-{ranges}"
        with serve(big_wheel_index, ranges=ranges) as url:
            source = IndexSource(url.index_url, client=HttpClient(cache_dir=cache))
            big = source.candidates(canonicalize_name("big"))[0]
            assert deps(source.metadata(big)) == (["small>=1"], [], None)
            source.close()
            wheel = [size for path, size in url.sent if "/files/big-1.0-" in path]
            if ranges:
                assert len(wheel) == 1 and sum(wheel) < 100_000, wheel
            else:
                assert wheel == [wheel_size]
            asked = len(url.requests)
            warm = IndexSource(url.index_url, client=HttpClient(cache_dir=cache))
            again = warm.candidates(canonicalize_name("big"))[0]
            assert warm.metadata_on_hand([again]) == [again]
            assert deps(warm.metadata(again)) == (["small>=1"], [], None)
            assert [r for r in url.requests[asked:] if "/files/" in r[1]] == []
            warm.close()


BIG_SDIST_SPEC: dict[str, Any] = {
    # PKG-INFO first, as setuptools sorts an sdist's entries; PKG-INFO last; PKG-INFO last
    # but its .egg-info copy first (older setuptools), saying the sdist needs a build
    "sorted": {"1.0": {"requires": ["small>=1"], "wheel": False, "sdist_padding": 2_000_000}},
    "last": {"1.0": {"requires": ["small>=1"], "wheel": False, "sdist_padding": 2_000_000,
                     "sdist_layout": "last"}},
    "old": {"1.0": {"requires": ["small>=1"], "wheel": False, "sdist_padding": 2_000_000,
                    "sdist_layout": "egg-info", "sdist_metadata_version": "2.1"}},
    "small": {"1.0": {"sdist": False}},
}


@pytest.mark.usefixtures("http_transport")
def test_an_sdists_pkg_info_is_read_from_its_start(tmp_path: Path) -> None:
    """A remote tar sdist's PKG-INFO is looked for in its first 64 KB (a range request), as
    setuptools writes it near the start, not by downloading the sdist (pyspark's are
    200-300 MB); an older sdist's .egg-info copy there says it needs a build just as well.
    Further back, the whole sdist is read (after one more, larger, range); so is the sdist
    of a server that ignores ranges. The PKG-INFO is kept: a warm run asks nothing."""
    root = tmp_path / "index"
    build_index(BIG_SDIST_SPEC, root, pep658=False)
    size = {name: (root / "files" / f"{name}-1.0.tar.gz").stat().st_size
            for name in ("sorted", "last", "old")}
    assert min(size.values()) > 2_000_000
    for ranges in (True, False):
        cache = tmp_path / f"cache-{ranges}"
        with serve(root, ranges=ranges) as url:
            source = IndexSource(url.index_url, client=HttpClient(cache_dir=cache))
            found = {name: source.metadata(source.candidates(canonicalize_name(name))[0])
                     for name in size}
            source.close()
            assert deps(found["sorted"]) == deps(found["last"]) == (["small>=1"], [], None)
            assert found["old"] == MetadataUnavailable(ExclusionKind.NEEDS_BUILD,
                                                       "needs a build to know its dependencies")
            sent = {name: sum(n for path, n in url.sent if f"/files/{name}-1.0" in path)
                    for name in size}
            if ranges:
                assert sent["sorted"] == sent["old"] == 64 * 1024, sent
                assert sent["last"] == 64 * 1024 + 1024 * 1024 + size["last"], sent
            else:
                assert sent == size
            asked = len(url.requests)
            warm = IndexSource(url.index_url, client=HttpClient(cache_dir=cache))
            again = warm.candidates(canonicalize_name("sorted"))[0]
            assert deps(warm.metadata(again)) == (["small>=1"], [], None)
            assert [r for r in url.requests[asked:] if "/files/" in r[1]] == []
            warm.close()


@pytest.mark.usefixtures("http_transport")
def test_an_sdists_static_pyproject_stands_for_an_old_pkg_info(tmp_path: Path) -> None:
    """An sdist whose PKG-INFO cannot be trusted for dependencies (Metadata 2.1) but whose
    pyproject.toml states them (not dynamic, PEP 621) is read from that, as uv reads it,
    with no build: over HTTP from the sdist's first 64 KB (no more requests than reading
    PKG-INFO takes), and over file:// from the whole sdist. When they are dynamic there, it
    still needs a build, as without one (setup.py alone: its head is read once). A warm run
    asks nothing, not even of the sdist without a pyproject.toml."""
    old = {"wheel": False, "sdist_metadata_version": "2.1", "sdist_padding": 500_000}
    spec: dict[str, Any] = {
        "stated": {"1.0": {**old, "sdist_pyproject_static": True, "requires": ["small>=1"],
                           "extras": {"fast": ["small>=2 ; python_version >= '3'"]}}},
        "computed": {"1.0": {**old, "requires": ["small>=1"]}},
        "legacy": {"1.0": {**old, "sdist_pyproject": False, "requires": ["small>=1"]}},
        "small": {"1.0": {"sdist": False}, "2.0": {"sdist": False}},
    }
    root = tmp_path / "index"
    build_index(spec, root, pep658=False)
    expected = (["small>=1", 'small>=2; python_version >= "3" and extra == "fast"'],
                ["fast"], None)
    with serve(root) as url:
        for index in (url.index_url, (root / "simple").as_uri()):
            cache = tmp_path / f"cache-{index[:4]}"
            source = IndexSource(index, client=HttpClient(cache_dir=cache))
            stated = source.metadata(source.candidates(canonicalize_name("stated"))[0])
            computed = source.metadata(source.candidates(canonicalize_name("computed"))[0])
            legacy = source.metadata(source.candidates(canonicalize_name("legacy"))[0])
            source.close()
            assert deps(stated) == expected
            assert computed == legacy == MetadataUnavailable(
                ExclusionKind.NEEDS_BUILD, "needs a build to know its dependencies")
        for name in ("stated", "computed", "legacy"):
            sent = [n for path, n in url.sent if f"/files/{name}-1.0" in path]
            assert sent == [64 * 1024], (name, sent)
        asked = len(url.requests)
        warm = IndexSource(url.index_url, client=HttpClient(cache_dir=tmp_path / "cache-http"))
        again = warm.candidates(canonicalize_name("stated"))[0]
        assert deps(warm.metadata(again)) == expected
        for name in ("computed", "legacy"):
            assert warm.metadata(warm.candidates(canonicalize_name(name))[0]) == computed
        assert [r for r in url.requests[asked:] if "/files/" in r[1]] == []
        warm.close()


@pytest.mark.usefixtures("http_transport")
@pytest.mark.parametrize("dist_info_first", [False, True])
def test_a_wide_wheels_metadata_member_is_read_without_zipfile(tmp_path: Path,
                                                               dist_info_first: bool) -> None:
    """A wheel of 3,000 modules has a directory larger than the end a range read fetches
    first. Its .dist-info entries, last as wheel builders write them, are in that end: the
    METADATA member is the only other read, not the whole directory (zipfile's way: torch's
    wheels have 1.2 MB of it). torch 2.2-2.7 wheels list them first instead: the directory's
    first 64 KB are read (one request), the METADATA entry found in them by name, then the
    member (one more), with no request of zipfile's and not the rest of the directory."""
    root = tmp_path / "wide-index"
    build_index({"wide": {"1.0": {"requires": ["small>=1"], "wheel_modules": 3000,
                                  "wheel_dist_info_first": dist_info_first,
                                  "sdist": False}},
                 "small": {"1.0": {"sdist": False}}}, root, pep658=False)
    wheel = next((root / "files").glob("wide-1.0-*.whl")).read_bytes()
    directory_size, directory = struct.unpack_from("<2L", wheel, len(wheel) - 22 + 12)
    assert directory_size > 128 * 1024  # (bigger than the tail read first)
    metadata_at = wheel.index(b"wide-1.0.dist-info/METADATA", directory)
    assert (metadata_at < directory + 1000) == dist_info_first
    with serve(root) as url:
        source = IndexSource(url.index_url, client=HttpClient(cache_dir=tmp_path / "cache"))
        wide = source.candidates(canonicalize_name("wide"))[0]
        assert deps(source.metadata(wide)) == (["small>=1"], [], None)
        source.close()
        sent = [size for path, size in url.sent if "/files/wide-1.0-" in path]
    if dist_info_first:
        assert len(sent) == 3, sent
        assert sent[1] == 64 * 1024 < directory_size - 64 * 1024, (sent, directory_size)
    else:
        assert len(sent) == 2 and sum(sent) < 100_000, sent


@pytest.mark.parametrize("suffix", [".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar"])
def test_an_sdists_head_gives_its_pkg_info_or_says_it_is_further(suffix: str) -> None:
    """Whatever the tar's compression: the top-level PKG-INFO when the head holds all of it;
    else the .egg-info copy when that is whole in the head (marked as not the top-level
    one); else None: cut inside the PKG-INFO, before it, or no tar at all."""
    import bz2
    import gzip
    import lzma
    import random

    def archive(members: dict[str, bytes]) -> bytes:
        return {".tar.gz": gzip.compress, ".tgz": gzip.compress, ".tar.bz2": bz2.compress,
                ".tar.xz": lzma.compress, ".tar": bytes}[suffix](tar_archive(members))

    pkg_info = b"Metadata-Version: 2.2\nName: p\nVersion: 1.0\n" + b"X" * 3000
    padding = random.Random(0).randbytes(200_000)
    first = archive({"p-1.0/PKG-INFO": pkg_info, "p-1.0/padding": padding})
    last = archive({"p-1.0/p.egg-info/PKG-INFO": pkg_info, "p-1.0/padding": padding,
                    "p-1.0/PKG-INFO": pkg_info})
    name = f"p-1.0{suffix}"
    assert sdist_pkg_info_in_head(first, name) == (pkg_info, True)
    assert sdist_pkg_info_in_head(first[:len(first) // 2], name) in (None, (pkg_info, True))
    assert sdist_pkg_info_in_head(last, name) == (pkg_info, True)  # (the whole file)
    # (bzip2 inflates nothing of a block until its end: 900 KB, more than this file)
    assert sdist_pkg_info_in_head(last[:len(last) // 2], name) == (
        None if suffix == ".tar.bz2" else (pkg_info, False))
    if suffix == ".tar":  # (compressed, a cut before the member's end shows only in bytes)
        assert sdist_pkg_info_in_head(first[:2000], name) is None
    assert sdist_pkg_info_in_head(first[:100], name) is None
    assert sdist_pkg_info_in_head(b"not an archive at all" * 100, name) is None
    assert sdist_pkg_info_in_head(first, "p-1.0.zip") is None


@pytest.mark.parametrize(("text", "stated"), [
    ('[project]\nname = "P"\nversion = "1.0"\ndependencies = ["a>=1"]\n'
     'optional-dependencies.x = ["b"]\nrequires-python = ">=3.9"\n', True),
    ('[project]\nname = "p"\nversion = "1.0"\n', True),  # (no dependencies at all)
    ('[project]\nname = "p"\nversion = "1.0"\ndynamic = ["dependencies"]\n', False),
    ('[project]\nname = "p"\ndynamic = ["version"]\n', False),
    ('[project]\nname = "p"\nversion = "1.0"\ndynamic = [{not = "a name"}]\n', False),
    ('[project]\nname = "p"\nversion = "1.0"\ndependencies = "a"\n', False),
    ('[project]\nname = "p"\nversion = "not a version"\n', False),
    ('[build-system]\nrequires = ["setuptools"]\n', False),
    ("[project\n", False),
])
def test_a_pyproject_states_metadata_only_when_all_of_it_is_static(text: str,
                                                                   stated: bool) -> None:
    found = pyproject_core_metadata(text.encode())
    assert (found is not None) is stated
    if found is not None and found.requires:
        assert (found.name, str(found.version), str(found.requires_python)) == (
            "p", "1.0", ">=3.9")
        assert [str(r) for r in found.requires] == ["a>=1", 'b; extra == "x"']
        assert found.provides_extras == {"x"}


def test_a_ranged_file_checks_every_answer() -> None:
    """`RangedFile` reads a zip archive in parts; an answer that is not the part asked
    for, or one request too many, is an `OSError` (the caller then downloads the file)."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a/METADATA", b"Name: a\n")
        archive.writestr("a/padding", bytes(range(256)) * 1000)
    data = buffer.getvalue()
    asked: list[str] = []

    def fetch(byte_range: str) -> tuple[int, bytes, str | None]:
        asked.append(byte_range)
        spec = byte_range.removeprefix("bytes=")
        first, _, last = spec.partition("-")
        start = len(data) - int(last) if not first else int(first)
        end = len(data) - 1 if not first or not last else int(last)
        return 206, data[start:end + 1], f"bytes {start}-{end}/{len(data)}"

    with RangedFile.open_tail(fetch, tail=1024) as remote, zipfile.ZipFile(
            io.BufferedReader(remote)) as archive:
        assert archive.read("a/METADATA") == b"Name: a\n"
        assert remote.requests == len(asked) <= 3
    with pytest.raises(NoRanges):
        RangedFile.open_tail(lambda byte_range: (200, data, None))
    lying = RangedFile.open_tail(fetch, tail=1024)
    lying._fetch = lambda byte_range: (206, b"x" * 10, f"bytes 0-9/{len(data)}")
    with pytest.raises(OSError, match="asked for bytes 0-"):
        lying.read(5)
    tired = RangedFile(fetch, len(data), max_requests=0)
    with pytest.raises(OSError, match="too many range requests"):
        tired.read(5)


@pytest.mark.parametrize("variant", ["full", "html"])
def test_wrong_hash(indexes: Path, tmp_path: Path, variant: str) -> None:
    """A file whose bytes are not the ones the index published a hash for: an error naming
    it, when the file is read whole (a PEP 658 file; a wheel from a server without ranges).
    A wheel read by ranges cannot be checked: `test_a_wheel_is_read_by_ranges`."""
    with serve(indexes, fault=Fault("wrong-hash", "/files/"), ranges=False) as url:
        source = IndexSource(f"{url}{variant}/simple/", client=client(tmp_path))
        beta = source.candidates(canonicalize_name("beta"))
        result = source.metadata(beta[1])
        assert isinstance(result, MetadataUnavailable)
        assert result.kind is ExclusionKind.METADATA_ERROR
        assert "hash mismatch" in result.detail
        assert f"{url}{variant}/files/beta-1.0-py3-none-any.whl" in result.detail


def test_malformed_json_page(tmp_path: Path) -> None:
    simple = build_index({"p": {"1.0": {}}}, tmp_path / "idx")
    (simple / "p" / "index.json").write_text('{"meta": {"api-version": "1.1"}, "files": [')
    with serve(tmp_path / "idx") as url:
        source = IndexSource(f"{url}simple/", client=client(tmp_path))
        with pytest.raises(SourceError) as error:
            source.candidates(canonicalize_name("p"))
    assert f"{url}simple/p/" in str(error.value) and "JSON" in str(error.value)


def test_wheel_hash_checked_when_downloaded(tmp_path: Path) -> None:
    simple = build_index({"p": {"1.0": {"sdist": False}}}, tmp_path / "idx", pep658=False,
                         json=False)
    wheel = tmp_path / "idx" / "files" / "p-1.0-py3-none-any.whl"
    good = hashlib.sha256(wheel.read_bytes()).hexdigest()
    wheel.write_bytes(wheel.read_bytes() + b"junk")
    source = IndexSource(simple.as_uri(), client=client(tmp_path))
    result = source.metadata(source.candidates(canonicalize_name("p"))[0])
    assert isinstance(result, MetadataUnavailable) and good in result.detail
    assert wheel.as_uri() in result.detail


def test_missing_pep658_file_falls_back_to_the_wheel(tmp_path: Path) -> None:
    simple = build_index({"p": {"1.0": {"requires": ["q"], "sdist": False}}}, tmp_path / "idx")
    (tmp_path / "idx" / "files" / "p-1.0-py3-none-any.whl.metadata").unlink()
    with serve(tmp_path / "idx") as url:
        source = IndexSource(f"{url}simple/", client=client(tmp_path))
        assert deps(source.metadata(source.candidates(canonicalize_name("p"))[0]))[0] == ["q"]
        assert ("GET", "/files/p-1.0-py3-none-any.whl", "*/*") in url.requests
    assert simple.name == "simple"


def test_build_index_from_packse_scenario(tmp_path: Path) -> None:
    from conftest import PACKSE
    from indexbuild import load_scenario_packages

    scenario = PACKSE / "wheels" / "specific-tag-and-default.toml"
    if not scenario.exists():
        pytest.skip("packse corpus not available")
    simple = build_index(load_scenario_packages(scenario), tmp_path / "idx")
    source = IndexSource(simple.as_uri(), client=client(tmp_path))
    (candidate,) = source.candidates(canonicalize_name("a"))
    assert candidate.requires_python == SpecifierSet(">=3.12")
    assert len([a for a in candidate.artifacts if a.kind is ArtifactKind.WHEEL]) >= 2


def test_unwritable_cache_still_fetches(server: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory should be")
    http = HttpClient(cache_dir=blocker, timeout=2.0, retries=0)
    source = IndexSource(f"{server}full/simple/", client=http)
    beta = source.candidates(canonicalize_name("beta"))
    assert isinstance(source.metadata(beta[1]), Candidate)


def test_offline_and_no_cache_conflict(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="offline"):
        HttpClient(cache_dir=tmp_path, offline=True, no_cache=True)


@pytest.mark.parametrize("text", [
    "Metadata-Version: 2.1\nName: a\nVersion: 1.0\nRequires-Dist: b>=1  \n"
    "Provides-Extra: x\n\nbody\nName: other\n",
    "Metadata-Version: 2.1\nName: a\nName: b\nVersion: 1.0\n",
    "Metadata-Version: 2.1\nName: a\nVersion: 1.0\nRequires-Dist: b\n >=1\n",
    "Metadata-Version: 2.1\r\nName: a\r\nVersion: 1.0\r\nRequires-Dist: b\r\n",
    "Metadata-Version: 2.1\nName: a\nVersion: 1.0\nnot a header\nRequires-Dist: q\n",
    "Metadata-Version: 2.1\nName: a\nVersion: 1.0\nDescription: x\n  y\nRequires-Dist: z\n",
    "Metadata-Version: 2.2\nname: A_b\nVERSION: 1.0.0\nDynamic: Requires-Dist\n",
    "Metadata-Version: 2.1\nName: a\nVersion: 1.0\nRequires-Dist: ???\n",
    "Metadata-Version: 2.1\nName:\nVersion: 1.0\n",
])
def test_fast_metadata_headers_match_the_email_parser(text: str) -> None:
    from packaging.metadata import parse_email

    from depsat.sources import distfiles

    fast = distfiles._read_headers(text)
    if fast is not None:
        full, _ = parse_email(text)
        assert dict(fast) == {k: v for k, v in full.items() if k in distfiles._WANTED.values()}


def test_a_release_has_the_requires_python_all_its_files_agree_on(tmp_path: Path) -> None:
    """The files of one release may spell one Requires-Python differently (equal specifier
    sets: the release has it) or give different ones (the release has none; each file keeps
    its own); a page's files with one string share one parsed specifier set."""
    def entry(filename: str, requires_python: str) -> dict[str, Any]:
        return {"filename": filename, "url": f"../../files/{filename}", "hashes": {},
                "requires-python": requires_python}

    page = {"meta": {"api-version": "1.1"}, "name": "alpha", "files": [
        entry("alpha-3.0-py3-none-any.whl", ">=3.8"),
        entry("alpha-3.0.tar.gz", ">=3.8"),
        entry("alpha-2.0-py3-none-any.whl", ">=3.8"),
        entry("alpha-2.0.tar.gz", ">= 3.8"),
        entry("alpha-1.0-py3-none-any.whl", ">=3.8"),
        entry("alpha-1.0.tar.gz", ">=3.9"),
    ]}
    (tmp_path / "alpha").mkdir()
    (tmp_path / "alpha" / "index.json").write_text(json.dumps(page))
    source = IndexSource(tmp_path.as_uri() + "/", "local", client=quick_client(tmp_path))
    v3, v2, v1 = source.candidates(canonicalize_name("alpha"))
    assert v3.requires_python == SpecifierSet(">=3.8")
    assert v3.artifacts[0].requires_python is v3.artifacts[1].requires_python
    assert v2.requires_python == SpecifierSet(">=3.8")
    assert v1.requires_python is None
    assert [a.requires_python for a in v1.artifacts] == [SpecifierSet(">=3.8"),
                                                         SpecifierSet(">=3.9")]
