"""`python -m depsat`."""

from depsat.cli import entry

entry()
