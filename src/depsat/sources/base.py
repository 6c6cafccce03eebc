"""The one protocol every source implements (resolvelib's provider split, made smaller)."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence

import attrs

from depsat.model import Candidate, Diagnostic, ExclusionKind, NormalizedName

__all__ = ["MetadataUnavailable", "Source"]


@attrs.frozen(slots=True)
class MetadataUnavailable:
    """A candidate whose dependencies cannot be known (needs a build, corrupt file, …)."""

    kind: ExclusionKind
    detail: str


class Source(abc.ABC):
    """A place candidates come from: an index, a find-links folder, an installed layer, a file.

    Two steps, so a remote source can list cheaply and fetch metadata only for what discovery
    actually reaches:

    * `candidates(project)` lists every release the source knows of (no filtering by target:
      discovery filters, and records why);
    * `metadata(candidate)` returns the candidate with `requires`, `provides_extras` and
      `requires_python` filled in, or `MetadataUnavailable`.
    """

    name: str
    """The user-facing name, used by source policy (pins) and in messages."""

    lazy_metadata: bool = False
    """Whether reading metadata costs I/O per candidate (an index): then discovery reads
    it only for the candidates a plan may pick (see `depsat.universe.Discovery`)."""

    @abc.abstractmethod
    def candidates(self, project: NormalizedName) -> Sequence[Candidate]:
        """Every release of `project` this source has; empty when it has none."""

    def metadata(self, candidate: Candidate) -> Candidate | MetadataUnavailable:
        """`candidate` with its dependencies known. Static sources know them already."""
        return candidate

    def prefetch(self, candidates: Iterable[Candidate]) -> None:  # noqa: B027 - optional hook
        """Hint that `metadata` will be asked for all of these (remote sources fetch them
        concurrently)."""

    def prefetch_projects(self, projects: Iterable[NormalizedName]) -> None:  # noqa: B027
        """Hint that `candidates` will be asked for all of these (an index fetches their
        pages concurrently). Optional, like `prefetch`."""

    def may_build(self, candidate: Candidate) -> bool:
        """Whether reading `candidate`'s metadata may run a build backend (a source that
        builds sdists, for a release with no wheel): discovery then reads it only when a
        plan takes it, never ahead in case one does (`Discovery.expand`, speculative)."""
        return False

    def metadata_on_hand(self, candidates: Sequence[Candidate]) -> Sequence[Candidate]:
        """Of these, the ones whose `metadata` needs no request and an earlier run read (a lazy
        source's cache): lazy reading reads them at once, since they cost no request and may
        save a round."""
        return ()

    def diagnostics(self) -> Sequence[Diagnostic]:
        """Warnings about input this source skipped or repaired."""
        return ()
