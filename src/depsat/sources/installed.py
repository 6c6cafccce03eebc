"""Installed distributions as a source: every layer, every format, nothing imported or run.

Formats read: `.dist-info` directories, `.egg-info` directories and single files, `.egg`
directories and zipped eggs (on `sys.path` directly or through a layer's `.pth` files),
`.egg-link` develop installs, and `.dist-info`/`.egg-info` inside a zip on `sys.path`.

Core metadata goes through `packaging.metadata.parse_email`, which never raises on bad input
and sorts what it cannot read into an "unparsed" bucket; each field is then converted here,
one at a time, so that one bad field is one warning and not a lost read. `requires.txt` and
file names are parsed by hand: no library parses them (importlib.metadata converts
requires.txt only through private helpers, and pkg_resources is deprecated and slow to import).

Broken input never raises: each problem becomes a `Diagnostic` naming the file, the entry is
left out (or repaired, when the repair is unambiguous), and the read carries on.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import attrs
from packaging.markers import InvalidMarker, Marker
from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from depsat.model import (
    Artifact,
    ArtifactKind,
    Candidate,
    Diagnostic,
    InstalledInfo,
    Origin,
)
from depsat.sources.base import Source
from depsat.sources.environment import Environment, Layer, pth_entries
from depsat.sources.stamps import ReadLog, read_file, read_listing

__all__ = [
    "InstalledDistribution",
    "InstalledSource",
    "parse_requires_txt",
    "read_layers",
]

_MAX_METADATA_BYTES = 16 * 1024 * 1024
"""A metadata file larger than this is treated as corrupt (garbage, not headers)."""

_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_PYTAG_RE = re.compile(r"^py\d+(\.\d+)*$")


class _Unreadable(Exception):
    """A metadata file exists but cannot be read; `args[0]` says why."""


class _MetaFiles(Protocol):
    """Access to one distribution's metadata files, wherever they live."""

    def read(self, name: str) -> bytes | None:
        """The file's bytes, None if absent; `_Unreadable` if present but unreadable."""

    def where(self, name: str) -> str:
        """A path naming the file, for messages."""


@attrs.frozen(slots=True)
class _DirFiles:
    directory: str
    log: ReadLog | None = attrs.field(default=None, eq=False, repr=False)

    def read(self, name: str) -> bytes | None:
        path = os.path.join(self.directory, name)
        try:
            data = read_file(path, self.log, limit=_MAX_METADATA_BYTES + 1)
        except FileNotFoundError:
            return None
        except IsADirectoryError as exc:
            raise _Unreadable("is a directory, not a file") from exc
        except OSError as exc:
            raise _Unreadable(f"cannot read: {exc.strerror or exc}") from exc
        if len(data) > _MAX_METADATA_BYTES:
            raise _Unreadable(f"larger than {_MAX_METADATA_BYTES} bytes")
        return data

    def where(self, name: str) -> str:
        return os.path.join(self.directory, name)


@attrs.frozen(slots=True)
class _SingleFile:
    """An `.egg-info` *file*: its whole content is PKG-INFO, and nothing else exists."""

    path: str
    log: ReadLog | None = attrs.field(default=None, eq=False, repr=False)

    def read(self, name: str) -> bytes | None:
        if name != "PKG-INFO":
            return None
        return _DirFiles(os.path.dirname(self.path), self.log).read(os.path.basename(self.path))

    def where(self, name: str) -> str:
        return self.path


@attrs.frozen(slots=True)
class _ZipFiles:
    archive: str
    prefix: str
    """The member directory, e.g. "EGG-INFO/" or "foo-1.0.dist-info/"."""
    log: ReadLog | None = attrs.field(default=None, eq=False, repr=False)

    def read(self, name: str) -> bytes | None:
        if self.log is not None:
            self.log.checked(self.archive)
        try:
            with zipfile.ZipFile(self.archive) as archive:
                try:
                    info = archive.getinfo(self.prefix + name)
                except KeyError:
                    return None
                if info.file_size > _MAX_METADATA_BYTES:
                    raise _Unreadable(f"larger than {_MAX_METADATA_BYTES} bytes")
                return archive.read(info)
        except _Unreadable:
            raise
        except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, RuntimeError,
                NotImplementedError, ValueError, EOFError) as exc:
            raise _Unreadable(f"cannot read zip member: {exc}") from exc

    def where(self, name: str) -> str:
        return os.path.join(self.archive, self.prefix + name)


