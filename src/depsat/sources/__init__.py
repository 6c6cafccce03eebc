"""Sources answer "which candidates of project N exist, and what do they require?".

They do I/O (files, HTTP, interpreters) and know nothing about clauses or solving.

The package's names are loaded on first use, so that a light module of it (`cache_store`,
which the CLI opens before anything else) does not bring in `packaging` and `attrs`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from depsat.sources.base import MetadataUnavailable, Source

__all__ = ["MetadataUnavailable", "Source"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from depsat.sources import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
