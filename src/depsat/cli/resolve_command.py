"""`depsat resolve`: requirements in, a plan (or the reason there is none) out."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from packaging.utils import NormalizedName, canonicalize_name

from depsat.cli import EXIT_OK, EXIT_UNSATISFIABLE, memo
from depsat.cli.env_command import installed_source
from depsat.cli.source_options import (
    add_source_arguments,
    config_candidates,
    emitted_locations,
    index_sources,
    load_config,
)
from depsat.errors import ConfigurationError
from depsat.model import Exclusion, ExclusionKind, PrereleaseMode

# The resolver (depsat.api, and through it the encoder, PySAT and the solvers), the report
# and the sources are imported where they are used, so that `depsat --help` and parsing
# the command line stay cheap.
if TYPE_CHECKING:
    from collections.abc import Mapping

    from packaging.markers import Marker
    from packaging.version import Version

    from depsat.api import Resolution, ResolveOptions
    from depsat.cli.progress import RichProgress
    from depsat.config import Settings
    from depsat.encoding import Objective
    from depsat.model import Candidate, Request
    from depsat.solver import SolverBackend
    from depsat.sources.base import Source
    from depsat.sources.stamps import ReadLog
    from depsat.target import Target
    from depsat.universal import UniversalResolution

__all__ = [
    "add_input_arguments",
    "add_parser",
    "print_diagnostics",
    "resolution_from_args",
]

BACKENDS = ("rc2-lex", "rc2-stratified")
"""`--backend` choices: LexicographicRC2 and StratifiedRC2."""


def _backend(name: str) -> SolverBackend:
    from depsat.solver import LexicographicRC2, StratifiedRC2

    return LexicographicRC2() if name == "rc2-lex" else StratifiedRC2()


class _ObjectivesHelp(argparse.Action):
    """`--objectives`; its help names the default tiers, looked up only when help is shown
    (the tiers live in depsat.encoding, which loads PySAT)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                  values: Any, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values)

    @property
    def help(self) -> str:
        from depsat.encoding import DEFAULT_OBJECTIVES

        names = ",".join(o.name for o in DEFAULT_OBJECTIVES)
        return f"the preference tiers in order (default: {names})"

    @help.setter
    def help(self, value: str | None) -> None:
        pass


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "resolve", help="resolve requirements into a plan",
        description="Resolve requirements into an optimal plan, or explain why none exists.")
    add_input_arguments(parser)
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the plan as JSON")
    output.add_argument("--format", choices=["table", "json", "requirements"],
                        help="how the plan is printed (default: table; requirements with -o)")
    parser.add_argument("-o", "--output-file", metavar="FILE",
                        help="also write the plan to FILE (replaced whole, and only when "
                             "solved), with a header naming the command")
    parser.add_argument("--generate-hashes", action="store_true",
                        help="with --format requirements: each pin's file hashes, for pip's "
                             "--require-hashes")
    parser.add_argument("--no-annotate", action="store_true",
                        help="with --format requirements: no '# via' lines (uv's "
                             "--no-annotate)")
    parser.add_argument("--annotation-style", choices=("split", "line"), default="split",
                        help="with --format requirements: '# via' on lines of its own below "
                             "each pin (split, the default) or beside it (line), as uv's "
                             "--annotation-style")
    parser.add_argument("--emit-index-url", action="store_true",
                        help="with --format requirements: the indexes as option lines above "
                             "the pins (--index-url, --extra-index-url), as uv's")
    parser.add_argument("--emit-find-links", action="store_true",
                        help="with --format requirements: the find-links locations as "
                             "--find-links lines above the pins, as uv's")
    parser.add_argument("--no-emit-package", action="append", default=[], metavar="NAME",
                        help="with --format requirements: leave NAME's pin out of the output "
                             "(it is still resolved), as uv and pip-compile take it")
    parser.add_argument("--custom-compile-command", metavar="COMMAND",
                        help="with -o FILE: the command the header names, instead of this "
                             "one (a Makefile's or a pre-commit hook's; uv's and pip-compile's)")
    parser.add_argument("--no-header", action="store_true",
                        help="with -o FILE: no header naming the command (uv's --no-header)")
    strip = parser.add_mutually_exclusive_group()
    strip.add_argument("--strip-extras", dest="strip_extras", action="store_true",
                       help="with --format requirements: pins without their extras "
                            "(name==version; the extras' dependencies are pinned anyway), as "
                            "uv pip compile writes them by default")
    strip.add_argument("--no-strip-extras", dest="strip_extras", action="store_false",
                       help="pins with the extras the plan installs (the default)")
    parser.add_argument("--universal", action="store_true",
                        help="one set of pins, each with its marker, for every platform and "
                             "every Python from --python-version on (uv's --universal); "
                             "without it, those a -r pyproject.toml's requires-python "
                             "admits, else from the running Python's X.Y on")
    parser.add_argument("--fork-strategy", choices=("requires-python", "fewest"),
                        default="requires-python",
                        help="with --universal, as uv's: the newest versions each Python "
                             "can have (default), or the fewest versions of each package")
    parser.add_argument("--environment", action="append", default=[], metavar="MARKER",
                        help="with --universal: only the environments where MARKER holds "
                             "(repeatable: where any holds), as uv's tool.uv.environments; "
                             "e.g. \"sys_platform == 'linux'\"")
    parser.add_argument("-q", "--quiet", action="store_true", help="no warnings on stderr")
    parser.add_argument("--no-memo", action="store_true",
                        help="resolve even if the same command, on the same inputs and "
                             "still-fresh index pages, was resolved before")
    parser.set_defaults(handler=run)


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that say what to resolve and where from; shared by resolve, explain, why."""
    parser.add_argument("requirements", nargs="*", metavar="REQUIREMENT",
                        help="PEP 508 requirements, e.g. 'requests>=2'")
    parser.add_argument("-r", "--requirement", dest="requirement_files", action="append",
                        default=[], metavar="FILE",
                        help="read requirements from FILE (a pyproject.toml: its project's "
                             "dependencies)")
    parser.add_argument("-c", "--constraint", dest="constraint_files", action="append",
                        default=[], metavar="FILE", help="read constraints from FILE")
    parser.add_argument("--override", dest="override_files", action="append", default=[],
                        metavar="FILE", help="requirements that replace every requirement on "
                                             "their packages (uv's overrides)")
    parser.add_argument("--extra", dest="extras", action="append", default=[],
                        metavar="NAME", help="with -r pyproject.toml: also this extra's "
                                             "dependencies")
    parser.add_argument("--all-extras", action="store_true",
                        help="with -r pyproject.toml: also every extra's dependencies")
    parser.add_argument("--group", dest="groups", action="append", default=[],
                        metavar="NAME", help="with -r pyproject.toml: also this dependency "
                                             "group's requirements (PEP 735)")
    parser.add_argument("--no-deps", action="store_true",
                        help="only what you name, none of its dependencies (uv's and pip's "
                             "--no-deps)")
    parser.add_argument("--no-sources", action="store_true",
                        help="ignore [tool.uv.sources] in pyproject.toml files (uv's "
                             "--no-sources): their git, path and URL sources stay index "
                             "requirements")
    parser.add_argument("--universe", metavar="FILE",
                        help="a universe file or packse scenario (TOML/JSON) as the source")
    parser.add_argument("--python-version", metavar="X.Y[.Z]",
                        help="the target Python version (default: this interpreter's)")
    parser.add_argument("--python-platform", metavar="PLATFORM",
                        help="target platform, e.g. x86_64-unknown-linux-musl")
    parser.add_argument("--marker", action="append", default=[], metavar="KEY=VALUE",
                        help="override one marker value of the target environment")
    parser.add_argument("--prerelease", choices=[m.value for m in PrereleaseMode],
                        help="when prereleases may be chosen (default: if-necessary-or-explicit: "
                             "where no final release will do, and by version where your "
                             "requirement names one)")
    parser.add_argument("--no-binary", action="append", default=[], metavar="NAME",
                        help="never use wheels of NAME (':all:' for every package)")
    parser.add_argument("--only-binary", action="append", default=[], metavar="NAME",
                        help="never build NAME from source (':all:' for every package)")
    parser.add_argument("--exclude-newer", metavar="WHEN",
                        help="only index files uploaded before WHEN: a date (2024-06-01, from "
                             "its start, UTC), a timestamp (RFC 3339), or an age ('7 days')")
    parser.add_argument("--python-upper-bounds", action="store_true",
                        help="honour '<' and '<=' in Requires-Python (ignored by default)")
    parser.add_argument("--backend", choices=sorted(BACKENDS), default="rc2-stratified",
                        help="the MaxSAT strategy")
    installed = parser.add_argument_group("installed environment")
    installed.add_argument("--python", metavar="PATH",
                           help="resolve for this interpreter's environment: what it has "
                                "installed is a source, and it is the target")
    installed.add_argument("--layer", dest="layers", action="append", default=[],
                           metavar="[NAME=]PATH",
                           help="a site directory of the environment (repeat, top first); "
                                "lower layers are read-only")
    installed.add_argument("-U", "--upgrade", action="store_true",
                           help="prefer the newest versions over what is installed")
    installed.add_argument("-P", "--upgrade-package", action="append", default=[],
                           metavar="NAME", help="prefer the newest NAME over what is installed")
    installed.add_argument("--reinstall", "--ignore-installed", dest="reinstall",
                           action="store_true", help="resolve as if nothing were installed")
    installed.add_argument("--exact", action="store_true",
                           help="sync: also remove installed packages nothing requires")
    installed.add_argument("--allow-breaking", action="store_true",
                           help="leave installed packages in place even if the plan breaks "
                                "their requirements (each broken one is reported)")
    parser.add_argument("--objectives", metavar="NAME,NAME,…", action=_ObjectivesHelp)
    parser.add_argument("--resolution", choices=tuple(_RESOLUTIONS), default="highest",
                        help="which versions the plan prefers, as uv's --resolution: the "
                             "newest (highest, default), the oldest (lowest), or the oldest "
                             "of what you name and the newest of the rest (lowest-direct)")
    add_source_arguments(parser)


def _names(values: list[str]) -> tuple[frozenset[Any], bool]:
    names = {part.strip() for value in values for part in value.split(",") if part.strip()}
    return frozenset(canonicalize_name(n) for n in names if n != ":all:"), ":all:" in names


def _target(args: argparse.Namespace, default: Target | None) -> Target:
    import attrs

    from depsat.target import Target

    markers: dict[str, str] = {}
    for item in args.marker:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigurationError(f"expected KEY=VALUE, got {item!r}", "--marker")
        markers[key.strip()] = value.strip()
    if args.python_version or args.python_platform:
        version = args.python_version or ".".join(
            map(str, (default or Target.current()).python_version.release[:2]))
        return Target.for_python(version, platform=args.python_platform,
                                 marker_overrides=markers)
    target = default or Target.current()
    if markers:
        target = attrs.evolve(target, markers={**target.markers, **markers})
    return target


def resolution_from_args(args: argparse.Namespace, command: str = "depsat resolve", *,
                         read_log: ReadLog | None = None,
                         input_files: dict[str, str | None] | None = None) -> Resolution:
    """Resolve what the options of `add_input_arguments` describe.

    `read_log` hears what the sources read (indexes, the installed environment),
    `input_files` collects the input files read or looked for (path -> `memo.file_digest`),
    for `memo.remember`."""
    from depsat.api import resolve

    prepared = _prepare(args, command, read_log, input_files)
    try:
        return resolve(prepared.request, prepared.sources, prepared.target, prepared.options)
    finally:
        prepared.close()


def universal_from_args(args: argparse.Namespace, *, read_log: ReadLog | None = None,
                        input_files: dict[str, str | None] | None = None,
                        ) -> UniversalResolution:
    """`resolution_from_args` for every environment (``--universal``): the Pythons from
    ``--python-version`` (or the running one) on, every platform."""
    from depsat.cli.requirements_file import pinned_requirements
    from depsat.universal import resolve_universal

    prepared = _prepare(args, "depsat resolve --universal", read_log, input_files)
    # The Pythons: from --python-version on, else those a pyproject.toml's requires-python
    # admits (all of them, if several), else from the running one's X.Y on.
    floor = ".".join(map(str, prepared.target.python_version.release[:2]))
    pythons = (f">={floor}" if args.python_version or not prepared.requires_python
               else ",".join(prepared.requires_python))
    # (an earlier lock's pins, each preferred where its marker holds)
    output = getattr(args, "output_file", None)
    locked = pinned_requirements(output) if output and not args.upgrade else []
    try:
        return resolve_universal(prepared.request, prepared.sources, pythons,
                                 prepared.options, locked=locked,
                                 environments=_markers(args.environment, "--environment"),
                                 fork_strategy=args.fork_strategy)
    finally:
        prepared.close()


def _markers(texts: list[str], option: str) -> list[Marker]:
    from packaging.markers import InvalidMarker, Marker

    found = []
    for text in texts:
        try:
            found.append(Marker(text))
        except InvalidMarker as exc:
            raise ConfigurationError(f"invalid marker {text!r}: {exc}", option) from exc
    return found


@attrs.frozen(slots=True)
class _Prepared:
    """What a resolve needs, read from the options, and the indexes to close after it."""

    request: Request
    sources: list[Source]
    target: Target
    options: ResolveOptions
    indexes: list[Source]
    progress: RichProgress | None
    requires_python: list[str] = attrs.Factory(list)
    """The ``requires-python`` of the pyproject.toml files read."""

    def close(self) -> None:
        if self.progress is not None:
            self.progress.close()
        for index in self.indexes:
            close = getattr(index, "close", None)
            if close is not None:
                close()


def _prepare(args: argparse.Namespace, command: str, read_log: ReadLog | None,
             input_files: dict[str, str | None] | None) -> _Prepared:
    from depsat.api import (
        ResolveOptions,
        request_from_strings,
        request_from_universe_file,
        target_for,
    )
    from depsat.cli.requirements_file import apply_options, read_requirements_files
    from depsat.model import Request
    from depsat.sources.universe_file import load_universe_file

    sources: list[Source] = []
    default_target: Target | None = None
    installed: tuple[Candidate, ...] = ()
    if args.python or args.layers:
        environment = installed_source(args, read_log)
        installed = tuple(c for c in (environment.visible(p) for p in environment.projects())
                          if c is not None)
        sources.append(environment)
        default_target = environment.environment.target()
    world = None
    if args.universe:
        if input_files is not None:  # (hashed before it is read: a change meanwhile is seen)
            input_files[os.path.abspath(args.universe)] = memo.file_digest(args.universe)
        world = load_universe_file(args.universe)
        sources.append(world.source)
        default_target = target_for(world)
    # (The target before the files: a [tool.uv.sources] marker is decided in it.)
    target = _target(args, default_target)
    files = read_requirements_files(args.requirement_files, args.constraint_files,
                                    digests=input_files, extras=args.extras,
                                    all_extras=args.all_extras, groups=args.groups,
                                    override_files=args.override_files,
                                    uv_sources=not args.no_sources,
                                    environment=target.markers)
    apply_options(args, files)  # (their indexes, find-links, --pre and binary rules)
    requirements = [*args.requirements, *files.requirements]
    constraints = files.constraints
    if world is not None:
        request = request_from_universe_file(world, requirements)
    else:
        request = request_from_strings(requirements)
    # The paths references were given as, to write them so; and where each requirement
    # from a file was read, for the output's ``# via`` lines.
    args.written = {**files.written, **{
        parsed.url: location for text, parsed in zip(requirements, request.requirements,
                                                      strict=False)
        if parsed.url and (location := _written_path(text)) is not None}}
    args.origins = {}
    for parsed, origin in zip(request.requirements[len(args.requirements):], files.origins,
                              strict=False):
        args.origins.setdefault(canonicalize_name(parsed.name), []).append(origin)
    if not request.requirements:
        raise ConfigurationError("nothing to resolve: give requirements or a universe file "
                                 "with [root] requires", command)
    if input_files is not None:
        for candidate in config_candidates(args):
            input_files[os.path.abspath(candidate)] = memo.file_digest(candidate)
    settings = load_config(args, target.markers)
    from depsat.cli.progress import RichProgress, wants_progress

    # On a terminal, fetches are shown as they happen (drawn from the first event, so never
    # before `resolve` below; erased when it returns).
    progress = RichProgress() if wants_progress(args) else None
    constrained = request_from_strings(constraints).requirements
    overriding = request_from_strings(files.overrides).requirements
    for parsed, origin in [*zip(constrained, files.constraint_origins, strict=True),
                           *zip(overriding, files.override_origins, strict=True)]:
        args.origins.setdefault(canonicalize_name(parsed.name), []).append(origin)
    named = (*request.requirements, *constrained, *overriding)
    direct: list[tuple[NormalizedName, str]] = []  # (the files direct references name)
    if any(r.url for r in named):
        from depsat.sources.direct import is_direct_file

        direct = [(canonicalize_name(r.name), r.url) for r in named
                  if r.url and is_direct_file(r.url)]
    # (the -e lines, as parsed into the request: a project directory's name is read once)
    editables = set(files.editables)
    editable = {parsed.url for text, parsed in zip(requirements, request.requirements,
                                                   strict=False)
                if text in editables and parsed.url}
    # (for the output: the option lines --emit-index-url and --emit-find-links ask for)
    args.emitted = emitted_locations(args, settings, other_sources=bool(sources))
    indexes, rules = index_sources(args, settings, other_sources=bool(sources),
                                   progress=progress, read_log=read_log, direct=direct,
                                   editable=editable, environment=target.markers)
    sources.extend(indexes)
    if not sources:
        raise ConfigurationError("no source: --no-index leaves nothing; give --find-links, "
                                 "--universe FILE, --python PATH or --layer PATH", command)
    no_binary, no_binary_all = _names(args.no_binary)
    only_binary, only_binary_all = _names(args.only_binary)
    request = Request(
        requirements=request.requirements,
        constraints=tuple(constrained),
        prerelease=PrereleaseMode(args.prerelease) if args.prerelease else request.prerelease,
        no_binary=request.no_binary | no_binary,
        only_binary=request.only_binary | only_binary,
        no_binary_all=no_binary_all,
        only_binary_all=only_binary_all,
        python_upper_bounds=args.python_upper_bounds,
        installed=installed,
        upgrade=frozenset(canonicalize_name(n) for n in args.upgrade_package),
        upgrade_all=args.upgrade,
        ignore_installed=args.reinstall,
        sync=args.exact,
        allow_breaking=args.allow_breaking,
        no_deps=args.no_deps,
        preferred=_preferred(args, input_files),
        exclude_newer=_cutoff(args.exclude_newer) if args.exclude_newer else None,
        overrides=tuple(overriding),
    )
    options = ResolveOptions(objectives=_objectives(args.objectives, settings,
                                                    args.resolution),
                             backend=_backend(args.backend), source_policy=rules)
    return _Prepared(request, sources, target, options, list(indexes), progress,
                     files.requires_python)


_RESOLUTIONS: dict[str, dict[str, str]] = {
    "highest": {},
    "lowest": {"newest-direct": "oldest-direct", "newest-required": "",
               "newest-other": "oldest-other"},
    "lowest-direct": {"newest-direct": "oldest-direct"},
}
"""``--resolution``: the tiers it puts in the place of the newest-version ones ("": none;
under ``lowest`` the oldest-other tier covers what newest-required did)."""


def _written_path(text: str) -> str | None:
    """The path a requirement was given as (``./libs/foo``, ``dist/x.whl``), without its
    extras and marker; None for a URL or a named requirement."""
    location = re.split(r"\[|;", text, maxsplit=1)[0].strip()
    if not location or "://" in location or location.startswith("file:") or "@" in text:
        return None
    return location if ("/" in location or "\\" in location
                        or location.endswith((".whl", ".tar.gz", ".zip"))) else None


def _objectives(option: str | None, settings: Settings,
                resolution: str = "highest") -> tuple[Objective, ...]:
    """Objective tiers by name, from ``--objectives`` or the configuration file, with
    ``--resolution``'s tiers in place of the newest-version ones."""
    from depsat.encoding import DEFAULT_OBJECTIVES, OldestDirect, OldestOther

    names = ([n.strip() for n in option.split(",") if n.strip()] if option
             else list(settings.objectives or ()))
    if not names and resolution == "highest":
        return DEFAULT_OBJECTIVES
    names = names or [o.name for o in DEFAULT_OBJECTIVES]
    known = {o.name: o for o in (*DEFAULT_OBJECTIVES, OldestDirect(), OldestOther())}
    unknown = [n for n in names if n not in known]
    if unknown:
        where = "--objectives" if option else settings.source
        raise ConfigurationError(f"unknown objective {unknown[0]!r} (known: "
                                 f"{', '.join(known)})", where)
    replaced = _RESOLUTIONS[resolution]
    return tuple(known[replaced.get(n, n)] for n in names if replaced.get(n, n))


