"""Simple-repository indexes (PEP 503/691) as a `Source`, and the file handling find-links shares.

`candidates()` costs one request per project (a project page), and `metadata()` one per
release actually reached: the PEP 658 `.metadata` file when the index offers it, else the
wheel itself (only its METADATA member is read), else the sdist's PKG-INFO when PEP 643 says
it is static, else (only with a `MetadataBuilder`, `--build-metadata`) the sdist's metadata as
its build backend prepares it. `prefetch()` runs those fetches on a small thread pool and
memoizes them, so the resolver's later `metadata()` calls return at once; reads of local
files (`file://`, cache hits) are deferred to the thread that asks instead, since on the
pool they only contend for the GIL. Each page, metadata
read and build is reported to the client's progress callback. Nothing here filters by
target: the artifacts carry tags, Requires-Python and yanked flags for discovery to judge.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import attrs
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from depsat.errors import SourceError
from depsat.model import (
    Artifact,
    ArtifactKind,
    Candidate,
    CandidateKey,
    Diagnostic,
    ExclusionKind,
    NormalizedName,
    Origin,
    canonicalize_name,
)
from depsat.sources.base import MetadataUnavailable, Source
from depsat.sources.distfiles import (
    CoreMetadata,
    DistFileError,
    DistFilename,
    UnsupportedDistFile,
    is_static_sdist_metadata,
    parse_core_metadata,
    parse_dist_filename,
    pyproject_core_metadata,
    sdist_pkg_info,
    sdist_pkg_info_in_head,
    sdist_pyproject,
    sdist_pyproject_in_head,
    tar_sdist,
    wheel_filename_parts,
    wheel_metadata,
    wheel_metadata_from_directory,
    wheel_metadata_from_tail,
)
from depsat.sources.fetch_pool import FetchPool
from depsat.sources.http import (
    CONCURRENT_FETCHES,
    Fetched,
    FetchEvent,
    FetchKind,
    HttpClient,
    HttpError,
    redact_url,
    url2pathname,
)
from depsat.sources.ranged import NoRanges, RangedFile
from depsat.sources.simple_api import (
    ACCEPT,
    ProjectFile,
    ProjectPage,
    SimpleApiError,
    parse_project_page,
)
from depsat.sources.stamps import ReadLog, read_file, read_listing

if TYPE_CHECKING:
    from depsat.sources.build_metadata import MetadataBuilder

__all__ = [
    "NEEDS_BUILD_DETAIL",
    "DistributionSource",
    "IndexSource",
    "checked_build",
    "file_url_path",
    "local_directory_files",
]

NEEDS_BUILD_DETAIL = "needs a build to know its dependencies"
_PREFERRED_HASHES = ("sha256", "sha384", "sha512", "blake2b", "sha3_256", "sha224", "sha1",
                     "md5")


def _check_hash(data: bytes, hashes: Mapping[str, str], url: str) -> str | None:
    """None when `data` matches the strongest published hash (or none is published)."""
    for algorithm in _PREFERRED_HASHES:
        expected = hashes.get(algorithm)
        if expected is None:
            continue
        actual = hashlib.new(algorithm, data).hexdigest()
        if actual != expected.lower():
            return (f"hash mismatch for {redact_url(url)}: expected {algorithm} {expected}, "
                    f"got {actual}")
        return None
    return None


class _Deferred(Future[Any]):
    """A future whose call runs in the first thread that asks for its result: work that
    only reads local files (a `file://` index, cache hits) gains nothing on a thread pool
    but GIL contention."""

    def __init__(self, call: Callable[[], Any]) -> None:
        super().__init__()
        self._call: Callable[[], Any] | None = call
        self._run_lock = threading.Lock()

    def result(self, timeout: float | None = None) -> Any:
        with self._run_lock:
            call, self._call = self._call, None
            if call is not None:
                try:
                    self.set_result(call())
                except BaseException as exc:
                    self.set_exception(exc)
        return super().result(timeout)


def _common_requires_python(artifacts: Sequence[Artifact]) -> SpecifierSet | None:
    """The Requires-Python all of a release's files give, or None when they differ.

    Files listing the same string share one parsed `SpecifierSet` (`_group`), so sameness is
    first asked of identity: packaging hashes a `SpecifierSet` anew each time, through every
    one of its specifiers, and PyPI's big pages ask it for thousands of files."""
    first = artifacts[0].requires_python
    if all(a.requires_python is first for a in artifacts):
        return first
    specifiers = {a.requires_python for a in artifacts}
    return specifiers.pop() if len(specifiers) == 1 else None


