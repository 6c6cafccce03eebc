"""Frozen value types shared by every layer of depsat.

Everything here is data: no I/O, no solving. The types wrap `packaging`'s own
(`Version`, `SpecifierSet`, `Requirement`, `Marker`, `Tag`) so that strings are
parsed once, at the edge, and never again.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime

import attrs
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

__all__ = [
    "Action",
    "Artifact",
    "ArtifactKind",
    "Candidate",
    "CandidateKey",
    "Diagnostic",
    "Exclusion",
    "ExclusionKind",
    "InstalledInfo",
    "NormalizedName",
    "Origin",
    "PlanStep",
    "PrereleaseMode",
    "Reason",
    "Request",
    "canonicalize_name",
]


class ArtifactKind(enum.Enum):
    """What a candidate can be installed from."""

    WHEEL = "wheel"
    SDIST = "sdist"
    INSTALLED = "installed"


@attrs.frozen(slots=True)
class Artifact:
    """One file (or installed tree) that provides a candidate.

    `tags` is empty for sdists and installed trees: only wheels are tag-filtered.
    """

    kind: ArtifactKind
    filename: str = ""
    url: str | None = None
    tags: frozenset[Tag] = frozenset()
    hashes: Mapping[str, str] = attrs.field(factory=dict, eq=False, hash=False)
    requires_python: SpecifierSet | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    upload_time: str | None = attrs.field(default=None, eq=False)
    """PEP 700's ``upload-time`` as the index gave it (JSON pages only)."""


DIRECT = "direct"
"""The `Origin.kind` of the file a direct reference (``name @ URL``) names; its `location` is
that URL as written."""


@attrs.frozen(slots=True, order=True, cache_hash=True)
class Origin:
    """Where a candidate comes from: a kind of source and the source's name.

    Two candidates of the same name and version from two origins are two different
    candidates: source policy (pins, index strategies, read-only layers) needs to tell
    them apart.
    """

    kind: str
    """"memory", "index", "find-links", "installed", `DIRECT`, …"""
    name: str
    """The source's user-facing name: an index name, a layer name, a universe file."""
    location: str = ""
    """A URL or path, for messages."""
    editable: bool = False
    """A `DIRECT` project directory asked for as editable (``-e PATH``)."""

    def __str__(self) -> str:
        return f"{self.kind} {self.name}" if self.name else self.kind


@attrs.frozen(slots=True)
class InstalledInfo:
    """Provenance of an installed distribution."""

    layer: str
    """The layer's name (e.g. "venv", "system", "user")."""
    layer_index: int
    """0 for the top (writable) layer, growing downwards."""
    path: str
    """The metadata file or directory."""
    format: str
    """"dist-info", "egg-info", "egg-info-file", "egg", "egg-zip", "egg-link"."""
    read_only: bool = False
    installer: str | None = None
    requested: bool | None = None
    direct_url: str | None = None
    editable: bool = False


@attrs.frozen(slots=True, order=True, cache_hash=True)
class CandidateKey:
    """A candidate's identity: (name, version, origin)."""

    name: NormalizedName
    version: Version
    origin: Origin

    def __str__(self) -> str:
        return f"{self.name} {self.version} ({self.origin})"


@attrs.frozen(slots=True)
class Candidate:
    """One installable (or installed) release of a project from one origin.

    `requires` holds every Requires-Dist entry, markers and `extra ==` markers included,
    exactly as the metadata lists them; evaluating them against a target is discovery's
    job. `provides_extras` is the set of extras the metadata declares.
    """

    name: NormalizedName
    version: Version
    origin: Origin
    requires: tuple[Requirement, ...] = ()
    provides_extras: frozenset[NormalizedName] = frozenset()
    requires_python: SpecifierSet | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    artifacts: tuple[Artifact, ...] = ()
    installed: InstalledInfo | None = None
    key: CandidateKey = attrs.field(init=False, eq=False, repr=False)
    """(name, version, origin), built once: discovery and encoding look it up millions of
    times on large universes."""

    @key.default
    def _key(self) -> CandidateKey:
        return CandidateKey(self.name, self.version, self.origin)

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class Action(enum.Enum):
    """What a plan does with one package."""

    KEEP = "keep"
    INSTALL = "install"
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    REMOVE = "remove"
    SHADOW = "shadow"
    """Install into the writable layer over a read-only lower layer's copy."""


@attrs.frozen(slots=True)
class Reason:
    """One link of a reason chain: `requirement` (as written) brought the package in.

    `required_by` is None for the user's own request.
    """

    requirement: str
    required_by: str | None = None

    def __str__(self) -> str:
        who = self.required_by or "you"
        return f"{self.requirement} (required by {who})"


@attrs.frozen(slots=True)
class PlanStep:
    """What the plan does with one package, and why."""

    name: NormalizedName
    action: Action
    candidate: Candidate | None
    """The chosen candidate; None only for REMOVE."""
    previous: Candidate | None = None
    """The installed candidate this step keeps, replaces or removes."""
    extras: frozenset[NormalizedName] = frozenset()
    chain: tuple[Reason, ...] = ()
    """From the user's request down to this package."""
    note: str = ""

    @property
    def version(self) -> Version | None:
        return self.candidate.version if self.candidate else None