@attrs.frozen(slots=True)
class _Found:
    """A distribution located on disk, not yet read."""

    path: str
    """What provenance names: the metadata directory/file, the egg, or the `.egg-link`."""
    format: str
    files: _MetaFiles
    key: str
    """The real path of the metadata, so one distribution reached twice is read once."""
    file_name: str | None = None
    """The name the file name gives (`foo-1.0.dist-info` stem), for cross-checks."""
    editable_project: str | None = None


@attrs.frozen(slots=True)
class InstalledDistribution:
    """One distribution found in a layer, visible or not.

    `shadowed` is True when import would not see it: a layer earlier in `sys.path` has the
    same name, or an earlier duplicate in the same layer does. `warnings` are the diagnostics
    about this distribution (repairs, skipped requirements, duplicates).
    """

    candidate: Candidate
    layer: Layer
    shadowed: bool = False
    shadowed_by: str | None = None
    warnings: tuple[Diagnostic, ...] = ()

    @property
    def name(self) -> NormalizedName:
        return self.candidate.name

    @property
    def version(self) -> Version:
        return self.candidate.version

    @property
    def info(self) -> InstalledInfo:
        assert self.candidate.installed is not None  # every installed candidate has it
        return self.candidate.installed


class InstalledSource(Source):
    """The distributions of an environment's layers, read once on first use.

    `candidates(project)` returns the winning distribution of each layer (so the resolver sees
    a venv copy *and* the system copy it shadows, each with its layer); `distributions()` lists
    everything, duplicates and shadowed copies included.
    """

    def __init__(self, environment: Environment, *, name: str = "installed",
                 read_log: ReadLog | None = None) -> None:
        self.name = name
        self.environment = environment
        self.read_log = read_log
        """Where what is read is logged, if anywhere (`depsat.sources.stamps.ReadLog`)."""
        self._distributions: tuple[InstalledDistribution, ...] | None = None
        self._diagnostics: tuple[Diagnostic, ...] = ()
        self._by_name: dict[NormalizedName, list[InstalledDistribution]] = {}

    @classmethod
    def from_interpreter(
        cls, python: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None,
        read_log: ReadLog | None = None,
    ) -> InstalledSource:
        """The environment of a real interpreter (default: the running one)."""
        return cls(Environment.from_interpreter(python, env=env, read_log=read_log),
                   read_log=read_log)

    @classmethod
    def from_paths(
        cls,
        paths: Sequence[str | os.PathLike[str]],
        *,
        names: Sequence[str] | None = None,
        python: str | os.PathLike[str] | None = None,
        read_log: ReadLog | None = None,
    ) -> InstalledSource:
        """Layers given as directories, top first."""
        return cls(Environment.from_paths(paths, names=names, python=python, read_log=read_log),
                   read_log=read_log)

    def candidates(self, project: NormalizedName) -> Sequence[Candidate]:
        return tuple(self._layer_winners(canonicalize_name(project)))

    def visible(self, project: NormalizedName) -> Candidate | None:
        """The one distribution of `project` that import would find, if any."""
        winners = self._layer_winners(canonicalize_name(project))
        return winners[0] if winners else None

    def projects(self) -> tuple[NormalizedName, ...]:
        """Every project installed in any layer, shadowed or not."""
        self._load()
        return tuple(self._by_name)

    def distributions(self) -> tuple[InstalledDistribution, ...]:
        """Everything found, in layer order, with its shadowed flag."""
        return self._load()

    def diagnostics(self) -> Sequence[Diagnostic]:
        self._load()
        return self.environment.diagnostics + self._diagnostics

    def _layer_winners(self, project: NormalizedName) -> list[Candidate]:
        self._load()
        winners: list[Candidate] = []
        seen_layers: set[int] = set()
        for dist in self._by_name.get(project, ()):
            if dist.layer.index not in seen_layers:
                seen_layers.add(dist.layer.index)
                winners.append(dist.candidate)
        return winners

    def _load(self) -> tuple[InstalledDistribution, ...]:
        if self._distributions is None:
            distributions, diagnostics = read_layers(self.environment.layers, self.read_log)
            self._distributions = distributions
            self._diagnostics = diagnostics
            by_name: dict[NormalizedName, list[InstalledDistribution]] = {}
            for dist in distributions:
                by_name.setdefault(dist.name, []).append(dist)
            self._by_name = by_name
        return self._distributions


