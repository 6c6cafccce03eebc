"""`tomllib`, or before Python 3.11 `tomli` (the same API, published before it joined the
standard library): the one place every TOML reader's choice is made."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["tomllib"]
