"""Universe files: a whole package world in one TOML or JSON file.

The format is packse's scenario format (https://github.com/astral-sh/packse), so published
scenarios load as they are::

    [root]
    requires = ["a", "b>=2"]

    [environment]
    python = "3.12"            # the target Python

    [resolver_options]         # optional
    python = "3.11"            # overrides environment.python as the target
    prereleases = true         # allow prereleases for every package
    no_binary = ["a"]          # never use wheels of a
    no_build = ["b"]           # never build sdists of b
    python_platform = "x86_64-manylinux2014"

    [packages.a.versions."1.0.0"]
    requires = ["b>1"]                     # PEP 508 strings, markers allowed
    extras = { fast = ["c"] }              # extra name -> requirements
    requires_python = ">=3.8"
    yanked = false
    wheel_tags = ["py3-none-any"]          # compressed tags allowed
    wheel = true                           # has wheels (default true)
    sdist = true                           # has an sdist (default true)

Defaults differ by dialect: a file with an ``[expected]`` table is a packse scenario and
takes packse's defaults (target Python 3.12, each release ``requires_python = ">=3.12"``);
any other file is a depsat universe (target: the running interpreter unless
``environment.python`` says otherwise; no Requires-Python unless given).

Real data is messy: an invalid version is skipped with a diagnostic naming it, never a crash.
An invalid requirement is an error naming the file, package and version.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, parse_tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from depsat._toml import tomllib
from depsat.errors import UniverseFileError
from depsat.model import Artifact, ArtifactKind, Candidate, Diagnostic, Origin
from depsat.sources.memory import MemorySource

__all__ = ["UniverseFile", "load_universe_file", "parse_universe"]

PACKSE_PYTHON = "3.12"
PACKSE_REQUIRES_PYTHON = ">=3.12"


@attrs.frozen(slots=True)
class UniverseFile:
    """What a universe file describes: a source, a request and (for packse) an expectation."""

    path: str
    name: str
    source: MemorySource
    root_requires: tuple[Requirement, ...]
    python: str | None
    """The target Python version, or None for the running interpreter."""
    prereleases: bool = False
    no_binary: frozenset[NormalizedName] = frozenset()
    no_build: frozenset[NormalizedName] = frozenset()
    python_platform: str | None = None
    universal: bool = False
    requires_python: SpecifierSet | None = None
    """The root project's Requires-Python (``[root] requires_python``): the Pythons a universal
    resolution covers."""
    expected_satisfiable: bool | None = None
    expected_packages: Mapping[str, str] = attrs.field(factory=dict)
    is_packse: bool = False


def load_universe_file(path: str | Path) -> UniverseFile:
    """Read a universe file (TOML, or JSON by its `.json` suffix)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UniverseFileError(f"cannot read universe file: {exc.strerror}", str(path)) from exc
    try:
        data = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UniverseFileError(f"not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}",
                                str(path)) from exc
    if not isinstance(data, dict):
        raise UniverseFileError("expected a table at the top level", str(path))
    return parse_universe(data, str(path))


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise UniverseFileError(f"{key!r} must be a table", where)
    return value


