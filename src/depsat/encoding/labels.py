"""Labels: what each hard clause means, so a core reads back as facts (libsolv's rule info)."""

from __future__ import annotations

import enum

import attrs
from packaging.requirements import Requirement
from packaging.utils import NormalizedName

from depsat.model import Candidate
from depsat.universe import Dependency

__all__ = ["Label", "LabelKind", "requirement_text"]


def requirement_text(requirement: Requirement) -> str:
    """A requirement as a person reads it: name, extras and specifier (or URL), no
    ``extra ==`` marker."""
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    if requirement.url:
        return f"{requirement.name}{extras} @ {requirement.url}"
    return f"{requirement.name}{extras}{requirement.specifier}"


class LabelKind(enum.Enum):
    ROOT = "root-requirement"
    """The user asked for this requirement."""
    DEPENDENCY = "dependency"
    """A candidate (or one of its extras) requires this."""
    CONSTRAINT = "constraint"
    """A user constraint (``-c``) rules these candidates out."""
    KEEP_INSTALLED = "keep-installed"
    """An installed package's own requirements must stay satisfied."""
    READ_ONLY = "read-only"
    """A read-only layer's distribution cannot be removed."""
    SOURCE_POLICY = "source-policy"
    """An index pin or index strategy refuses these candidates."""


@attrs.frozen(slots=True, eq=False)
class Label:
    """The meaning of one group of hard clauses. Identity-compared: each is created once."""

    kind: LabelKind
    dependency: Dependency | None = None
    candidate: Candidate | None = None
    requirement: Requirement | None = None
    name: NormalizedName | None = None
    detail: str = ""
    relaxable: bool = True
    """Whether a fix may propose dropping or loosening it."""

    def __str__(self) -> str:
        if self.dependency is not None:
            parent = self.dependency.describe_parent()
            verb = "require" if parent == "you" else "requires"
            return f"{parent} {verb} {requirement_text(self.dependency.requirement)}"
        return self.detail or self.kind.value