def _needs_build(pkg_info: bytes) -> bool:
    try:
        return not is_static_sdist_metadata(parse_core_metadata(pkg_info))
    except DistFileError:
        return False


_SDIST_HEADS = (64 * 1024, 1024 * 1024)
"""How much of a remote tar sdist is read, one after the other, looking for its PKG-INFO
before it is downloaded whole."""


class DistributionSource(Source):
    """What an index and a find-links location have in common: files, grouped into candidates.

    Subclasses list `ProjectFile`s; this class turns them into candidates, and reads metadata
    from the files (memoized, thread-safe, fetched concurrently by `prefetch`).

    `metadata_builder` (None: sdists without static metadata are excluded as needing a
    build) may also be set after construction, before the first `metadata` call.
    """

    lazy_metadata = True

    def __init__(self, name: str, client: HttpClient | None, *,
                 workers: int = CONCURRENT_FETCHES,
                 http_options: Mapping[str, Any] | None = None,
                 metadata_builder: MetadataBuilder | None = None) -> None:
        self.name = name
        self.metadata_builder = metadata_builder
        self._owns_client = client is None
        self.client = client if client is not None else HttpClient(**(http_options or {}))
        self._workers = max(1, workers)
        self._lock = threading.Lock()
        self._files: dict[str, ProjectFile] = {}
        self._diagnostics: list[Diagnostic] = []
        self._metadata: dict[CandidateKey, Future[Candidate | MetadataUnavailable]] = {}
        self._on_hand: dict[CandidateKey, bool] = {}
        """Whether an earlier run left the candidate's metadata in the cache (`metadata_on_hand`
        asks the cache once per release)."""
        self._executor: FetchPool | None = None
        self._local_reads: list[str] = []
        """`file:` metadata read this run, noted in the cache by `close` for later runs."""
        self._artifact_order: dict[CandidateKey, tuple[Artifact, ...]] = {}
        """`_metadata_artifacts`, asked three or four times a release (where its metadata
        is, whether it is local, which file to read), worked out once."""

    # -- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the worker threads, note the `file:` metadata read (`metadata_on_hand`), and
        close the HTTP client if this source made it."""
        with self._lock:
            pool, self._executor = self._executor, None
        if pool is not None:
            pool.shutdown(wait=True)
        with self._lock:
            local_reads, self._local_reads = self._local_reads, []
        self.client.remember_local_reads(local_reads)  # (one transaction for the run)
        if self._owns_client:
            self.client.close()

    def __enter__(self) -> DistributionSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _pool(self) -> FetchPool:
        with self._lock:
            if self._executor is None:
                self._executor = FetchPool(self._workers, self.client.fetches_in_flight,
                                           name=f"depsat-{self.name}")
            return self._executor

    def _warn(self, message: str, culprit: str) -> None:
        with self._lock:
            self._diagnostics.append(Diagnostic(message, culprit))

    def diagnostics(self) -> Sequence[Diagnostic]:
        with self._lock:
            return tuple(self._diagnostics)

    # -- candidates -----------------------------------------------------------------------
    def _group(self, files: Iterable[ProjectFile], origin: Origin,
               project: NormalizedName | None = None) -> dict[NormalizedName, list[Candidate]]:
        """Group files by (name, version) into candidates. With `project`, other names are
        warned about and skipped (an index page lists one project)."""
        releases: dict[tuple[NormalizedName, Version], list[Artifact]] = {}
        # A project's files share a few Requires-Python strings (pyzmq's page on PyPI: 4,669
        # files, 8 strings): each is parsed once (None: invalid).
        specifier_sets: dict[str, SpecifierSet | None] = {}
        listed: dict[str, ProjectFile] = {}
        for file in files:
            # A plain wheel name's parts, without a `DistFilename` object each: the 75 pages
            # transformers[torch] reads on PyPI list 49,292 files, parsed and grouped in
            # 0.41-0.44 s before, 0.38-0.40 s since.
            parts = wheel_filename_parts(file.filename)
            if parts is not None:
                kind, (name, version, tags) = ArtifactKind.WHEEL, parts
            else:
                try:
                    dist = parse_dist_filename(file.filename, project)
                except UnsupportedDistFile:
                    continue
                except DistFileError as exc:
                    self._warn(f"skipped: {exc}", redact_url(file.url))
                    continue
                kind, name, version, tags = dist.kind, dist.name, dist.version, dist.tags
            if project is not None and name != project:
                self._warn(f"skipped: by its name, not a file of {project}",
                           redact_url(file.url))
                continue
            requires_python = None
            if file.requires_python:
                if file.requires_python not in specifier_sets:
                    try:
                        specifier_sets[file.requires_python] = SpecifierSet(
                            file.requires_python)
                    except InvalidSpecifier:
                        specifier_sets[file.requires_python] = None
                requires_python = specifier_sets[file.requires_python]
                if requires_python is None:
                    self._warn(f"ignored invalid Requires-Python {file.requires_python!r}",
                               redact_url(file.url))
            hashes = file.hashes
            artifact = Artifact(kind, file.filename, file.url, tags,
                                # (nothing changes a file's hashes: the table is shared)
                                hashes if isinstance(hashes, dict) else dict(hashes),
                                requires_python, file.yanked, file.yanked_reason,
                                file.upload_time)
            listed[file.url] = file
            releases.setdefault((name, version), []).append(artifact)
        with self._lock:  # (once a page, not once a file: PyPI's pages list thousands)
            self._files.update(listed)
        grouped: dict[NormalizedName, list[Candidate]] = {}
        for (name, version), artifacts in sorted(releases.items(), key=lambda kv: kv[0][1],
                                                 reverse=True):
            yanked = all(a.yanked for a in artifacts)
            reasons = [a.yanked_reason for a in artifacts if a.yanked_reason]
            grouped.setdefault(name, []).append(Candidate(
                name=name,
                version=version,
                origin=origin,
                requires_python=_common_requires_python(artifacts),
                yanked=yanked,
                yanked_reason=reasons[0] if yanked and reasons else None,
                artifacts=tuple(artifacts),
            ))
        return grouped

    # -- metadata -------------------------------------------------------------------------
    def _future(self, candidate: Candidate) -> Future[Candidate | MetadataUnavailable]:
        key = candidate.key
        with self._lock:
            future = self._metadata.get(key)
            if future is not None:
                return future
        local = self._reads_local_file(candidate)
        pool = None if local else self._pool()
        with self._lock:
            future = self._metadata.get(key)
            if future is None:
                self.client.progress(FetchEvent(FetchKind.METADATA, False, str(candidate)))
                future = (_Deferred(lambda: self._load_metadata(candidate)) if pool is None
                          else pool.submit(self._load_metadata, candidate))
                self._metadata[key] = future
            return future

    def _reads_local_file(self, candidate: Candidate) -> bool:
        """Whether the first file `_read_metadata` would read is local (`file:`, or cached
        and checked by its hash), so that reading it is no work for the pool. Builds always
        go to the pool."""
        url = self._first_checked_file(candidate)
        return url is not None and self.client.is_local(url)

    def _first_checked_file(self, candidate: Candidate) -> str | None:
        """The first file `_read_metadata` would read, when it is local (`file:`) or has a
        published hash (so a cached copy needs no revalidating); else None. Builds: None."""
        artifacts = self._metadata_artifacts(candidate)
        if not artifacts:
            return None
        artifact = artifacts[0]
        if artifact.kind is not ArtifactKind.WHEEL and self.metadata_builder is not None:
            return None
        file = self._files.get(artifact.url or "")
        url: str | None = artifact.url
        hashes: Mapping[str, str] = artifact.hashes
        if file is not None and file.core_metadata:
            url, hashes = file.metadata_url, file.core_metadata_hashes
        # Without a hash a cached copy may need revalidating: a request, so the pool's.
        return url if url is not None and (url.startswith("file:") or bool(hashes)) else None

    def metadata_on_hand(self, candidates: Sequence[Candidate]) -> list[Candidate]:
        """Those whose metadata costs no request now: read by this source already, or by an
        earlier run, a file the cache holds or a `file:` one that run read (`close` notes
        them). Not every `file:` one: a local index has every file, and reading them all is
        the eager resolve. The cache is asked once per release: a universal resolution
        resolves its cells from one source (transformers[torch]: 51 resolves, 4,170 projects
        loaded, 1.7 s asking the cache)."""
        unknown = [c for c in candidates if c.key not in self._on_hand]
        if unknown:
            urls = {}
            for candidate in unknown:
                url = self._first_checked_file(candidate)
                if url is not None:
                    urls[candidate.key] = url
            before = self.client.read_before(list(urls.values()))
            for candidate in unknown:
                self._on_hand[candidate.key] = urls.get(candidate.key) in before
        return [c for c in candidates if self._on_hand[c.key] or self._read_here(c)]

    def may_build(self, candidate: Candidate) -> bool:
        """With a metadata builder, a release read from an sdist (no wheel) that is not
        read yet: pyspark's are sdists of 300-450 MB, and the siblings read with each
        release taken were all downloaded and built (a resolve of `pyspark[connect]` took
        over nine minutes)."""
        if self.metadata_builder is None or self._read_here(candidate):
            return False
        artifacts = self._metadata_artifacts(candidate)
        return bool(artifacts) and artifacts[0].kind is not ArtifactKind.WHEEL

    def _read_here(self, candidate: Candidate) -> bool:
        """Whether this source has read the candidate's metadata already."""
        future = self._metadata.get(candidate.key)
        return (future is not None and future.done() and future.exception() is None
                and isinstance(future.result(), Candidate))

    def metadata(self, candidate: Candidate) -> Candidate | MetadataUnavailable:
        """`candidate` with its dependencies, from the cheapest file that has them."""
        return self._future(candidate).result()

    def prefetch(self, candidates: Iterable[Candidate]) -> None:
        """Start fetching metadata for all of these on the thread pool; returns at once."""
        for candidate in candidates:
            self._future(candidate)

    def _load_metadata(self, candidate: Candidate) -> Candidate | MetadataUnavailable:
        try:
            found = self._read_metadata(candidate)
            if isinstance(found, Candidate):
                url = self._first_checked_file(candidate)
                if url is not None and url.startswith("file:"):
                    with self._lock:
                        self._local_reads.append(url)
            return found
        finally:
            self.client.progress(FetchEvent(FetchKind.METADATA, True, str(candidate)))

    def _metadata_artifacts(self, candidate: Candidate) -> tuple[Artifact, ...]:
        """The files to read `candidate`'s metadata from, best first: wheels (else sdists),
        unyanked ones and those with a PEP 658 metadata file first."""
        found = self._artifact_order.get(candidate.key)
        if found is None:
            found = self._artifact_order[candidate.key] = self._order_artifacts(candidate)
        return found

    def _order_artifacts(self, candidate: Candidate) -> tuple[Artifact, ...]:
        wheels = [a for a in candidate.artifacts if a.kind is ArtifactKind.WHEEL]
        sdists = [a for a in candidate.artifacts if a.kind is ArtifactKind.SDIST]

        def preference(artifact: Artifact) -> tuple[bool, bool]:
            file = self._files.get(artifact.url or "")
            return artifact.yanked, not (file is not None and file.core_metadata)

        return tuple(sorted(wheels, key=preference) or sorted(sdists, key=preference))

    def _read_metadata(self, candidate: Candidate) -> Candidate | MetadataUnavailable:
        first_failure: MetadataUnavailable | None = None
        for artifact in self._metadata_artifacts(candidate):
            result = self._artifact_metadata(candidate, artifact)
            if isinstance(result, CoreMetadata):
                return attrs.evolve(
                    candidate,
                    requires=result.requires,
                    provides_extras=result.provides_extras,
                    requires_python=result.requires_python or candidate.requires_python,
                )
            if first_failure is None:
                first_failure = result
        if first_failure is None:
            return MetadataUnavailable(ExclusionKind.METADATA_ERROR,
                                       f"{candidate} has no wheel or sdist to read metadata from")
        return first_failure

    def _fetch_checked(self, url: str, hashes: Mapping[str, str], *,
                       keep: bool = True) -> bytes | MetadataUnavailable:
        """Fetch a file and check its hash; a bad cached copy is dropped and fetched again.
        `keep=False`: a file fetched now is not stored (`HttpClient.get`)."""
        for attempt in range(2):
            try:
                fetched = self.client.get(url, immutable=bool(hashes), keep=keep)
            except HttpError as exc:
                return MetadataUnavailable(ExclusionKind.METADATA_ERROR, str(exc))
            if fetched.status == 404:
                missing = ("does not exist" if url.startswith("file:")
                           else "not found (HTTP 404)")
                return MetadataUnavailable(ExclusionKind.METADATA_ERROR,
                                           f"{redact_url(url)} {missing}")
            mismatch = _check_hash(fetched.content, hashes, url)
            if mismatch is None:
                return fetched.content
            self.client.forget(url)
            if not fetched.from_cache or attempt:
                return MetadataUnavailable(ExclusionKind.METADATA_ERROR, mismatch)
        raise AssertionError("unreachable")  # pragma: no cover

    def _artifact_metadata(self, candidate: Candidate,
                           artifact: Artifact) -> CoreMetadata | MetadataUnavailable:
        url = artifact.url or ""
        shown = redact_url(url)
        file = self._files.get(url)
        dist = DistFilename(artifact.kind, candidate.name, candidate.version, artifact.tags)
        raw: bytes | MetadataUnavailable
        source = shown
        raw = MetadataUnavailable(ExclusionKind.METADATA_ERROR, "")
        sdist: bytes | None = None
        if file is not None and file.core_metadata:
            source = redact_url(file.metadata_url)
            raw = self._fetch_checked(file.metadata_url, file.core_metadata_hashes)
        if file is None or not file.core_metadata or (
            # an index that advertises PEP 658 files but lacks one: read the file itself
            isinstance(raw, MetadataUnavailable) and raw.detail.endswith("(HTTP 404)")
        ):
            source = shown
            raw, sdist = self._member_metadata(url, artifact, dist)
        if isinstance(raw, MetadataUnavailable):
            return raw
        try:
            metadata = parse_core_metadata(raw)
        except DistFileError as exc:
            return MetadataUnavailable(ExclusionKind.METADATA_ERROR, f"{source}: {exc}")
        if metadata.name != candidate.name or metadata.version != candidate.version:
            return MetadataUnavailable(
                ExclusionKind.METADATA_ERROR,
                f"{source}: metadata says {metadata.name} {metadata.version}, "
                f"but the file is {candidate.name} {candidate.version}")
        if artifact.kind is ArtifactKind.SDIST and not is_static_sdist_metadata(metadata):
            stated = self._pyproject_metadata(url, artifact, sdist)
            if stated is not None and (stated.name, stated.version) == (candidate.name,
                                                                        candidate.version):
                return stated
            if self.metadata_builder is None:
                return MetadataUnavailable(ExclusionKind.NEEDS_BUILD, NEEDS_BUILD_DETAIL)
            return self._built_metadata(candidate, artifact, sdist)
        return metadata

    def _member_metadata(self, url: str, artifact: Artifact, dist: DistFilename,
                         ) -> tuple[bytes | MetadataUnavailable, bytes | None]:
        """The METADATA (PKG-INFO) inside the file at `url`, or why not; and the sdist's
        bytes when the sdist was downloaded (a build may need them).

        In order: what an earlier read extracted (`HttpClient.extracted`: the file itself is
        not kept), a remote wheel's member read with range requests (`_ranged_member`), and
        the whole file, downloaded and checked against its published hash. What is read is
        kept for the next time (`HttpClient.keep_extracted`)."""
        shown = redact_url(url)
        kept = self.client.extracted(url, artifact.hashes)
        if kept is not None:
            return kept, None
        whole: bytes | MetadataUnavailable | None = None
        remote = url.startswith(("http:", "https:"))
        if remote and (artifact.kind is ArtifactKind.WHEEL or tar_sdist(artifact.filename)):
            member, whole = (self._ranged_member(url, dist)
                             if artifact.kind is ArtifactKind.WHEEL
                             else self._sdist_head_member(url, artifact))
            if member is not None:
                self.client.keep_extracted(url, artifact.hashes, member)
                return member, None
            if whole is not None:  # a server without ranges sent it all: check it
                mismatch = _check_hash(whole, artifact.hashes, url)
                if mismatch is not None:
                    return MetadataUnavailable(ExclusionKind.METADATA_ERROR, mismatch), None
        if whole is None:
            whole = self._fetch_checked(url, artifact.hashes, keep=False)
        if isinstance(whole, MetadataUnavailable):
            return whole, None
        sdist = None
        try:
            if artifact.kind is ArtifactKind.WHEEL:
                member = wheel_metadata(whole, dist)
            else:
                sdist, member = whole, sdist_pkg_info(whole, artifact.filename)
        except DistFileError as exc:
            return MetadataUnavailable(ExclusionKind.METADATA_ERROR, f"{shown}: {exc}"), None
        self.client.keep_extracted(url, artifact.hashes, member)
        return member, sdist

    def _pyproject_metadata(self, url: str, artifact: Artifact,
                            sdist: bytes | None) -> CoreMetadata | None:
        """What the sdist's ``pyproject.toml`` states statically (`pyproject_core_metadata`),
        for an sdist whose PKG-INFO cannot be trusted for dependencies: from the sdist when it
        was read whole, else from its first 64 KB (tar sdists, remote; not checked against
        the sdist's hash, as a head's PKG-INFO is not), else none. The file is kept as an
        extracted member, and its absence as an empty one, so a warm run asks nothing (it
        asked again for every sdist without one: 95 range requests in a row, 9 s, for flask
        on a cache of PKG-INFOs read before this was)."""
        kept_as = f"{url}#pyproject.toml"
        data = self.client.extracted(kept_as, artifact.hashes)
        if data is None:
            if sdist is not None:
                data = sdist_pyproject(sdist, artifact.filename) or b""
            elif url.startswith(("http:", "https:")) and tar_sdist(artifact.filename):
                try:
                    fetched = self.client.get_range(url, f"bytes=0-{_SDIST_HEADS[0] - 1}")
                except HttpError:
                    return None
                if fetched.status not in (200, 206):
                    return None
                data = sdist_pyproject_in_head(fetched.content, artifact.filename) or b""
            else:
                return None
            self.client.keep_extracted(kept_as, artifact.hashes, data)
        return pyproject_core_metadata(data) if data else None

    def _sdist_head_member(self, url: str,
                           artifact: Artifact) -> tuple[bytes | None, bytes | None]:
        """A remote tar sdist's PKG-INFO read from the start of the file
        (`sdist_pkg_info_in_head`: where setuptools puts it), a larger part once, instead of
        downloading the sdist; else the whole sdist, when the server sent it all (it ignored
        the range, or the file was smaller); else (None, None), and the caller downloads it.
        Not checked against the sdist's hash, as a wheel's ranged METADATA is not."""
        for size in _SDIST_HEADS:
            try:
                fetched = self.client.get_range(url, f"bytes=0-{size - 1}")
            except HttpError:
                return None, None
            if fetched.status == 200:
                return None, fetched.content
            if fetched.status != 206 or not (fetched.content_range or "").startswith(
                    f"bytes 0-{len(fetched.content) - 1}/"):
                return None, None
            found = sdist_pkg_info_in_head(fetched.content, artifact.filename)
            needs_build = found is not None and _needs_build(found[0])
            if found is not None and (found[1] or needs_build):
                # (the .egg-info copy only when it says the sdist needs a build: the same
                # answer as the top-level file, which setuptools copies from it)
                if needs_build:  # (`_pyproject_metadata` asks for it next; b"": none)
                    pyproject = sdist_pyproject_in_head(fetched.content, artifact.filename)
                    self.client.keep_extracted(f"{url}#pyproject.toml", artifact.hashes,
                                               pyproject or b"")
                return found[0], None
            if (fetched.content_range or "").endswith(f"/{len(fetched.content)}"):
                return None, fetched.content  # (that was all of it)
        return None, None

    def _ranged_member(self, url: str, dist: DistFilename) -> tuple[bytes | None, bytes | None]:
        """A remote wheel's METADATA read with range requests (`depsat.sources.ranged`): its
        end, then the member if the end lacks it, instead of the whole wheel. Else the whole
        wheel, when the server ignored the ranges and sent it; else (None, None), and the
        caller downloads the wheel.

        What is read by ranges is not checked against the wheel's hash (only a whole file
        can be), as with pip's and uv's range reads: the index is trusted for it as it is for
        the page that lists the wheel."""

        def fetch(byte_range: str) -> tuple[int, bytes, str | None]:
            fetched = self.client.get_range(url, byte_range)
            return fetched.status, fetched.content, fetched.content_range

        try:
            with RangedFile.open_tail(fetch) as ranged:
                # The entries in the part already fetched, else the one found in the whole
                # directory: read unbuffered, each read one request at most (a buffer would
                # read ahead, one more), else zipfile's reading, which says what is wrong.
                start, tail = ranged.tail
                member = wheel_metadata_from_tail(ranged, tail, start, dist)
                if member is None:
                    member = wheel_metadata_from_directory(ranged, tail, start, dist)
                if member is None:
                    member = wheel_metadata(io.BufferedReader(ranged), dist)
                return member, None
        except NoRanges as refused:
            return None, refused.whole
        except (HttpError, OSError, DistFileError):
            return None, None

    def _built_metadata(self, candidate: Candidate, artifact: Artifact,
                        sdist: bytes | None) -> CoreMetadata | MetadataUnavailable:
        """The sdist's metadata from its build backend (cached by the sdist's SHA-256: a
        published one is looked up before the sdist is even downloaded)."""
        builder = self.metadata_builder
        assert builder is not None
        url = artifact.url or ""
        shown = redact_url(url)
        published = artifact.hashes.get("sha256")
        cached = builder.cached(published) if published and sdist is None else None
        if cached is not None:
            return checked_build(candidate, shown, lambda: cached, "the file is")
        if sdist is None:
            fetched = self._fetch_checked(url, artifact.hashes)
            if isinstance(fetched, MetadataUnavailable):
                return fetched
            sdist = fetched
        data = sdist
        return checked_build(candidate, shown, lambda: builder.metadata(
            data, artifact.filename, self.client.progress), "the file is")