class ExclusionKind(enum.Enum):
    """Why a candidate that exists cannot be chosen. Explanations phrase each kind."""

    REQUIRES_PYTHON = "requires-python"
    YANKED = "yanked"
    PRERELEASE = "prerelease"
    NO_COMPATIBLE_WHEEL = "no-compatible-wheel"
    NO_BINARY = "no-binary"
    ONLY_BINARY = "only-binary"
    NEEDS_BUILD = "needs-build"
    TOO_NEW = "too-new"
    """Uploaded after the ``--exclude-newer`` cutoff, or not dated by its index."""
    METADATA_ERROR = "metadata-error"
    SOURCE_POLICY = "source-policy"
    INVALID_VERSION = "invalid-version"


@attrs.frozen(slots=True)
class Exclusion:
    """A candidate left out, and why, in words a person can act on."""

    candidate: Candidate
    kind: ExclusionKind
    detail: str

    def __str__(self) -> str:
        return f"{self.candidate} ({self.candidate.origin}): {self.detail}"


@attrs.frozen(slots=True)
class Diagnostic:
    """A warning about input that was skipped or repaired; `culprit` names the file/URL/entry."""

    message: str
    culprit: str = ""

    def __str__(self) -> str:
        return f"{self.culprit}: {self.message}" if self.culprit else self.message


class PrereleaseMode(enum.Enum):
    """When prereleases may be chosen (uv's spelling; `depsat.policy.prerelease_use`)."""

    ALLOW = "allow"
    """Every prerelease, ranked by version with the final releases."""
    DISALLOW = "disallow"
    IF_NECESSARY = "if-necessary"
    """Every prerelease, ranked after every final release: taken only where none will do."""
    EXPLICIT = "explicit"
    """Only for a package the user's own requirement names a prerelease for."""
    IF_NECESSARY_OR_EXPLICIT = "if-necessary-or-explicit"
    """The default: ranked by version where the user's own requirement names a prerelease,
    after every final release elsewhere."""


@attrs.frozen(slots=True)
class Request:
    """What the user asks for, and the switches that change which candidates are allowed."""

    requirements: tuple[Requirement, ...]
    constraints: tuple[Requirement, ...] = ()
    """Limit versions of a package if it is installed at all, like pip's ``-c``."""
    prerelease: PrereleaseMode = PrereleaseMode.IF_NECESSARY_OR_EXPLICIT
    no_binary: frozenset[NormalizedName] = frozenset()
    only_binary: frozenset[NormalizedName] = frozenset()
    no_binary_all: bool = False
    only_binary_all: bool = False
    python_upper_bounds: bool = False
    """Honour ``<``/``<=`` in Requires-Python. Off by default, as uv does: upper bounds there
    are mostly guesses that block installs which work."""
    installed: tuple[Candidate, ...] = ()
    """What the environment holds now: the distribution import sees for each project."""
    upgrade: frozenset[NormalizedName] = frozenset()
    """Projects whose installed version is not preferred (``--upgrade-package``)."""
    upgrade_all: bool = False
    """No installed version is preferred (``--upgrade``)."""
    ignore_installed: bool = False
    """Resolve as if nothing were installed (``--reinstall`` / ``--ignore-installed``)."""
    sync: bool = False
    """Exact mode: remove installed packages nothing requires (read-only layers excepted)."""
    allow_breaking: bool = False
    """Let the plan break installed packages' requirements (each broken one is reported)."""
    no_deps: bool = False
    """uv's and pip's ``--no-deps``: only what you name, no release's dependencies."""
    overrides: tuple[Requirement, ...] = ()
    """uv's ``--override``: every requirement on an overridden package (yours and every
    release's) is replaced whole, as uv replaces it, by the package's overrides whose markers
    hold (all of them): their versions (or file) and extras, the requirement's own marker
    and extras dropped (an extra's requirement stays its extra's); where none holds, the
    requirement is dropped. A way past a wrong upper bound."""
    exclude_newer: datetime | None = None
    """Only files an index dates before this (PEP 700's ``upload-time``), as uv's
    ``--exclude-newer``: a resolve that stays the same as new releases come."""
    preferred: Mapping[NormalizedName, Version] = attrs.field(factory=dict, eq=False,
                                                              hash=False)
    """Versions an earlier answer pinned (``-o FILE`` that exists, as uv and pip-compile
    read it): kept while they still fit (`KeepLocked`), unless upgraded."""
    direct_names: frozenset[NormalizedName] = attrs.field(init=False, eq=False, hash=False,
                                                          repr=False)
    """The projects your requirements name (derived once: the encoder asks per requirement,
    45,000 times at 3000 x 20)."""

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "direct_names",
                           frozenset(canonicalize_name(r.name) for r in self.requirements))

    def upgrades(self, name: NormalizedName) -> bool:
        return self.upgrade_all or name in self.upgrade
