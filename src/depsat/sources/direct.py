"""Direct references (``name @ URL``) as a `Source`: each names one wheel or sdist.

Only the file named is offered, as the one candidate of its reference: an origin of its own
(kind ``direct``; its name the URL without a password, its location the URL as written),
which the reference matches and nothing else does (`depsat.universe`). Its metadata is
read as an index's files are (`DistributionSource`): a remote wheel by HTTP ranges, a local
file in place, an sdist's PKG-INFO (or its build, with `--build-metadata`). A
``#sha256=`` fragment is the file's hash, checked when the file is read whole.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from depsat.model import DIRECT, Candidate, NormalizedName, Origin, canonicalize_name
from depsat.sources.http import CONCURRENT_FETCHES, HttpClient, redact_url
from depsat.sources.index import DistributionSource
from depsat.sources.simple_api import ProjectFile

if TYPE_CHECKING:
    from depsat.sources.build_metadata import MetadataBuilder

__all__ = ["DirectSource", "is_direct_file"]

_SCHEMES = ("http://", "https://", "file:")
_FILE_SUFFIXES = (".whl", ".tar.gz", ".zip")


def is_direct_file(url: str) -> bool:
    """Whether `url` is a direct reference depsat reads: a wheel or an sdist over HTTP(S)
    or ``file:`` (not a VCS checkout nor a directory, which need a build)."""
    path = urlsplit(url).path.lower()
    return url.lower().startswith(_SCHEMES) and path.endswith(_FILE_SUFFIXES)


class DirectSource(DistributionSource):
    """The files that direct references name, one candidate each."""

    def __init__(self, references: Sequence[tuple[NormalizedName, str]], *,
                 client: HttpClient | None = None, workers: int = CONCURRENT_FETCHES,
                 metadata_builder: MetadataBuilder | None = None,
                 **http_options: Any) -> None:
        super().__init__(DIRECT, client, workers=workers, http_options=http_options,
                         metadata_builder=metadata_builder)
        found: dict[NormalizedName, list[Candidate]] = {}
        for name, url in dict.fromkeys(references):
            parts = urlsplit(url)
            plain = parts._replace(fragment="").geturl()
            hashes = dict(item.split("=", 1) for item in parts.fragment.split("&")
                          if "=" in item and item.split("=", 1)[0] in ("sha256", "sha384",
                                                                        "sha512"))
            file = ProjectFile(filename=unquote(posixpath.basename(parts.path)), url=plain,
                               hashes=hashes)
            origin = Origin(DIRECT, redact_url(url), url)
            for project, candidates in self._group([file], origin, name).items():
                found.setdefault(project, []).extend(candidates)
        self._by_project = {name: tuple(cands) for name, cands in found.items()}

    def candidates(self, project: NormalizedName) -> Sequence[Candidate]:
        return self._by_project.get(canonicalize_name(project), ())