def checked_build(candidate: Candidate, shown: str, build: Callable[[], CoreMetadata],
                  described: str) -> CoreMetadata | MetadataUnavailable:
    """What `build` (a build backend) says of `candidate`, or why not: the build failed, or
    it names another release than the one `described` (at `shown`)."""
    try:
        metadata = build()
    except DistFileError as exc:
        return MetadataUnavailable(ExclusionKind.METADATA_ERROR,
                                   f"{shown}: building its metadata failed: {exc}")
    if metadata.name != candidate.name or metadata.version != candidate.version:
        return MetadataUnavailable(
            ExclusionKind.METADATA_ERROR,
            f"{shown}: its build says {metadata.name} {metadata.version}, "
            f"but {described} {candidate.name} {candidate.version}")
    return metadata


def file_url_path(url: str) -> Path:
    parts = urlsplit(url)
    path = url2pathname(parts.path)
    return Path(f"//{parts.netloc}{path}") if parts.netloc not in ("", "localhost") else Path(path)


def local_directory_files(directory: Path, read_log: ReadLog | None = None,
                          ) -> list[ProjectFile]:
    """A directory of distributions as links (find-links folders, file:// pages without
    an index file). PEP 658 sidecars (`<file>.metadata`) are used when present. The listing
    goes into `read_log` (or, if the directory cannot be listed, its stamp, and OSError)."""
    entries = read_listing(directory, read_log)
    names = {name for name, kind in entries if kind == "f"}
    return [ProjectFile(filename=name, url=(directory / name).resolve().as_uri(),
                        core_metadata=f"{name}.metadata" in names)
            for name in sorted(names) if not name.endswith(".metadata")]