def read_layers(
    layers: Sequence[Layer], read_log: ReadLog | None = None,
) -> tuple[tuple[InstalledDistribution, ...], tuple[Diagnostic, ...]]:
    """Read every layer in order; mark what import would not see. Never raises. Every
    file and folder read goes into `read_log`."""
    diagnostics: list[Diagnostic] = []
    result: list[InstalledDistribution] = []
    seen_keys: set[str] = set()
    first: dict[NormalizedName, InstalledDistribution] = {}
    for layer in layers:
        try:
            located = list(_locate(layer, diagnostics, read_log))
        except Exception as exc:  # last resort, as below: the other layers are still read
            diagnostics.append(
                Diagnostic(f"unexpected error: {type(exc).__name__}: {exc}", layer.path)
            )
            continue
        for found in located:
            if found.key in seen_keys:
                continue  # the same metadata reached twice (egg-link and its project dir)
            seen_keys.add(found.key)
            warnings: list[Diagnostic] = []
            try:
                candidate = _read(found, layer, warnings)
            except Exception as exc:  # last resort: one entry must never crash the read
                warnings.append(
                    Diagnostic(f"unexpected error: {type(exc).__name__}: {exc}", found.path)
                )
                candidate = None
            diagnostics.extend(warnings)
            if candidate is None:
                continue
            winner = first.get(candidate.name)
            if winner is None:
                dist = InstalledDistribution(candidate, layer, warnings=tuple(warnings))
                first[candidate.name] = dist
            else:
                if winner.layer.index == layer.index:
                    duplicate = Diagnostic(
                        f"duplicate distribution of {candidate.name} in layer {layer.name}: "
                        f"{candidate.version} here is hidden by {winner.version} at "
                        f"{winner.info.path}, which comes first on the import path",
                        found.path,
                    )
                    warnings.append(duplicate)
                    diagnostics.append(duplicate)
                dist = InstalledDistribution(
                    candidate,
                    layer,
                    shadowed=True,
                    shadowed_by=winner.info.path,
                    warnings=tuple(warnings),
                )
            result.append(dist)
    return tuple(result), tuple(diagnostics)


# --------------------------------------------------------------------------- locating


def _locate(layer: Layer, diagnostics: list[Diagnostic],
            log: ReadLog | None = None) -> Iterator[_Found]:
    """Every distribution a layer holds, in the order import searches it."""
    for entry in layer.entries:
        yield from _locate_entry(entry, diagnostics, top=entry == layer.path, log=log)


