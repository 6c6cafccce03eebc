"""depsat: resolve Python package dependencies with SAT/MaxSAT."""

__version__ = "0.1.0"