def _str_list(value: Any, what: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UniverseFileError(f"{what} must be a list of strings", where)
    return value


class _Shared:
    """Objects every release of one universe shares: generated and real universes repeat the
    same requirement strings, Requires-Python values and wheel tags across thousands of
    releases. One never-mutated object per distinct string saves memory (a 10,000 x 20
    universe read into 625 MB with a bounded LRU cache of requirements that kept missing)
    and lets discovery cache matches by identity. Kept per universe, so a long-running
    process does not hold on to strings of universes it no longer uses."""

    def __init__(self) -> None:
        self._requirements: dict[str, Requirement] = {}
        self._specifiers: dict[str, SpecifierSet] = {}
        self._tags: dict[tuple[str, ...], frozenset[Tag]] = {}

    def requirement(self, text: str, where: str) -> Requirement:
        found = self._requirements.get(text)
        if found is None:
            try:
                found = Requirement(text)
            except InvalidRequirement as exc:
                first_line = str(exc).splitlines()[0] if str(exc) else "not PEP 508"
                raise UniverseFileError(f"invalid requirement {text!r}: {first_line}",
                                        where) from exc
            self._requirements[text] = found
        return found

    def requires_python(self, text: str, where: str) -> SpecifierSet:
        found = self._specifiers.get(text)
        if found is None:
            try:
                found = SpecifierSet(text)
            except InvalidSpecifier as exc:
                raise UniverseFileError(f"invalid requires_python {text!r}", where) from exc
            self._specifiers[text] = found
        return found

    def tags(self, strings: list[str], where: str) -> frozenset[Tag]:
        key = tuple(strings)
        found = self._tags.get(key)
        if found is None:
            tags: set[Tag] = set()
            for tag in strings:
                try:
                    tags |= parse_tag(tag)
                except ValueError as exc:
                    raise UniverseFileError(f"invalid wheel tag {tag!r}", where) from exc
            found = self._tags[key] = frozenset(tags)
        return found


def parse_universe(data: Mapping[str, Any], where: str = "<universe>") -> UniverseFile:
    """Build a `UniverseFile` from already-parsed TOML/JSON data."""
    is_packse = "expected" in data
    root = _table(data, "root", where)
    options = _table(data, "resolver_options", where)
    environment = _table(data, "environment", where)
    expected = _table(data, "expected", where)
    default_requires_python = PACKSE_REQUIRES_PYTHON if is_packse else None
    name = str(data.get("name", Path(where).stem))
    origin = Origin("memory", name, where)

    candidates: list[Candidate] = []
    diagnostics: list[Diagnostic] = []
    shared = _Shared()
    for raw_name, package in _table(data, "packages", where).items():
        if not isinstance(package, dict):
            raise UniverseFileError(f"package {raw_name!r} must be a table", where)
        project = canonicalize_name(raw_name)
        for raw_version, meta in _table(package, "versions", f"{where}: {raw_name}").items():
            culprit = f"{where}: {raw_name} {raw_version}"
            try:
                version = Version(raw_version)
            except InvalidVersion:
                diagnostics.append(Diagnostic(
                    f"skipped {raw_name} {raw_version!r}: not a valid PEP 440 version", where))
                continue
            if meta is None:
                meta = {}
            if not isinstance(meta, dict):
                raise UniverseFileError("a version's metadata must be a table", culprit)
            candidates.append(
                _candidate(project, version, meta, origin, default_requires_python, culprit,
                           shared))

    python = options.get("python") or environment.get("python")
    if python is None and is_packse:
        python = PACKSE_PYTHON
    expected_packages = expected.get("packages", {})
    return UniverseFile(
        path=where,
        name=name,
        source=MemorySource(candidates, name=name, diagnostics=diagnostics),
        root_requires=tuple(
            shared.requirement(r, f"{where}: [root]")
            for r in _str_list(root.get("requires", []), "root.requires", where)
        ),
        python=str(python) if python is not None else None,
        prereleases=bool(options.get("prereleases", False)),
        no_binary=frozenset(canonicalize_name(n) for n in options.get("no_binary", [])),
        no_build=frozenset(canonicalize_name(n) for n in options.get("no_build", [])),
        python_platform=options.get("python_platform"),
        universal=bool(options.get("universal", False)),
        requires_python=(shared.requires_python(root["requires_python"], f"{where}: [root]")
                         if "requires_python" in root else None),
        expected_satisfiable=expected.get("satisfiable"),
        expected_packages={canonicalize_name(k): str(v) for k, v in expected_packages.items()},
        is_packse=is_packse,
    )


def _candidate(
    project: Any,
    version: Version,
    meta: Mapping[str, Any],
    origin: Origin,
    default_requires_python: str | None,
    culprit: str,
    shared: _Shared,
) -> Candidate:
    requires = [shared.requirement(r, culprit) for r in _str_list(meta.get("requires", []),
                                                                  "requires", culprit)]
    extras = meta.get("extras", {})
    if not isinstance(extras, dict):
        raise UniverseFileError("extras must be a table of lists", culprit)
    provided = set()
    for extra, extra_requires in extras.items():
        extra_name = canonicalize_name(extra)
        provided.add(extra_name)
        for text in _str_list(extra_requires, f"extras.{extra}", culprit):
            requirement = shared.requirement(text, culprit)
            marker = f"extra == '{extra_name}'"
            if requirement.marker is not None:
                marker = f"({requirement.marker}) and {marker}"
            base = text.split(";", 1)[0].strip() if requirement.url is None else (
                f"{text.split(';', 1)[0].strip()} ")
            requires.append(shared.requirement(f"{base}; {marker}", culprit))
    raw_rp = meta.get("requires_python", default_requires_python)
    requires_python = shared.requires_python(str(raw_rp), culprit) if raw_rp else None
    yanked = bool(meta.get("yanked", False))
    artifacts: list[Artifact] = []
    if meta.get("wheel", True):
        tag_strings = _str_list(meta.get("wheel_tags", []) or ["py3-none-any"], "wheel_tags",
                                culprit)
        artifacts.append(Artifact(ArtifactKind.WHEEL, filename=f"{project}-{version}.whl",
                                  tags=shared.tags(tag_strings, culprit),
                                  requires_python=requires_python,
                                  yanked=yanked))
    if meta.get("sdist", True):
        artifacts.append(Artifact(ArtifactKind.SDIST, filename=f"{project}-{version}.tar.gz",
                                  requires_python=requires_python, yanked=yanked))
    return Candidate(
        name=project,
        version=version,
        origin=origin,
        requires=tuple(requires),
        provides_extras=frozenset(provided),
        requires_python=requires_python,
        yanked=yanked,
        artifacts=tuple(artifacts),
    )