def _locate_entry(entry: str, diagnostics: list[Diagnostic], *, top: bool,
                  log: ReadLog | None = None) -> Iterator[_Found]:
    """The distributions one `sys.path` entry holds: a directory, an egg, or a zip."""
    if entry.lower().endswith(".egg"):
        found = _egg(entry, diagnostics, log)
        if found is not None:
            yield found
        return
    if os.path.isfile(entry):
        if log is not None:
            log.checked(entry)
        yield from _zip_entry(entry, diagnostics, log)
        return
    try:
        # (in the order os.scandir lists them: the order importlib.metadata, and so pip,
        # finds distributions in)
        children = read_listing(entry, log)
    except FileNotFoundError:
        if top:
            diagnostics.append(Diagnostic("layer directory does not exist", entry))
        return
    except OSError as exc:
        if log is not None:
            log.unrepeatable(entry)
        diagnostics.append(Diagnostic(f"cannot list directory: {exc.strerror or exc}", entry))
        return
    listed: set[str] | None = None  # eggs the directory's .pth files put on sys.path
    for name, kind in children:
        path = os.path.join(entry, name)
        lower = name.lower()
        if lower.endswith(".dist-info"):
            if kind == "d":
                yield _found_dir(path, "dist-info", name[: -len(".dist-info")], log)
        elif lower.endswith(".egg-info"):
            stem = name[: -len(".egg-info")]
            if kind == "d":
                yield _found_dir(path, "egg-info", stem, log)
            elif kind == "f":
                yield _Found(path, "egg-info-file", _SingleFile(path, log), _real(path), stem)
        elif lower.endswith(".egg-link"):
            found = _egg_link(path, diagnostics, log)
            if found is not None:
                yield found
        elif lower.endswith(".egg") and top:
            # Not importable unless a .pth file (or PYTHONPATH) puts it on sys.path, and
            # importlib.metadata does not list it either: report, do not read.
            if listed is None:
                listed = {_real(p) for p in pth_entries(entry, log)}
            if _real(path) in listed:
                continue  # read where the layer's search path lists it
            diagnostics.append(
                Diagnostic("egg is not on the import path (no .pth file lists it); ignored", path)
            )


def _found_dir(path: str, fmt: str, stem: str, log: ReadLog | None) -> _Found:
    return _Found(path, fmt, _DirFiles(path, log), _real(path), stem)


def _egg(path: str, diagnostics: list[Diagnostic], log: ReadLog | None) -> _Found | None:
    stem = os.path.basename(path)[: -len(".egg")]
    if log is not None:
        log.checked(path)
    if os.path.isdir(path):
        return _Found(path, "egg", _DirFiles(os.path.join(path, "EGG-INFO"), log), _real(path),
                      stem)
    if os.path.isfile(path):
        if not zipfile.is_zipfile(path):
            diagnostics.append(Diagnostic("not a zip file (a zipped egg must be one)", path))
            return None
        return _Found(path, "egg-zip", _ZipFiles(path, "EGG-INFO/", log), _real(path), stem)
    diagnostics.append(Diagnostic("egg listed on the import path does not exist", path))
    return None


