"""pip-style requirements files: their requirement lines, and the options pip and uv read
from them (a ``-r pyproject.toml`` is `depsat.cli.pyproject_input`'s).

``-e PATH`` is a project directory taken as editable (a direct reference to it). Options
that choose sources (``-i``/``--index-url``, ``--extra-index-url``, ``--no-index``,
``-f``/``--find-links``), prereleases (``--pre``) and binaries (``--no-binary``,
``--only-binary``) apply to the whole resolve, as on the command line, which wins where
both give one value (the default index) and comes first where they add up; ``-r`` and
``-c`` nest. A requirement's ``--hash`` options are for an installer, which checks what it
downloads: a resolver reads them and leaves them. Anything else is an error naming the file
and line.

Written here: the libraries that parse these files either copy pip's own code of 2022
(pip-requirements-parser) or skip the options lines (requirements-parser), and the format
itself is a few rules (pip's ``req_file.py``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import attrs
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from depsat.cli import memo
from depsat.cli.pyproject_input import project_requirements
from depsat.errors import ConfigurationError

__all__ = ["RequirementsFiles", "apply_options", "pinned_versions", "read_requirements_files"]


@attrs.define
class RequirementsFiles:
    """What a command's ``-r`` and ``-c`` files say, in the order read."""

    requirements: list[str] = attrs.Factory(list)
    origins: list[str] = attrs.Factory(list)
    """Beside each of `requirements`, where it was read, as ``# via`` lines say it
    (``-r requirements.in``; ``name (pyproject.toml)`` for a project's)."""
    editables: list[str] = attrs.Factory(list)
    """Those of `requirements` given with ``-e``: project directories, taken as editable."""
    written: dict[str, str] = attrs.Factory(dict)
    """A pyproject.toml's path sources: URL -> the path as its table gives it."""
    constraints: list[str] = attrs.Factory(list)
    constraint_origins: list[str] = attrs.Factory(list)
    """Beside each of `constraints`, ``-c constraints.txt`` (as uv's ``# via`` names it)."""
    overrides: list[str] = attrs.Factory(list)
    """From ``--override`` files (their requirement lines; their options are not read)."""
    override_origins: list[str] = attrs.Factory(list)
    """Beside each of `overrides`, ``--override overrides.txt``."""
    index_url: str | None = None
    extra_index_urls: list[str] = attrs.Factory(list)
    find_links: list[str] = attrs.Factory(list)
    no_index: bool = False
    pre: bool = False
    no_binary: list[str] = attrs.Factory(list)
    only_binary: list[str] = attrs.Factory(list)
    requires_python: list[str] = attrs.Factory(list)
    """The ``requires-python`` of each pyproject.toml read: the Pythons a universal lock is
    for, when ``--python-version`` does not say."""


_VALUED = {"-i": "index_url", "--index-url": "index_url",
           "--extra-index-url": "extra_index_urls", "-f": "find_links",
           "--find-links": "find_links", "--no-binary": "no_binary",
           "--only-binary": "only_binary", "-r": "-r", "--requirement": "-r",
           "-c": "-c", "--constraint": "-c"}
_FLAGS = {"--no-index": "no_index", "--pre": "pre"}
_EDITABLE = ("-e", "--editable")
STDIN = "-"
"""The requirements file name that means standard input."""


def read_requirements_files(requirement_files: list[str], constraint_files: list[str], *,
                            digests: dict[str, str | None] | None = None,
                            extras: Sequence[str] = (), all_extras: bool = False,
                            groups: Sequence[str] = (),
                            override_files: Sequence[str] = (),
                            uv_sources: bool = True,
                            environment: Mapping[str, str] | None = None,
                            ) -> RequirementsFiles:
    """Read the ``-r``, the ``-c`` and the ``--override`` files. `digests` collects each file read
    (`memo.file_digest` of what was read, by absolute path). A ``-r pyproject.toml`` gives
    its project's dependencies, with those of `extras` (or of all, `all_extras`) and of the
    dependency `groups` (PEP 735), as ``uv pip compile pyproject.toml`` takes them, with its
    ``[tool.uv.sources]`` (not with `uv_sources` False; markers decided in the target's
    marker `environment`)."""
    found = RequirementsFiles()
    projects = 0
    for path in requirement_files:
        if Path(path).name == "pyproject.toml":
            projects += 1
            found.requirements.extend(project_requirements(
                path, extras=extras, all_extras=all_extras, groups=groups, digests=digests,
                editables=found.editables, uv_sources=uv_sources, environment=environment,
                origins=found.origins, written=found.written,
                requires_python=found.requires_python))
        else:
            _read(path, found, constraints=False, seen=frozenset(), digests=digests)
    for path in constraint_files:
        _read(path, found, constraints=True, seen=frozenset(), digests=digests)
    for path in override_files:
        overriding = RequirementsFiles()
        _read(path, overriding, constraints=True, seen=frozenset(), digests=digests)
        found.overrides += overriding.constraints
        found.override_origins += [f"--override {path}"] * len(overriding.constraints)
    if (extras or all_extras or groups) and not projects:
        raise ConfigurationError(
            "extras and dependency groups are a project's: give its pyproject.toml with -r",
            "--group" if groups else "--all-extras" if all_extras else "--extra")
    return found


