"""Encoding: a universe and a request become labelled hard clauses and soft objectives."""

from depsat.encoding.encoder import Encoding, encode
from depsat.encoding.labels import Label, LabelKind
from depsat.encoding.objectives import (
    DEFAULT_OBJECTIVES,
    FewestPackages,
    NewestDirect,
    NewestOther,
    Objective,
)

__all__ = [
    "DEFAULT_OBJECTIVES",
    "Encoding",
    "FewestPackages",
    "Label",
    "LabelKind",
    "NewestDirect",
    "NewestOther",
    "Objective",
    "encode",
]