def _zip_entry(path: str, diagnostics: list[Diagnostic],
               log: ReadLog | None) -> Iterator[_Found]:
    """A zip file on sys.path (not an egg): importlib.metadata looks inside, so do we."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
        diagnostics.append(Diagnostic(f"cannot read zip on the import path: {exc}", path))
        return
    tops: list[str] = []
    for member in names:
        top = member.split("/", 1)[0]
        if top not in tops and top.lower().endswith((".dist-info", ".egg-info")):
            tops.append(top)
    for top in tops:
        fmt = "dist-info" if top.lower().endswith(".dist-info") else "egg-info"
        stem = top.rsplit(".", 1)[0]
        member_path = os.path.join(path, top)
        yield _Found(member_path, fmt, _ZipFiles(path, top + "/", log), _real(path) + "/" + top,
                     stem)


def _egg_link(path: str, diagnostics: list[Diagnostic], log: ReadLog | None) -> _Found | None:
    """A `setup.py develop` install: the first line names the directory holding the egg-info."""
    try:
        raw = read_file(path, log, limit=64 * 1024)
    except OSError as exc:
        diagnostics.append(Diagnostic(f"cannot read: {exc.strerror or exc}", path))
        return None
    lines = raw.decode("utf-8", "replace").splitlines()
    target = lines[0].strip() if lines else ""
    if not target or "\x00" in target:
        diagnostics.append(Diagnostic("empty or binary .egg-link; ignored", path))
        return None
    project_dir = os.path.normpath(os.path.join(os.path.dirname(path), target))
    if log is not None:
        log.checked(project_dir)
    if not os.path.isdir(project_dir):
        diagnostics.append(
            Diagnostic(f"dangling .egg-link: project directory {project_dir} does not exist", path)
        )
        return None
    link_name = canonicalize_name(os.path.basename(path)[: -len(".egg-link")])
    try:
        entries = read_listing(project_dir, log)
        egg_infos = sorted(n for n, kind in entries
                           if n.lower().endswith(".egg-info") and kind == "d")
    except OSError as exc:
        diagnostics.append(
            Diagnostic(f"cannot list project directory {project_dir}: {exc.strerror or exc}", path)
        )
        return None
    matching = [n for n in egg_infos if _egg_info_name_matches(n, link_name)]
    if not matching and len(egg_infos) == 1:
        matching = egg_infos
    if not matching:
        diagnostics.append(
            Diagnostic(f"dangling .egg-link: no {link_name} .egg-info in {project_dir}", path)
        )
        return None
    egg_info = os.path.join(project_dir, matching[0])
    return _Found(
        path,
        "egg-link",
        _DirFiles(egg_info, log),
        _real(egg_info),
        matching[0][: -len(".egg-info")],
        editable_project=project_dir,
    )


def _egg_info_name_matches(dirname: str, name: NormalizedName) -> bool:
    stem = dirname[: -len(".egg-info")]
    return any(canonicalize_name(n) == name for n, _v in _name_splits(stem))


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


# --------------------------------------------------------------------------- reading


def _read(found: _Found, layer: Layer, warnings: list[Diagnostic]) -> Candidate | None:
    """Read one located distribution into a candidate; None (with a warning) if unusable."""
    metadata_file = "METADATA" if found.format == "dist-info" else "PKG-INFO"
    culprit = found.files.where(metadata_file)
    try:
        data = found.files.read(metadata_file)
    except _Unreadable as exc:
        warnings.append(Diagnostic(f"{exc.args[0]}; distribution left out", culprit))
        return None
    if data is None:
        warnings.append(Diagnostic(f"no {metadata_file} file; distribution left out", culprit))
        return None
    fields = _parse_core_metadata(data, culprit, warnings)
    if fields is None:
        return None
    name, version = _identity(fields, found, culprit, warnings)
    if name is None or version is None:
        return None

    requires = _requirements(fields.requires_dist, culprit, warnings)
    extras = set(_extras(fields.provides_extra, culprit, warnings))
    if not fields.requires_dist and found.format != "dist-info":
        # Legacy installs list dependencies in requires.txt instead; importlib.metadata reads
        # it only when there is no Requires-Dist, and so do we.
        requires_culprit = found.files.where("requires.txt")
        try:
            requires_data = found.files.read("requires.txt")
        except _Unreadable as exc:
            warnings.append(Diagnostic(f"{exc.args[0]}; dependencies unknown", requires_culprit))
            requires_data = None
        if requires_data is not None:
            txt_requires, txt_extras, problems = parse_requires_txt(
                requires_data, requires_culprit
            )
            warnings.extend(problems)
            requires = txt_requires
            extras.update(txt_extras)

    requires_python: SpecifierSet | None = None
    if fields.requires_python is not None:
        try:
            requires_python = SpecifierSet(fields.requires_python)
        except InvalidSpecifier:
            warnings.append(
                Diagnostic(
                    f"invalid Requires-Python {fields.requires_python!r}; ignored", culprit
                )
            )

    installer, requested, direct_url, editable = _provenance(found, warnings)
    origin = Origin("installed", layer.name, found.path)
    return Candidate(
        name=name,
        version=version,
        origin=origin,
        requires=tuple(requires),
        provides_extras=frozenset(extras),
        requires_python=requires_python,
        artifacts=(
            Artifact(ArtifactKind.INSTALLED, filename=found.path, requires_python=requires_python),
        ),
        installed=InstalledInfo(
            layer=layer.name,
            layer_index=layer.index,
            path=found.path,
            format=found.format,
            read_only=layer.read_only,
            installer=installer,
            requested=requested,
            direct_url=direct_url,
            editable=editable,
        ),
    )


@attrs.frozen(slots=True)
class _Fields:
    name: str | None
    version: str | None
    requires_dist: tuple[str, ...]
    provides_extra: tuple[str, ...]
    requires_python: str | None


def _parse_core_metadata(
    data: bytes, culprit: str, warnings: list[Diagnostic]
) -> _Fields | None:
    """The fields depsat needs, from METADATA/PKG-INFO bytes; None if it is not metadata."""
    if not data.strip():
        warnings.append(Diagnostic("empty metadata file; distribution left out", culprit))
        return None
    head = data[:8192]
    if b"\x00" in head:
        warnings.append(
            Diagnostic("binary file, not core metadata; distribution left out", culprit)
        )
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append(
            Diagnostic("not valid UTF-8; fields with undecodable bytes are ignored", culprit)
        )
    raw, unparsed = parse_email(data)
    for field in ("name", "version", "requires-python"):
        if field in unparsed:
            values = unparsed[field]
            reason = "repeated" if len(values) > 1 else "undecodable"
            warnings.append(Diagnostic(f"{field} field is {reason}: {values!r}", culprit))
    for field in ("requires-dist", "provides-extra"):
        if field in unparsed:
            warnings.append(Diagnostic(f"{field} entries are undecodable; ignored", culprit))
    name = raw.get("name")
    version = raw.get("version")
    requires_python = raw.get("requires_python")
    return _Fields(
        name=name.strip() if isinstance(name, str) else None,
        version=version.strip() if isinstance(version, str) else None,
        requires_dist=tuple(raw.get("requires_dist") or ()),
        provides_extra=tuple(raw.get("provides_extra") or ()),
        requires_python=requires_python.strip() if isinstance(requires_python, str) else None,
    )


def _name_splits(stem: str) -> list[tuple[str, str | None]]:
    """Ways to read a `NAME[-VERSION[-pyX.Y[-PLATFORM]]]` file stem, most usual first.

    setuptools escapes `-` in names and versions as `_`, but hand-made and old installs do
    not: `foo-bar-1.0` is read both as ("foo", "bar-1.0"?) and ("foo-bar", "1.0"); only
    splits whose version parses are offered, plus the whole stem as a name alone.
    """
    parts = stem.split("-")
    for index, part in enumerate(parts[1:], start=1):
        if _PYTAG_RE.match(part):
            parts = parts[:index]
            break
    splits: list[tuple[str, str | None]] = []
    for cut in range(1, len(parts)):
        name, version = "-".join(parts[:cut]), "-".join(parts[cut:])
        if _valid_version(version):
            splits.append((name, version))
    splits.append(("-".join(parts), None))
    return splits


def _valid_version(text: str) -> bool:
    try:
        _version(text)
    except InvalidVersion:
        return False
    return True


def _version(text: str) -> Version:
    """A version from a file name, where setuptools wrote `-` as `_`."""
    return Version(text.replace("_", "-"))


def _identity(
    fields: _Fields, found: _Found, culprit: str, warnings: list[Diagnostic]
) -> tuple[NormalizedName | None, Version | None]:
    """Name and version from the metadata, cross-checked with (or repaired from) the file name."""
    splits = _name_splits(found.file_name) if found.file_name else []
    name_text = fields.name
    if name_text is not None and not _NAME_RE.match(name_text):
        warnings.append(Diagnostic(f"invalid Name {name_text!r}", culprit))
        name_text = None
    version_text = fields.version
    if version_text is not None and not _valid_version_strict(version_text):
        warnings.append(
            Diagnostic(
                f"invalid version {version_text!r} (not PEP 440); distribution left out", culprit
            )
        )
        return None, None

    repaired = False
    if name_text is None or version_text is None:
        # Repair from the file name only when that is unambiguous (pip takes the first
        # dash-separated part; a name with an unescaped `-` would then be wrong).
        options: list[tuple[str, str | None]] = [(n, v) for n, v in splits if _NAME_RE.match(n)]
        if name_text is not None:
            wanted = canonicalize_name(name_text)
            options = [(n, v) for n, v in options if canonicalize_name(n) == wanted]
        if version_text is not None:
            known = Version(version_text)
            exact = [o for o in options if o[1] is not None and _version(o[1]) == known]
            options = exact or [o for o in options if o[1] is None]
        else:
            options = [(n, v) for n, v in options if v is not None]
            if found.format == "dist-info" and len(options) > 1:
                options = options[-1:]  # the wheel rule: the version is the last part
        missing = " and ".join(
            f for f, v in (("Name", name_text), ("Version", version_text)) if v is None
        )
        if len(options) != 1:
            warnings.append(
                Diagnostic(f"metadata has no valid {missing}; distribution left out", culprit)
            )
            return None, None
        file_name, file_version = options[0]
        name_text = name_text or file_name
        version_text = version_text or str(_version(file_version or ""))
        repaired = True
        warnings.append(
            Diagnostic(
                f"metadata has no valid {missing}; using {name_text} {version_text} from the "
                "file name",
                culprit,
            )
        )
    assert name_text is not None and version_text is not None
    name = canonicalize_name(name_text)
    version = Version(version_text)

    if splits and not repaired:
        matches = [(n, v) for n, v in splits if canonicalize_name(n.replace("_", "-")) == name]
        if not matches:
            warnings.append(
                Diagnostic(
                    f"file name {found.file_name!r} does not parse as NAME-VERSION for "
                    f"{name}; using the metadata ({name} {version})",
                    found.path,
                )
            )
        else:
            file_version = matches[0][1]
            if file_version is not None and _version(file_version) != version:
                warnings.append(
                    Diagnostic(
                        f"file name says version {file_version}, metadata says {version}; "
                        "using the metadata",
                        found.path,
                    )
                )
            elif file_version is None and found.format == "dist-info":
                warnings.append(
                    Diagnostic(
                        f"directory name {found.file_name!r} has no valid version; using the "
                        f"metadata's {version}",
                        found.path,
                    )
                )
    return name, version


def _valid_version_strict(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def _requirements(
    lines: Sequence[str], culprit: str, warnings: list[Diagnostic]
) -> list[Requirement]:
    result: list[Requirement] = []
    for line in lines:
        try:
            result.append(Requirement(line))
        except InvalidRequirement as exc:
            warnings.append(
                Diagnostic(f"invalid Requires-Dist {line!r} ignored: {exc}", culprit)
            )
    return result


def _extras(
    values: Sequence[str], culprit: str, warnings: list[Diagnostic]
) -> Iterator[NormalizedName]:
    for value in values:
        if _NAME_RE.match(value.strip()):
            yield canonicalize_name(value.strip())
        else:
            warnings.append(Diagnostic(f"invalid Provides-Extra {value!r} ignored", culprit))


def parse_requires_txt(
    data: bytes, culprit: str
) -> tuple[list[Requirement], set[NormalizedName], list[Diagnostic]]:
    """Requirements from an egg's `requires.txt`, as Requires-Dist would state them.

    Sections are `[extra]`, `[:marker]` or `[extra:marker]`; their requirements get
    `extra == "..."` and the marker, as importlib.metadata's own conversion does. Parsed by
    hand: no public library API reads this format. Never raises.
    """
    problems: list[Diagnostic] = []
    requirements: list[Requirement] = []
    extras: set[NormalizedName] = set()
    if b"\x00" in data[:8192]:
        return [], set(), [Diagnostic("binary file, not requires.txt; ignored", culprit)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(Diagnostic("not valid UTF-8; undecodable lines ignored", culprit))
        text = data.decode("utf-8", "replace")
    section_ok = True
    condition: str | None = None
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                problems.append(
                    Diagnostic(f"line {number}: unterminated section {line!r}; "
                               "its requirements are ignored", culprit)
                )
                section_ok = False
                continue
            section_ok, condition, extra = _section(line[1:-1], number, culprit, problems)
            if extra is not None:
                extras.add(extra)
            continue
        if not section_ok:
            continue
        if "\ufffd" in line:
            problems.append(Diagnostic(f"line {number}: undecodable bytes; ignored", culprit))
            continue
        try:
            requirement = Requirement(line)
            if condition is not None:
                combined = condition
                if requirement.marker is not None:
                    combined = f"({requirement.marker}) and ({condition})"
                requirement.marker = Marker(combined)
        except (InvalidRequirement, InvalidMarker) as exc:
            problems.append(Diagnostic(f"line {number}: invalid requirement {line!r}: {exc}",
                                       culprit))
            continue
        requirements.append(requirement)
    return requirements, extras, problems


def _section(
    header: str, number: int, culprit: str, problems: list[Diagnostic]
) -> tuple[bool, str | None, NormalizedName | None]:
    """A `[extra:marker]` header: (usable, combined marker text, extra)."""
    extra_text, _sep, marker_text = header.partition(":")
    extra_text, marker_text = extra_text.strip(), marker_text.strip()
    conditions: list[str] = []
    extra: NormalizedName | None = None
    if marker_text:
        try:
            conditions.append(f"({Marker(marker_text)})")
        except InvalidMarker as exc:
            problems.append(
                Diagnostic(f"line {number}: invalid marker in section [{header}]: {exc}; "
                           "its requirements are ignored", culprit)
            )
            return False, None, None
    if extra_text:
        if not _NAME_RE.match(extra_text):
            problems.append(
                Diagnostic(f"line {number}: invalid extra name [{header}]; "
                           "its requirements are ignored", culprit)
            )
            return False, None, None
        extra = canonicalize_name(extra_text)
        conditions.append(f'extra == "{extra}"')
    return True, (" and ".join(conditions) or None), extra


def _provenance(
    found: _Found, warnings: list[Diagnostic]
) -> tuple[str | None, bool | None, str | None, bool]:
    """(installer, requested, direct URL, editable) from the metadata directory."""
    installer: str | None = None
    try:
        raw_installer = found.files.read("INSTALLER")
    except _Unreadable as exc:
        warnings.append(Diagnostic(str(exc.args[0]), found.files.where("INSTALLER")))
        raw_installer = None
    if raw_installer:
        first = raw_installer.decode("utf-8", "replace").strip().splitlines()
        installer = first[0].strip() if first and first[0].strip() else None
        if installer is not None and ("\x00" in installer or len(installer) > 200):
            warnings.append(Diagnostic("INSTALLER is not a tool name; ignored",
                                       found.files.where("INSTALLER")))
            installer = None

    requested: bool | None = None
    if found.format == "dist-info":
        try:
            requested = found.files.read("REQUESTED") is not None
        except _Unreadable:
            requested = True  # it exists, we just cannot read it, and its content is unused

    if found.editable_project is not None:
        return installer, requested, Path(found.editable_project).as_uri(), True

    direct_url: str | None = None
    editable = False
    culprit = found.files.where("direct_url.json")
    try:
        raw_direct = found.files.read("direct_url.json")
    except _Unreadable as exc:
        warnings.append(Diagnostic(str(exc.args[0]), culprit))
        raw_direct = None
    if raw_direct is not None:
        parsed = _direct_url(raw_direct)
        if isinstance(parsed, str):
            warnings.append(Diagnostic(f"invalid direct_url.json ({parsed}); ignored", culprit))
        else:
            direct_url, editable = parsed
    return installer, requested, direct_url, editable


def _direct_url(data: bytes) -> tuple[str, bool] | str:
    """(URL as a PEP 508 direct reference, editable) from PEP 610 JSON; an error text if bad."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return f"not JSON: {exc}"
    if not isinstance(document, dict):
        return "not a JSON object"
    url = document.get("url")
    if not isinstance(url, str) or not url:
        return "no url"
    subdirectory = document.get("subdirectory")
    fragment = f"#subdirectory={subdirectory}" if isinstance(subdirectory, str) else ""
    dir_info = document.get("dir_info")
    vcs_info = document.get("vcs_info")
    if isinstance(dir_info, dict):
        return url + fragment, dir_info.get("editable") is True
    if isinstance(vcs_info, dict):
        vcs = vcs_info.get("vcs")
        if not isinstance(vcs, str):
            return "vcs_info without vcs"
        commit = vcs_info.get("commit_id")
        revision = f"@{commit}" if isinstance(commit, str) and commit else ""
        return f"{vcs}+{url}{revision}{fragment}", False
    if isinstance(document.get("archive_info"), dict):
        return url + fragment, False
    return "none of dir_info, vcs_info or archive_info"