def diagnostic_lines(resolution: Resolution) -> list[str]:
    """The warnings a person reads: one a problem, however many files have it (`--json`
    lists each)."""
    from depsat.report import warning_lines

    lines = [f"warning: {line}" for line in warning_lines(resolution.diagnostics)]
    lines += [f"warning: the plan breaks an installed package: {broken}"
              for broken in (resolution.plan.broken if resolution.plan else ())]
    taken = ({c.name: c for c in resolution.plan.chosen} if resolution.plan is not None
             else None)
    unbuilt = {name: [e.candidate for e in project.exclusions
                      if e.kind is ExclusionKind.NEEDS_BUILD
                      and _might_matter(resolution, e, taken)]
               for name, project in sorted(resolution.universe.projects.items())}
    named = [f"{name} ({len(left)} releases)" if len(left) > 1 else f"{name} {left[0].version}"
             for name, left in unbuilt.items() if left]
    if named:  # (a plan without them may be older than pip's or uv's, which build them)
        lines.append(f"warning: left out, as their metadata needs a build: "
                     f"{', '.join(named)} (--build-metadata runs their build backends to "
                     "read it)")
    return lines


def _might_matter(resolution: Resolution, exclusion: Exclusion,
                  chosen: Mapping[NormalizedName, Candidate] | None) -> bool:
    """Whether the plan (whose releases are `chosen`, by name) might have taken this
    release: there is no plan, its project is not in the plan, or the release is one the
    objective prefers to the one taken (newer; older for a project an oldest-version tier
    covers)."""
    if chosen is None:
        return True
    candidate = exclusion.candidate
    taken = chosen.get(candidate.name)
    if taken is None:
        return True
    from depsat.encoding import prefers_oldest

    options = resolution.options
    tiers = [objective.name for objective in (options.objectives if options else ())]
    if prefers_oldest(tiers, candidate.name, resolution.universe.request):
        return candidate.version < taken.version
    return candidate.version > taken.version


