"""Find-links locations as a `Source`: a directory of distributions, or an HTML page of links.

pip's and uv's `--find-links` takes either; both are read once, in full (a find-links
location is not per-project like an index), and grouped by the project name in each filename.
Metadata comes from the files as for an index (`DistributionSource`): local files are read
in place, remote ones downloaded through the shared, cached HTTP client.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depsat.errors import SourceError
from depsat.model import Candidate, NormalizedName, Origin, canonicalize_name
from depsat.sources.http import CONCURRENT_FETCHES, HttpClient, redact_url
from depsat.sources.index import DistributionSource, file_url_path, local_directory_files
from depsat.sources.simple_api import (
    ProjectFile,
    SimpleApiError,
    parse_html_page,
    parse_project_page,
)

if TYPE_CHECKING:
    from depsat.sources.build_metadata import MetadataBuilder

__all__ = ["FindLinksSource"]


class FindLinksSource(DistributionSource):
    """A local directory (path or `file://` URL), or a local or remote HTML page of links."""

    def __init__(self, location: str | Path, name: str | None = None, *,
                 client: HttpClient | None = None, workers: int = CONCURRENT_FETCHES,
                 metadata_builder: MetadataBuilder | None = None,
                 **http_options: Any) -> None:
        text = str(location)
        if "://" not in text:
            text = Path(text).resolve().as_uri()
        super().__init__(name or redact_url(text), client, workers=workers,
                         http_options=http_options, metadata_builder=metadata_builder)
        self.location = text
        self.origin = Origin("find-links", self.name, redact_url(text))
        self._by_project: dict[NormalizedName, tuple[Candidate, ...]] | None = None
        self._load_lock = threading.Lock()

    def candidates(self, project: NormalizedName) -> Sequence[Candidate]:
        """Every release of `project` at this location. `SourceError` if it cannot be read."""
        with self._load_lock:
            if self._by_project is None:
                grouped = self._group(self._list_files(), self.origin)
                self._by_project = {name: tuple(cands) for name, cands in grouped.items()}
            return self._by_project.get(canonicalize_name(project), ())

    def _list_files(self) -> list[ProjectFile]:
        shown = redact_url(self.location)
        if self.location.startswith("file:"):
            path = file_url_path(self.location)
            if path.is_dir():
                try:
                    return local_directory_files(path, self.client.read_log)
                except OSError as exc:
                    raise SourceError(f"cannot list find-links directory {path}: "
                                      f"{exc.strerror}", str(path)) from exc
            if not path.exists():
                raise SourceError(f"find-links location {path} does not exist", str(path))
        fetched = self.client.get(self.location, accept="text/html")
        if fetched.status == 404:
            raise SourceError(f"find-links page {shown} not found (HTTP 404)", shown)
        try:
            if fetched.content_type is None:
                return list(parse_html_page(fetched.content.decode("utf-8", "replace"),
                                            fetched.url).files)
            return list(parse_project_page(fetched.content, fetched.content_type,
                                           fetched.url).files)
        except SimpleApiError as exc:
            raise SourceError(f"malformed find-links page {shown}: {exc}", shown) from exc