class IndexSource(DistributionSource):
    """One simple index (`https://`, `http://`, or a `file://` directory laid out as one).

    Give either a shared `client` or the HTTP options (`cache_dir`, `offline`, `no_cache`,
    `timeout`, `retries`, `verify`, `netrc_file`, `progress`, `transport`) for a client of its
    own.
    """

    def __init__(self, url: str, name: str = "pypi", *, client: HttpClient | None = None,
                 workers: int = CONCURRENT_FETCHES,
                 metadata_builder: MetadataBuilder | None = None,
                 **http_options: Any) -> None:
        if "://" not in url:
            url = Path(url).resolve().as_uri()
        super().__init__(name, client, workers=workers, http_options=http_options,
                         metadata_builder=metadata_builder)
        self.url = url.rstrip("/") + "/"
        self.origin = Origin("index", name, redact_url(self.url))
        self._pages: dict[NormalizedName, Future[tuple[Candidate, ...]]] = {}

    def project_url(self, project: NormalizedName) -> str:
        """PEP 503: `<index>/<normalized name>/`, with the trailing slash."""
        return f"{self.url}{quote(canonicalize_name(project))}/"

    def candidates(self, project: NormalizedName) -> Sequence[Candidate]:
        """Every release of `project` on this index; empty when the index does not have it.

        Raises `SourceError` naming the URL when the page cannot be fetched or read."""
        return self._page_future(canonicalize_name(project)).result()

    def prefetch_projects(self, projects: Iterable[NormalizedName]) -> None:
        """Start fetching these project pages concurrently; `candidates` then waits for them."""
        for project in projects:
            self._page_future(canonicalize_name(project))

    def _page_future(self, project: NormalizedName) -> Future[tuple[Candidate, ...]]:
        with self._lock:
            future = self._pages.get(project)
            if future is not None:
                return future
        url = self.project_url(project)
        # A local or cached page is read where it is asked for (see `_Deferred`).
        hit = None if url.startswith("file:") else self.client.cached(url, accept=ACCEPT)
        pool = None if hit is not None or url.startswith("file:") else self._pool()
        with self._lock:
            future = self._pages.get(project)
            if future is None:
                self.client.progress(FetchEvent(FetchKind.PAGE, False, project))
                future = (_Deferred(lambda: self._load_candidates(project, hit))
                          if pool is None else pool.submit(self._load_candidates, project))
                self._pages[project] = future
            return future

    def _load_candidates(self, project: NormalizedName,
                         hit: Fetched | None = None) -> tuple[Candidate, ...]:
        try:
            return self._read_candidates(project, hit)
        finally:
            self.client.progress(FetchEvent(FetchKind.PAGE, True, project))

    def _read_candidates(self, project: NormalizedName,
                         hit: Fetched | None = None) -> tuple[Candidate, ...]:
        page = self._fetch_page(project, hit)
        if page is None:
            return ()
        for warning in page.warnings:
            self._warn(warning, redact_url(page.url))
        return tuple(self._group(page.files, self.origin, project).get(project, ()))

    def _fetch_page(self, project: NormalizedName, hit: Fetched | None = None,
                    ) -> ProjectPage | None:
        """The project's page; `hit` is its cached response when already read."""
        url = self.project_url(project)
        shown = redact_url(url)
        if url.startswith("file:"):
            return self._local_page(url)
        fetched = hit or self.client.get(url, accept=ACCEPT)
        if fetched.status == 404:
            return None
        try:
            return parse_project_page(fetched.content, fetched.content_type, fetched.url)
        except SimpleApiError as exc:
            raise SourceError(f"malformed project page {shown}: {exc}", shown) from exc

    def _local_page(self, url: str) -> ProjectPage | None:
        """A file:// project directory: `index.json` (PEP 691), else `index.html`, else files.

        Read directly: local files need neither the HTTP client nor its cache."""
        directory = file_url_path(url)
        for index_name, content_type in (("index.json", "application/vnd.pypi.simple.v1+json"),
                                         ("index.html", "text/html")):
            index_file = directory / index_name
            try:
                content = read_file(index_file, self.client.read_log)
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                continue
            except OSError as exc:
                shown = index_file.as_uri()
                raise HttpError(f"cannot read {shown}: {exc.strerror}", shown) from exc
            try:
                return parse_project_page(content, content_type, url)
            except SimpleApiError as exc:
                raise SourceError(f"malformed project page {index_file}: {exc}",
                                  str(index_file)) from exc
        try:
            files = local_directory_files(directory, self.client.read_log)
        except (FileNotFoundError, NotADirectoryError):  # (not there yet: stamped as absent)
            return None
        return ProjectPage(url=url, name=None, files=tuple(files))