def print_diagnostics(resolution: Resolution) -> None:
    for line in diagnostic_lines(resolution):
        print(line, file=sys.stderr)


def _preferred(args: argparse.Namespace,
               input_files: dict[str, str | None] | None) -> dict[NormalizedName, Version]:
    """The pins of an existing ``-o`` file (none with ``-U``); the file is an input (for
    the memo, as it was read)."""
    from depsat.cli.requirements_file import pinned_versions

    output = getattr(args, "output_file", None)
    if not output:
        return {}
    if input_files is not None:
        input_files[os.path.abspath(output)] = memo.file_digest(output)
    return {} if args.upgrade else pinned_versions(output)


_AGE = re.compile(r"\s*(\d+)\s*(second|minute|hour|day|week)s?\s*", re.IGNORECASE)


def _cutoff(text: str) -> datetime:
    """``--exclude-newer``: a date (its start, UTC), an RFC 3339 timestamp (UTC if it says
    no offset), or an age before now (``7 days``: the cool-down against freshly published
    releases that uv's relative form gives)."""
    age = _AGE.fullmatch(text)
    if age:
        unit = age.group(2).lower()
        return datetime.now(timezone.utc) - timedelta(**{f"{unit}s": int(age.group(1))})
    try:
        found = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigurationError(f"expected a date (2024-06-01), a timestamp "
                                 f"(2024-06-01T12:00:00Z) or an age (7 days), got {text!r}",
                                 "--exclude-newer") from None
    return found if found.tzinfo is not None else found.replace(tzinfo=timezone.utc)


