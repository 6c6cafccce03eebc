"""A static, in-memory source: tests, benchmarks, universe files and packse scenarios."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from depsat.model import Candidate, Diagnostic, NormalizedName
from depsat.sources.base import Source

__all__ = ["MemorySource"]


class MemorySource(Source):
    """Candidates known up front, with their dependencies."""

    def __init__(
        self,
        candidates: Iterable[Candidate],
        *,
        name: str = "memory",
        diagnostics: Iterable[Diagnostic] = (),
    ) -> None:
        self.name = name
        self._by_name: dict[NormalizedName, list[Candidate]] = defaultdict(list)
        for candidate in candidates:
            self._by_name[candidate.name].append(candidate)
        self._diagnostics = tuple(diagnostics)

    def candidates(self, project: NormalizedName) -> Sequence[Candidate]:
        return self._by_name.get(project, ())

    def projects(self) -> Sequence[NormalizedName]:
        """Every project this source knows (static sources can list themselves)."""
        return tuple(self._by_name)

    def diagnostics(self) -> Sequence[Diagnostic]:
        return self._diagnostics
