"""Candidate filters: which candidates the target and the user's switches allow, and why not.

Every rejection is an `Exclusion` with a sentence a person can act on; nothing is silently
dropped, because explanations need to say "a 2.0 exists, but requires Python >=3.13".
"""

from __future__ import annotations

import enum
import functools
from datetime import datetime, timezone

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from depsat.model import (
    Artifact,
    ArtifactKind,
    Candidate,
    Exclusion,
    ExclusionKind,
    PrereleaseMode,
    Request,
)
from depsat.target import Target

__all__ = ["CandidateFilter", "PrereleaseUse", "prerelease_use"]


def _pins_exactly(requirement: Requirement, candidate: Candidate) -> bool:
    """PEP 592: a yanked release is usable only when pinned with ``==`` or ``===``."""
    return any(
        spec.operator in ("==", "===") and "*" not in spec.version
        and spec.contains(candidate.version, prereleases=True)
        for spec in requirement.specifier
    )


class PrereleaseUse(enum.Enum):
    """How a project's prereleases take part in a resolution."""

    NONE = "none"
    """Excluded (each with an `Exclusion` that says so)."""
    FALLBACK = "fallback"
    """Usable, but every final release ranks before them: a plan takes one only where no
    final release can serve (PEP 440's default; uv since 0.12)."""
    RANKED = "ranked"
    """Usable and ranked by version like final releases: the user asked for them."""


def prerelease_use(name: NormalizedName, request: Request) -> PrereleaseUse:
    """How prereleases of `name` take part under the request's prerelease mode.

    Explicit means a requirement or constraint the user wrote names a prerelease in its
    specifier (``a>=2.0b1``). With "if-necessary-or-explicit", the default, an explicit
    project's prereleases are ranked by version (as pip and the packse scenarios expect:
    ``a>=0.1.0a1`` takes 1.0.0a1 over 0.3.0), and any other project's are a fallback: a
    transitive ``c==2.0.0b1`` or ``b>0.1`` that no final release meets takes a prerelease,
    as PEP 440 and uv (0.12 and later) do, where uv up to 0.11 and the packse scenarios
    refuse it. "if-necessary" is the fallback everywhere; "explicit" refuses prereleases
    of every project the user did not ask them of.
    """
    mode = request.prerelease
    if mode is PrereleaseMode.ALLOW:
        return PrereleaseUse.RANKED
    if mode is PrereleaseMode.DISALLOW:
        return PrereleaseUse.NONE
    if mode is PrereleaseMode.IF_NECESSARY:
        return PrereleaseUse.FALLBACK
    explicit = any(
        canonicalize_name(req.name) == name
        and any(spec.prereleases for spec in req.specifier)
        for req in (*request.requirements, *request.constraints)
    )
    if explicit:
        return PrereleaseUse.RANKED
    if mode is PrereleaseMode.EXPLICIT:
        # (a project that publishes nothing else is still refused: uv does so too)
        return PrereleaseUse.NONE
    return PrereleaseUse.FALLBACK