def apply_options(args: argparse.Namespace, files: RequirementsFiles) -> None:
    """Merge the files' options into the command line's: its default index wins, the lists
    add up after its own, and the flags hold if either gives them."""
    if files.index_url and not (args.default_index or args.index_url):
        args.index_url = files.index_url
    args.extra_index_url = _merged(args.extra_index_url, files.extra_index_urls)
    args.find_links = _merged(args.find_links, files.find_links)
    args.no_index = args.no_index or files.no_index
    if files.pre and not args.prerelease:
        args.prerelease = "allow"
    args.no_binary = [*args.no_binary, *files.no_binary]
    args.only_binary = [*args.only_binary, *files.only_binary]


def _merged(first: list[str], then: list[str]) -> list[str]:
    return list(dict.fromkeys([*first, *then]))


def _read(path: str, into: RequirementsFiles, *, constraints: bool, seen: frozenset[str],
          digests: dict[str, str | None] | None) -> None:
    file = Path(path)
    if str(file.resolve()) in seen:
        return
    seen = seen | {str(file.resolve())}
    try:
        # "-": standard input, as uv and pip take it (its -r, -c and -f from the current
        # directory; never remembered, `resolve_command._memo_applies`).
        content = sys.stdin.buffer.read() if path == STDIN else file.read_bytes()
        text = content.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read requirements file: {exc}", path) from exc
    if digests is not None and path != STDIN:
        digests[os.path.abspath(file)] = memo.file_digest(file, content)
    for number, line in _logical_lines(text):
        where = (path, number)
        if line.startswith("-"):
            _option(line, file, into, constraints=constraints, seen=seen, digests=digests,
                    where=where)
            continue
        # As pip splits a line: the requirement ends where a token starts with "-".
        tokens = line.split(" ")
        cut = next((i for i, t in enumerate(tokens) if t.startswith("-")), len(tokens))
        for option in _split(" ".join(tokens[cut:]), where):
            if not option.startswith("--hash"):
                raise _error(where, f"option {option.split('=')[0]!r} is not supported on a "
                                    "requirement's line")
        requirement = " ".join(tokens[:cut]).strip()
        if constraints:
            into.constraints.append(requirement)
            into.constraint_origins.append(f"-c {path}")
        else:
            into.requirements.append(requirement)
            into.origins.append(f"-r {path}")


def _option(line: str, file: Path, into: RequirementsFiles, *, constraints: bool,
            seen: frozenset[str], digests: dict[str, str | None] | None,
            where: tuple[str, int]) -> None:
    tokens = _split(line, where)
    name, _, inline = tokens[0].partition("=")
    if name in _FLAGS and not inline and len(tokens) == 1:
        setattr(into, _FLAGS[name], True)
        return
    field = "editable" if name in _EDITABLE else _VALUED.get(name)
    if field is None:
        raise _error(where, f"option {name!r} is not supported in requirements files")
    values = [inline] if inline else tokens[1:]
    if len(values) != 1 or not values[0]:
        raise _error(where, f"option {name!r} takes one value")
    value = values[0]
    if field in ("-r", "-c"):
        _read((file.parent / value).as_posix(), into,
              constraints=constraints or field == "-c", seen=seen, digests=digests)
    elif field == "index_url":
        into.index_url = value
    elif field == "editable":
        if constraints:
            raise _error(where, "-e is a requirement, not a constraint")
        into.requirements.append(value)
        into.origins.append(f"-r {file.as_posix()}")
        into.editables.append(value)
    else:
        if field == "find_links" and "://" not in value:
            # pip reads a relative folder from the file's directory when it is there.
            beside = file.parent / value
            value = beside.as_posix() if beside.exists() else value
        getattr(into, field).append(value)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(number, line) of each line that says something, continuations joined and comments
    (from a ``#`` at the start or after a space) dropped, as pip reads them."""
    for number, raw in enumerate(text.replace("\\\n", "").splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            yield number, line


def _split(text: str, where: tuple[str, int]) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise _error(where, f"cannot split options: {exc}") from exc


def _error(where: tuple[str, int], message: str) -> ConfigurationError:
    path, number = where
    return ConfigurationError(f"line {number}: {message}", path)


def pinned_versions(path: str) -> dict[NormalizedName, Version]:
    """The ``name==version`` pins of an earlier answer (``-o FILE``), to be kept while they
    fit (`Request.preferred`), as uv and pip-compile read their output file. A file not there
    yet pins nothing; its other lines (options, hashes, direct references) are left out."""
    return {canonicalize_name(r.name): _pinned(r) for r in pinned_requirements(path)}


def pinned_requirements(path: str) -> list[Requirement]:
    """`pinned_versions` with each pin's marker: a universal lock pins a package once per
    part of the environments (``a==1.0 ; sys_platform == 'darwin'``)."""
    file = Path(path)
    if not file.exists():
        return []
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the earlier output: {exc}", path) from exc
    pins: list[Requirement] = []
    for _number, line in _logical_lines(text):
        line = line.split(" --", 1)[0].strip()  # (a pin's --hash options)
        if line.startswith("-"):
            continue
        try:
            requirement = Requirement(line)
            _pinned(requirement)
        except (InvalidRequirement, InvalidVersion, ValueError):
            continue
        pins.append(requirement)
    return pins


def _pinned(requirement: Requirement) -> Version:
    """The version ``name==version`` pins (ValueError for any other specifier)."""
    [pin] = requirement.specifier
    if pin.operator not in ("==", "===") or pin.version.endswith(".*"):
        raise ValueError(f"not a pin: {requirement}")
    return Version(pin.version)
