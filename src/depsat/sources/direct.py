"""Direct references (``name @ URL``) as a `Source`: a wheel, an sdist, a project directory
or a git project.

Only the file named is offered, as the one candidate of its reference: an origin of its own
(kind ``direct``; its name the URL without a password, its location the URL as written),
which the reference matches and nothing else does (`depsat.universe`). Its metadata is
read as an index's files are (`DistributionSource`): a remote wheel by HTTP ranges, a local
file in place, an sdist's PKG-INFO (or its build, with `--build-metadata`). A
``#sha256=`` fragment is the file's hash, checked when the file is read whole.

A ``git+`` URL names a project in a git repository at a revision: checked out in the cache
(`depsat.sources.vcs`) and read as a project directory; its candidate is shown pinned at
the commit (``name @ git+URL@<commit>``), as `pip freeze` and `uv pip compile` write it.

A ``file:`` URL of a directory names a project's source tree (``./libs/foo``, ``-e .``): its
pyproject.toml's ``[project]`` table is read as it stands (PEP 621), as uv reads it without
a build. A project whose version is dynamic gets no candidate (a warning says why); one whose
dependencies are dynamic gets one whose metadata its build backend gives, in place and not
cached, with `--build-metadata`, and that needs a build to be used otherwise. The
pyproject.toml is stamped in the client's read log, so a remembered answer notices its
change; a build's answer is never remembered (`cli.resolve_command`).

A project directory or git project may name others by URL in its static dependencies
(``shared @ file:///…``, ``lib @ git+https://…``, as a monorepo's do): those are read too, as
uv reads the references of a reference. A reference in the metadata of a wheel, an sdist or
an index's release is met only by what is installed from it.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import attrs
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from depsat._toml import tomllib
from depsat.model import (
    DIRECT,
    Artifact,
    ArtifactKind,
    Candidate,
    CandidateKey,
    ExclusionKind,
    NormalizedName,
    Origin,
    canonicalize_name,
)
from depsat.sources.base import MetadataUnavailable
from depsat.sources.distfiles import (
    DistFileError,
    project_dependencies,
    project_requirements,
)
from depsat.sources.http import CONCURRENT_FETCHES, HttpClient, redact_url
from depsat.sources.index import (
    NEEDS_BUILD_DETAIL,
    DistributionSource,
    checked_build,
    file_url_path,
)
from depsat.sources.simple_api import ProjectFile
from depsat.sources.stamps import read_file
from depsat.sources.uv_sources import ProjectSources, read_uv_sources, subdirectory_within
from depsat.sources.vcs import CHECKOUTS_FORMAT, GitCheckouts, VcsError, is_vcs_url, parse_vcs_url

if TYPE_CHECKING:
    from depsat.sources.build_metadata import MetadataBuilder

__all__ = ["NOTHING_AT", "DirectSource", "is_direct_file"]

NOTHING_AT = "no file or directory at"
"""How the warning about a ``file:`` reference with nothing at its path begins."""

_SCHEMES = ("http://", "https://", "file:")
_FILE_SUFFIXES = (".whl", ".tar.gz", ".zip")


def is_direct_file(url: str) -> bool:
    """Whether `url` is a direct reference depsat reads: a wheel or an sdist over HTTP(S)
    or ``file:``, a ``file:`` directory (a project's source tree), or a git repository; and
    a ``file:`` path with nothing there (the source says so)."""
    if url.lower().startswith("git+"):
        return True
    if url.lower().startswith("file:"):
        local = file_url_path(url)
        if local.is_dir() or not local.exists():
            return True
    return url.lower().startswith(_SCHEMES) and urlsplit(url).path.lower().endswith(
        _FILE_SUFFIXES)


class DirectSource(DistributionSource):
    """The files that direct references name, one candidate each."""

    def __init__(self, references: Sequence[tuple[NormalizedName, str]], *,
                 editable: Collection[str] = (), client: HttpClient | None = None,
                 workers: int = CONCURRENT_FETCHES,
                 metadata_builder: MetadataBuilder | None = None,
                 uv_sources: bool = True,
                 environment: Mapping[str, str] | None = None,
                 **http_options: Any) -> None:
        """`editable`: the URLs of the project directories asked for as editable.
        `uv_sources`: read the projects' ``[tool.uv.sources]`` (uv's ``--no-sources`` is
        False), their markers decided in the target's marker `environment`."""
        super().__init__(DIRECT, client, workers=workers, http_options=http_options,
                         metadata_builder=metadata_builder)
        self._uv_sources = uv_sources
        self._environment = environment
        self._editable = set(editable)
        """Asked for as editable, and the editable path sources of the projects read."""
        self._sources: dict[CandidateKey, ProjectSources] = {}
        """A project's ``[tool.uv.sources]``, for the requirements its build gives."""
        found: dict[NormalizedName, list[Candidate]] = {}
        self._projects: dict[CandidateKey, Candidate | MetadataUnavailable | Path] = {}
        """A project directory's candidate key -> it with its dependencies, or why not, or
        its tree, to build when it is read (dynamic dependencies, with a builder)."""
        self._checkouts: GitCheckouts | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        # The references asked for, then those in their projects' static metadata (a project
        # directory or a git project that names another by URL, as a monorepo's do).
        queue = deque(dict.fromkeys(references))
        seen = set(queue)
        while queue:
            name, url = queue.popleft()
            project: Candidate | None = None
            local = file_url_path(url) if url.lower().startswith("file:") else None
            if is_vcs_url(url):
                project = self._vcs_project(name, url, url in self._editable)
            elif local is not None and local.is_dir():
                project = self._project(name, url, url in self._editable, local,
                                        redact_url(url))
            elif local is not None and not local.exists() and \
                    not local.name.lower().endswith(_FILE_SUFFIXES):
                # (a missing wheel or sdist is a release its name gives: reading it says
                # "does not exist"; a missing project directory gives no release at all)
                self._warn(f"{NOTHING_AT} {local}", redact_url(url))
                continue
            else:
                self._file(name, url, found)
                continue
            if project is None:
                continue
            found.setdefault(name, []).append(project)
            read = self._projects.get(project.key)
            for requirement in read.requires if isinstance(read, Candidate) else ():
                further = (canonicalize_name(requirement.name), requirement.url or "")
                if requirement.url and further not in seen and is_direct_file(requirement.url):
                    seen.add(further)
                    queue.append(further)
        self._by_project = {name: tuple(cands) for name, cands in found.items()}

    def _file(self, name: NormalizedName, url: str,
              found: dict[NormalizedName, list[Candidate]]) -> None:
        """The candidate of the wheel or sdist at `url`, into `found`."""
        parts = urlsplit(url)
        plain = parts._replace(fragment="").geturl()
        hashes = dict(item.split("=", 1) for item in parts.fragment.split("&")
                      if "=" in item and item.split("=", 1)[0] in ("sha256", "sha384",
                                                                    "sha512"))
        file = ProjectFile(filename=unquote(posixpath.basename(parts.path)), url=plain,
                           hashes=hashes)
        origin = Origin(DIRECT, redact_url(url), url)
        for listed, candidates in self._group([file], origin, name).items():
            found.setdefault(listed, []).extend(candidates)

    def candidates(self, project: NormalizedName) -> Sequence[Candidate]:
        return self._by_project.get(canonicalize_name(project), ())

    def _read_metadata(self, candidate: Candidate) -> Candidate | MetadataUnavailable:
        known = self._projects.get(candidate.key)
        if known is None:
            return super()._read_metadata(candidate)
        if not isinstance(known, Path):
            return known
        builder = self.metadata_builder
        assert builder is not None
        built = checked_build(candidate, redact_url(candidate.origin.location),
                              lambda: builder.project_metadata(known, self.client.progress),
                              "its pyproject.toml says")
        if isinstance(built, MetadataUnavailable):
            return built
        sources = self._sources.get(candidate.key)
        requires = built.requires if sources is None else tuple(
            Requirement(sources.apply(str(r))) for r in built.requires)
        return attrs.evolve(candidate, requires=requires,
                            provides_extras=built.provides_extras,
                            requires_python=built.requires_python or candidate.requires_python)

    def _vcs_project(self, name: NormalizedName, url: str,
                     editable: bool) -> Candidate | None:
        """The candidate of the project in the git checkout `url` names (`depsat.sources.vcs`),
        shown pinned at the commit its revision stands at; None (and a warning) when the
        checkout fails."""
        shown = redact_url(url)
        try:
            reference = parse_vcs_url(url)
            checkout = self._git_checkouts().checkout(reference)
        except VcsError as exc:
            return self._skipped(f"skipped: {exc}", shown)
        tree = checkout.tree / reference.subdirectory if reference.subdirectory else checkout.tree
        if not tree.is_dir():
            return self._skipped(f"skipped: commit {checkout.commit[:12]} has no directory "
                                 f"{reference.subdirectory!r}", shown)
        pinned = reference.pinned(checkout.commit, redact_url(reference.repository))

        def in_repository(relative: str) -> str:
            """A path source of this project: the same repository at the same commit."""
            inside = subdirectory_within(reference.subdirectory or "", relative)
            if inside is None:
                raise DistFileError(f"the path {relative!r} leaves the repository")
            at = f"git+{reference.repository}@{checkout.commit}"
            return f"{at}#subdirectory={inside}" if inside else at

        return self._project(name, url, editable, tree, pinned, in_repository)

    def _git_checkouts(self) -> GitCheckouts:
        """The git repositories and trees: in the cache, else in a directory of this run's."""
        if self._checkouts is None:
            cache = None if self.client.no_cache else self.client.cache_dir
            if cache is None:
                self._scratch = tempfile.TemporaryDirectory(prefix="depsat-git-")
                cache = Path(self._scratch.name)
            self._checkouts = GitCheckouts(Path(cache) / CHECKOUTS_FORMAT,
                                           offline=self.client.offline)
        return self._checkouts

    def close(self) -> None:
        super().close()
        if self._scratch is not None:
            self._scratch.cleanup()

    def _project(self, name: NormalizedName, url: str, editable: bool, tree: Path,
                 shown: str, path_url: Callable[[str], str] | None = None,
                 ) -> Candidate | None:
        """The candidate of the project whose source tree `tree` is (at `url`, shown as
        `shown`), from its static ``[project]`` table; None (and a warning) when that cannot
        say its name and version. Warnings name the reference as written."""
        culprit = redact_url(url)
        path = tree / "pyproject.toml"
        try:
            data = tomllib.loads(read_file(path, self.client.read_log).decode("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return self._skipped(f"skipped: no readable pyproject.toml ({exc}); depsat reads "
                                 "a project's static [project] table and builds no project",
                                 culprit)
        table = data.get("project")
        dynamic = table.get("dynamic", []) if isinstance(table, dict) else []
        if not isinstance(table, dict) or "version" in dynamic or "version" not in table:
            return self._skipped("skipped: its pyproject.toml has no static [project] name "
                                 "and version; only its build could tell them", culprit)
        try:
            version = Version(str(table["version"]))
            requires_python = (SpecifierSet(table["requires-python"])
                               if "requires-python" in table else None)
        except (InvalidVersion, InvalidSpecifier, TypeError) as exc:
            return self._skipped(f"skipped: invalid [project] table: {exc}", culprit)
        if canonicalize_name(str(table.get("name", ""))) != name:
            return self._skipped(f"skipped: its project is {table.get('name')!r}, not "
                                 f"{name}", culprit)
        origin = Origin(DIRECT, shown, url, editable=editable)
        candidate = Candidate(name=name, version=version, origin=origin,
                              requires_python=requires_python,
                              artifacts=(Artifact(ArtifactKind.SDIST, tree.name, url),))
        sources = ProjectSources()
        if self._uv_sources:
            try:
                sources = read_uv_sources(data, tree, shown, path_url=path_url,
                                          environment=self._environment)
            except DistFileError as exc:
                self._projects[candidate.key] = MetadataUnavailable(
                    ExclusionKind.METADATA_ERROR, str(exc))
                return candidate
        self._sources[candidate.key] = sources
        self._editable.update(sources.urls[n] for n in sources.editable)
        self._projects[candidate.key] = self._static_metadata(candidate, table, dynamic, shown,
                                                              tree, sources)
        return candidate

    def _static_metadata(self, candidate: Candidate, table: dict[str, Any],
                         dynamic: list[Any], shown: str, tree: Path,
                         sources: ProjectSources,
                         ) -> Candidate | MetadataUnavailable | Path:
        """The candidate with the dependencies its ``[project]`` table states (from where its
        ``[tool.uv.sources]`` says), an extra's behind ``extra == "name"`` markers as in core
        metadata; when they are dynamic, its tree to build (with a builder), else why it
        cannot be read."""
        if "dependencies" in dynamic or "optional-dependencies" in dynamic:
            if self.metadata_builder is not None:  # (built when it is read)
                return tree
            return MetadataUnavailable(ExclusionKind.NEEDS_BUILD, NEEDS_BUILD_DETAIL)
        try:
            requires, extras = project_requirements(*project_dependencies(table),
                                                    apply=sources.apply)
        except DistFileError as exc:
            return MetadataUnavailable(ExclusionKind.METADATA_ERROR, f"{shown}: {exc}")
        return attrs.evolve(candidate, requires=requires, provides_extras=extras)

    def _skipped(self, message: str, culprit: str) -> Candidate | None:
        """None, with a warning naming the project directory."""
        self._warn(message, culprit)
        return None