class CandidateFilter:
    """Applies the target (Python, tags) and the request's switches to candidates."""

    def __init__(self, target: Target, request: Request) -> None:
        self.target = target
        self.request = request
        self._supported_tags = frozenset(target.tags) if target.tags is not None else None
        self._python_answers: dict[int, tuple[SpecifierSet, bool]] = {}
        """id(Requires-Python) -> (it, whether the target's Python meets it)."""

    def exclusion(self, candidate: Candidate, prereleases: PrereleaseUse) -> Exclusion | None:
        """Why `candidate` cannot be chosen, or None when it can (before yanked rules)."""
        if candidate.installed is None:
            if candidate.version.is_prerelease and prereleases is PrereleaseUse.NONE:
                return Exclusion(candidate, ExclusionKind.PRERELEASE,
                                 f"{candidate} is a prerelease, and prereleases of "
                                 f"{candidate.name} are not allowed")
            rp = candidate.requires_python
            if rp is not None and not self._python_ok(rp):
                return Exclusion(candidate, ExclusionKind.REQUIRES_PYTHON,
                                 f"{candidate} requires Python {rp}, "
                                 f"and the target is Python {self.target.python_version}")
            return self._artifact_exclusion(candidate)
        return None

    def _python_ok(self, requires_python: SpecifierSet) -> bool:
        """`_python_allows`, remembered by the specifier set object: a project's releases
        that list the same Requires-Python share one (`sources.index`)."""
        known = self._python_answers.get(id(requires_python))
        if known is not None and known[0] is requires_python:
            return known[1]
        allowed = self._python_allows(requires_python)
        self._python_answers[id(requires_python)] = (requires_python, allowed)
        return allowed

    def _python_allows(self, requires_python: SpecifierSet) -> bool:
        python = self.target.python_version
        if self.request.python_upper_bounds:
            return requires_python.contains(python, prereleases=True)
        return all(spec.contains(python, prereleases=True) for spec in requires_python
                   if spec.operator not in ("<", "<="))

    def yanked_exclusion(self, candidate: Candidate) -> Exclusion | None:
        """A yanked candidate is usable only when one of the user's requirements pins it."""
        if not candidate.yanked or candidate.installed is not None:
            return None
        for req in (*self.request.requirements, *self.request.constraints):
            if canonicalize_name(req.name) == candidate.name and _pins_exactly(req, candidate):
                return None
        reason = f" ({candidate.yanked_reason})" if candidate.yanked_reason else ""
        return Exclusion(candidate, ExclusionKind.YANKED,
                         f"{candidate} was yanked{reason}; pin it with == to use it")

    def _artifact_exclusion(self, candidate: Candidate) -> Exclusion | None:
        if not candidate.artifacts:
            return None
        name = candidate.name
        no_binary = self.request.no_binary_all or name in self.request.no_binary
        only_binary = self.request.only_binary_all or name in self.request.only_binary
        dated = self.request.exclude_newer is not None and candidate.origin.kind == "index"
        reasons: list[tuple[ExclusionKind, str]] = []
        for artifact in candidate.artifacts:
            why = self._artifact_problem(artifact, no_binary, only_binary) or (
                self._too_new(artifact) if dated else None)
            if why is None:
                return None
            reasons.append(why)
        kinds = {kind for kind, _ in reasons}
        kind = (ExclusionKind.NO_BINARY if ExclusionKind.NO_BINARY in kinds
                else ExclusionKind.ONLY_BINARY if ExclusionKind.ONLY_BINARY in kinds
                else ExclusionKind.TOO_NEW if kinds == {ExclusionKind.TOO_NEW}
                else reasons[0][0])
        if kind is ExclusionKind.TOO_NEW:
            return Exclusion(candidate, kind, f"{candidate} was uploaded after "
                             f"{_shown(self.request.exclude_newer)} (--exclude-newer)"
                             if all(a.upload_time for a in candidate.artifacts) else
                             f"{candidate} has a file its index does not date (PEP 700 "
                             "upload-time), so --exclude-newer leaves it out")
        wheel_tags = sorted({str(t) for a in candidate.artifacts for t in a.tags})
        detail = "; ".join(dict.fromkeys(text for _, text in reasons))
        if kind is ExclusionKind.NO_COMPATIBLE_WHEEL and wheel_tags:
            shown = ", ".join(wheel_tags[:3]) + (" …" if len(wheel_tags) > 3 else "")
            detail = f"{candidate} has no wheel for the target (its wheels: {shown})" + (
                "" if any(a.kind is ArtifactKind.SDIST for a in candidate.artifacts)
                else " and no source distribution")
        return Exclusion(candidate, kind, detail)

    def _too_new(self, artifact: Artifact) -> tuple[ExclusionKind, str] | None:
        """A file of an index uploaded after the ``--exclude-newer`` cutoff, or not dated:
        as uv has it, a file without an ``upload-time`` cannot be shown to be older."""
        cutoff = self.request.exclude_newer
        assert cutoff is not None
        uploaded = _instant(artifact.upload_time)
        if uploaded is None:
            return ExclusionKind.TOO_NEW, "its index gives no upload time"
        if uploaded > cutoff:
            return ExclusionKind.TOO_NEW, f"uploaded {_shown(uploaded)}"
        return None

    def _artifact_problem(
        self, artifact: Artifact, no_binary: bool, only_binary: bool
    ) -> tuple[ExclusionKind, str] | None:
        if artifact.kind is ArtifactKind.WHEEL:
            if no_binary:
                return ExclusionKind.NO_BINARY, "wheels are disabled by --no-binary"
            if self._supported_tags is not None and not (artifact.tags & self._supported_tags):
                return ExclusionKind.NO_COMPATIBLE_WHEEL, "no wheel matches the target's tags"
            return None
        if artifact.kind is ArtifactKind.SDIST:
            if only_binary:
                return ExclusionKind.ONLY_BINARY, "building from source is disabled (--no-build)"
            return None
        return None


@functools.lru_cache(maxsize=4096)
def _instant(text: str | None) -> datetime | None:
    """An ``upload-time`` (RFC 3339, ``Z`` or an offset) as an aware datetime; None if
    absent or unreadable (then the file cannot be dated)."""
    if not text:
        return None
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=timezone.utc)


def _shown(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC")