def _format(args: argparse.Namespace) -> str:
    """The output format: ``--json``, ``--format``, else requirements lines for an output
    file (as ``uv pip compile -o``), else the table."""
    if args.json:
        return "json"
    return str(args.format or ("requirements" if getattr(args, "output_file", None)
                               else "table"))


def _memo_applies(args: argparse.Namespace) -> bool:
    """Whether a run with these options may be remembered (`depsat.cli.memo`). Not without
    the cache (the memo lives there), offline (pages of any age are read), with builds
    (their environments are not logged), for JSON (its timings would be old), nor with an
    age for ``--exclude-newer`` (the cutoff moves with the clock), nor with standard input as a
    requirements file (``-r -``: nothing to compare next time). With ``-o FILE`` the memo
    holds FILE's digest as the run left it: an unchanged FILE already holds what a replay
    would write, and its pins are those that answer gave."""
    files = (*args.requirement_files, *args.constraint_files, *args.override_files)
    return not (args.no_memo or args.no_cache or args.offline or args.build_metadata
                or _format(args) == "json" or getattr(args, "argv", None) is None
                or (args.exclude_newer and _AGE.fullmatch(args.exclude_newer))
                or "-" in files)


def _printed(args: argparse.Namespace, resolution: Resolution) -> memo.Remembered:
    """What `run` prints for `resolution`: stdout, stderr and the exit code."""
    from depsat.api import explain
    from depsat.report import requirements_lines, resolution_to_json, table_lines, unhashed

    fmt = _format(args)
    err = [] if args.quiet or fmt == "json" else diagnostic_lines(resolution)
    out: list[str] = []
    if fmt == "json":
        out.append(json.dumps(resolution_to_json(resolution), indent=2))
    elif resolution.plan is None:
        assert resolution.failure is not None
        explanation = explain(resolution)
        text = (explanation.text() if explanation is not None
                else resolution.failure.summary())
        err.append(f"depsat: no solution.\n{text}")
    elif fmt == "requirements":
        emitted = getattr(args, "emitted", None)
        if emitted:  # (then a blank line, as uv writes them)
            out += [*emitted, ""]
        out.append("\n".join(requirements_lines(resolution, hashes=args.generate_hashes,
                                                strip_extras=args.strip_extras,
                                                annotate=not args.no_annotate,
                                                omit=_names(args.no_emit_package)[0],
                                                origins=getattr(args, "origins", None),
                                                written=getattr(args, "written", None),
                                                annotation_style=args.annotation_style)))
        if args.generate_hashes and not args.quiet:
            err += [f"warning: no hash known for {pin} (pip --require-hashes would refuse it)"
                    for pin in unhashed(resolution)]
    else:
        out.append("\n".join(table_lines(resolution)))
    code = EXIT_OK if resolution.ok else EXIT_UNSATISFIABLE
    return memo.Remembered("".join(f"{line}\n" for line in out),
                           "".join(f"{line}\n" for line in err), code)


