"""uv's ``[tool.uv.sources]``: where a project's own dependencies come from.

A project managed with uv names, beside its PEP 621 dependencies, the git repository, the
directory, the URL or the workspace member that some of them are taken from::

    [tool.uv.sources]
    lib = { git = "https://github.com/org/lib", tag = "v1.2" }
    shared = { path = "../shared", editable = true }
    plugin = { url = "https://example.com/plugin-1.0-py3-none-any.whl" }
    member = { workspace = true }
    torch = { index = "pytorch" }

``uv pip compile pyproject.toml`` and ``uv lock`` read them; without them the dependency
would be resolved from an index, another distribution altogether. Here each such dependency
line becomes a direct reference (``lib @ git+https://github.com/org/lib@v1.2``), its extras
and marker kept, which the rest of depsat already reads. ``index`` entries are pins, read
with the configuration (`depsat.config`) and left alone here. A source with a ``marker``, or
a list of them, is chosen by the target's environment: depsat resolves for one target, so
the first source whose marker holds there is taken, and the indexes when none does.

No library reads this table (it is uv's own format); the rules follow uv's documentation.
"""

from __future__ import annotations

import glob
import posixpath
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from depsat._toml import tomllib
from depsat.sources.distfiles import DistFileError

__all__ = ["ProjectSources", "first_holding", "read_uv_sources", "subdirectory_within"]

_GIT_REFERENCES = ("rev", "tag", "branch")


@attrs.frozen(slots=True)
class ProjectSources:
    """A project's ``[tool.uv.sources]`` as direct references, by package."""

    urls: Mapping[NormalizedName, str] = attrs.field(factory=dict)
    """Package -> the URL its requirements become (``name @ URL``)."""
    editable: frozenset[NormalizedName] = frozenset()
    """Packages whose path source says ``editable = true``."""
    paths: Mapping[NormalizedName, str] = attrs.field(factory=dict)
    """Package -> the path its ``path`` source gives, as written (relative to the project):
    ``uv pip compile`` writes the pin so (``-e ../libs/lib1``, ``../libs/lib2``)."""

    def apply(self, line: str) -> str:
        """`line` (a PEP 508 requirement) with its package's source as a direct reference:
        ``lib[x]>=1 ; marker`` -> ``lib[x] @ URL ; marker``. A line naming a URL already, or
        a package without a source, is left as it is."""
        if not self.urls:
            return line
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            return line  # (the caller reports it where it reports every bad line)
        url = self.urls.get(canonicalize_name(requirement.name))
        if url is None or requirement.url:
            return line
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        marker = f" ; {requirement.marker}" if requirement.marker else ""
        return f"{requirement.name}{extras} @ {url}{marker}"


def read_uv_sources(data: Mapping[str, Any], project_dir: Path, where: str, *,
                    path_url: Callable[[str], str] | None = None,
                    environment: Mapping[str, str] | None = None) -> ProjectSources:
    """The sources of the project whose parsed pyproject.toml is `data` and whose directory is
    `project_dir`; `DistFileError` naming ``tool.uv.sources.NAME`` (in `where`) for an entry
    that cannot be read. `path_url` turns a ``path`` (relative to the project) into a URL;
    by default the directory's ``file:`` URL (a project checked out from git passes one that
    names the same repository, so the plan pins git, not the cache's checkout).

    A source with a ``marker``, or a list of them (uv's per-platform sources), is chosen by
    the target's marker `environment`: the first whose marker holds, none (the indexes)
    when none does. Without an environment such a source is an error."""
    tool = data.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    if not isinstance(uv, dict) or uv.get("sources") is None:
        return ProjectSources()
    table = uv["sources"]
    if not isinstance(table, dict):
        raise DistFileError(f"{where}: [tool.uv.sources] is not a table")
    to_url = path_url or (lambda relative: _path_url(project_dir, relative))
    urls: dict[NormalizedName, str] = {}
    editable: set[NormalizedName] = set()
    paths: dict[NormalizedName, str] = {}
    for package, given in table.items():
        key = f"tool.uv.sources.{package}"
        entries = given if isinstance(given, list) else [given]
        if not entries or not all(isinstance(entry, dict) for entry in entries):
            raise DistFileError(f"{where}: {key} is not a table or a list of tables")
        if all("index" in entry for entry in entries):
            continue  # (pins, whatever their markers: the configuration's)
        try:
            entry = first_holding(entries, environment)
        except ValueError as exc:
            raise DistFileError(f"{where}: {key}.marker {exc}") from exc
        if entry is None:
            continue  # (no source holds here: the package comes from the indexes, as uv has it)
        name = canonicalize_name(str(package))
        url = _entry_url(entry, str(package), where, to_url, project_dir, uv)
        if url is None:
            continue  # (an index: a pin, the configuration's)
        urls[name] = url
        if "path" in entry:
            paths[name] = entry["path"]
        # (a workspace member is editable unless it says not, as uv installs members)
        if entry.get("editable", "workspace" in entry) is True:
            editable.add(name)
    return ProjectSources(urls, frozenset(editable), paths)


