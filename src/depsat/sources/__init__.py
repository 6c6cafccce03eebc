"""Sources answer "which candidates of project N exist, and what do they require?".

They do I/O (files, HTTP, interpreters) and know nothing about clauses or solving.
"""

from depsat.sources.base import MetadataUnavailable, Source

__all__ = ["MetadataUnavailable", "Source"]
