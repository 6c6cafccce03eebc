"""A project's pyproject.toml as a requirements input (``-r pyproject.toml``), as
``uv pip compile pyproject.toml`` reads it: ``[project] dependencies``, the optional ones of
the extras asked for (``--extra``, ``--all-extras``), and dependency groups (``--group``,
PEP 735), each taken from where ``[tool.uv.sources]`` says (`depsat.sources.uv_sources`).
Static tables only: dynamic dependencies need the project built, which an error says."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from depsat._toml import tomllib
from depsat.cli import memo
from depsat.errors import ConfigurationError
from depsat.sources.distfiles import DistFileError, project_dependencies
from depsat.sources.uv_sources import read_uv_sources

__all__ = ["project_requirements"]


def project_requirements(path: str, *, extras: Sequence[str] = (), all_extras: bool = False,
                         groups: Sequence[str] = (),
                         digests: dict[str, str | None] | None = None,
                         editables: list[str] | None = None,
                         uv_sources: bool = True,
                         environment: Mapping[str, str] | None = None,
                         origins: list[str] | None = None,
                         written: dict[str, str] | None = None,
                         requires_python: list[str] | None = None) -> list[str]:
    """The requirement lines `path` gives: its project's (unless only groups are asked of a
    file without a project) and its groups', each taken from its ``[tool.uv.sources]``
    entry when it has one (a direct reference; not with `uv_sources` False, uv's
    ``--no-sources``; a source's marker is decided in the target's marker `environment`);
    those from editable path sources also go to `editables`. `digests` collects the file
    read; `origins`, beside each line, how ``# via`` names this file (``name (path)``, as
    ``uv pip compile`` writes it; the path alone when it names no project); `written`, the
    URL of each path source -> its path as the table gives it, which uv writes as the pin;
    `requires_python`, the project's ``requires-python``, when it has one."""
    data = _toml(path, digests)
    project = data.get("project")
    if requires_python is not None and isinstance(project, dict):
        given = project.get("requires-python")
        if given is not None:
            if not isinstance(given, str):
                raise ConfigurationError("requires-python must be a string",
                                         f"{path}: [project]")
            requires_python.append(given)
    found = []
    if "project" in data or not groups:  # (PEP 735: groups need no project)
        found += _project_requirements(data, path, extras, all_extras)
    found += _group_requirements(data, path, groups)
    if origins is not None:
        name = project.get("name") if isinstance(project, dict) else None
        origins += [f"{name} ({path})" if isinstance(name, str) else path] * len(found)
    if not uv_sources:
        return found
    try:
        sources = read_uv_sources(data, Path(path).resolve().parent, path,
                                  environment=environment)
    except DistFileError as exc:
        raise ConfigurationError(str(exc).removeprefix(f"{path}: "), path) from exc
    lines = [sources.apply(line) for line in found]
    if written is not None:
        written.update({url: sources.paths[name] for name, url in sources.urls.items()
                        if name in sources.paths})
    if editables is not None:
        editables += [line for line, given in zip(lines, found, strict=True)
                      if line != given and canonicalize_name(Requirement(given).name)
                      in sources.editable]
    return lines


def _toml(path: str, digests: dict[str, str | None] | None) -> dict[str, object]:
    try:
        content = Path(path).read_bytes()
        data = tomllib.loads(content.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read the project file: {exc}", path) from exc
    if digests is not None:
        digests[os.path.abspath(path)] = memo.file_digest(Path(path), content)
    return data


def _group_requirements(data: dict[str, object], path: str,
                        groups: Sequence[str]) -> list[str]:
    """The requirements of dependency `groups` (PEP 735), ``include-group`` entries
    followed (a cycle is an error, as the PEP asks)."""
    table = data.get("dependency-groups", {})
    if not isinstance(table, dict):
        raise ConfigurationError("[dependency-groups] is not a table", path)
    named = {canonicalize_name(name): name for name in table}
    found: list[str] = []

    def expand(group: str, trail: tuple[str, ...]) -> None:
        key = canonicalize_name(group)
        if key not in named:
            raise ConfigurationError(f"no dependency group {group!r} (it has: "
                                     f"{', '.join(sorted(named)) or 'none'})", path)
        if key in trail:
            raise ConfigurationError(f"dependency group {group!r} includes itself", path)
        entries = table[named[key]]
        if not isinstance(entries, list):
            raise ConfigurationError(f"dependency group {group!r} is not a list", path)
        for entry in entries:
            if isinstance(entry, str):
                found.append(entry)
            elif isinstance(entry, dict) and isinstance(entry.get("include-group"), str):
                expand(entry["include-group"], (*trail, key))
            else:
                raise ConfigurationError(f"dependency group {group!r} has an entry that is "
                                         f"neither a requirement nor an include: {entry!r}",
                                         path)

    for group in groups:
        expand(group, ())
    return list(dict.fromkeys(found))


def _project_requirements(data: dict[str, object], path: str, extras: Sequence[str],
                          all_extras: bool) -> list[str]:
    """``[project] dependencies`` and the optional ones of the extras asked for; an extra
    that names its own project (``all = ["me[a,b]"]``) stands for those extras'."""
    project = data.get("project")
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        raise ConfigurationError("no [project] table with a name", path)
    dynamic = project.get("dynamic", [])
    if "dependencies" in dynamic or ("optional-dependencies" in dynamic
                                     and (extras or all_extras)):
        raise ConfigurationError("its dependencies are dynamic: only its build backend can "
                                 "tell them, and depsat builds no project", path)
    try:
        base, optional = project_dependencies(project)
    except DistFileError as exc:
        raise ConfigurationError(str(exc), path) from exc
    available = {canonicalize_name(name): name for name in optional}
    wanted = list(available) if all_extras else [canonicalize_name(e) for e in extras]
    unknown = [e for e in wanted if e not in available]
    if unknown:
        raise ConfigurationError(f"no extra {unknown[0]!r} in [project.optional-dependencies] "
                                 f"(it has: {', '.join(sorted(available)) or 'none'})", path)
    me = canonicalize_name(project["name"])
    found: list[str] = []
    queue, done = [None, *wanted], set()
    while queue:
        extra = queue.pop(0)
        if extra in done:
            continue
        done.add(extra)
        for line in base if extra is None else optional[available[extra]]:
            try:
                requirement = Requirement(line)
            except InvalidRequirement as exc:
                raise ConfigurationError(f"invalid requirement {line!r}: {exc}", path) from exc
            if canonicalize_name(requirement.name) == me:
                queue.extend(e for e in sorted(map(canonicalize_name, requirement.extras))
                             if e in available)
            else:
                found.append(line)
    return list(dict.fromkeys(found))