def _printed_universal(args: argparse.Namespace,
                       universal: UniversalResolution) -> memo.Remembered:
    """`_printed` for ``--universal``: the pins with their markers, or where no plan exists
    and why."""
    from depsat.api import explain
    from depsat.report import universal_requirements_lines, universal_to_json

    fmt = _format(args)
    err: list[str] = []
    if not args.quiet and fmt != "json":
        for fork in (*universal.forks, *([universal.failed] if universal.failed else [])):
            err += [line for line in diagnostic_lines(fork.resolution) if line not in err]
    out: list[str] = []
    if fmt == "json":
        out.append(json.dumps(universal_to_json(universal), indent=2))
    elif universal.failed is not None:
        failed = universal.failed.resolution
        assert failed.failure is not None
        explanation = explain(failed)
        text = explanation.text() if explanation is not None else failed.failure.summary()
        where = (f"where {universal.failed.marker}" if universal.failed.marker
                 else "on any platform")
        err.append(f"depsat: no universal solution: none {where}.\n{text}")
    elif fmt == "requirements":
        emitted = getattr(args, "emitted", None)
        if emitted:
            out += [*emitted, ""]
        out += universal_requirements_lines(universal, hashes=args.generate_hashes,
                                            strip_extras=args.strip_extras,
                                            annotate=not args.no_annotate,
                                            omit=_names(args.no_emit_package)[0],
                                            origins=getattr(args, "origins", None),
                                            written=getattr(args, "written", None),
                                            annotation_style=args.annotation_style)
    else:
        width = max((len(p.candidate.name) for p in universal.pins), default=0)
        width = max(width, len("package"))
        out.append(f"{'package':<{width}}  {'version':<10}  where")
        out += [f"{p.candidate.name:<{width}}  {p.candidate.version!s:<10}  "
                f"{p.marker or 'everywhere'}" for p in universal.pins]
        out.append(f"({len(universal.merged)} forks, {universal.resolves} resolves)")
    code = EXIT_OK if universal.ok else EXIT_UNSATISFIABLE
    return memo.Remembered("".join(f"{line}\n" for line in out),
                           "".join(f"{line}\n" for line in err), code)


