"""Encoding: a universe and a request become labelled hard clauses and soft objectives."""

from depsat.encoding.encoder import Encoding, encode, grow
from depsat.encoding.labels import Label, LabelKind
from depsat.encoding.objectives import (
    DEFAULT_OBJECTIVES,
    FewestDowngrades,
    FewestPackages,
    FewestRemovals,
    KeepInstalled,
    NewestDirect,
    NewestOther,
    NewestRequired,
    Objective,
    OldestDirect,
    OldestOther,
    Unbroken,
    prefers_oldest,
    pruning_safe,
)

__all__ = [
    "DEFAULT_OBJECTIVES",
    "Encoding",
    "FewestDowngrades",
    "FewestPackages",
    "FewestRemovals",
    "KeepInstalled",
    "Label",
    "LabelKind",
    "NewestDirect",
    "NewestOther",
    "NewestRequired",
    "Objective",
    "OldestDirect",
    "OldestOther",
    "Unbroken",
    "encode",
    "grow",
    "prefers_oldest",
    "pruning_safe",
]