def first_holding(entries: Sequence[Any], environment: Mapping[str, str] | None, *,
                  strict: bool = True) -> dict[str, Any] | None:
    """The first source entry (a table) whose ``marker`` holds in `environment` (one without a
    marker always does), or None. With no environment a marked entry is an error (`strict`)
    or passed over. `ValueError` says what is wrong with the marker; callers name its key."""
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        text = entry.get("marker")
        if text is None:
            return entry
        if not isinstance(text, str):
            raise ValueError("is not a string")
        try:
            marker = Marker(text)
            if environment is None:
                if strict:
                    raise ValueError(f"({text}) needs a target environment to decide it")
                continue
            holds = marker.evaluate(dict(environment))
        except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ValueError(f"{text!r}: {first}") from exc
        if holds:
            return entry
    return None


def _entry_url(entry: Mapping[str, Any], package: str, where: str,
               to_url: Callable[[str], str], project_dir: Path,
               uv: Mapping[str, Any]) -> str | None:
    """The URL `package`'s source entry names; None for an ``index`` entry (a pin)."""
    key = f"tool.uv.sources.{package}"
    kinds = [kind for kind in ("git", "path", "url", "workspace", "index") if kind in entry]
    if len(kinds) != 1:
        raise DistFileError(f"{where}: {key} needs exactly one of git, path, url, workspace "
                            f"or index (it has {', '.join(kinds) or 'none'})")
    kind = kinds[0]
    value = entry[kind]
    subdirectory = entry.get("subdirectory")
    if subdirectory is not None and not isinstance(subdirectory, str):
        raise DistFileError(f"{where}: {key}.subdirectory is not a string")
    fragment = f"#subdirectory={subdirectory}" if subdirectory else ""
    if kind == "index":
        return None
    if kind == "workspace":
        if value is not True:
            raise DistFileError(f"{where}: {key}.workspace must be true")
        return _workspace_member(uv, project_dir, package, key, where)
    if not isinstance(value, str) or not value:
        raise DistFileError(f"{where}: {key}.{kind} is not a string")
    if kind == "path":
        return to_url(value)
    if kind == "url":
        return value + (fragment.replace("#", "&") if "#" in value else fragment)
    given = [name for name in _GIT_REFERENCES if name in entry]
    if len(given) > 1:
        raise DistFileError(f"{where}: {key} gives more than one of rev, tag and branch")
    revision = entry[given[0]] if given else None
    if revision is not None and not isinstance(revision, str):
        raise DistFileError(f"{where}: {key}.{given[0]} is not a string")
    repository = value if value.startswith("git+") else f"git+{value}"
    return repository + (f"@{revision}" if revision else "") + fragment


def _path_url(project_dir: Path, relative: str) -> str:
    return (project_dir / relative).resolve().as_uri()


def _workspace_member(uv: Mapping[str, Any], project_dir: Path, package: str, key: str,
                      where: str) -> str:
    """The ``file:`` URL of the workspace member named `package`: one of the directories
    ``[tool.uv.workspace] members`` globs match (``exclude`` left out) whose pyproject.toml
    names that project. The workspace is the project's own, else the nearest above it (a
    member naming another member), as uv finds it."""
    workspace = uv.get("workspace")
    root = project_dir
    if not isinstance(workspace, dict):
        root, workspace = _enclosing_workspace(project_dir)
    members = workspace.get("members", []) if isinstance(workspace, dict) else []
    excluded = workspace.get("exclude", []) if isinstance(workspace, dict) else []
    if not isinstance(members, list) or not isinstance(excluded, list):
        raise DistFileError(f"{where}: [tool.uv.workspace] members and exclude are lists")
    skip = {Path(p).resolve() for pattern in excluded if isinstance(pattern, str)
            for p in glob.glob(str(root / pattern))}
    wanted = canonicalize_name(package)
    for pattern in members:
        if not isinstance(pattern, str):
            continue
        for found in sorted(glob.glob(str(root / pattern))):
            directory = Path(found).resolve()
            if directory in skip or not (directory / "pyproject.toml").is_file():
                continue
            if _project_name(directory / "pyproject.toml") == wanted:
                return directory.as_uri()
    raise DistFileError(f"{where}: {key} is a workspace member, but no member of "
                        "[tool.uv.workspace] is that project")


def _enclosing_workspace(project_dir: Path) -> tuple[Path, Mapping[str, Any] | None]:
    """The nearest directory above `project_dir` whose pyproject.toml has a
    ``[tool.uv.workspace]``, and that table (None when there is none)."""
    for directory in project_dir.resolve().parents:
        tool = _toml(directory / "pyproject.toml").get("tool")
        uv = tool.get("uv") if isinstance(tool, dict) else None
        workspace = uv.get("workspace") if isinstance(uv, dict) else None
        if isinstance(workspace, dict):
            return directory, workspace
    return project_dir, None


def _toml(path: Path) -> dict[str, Any]:
    """A TOML file's table, empty when it is missing or unreadable."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _project_name(pyproject: Path) -> NormalizedName | None:
    data = _toml(pyproject)
    project = data.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    return canonicalize_name(name) if isinstance(name, str) else None


def subdirectory_within(base: str, relative: str) -> str | None:
    """`relative` joined to the directory `base` (both inside a repository, "/"-separated,
    "" for its root), or None when it leaves the repository."""
    joined = posixpath.normpath(posixpath.join(base or ".", relative))
    if joined == ".":
        return ""
    return None if joined.startswith("..") or posixpath.isabs(joined) else joined