def _write_output(path: Path, text: str, argv: list[str], *, header: bool = True,
                  command: str | None = None) -> None:
    """`text` into `path` whole or not at all: written beside it, then renamed over it (a
    failed run, or one cut short, leaves the old file as it was); after a `header` naming
    the command (`command`, else ``depsat`` and `argv`)."""
    import shlex
    import tempfile

    top = ("# This file was autogenerated by depsat via the following command:\n"
           f"#    {command or 'depsat ' + shlex.join(argv)}\n") if header else ""
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(top + text)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as exc:
        raise ConfigurationError(f"cannot write the output file: {exc.strerror or exc}",
                                 str(path)) from exc


def run(args: argparse.Namespace) -> int:
    from depsat.sources.cache_store import default_cache_dir
    from depsat.sources.stamps import ReadLog

    if args.generate_hashes and _format(args) != "requirements":
        raise ConfigurationError("hashes are written in requirements output: add --format "
                                 "requirements", "--generate-hashes")
    if args.environment and not args.universal:
        raise ConfigurationError("--environment restricts a universal resolution: add "
                                 "--universal", "--environment")
    if args.universal and (args.python or args.layers or args.python_platform):
        raise ConfigurationError("a universal resolution is for every platform, not for "
                                 "one environment: drop --python, --layer and "
                                 "--python-platform", "--universal")
    read_log = ReadLog() if _memo_applies(args) else None
    input_files: dict[str, str | None] = {}
    began = time.time()
    if args.universal:
        universal = universal_from_args(args, read_log=read_log, input_files=input_files)
        printed = _printed_universal(args, universal)
        request = universal.request
    else:
        resolution = resolution_from_args(args, read_log=read_log, input_files=input_files)
        printed = _printed(args, resolution)
        request = resolution.universe.request
    sys.stderr.write(printed.stderr)
    sys.stdout.write(printed.stdout)
    if args.output_file and printed.code == EXIT_OK:
        _write_output(Path(args.output_file), printed.stdout, args.argv,
                      header=not args.no_header, command=args.custom_compile_command)
        input_files[os.path.abspath(args.output_file)] = memo.file_digest(args.output_file)
    # Not a run that read a file by URL: the memo's checks cover pages and local files, not
    # what a server sends for a file's URL next time, nor where a git branch stands.
    remote = any(r.url and not r.url.startswith("file:")
                 for r in (*request.requirements, *request.constraints, *request.overrides))
    if read_log is not None and not remote:
        cache_dir = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
        memo.remember(args.argv, cache_dir, printed, input_files=input_files,
                      read_log=read_log, made=began)
    return printed.code
