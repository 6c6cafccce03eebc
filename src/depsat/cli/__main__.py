"""`python -m depsat.cli`."""

from depsat.cli import entry

entry()
