"""The library entry point: `resolve()` orchestrates discovery, encoding, solving and decoding.

    >>> from depsat.api import request_from_strings, resolve, target_for
    >>> from depsat.sources.universe_file import load_universe_file
    >>> world = load_universe_file("examples/web-app.toml")
    >>> result = resolve(request_from_strings(["webapp"]), [world.source], target_for(world))
    >>> result.plan.versions()["webapp"]
    '2.0.0'

Everything here is pure orchestration: sources do the I/O, the solver does the search.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from depsat.encoding import (
    DEFAULT_OBJECTIVES,
    Encoding,
    Label,
    LabelKind,
    Objective,
    encode,
    grow,
    pruning_safe,
)
from depsat.errors import InvalidRequirementError
from depsat.model import Candidate, CandidateKey, Diagnostic, PrereleaseMode, Request
from depsat.plan import Plan, decode_plan
from depsat.solver import Optimum, Problem, Refutation, SolverBackend, StratifiedRC2, Unfinished
from depsat.source_rules import SourceRules
from depsat.sources.base import Source
from depsat.sources.universe_file import UniverseFile
from depsat.target import Target
from depsat.universe import AdmitAll, Discovery, LoadedProjects, SourcePolicy, Universe

if TYPE_CHECKING:
    from depsat.explain import Explanation, Fix, WhyReport

__all__ = [
    "Explanation",
    "Failure",
    "LoadedProjects",
    "Resolution",
    "ResolveOptions",
    "collector_paused",
    "explain",
    "parse_requirement",
    "request_from_strings",
    "request_from_universe_file",
    "resolve",
    "target_for",
    "why",
]


def __getattr__(name: str) -> Any:
    """`Explanation`, from `depsat.explain`, imported on first use: a resolution that
    succeeds never needs the explanation machinery (15 ms of imports)."""
    if name == "Explanation":
        from depsat.explain import Explanation

        return Explanation
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_LAZY_ROUND_EFFORT = 5_000
"""SAT conflicts a lazy round may use by default: past them it gives up (`Unfinished`), every
free release of the projects reached is read (as after a round that finished past this), and
later rounds may use `_ESCALATION` times as many; one that gives up again ends the lazy
rounds: everything reachable is read and solved in one pruned round. A relaxation whose
thousands of free releases require nothing can be far harder for the solver than the full
problem: 3000 x 10 at conflict 0.2 took 77 s to solve over 14 rounds, eagerly 0.45 s, and
one round alone 44 s (200,000 conflicts). Ordinary rounds need 20-4,000 conflicts
(0.02-0.3 s); docs/architecture.md has the figures since. Conflicts, not seconds, so the
plan is the same on every machine."""


@attrs.frozen(slots=True)
class ResolveOptions:
    """The pluggable parts: objectives (in lexicographic order), backend, source policy."""

    objectives: Sequence[Objective] = DEFAULT_OBJECTIVES
    backend: SolverBackend = attrs.field(factory=StratifiedRC2)
    source_policy: SourcePolicy = attrs.field(factory=AdmitAll)
    prune: bool = True
    """Leave dominated releases out of the optimisation (same optimum, smaller problem)
    when every objective is `pruning_safe`; a failure is always explained from the full
    encoding."""
    lazy: bool | None = None
    """Read dependencies only for candidates a plan may pick, re-solving until the optimum
    uses nothing unread (exact). None: when some source's metadata costs I/O (indexes)."""
    lazy_round_effort: int | None = _LAZY_ROUND_EFFORT
    """SAT conflicts a lazy round may use before it gives up and every free release is read
    instead, and three times as many for the rounds after (`_LAZY_ROUND_EFFORT` says why);
    None: no limit. Changes how much is read and how fast, never the optimum's cost."""
    also_read: frozenset[tuple[NormalizedName, str]] = frozenset()
    """Releases (name, version) a lazy read reads as soon as their project is reached,
    whether a plan takes them or not (`why` asks for those its answers need): more is known,
    the optimum is the same."""


@attrs.frozen(slots=True)
class Failure:
    """No plan exists. `core` holds facts that cannot all hold (not necessarily minimal).

    `explain(resolution)` turns it into a minimal, merged, plain-English explanation with
    fixes; it is computed on demand because a minimal core costs more SAT calls.
    """

    core: tuple[Label, ...]

    @property
    def root_requirements(self) -> tuple[Requirement, ...]:
        return tuple(label.requirement for label in self.core
                     if label.kind is LabelKind.ROOT and label.requirement)

    def summary(self) -> str:
        roots = ", ".join(str(r) for r in self.root_requirements) or "the installed packages"
        facts = "; ".join(str(label) for label in self.core)
        return f"no solution: {roots} cannot be installed together ({facts})"


@attrs.frozen(slots=True)
class Resolution:
    """What `resolve` found: a plan or a failure, with the universe and phase timings."""

    universe: Universe
    encoding: Encoding
    plan: Plan | None
    failure: Failure | None
    timings: dict[str, float]
    sources: tuple[Source, ...] = attrs.field(default=(), eq=False, repr=False)
    options: ResolveOptions | None = attrs.field(default=None, eq=False, repr=False)
    """What was resolved from, so that fixes outside the clauses can be checked."""

    @property
    def ok(self) -> bool:
        return self.plan is not None

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """What the sources warned of, and each extra the plan asks of a release that lacks
        it (not every such release read: most are never chosen; a failure has no plan to
        warn about, and a missing extra only ever makes a release easier to take)."""
        if self.plan is None:
            return self.universe.diagnostics
        return self.universe.diagnostics + tuple(
            Diagnostic(f"{key.name} {key.version} does not provide the extra '{extra}'",
                       str(key.origin))
            for key, extra in self.plan.missing_extras)

    def explain(self, *, smallest: bool = False, budget_seconds: float = 5.0,
                ) -> Explanation | None:
        """`explain(self, ...)`: why there is no plan (None when there is one)."""
        return explain(self, smallest=smallest, budget_seconds=budget_seconds)


def explain(
    resolution: Resolution,
    *,
    smallest: bool = False,
    budget_seconds: float = 5.0,
) -> Explanation | None:
    """Why `resolution` has no plan: a minimal core as a chain of facts, and ranked fixes.

    `smallest` asks for a smallest core (PySAT's OptUx) rather than any minimal one (MUSX).
    When `budget_seconds` runs out the plain core is used and the explanation says it is not
    minimal. None when the resolution has a plan.
    """
    if resolution.ok:
        return None
    from depsat.explain import explain_encoding

    explanation = explain_encoding(resolution.encoding, smallest=smallest,
                                   budget_seconds=budget_seconds)
    if explanation is None:
        return None
    fixes: dict[str, Fix] = {}  # by text: a dropped requirement loosened may repeat one
    for fix in explanation.fixes:
        checked = _confirm(fix, resolution)
        if checked is not None:
            fixes.setdefault(checked.text, checked)
    loosened = {r for f in fixes.values() if f.confirmed and f.action == "loosen"
                for r in f.requirements}
    ranked = sorted((f for f in fixes.values()  # (an unchecked "loosen" a checked one says)
                     if f.confirmed or f.action != "loosen"
                     or not set(f.requirements) <= loosened),
                    key=lambda f: (f.cost, not f.confirmed))
    return attrs.evolve(explanation, fixes=tuple(ranked))


def _resolved_fix(fix: Fix, resolution: Resolution) -> Fix | None:
    """`fix` (a correction set's) as a resolve with it applied phrases it, naming the
    versions that plan takes; None when that resolve fails, or when the fix relaxes what a
    request cannot say."""
    request = _applied(fix, resolution)
    if request is None:
        return None
    options = resolution.options or ResolveOptions()
    retry = resolve(request, resolution.sources, resolution.universe.target, options)
    if retry.plan is None:
        return None
    from depsat.explain.fixes import correction_fix

    versions = {step.name: step.version for step in retry.plan.steps
                if step.version is not None}
    return correction_fix(resolution.encoding, fix.groups, fix.loosened, versions)


def _applied(fix: Fix, resolution: Resolution) -> Request | None:
    """The request with a correction set's fix applied (its root requirements loosened to any
    version or dropped, its constraints dropped); None when it relaxes anything else."""
    labels = [resolution.encoding.groups[i][0] for i in fix.groups]
    if any(label.kind not in (LabelKind.ROOT, LabelKind.CONSTRAINT)
           or label.requirement is None for label in labels):
        return None
    loosened = {id(resolution.encoding.groups[i][0].requirement) for i in fix.loosened}
    relaxed = {id(label.requirement) for label in labels}
    request = resolution.universe.request
    requirements: list[Requirement] = []
    for requirement in request.requirements:
        if id(requirement) in loosened:
            any_version = Requirement(str(requirement))
            any_version.specifier = SpecifierSet()
            requirements.append(any_version)
        elif id(requirement) not in relaxed:
            requirements.append(requirement)
    return attrs.evolve(request, requirements=tuple(requirements),
                        constraints=tuple(c for c in request.constraints
                                          if id(c) not in relaxed))


def _relaxed(fix: Fix, resolution: Resolution) -> tuple[Request, ResolveOptions] | None:
    """The request and options with `fix` applied, for fixes the clauses cannot check."""
    request = resolution.universe.request
    options = resolution.options or ResolveOptions()
    names = {canonicalize_name(p) for p in fix.packages}
    if fix.action == "pin-index" and isinstance(options.source_policy, SourceRules):
        index = fix.text.rsplit("=", 1)[-1]
        pins = {**options.source_policy.pins, **dict.fromkeys(names, index)}
        return request, attrs.evolve(
            options, source_policy=attrs.evolve(options.source_policy, pins=pins))
    if fix.action == "allow-prerelease":
        return attrs.evolve(request, prerelease=PrereleaseMode.ALLOW), options
    if fix.action == "allow-yanked" and fix.requirements:
        exact = tuple(parse_requirement(r) for r in fix.requirements)
        return attrs.evolve(request, requirements=(*request.requirements, *exact)), options
    if fix.action == "allow-wheels":
        return attrs.evolve(request, no_binary=request.no_binary - names,
                            no_binary_all=False), options
    if fix.action == "allow-build":
        return attrs.evolve(request, only_binary=request.only_binary - names,
                            only_binary_all=False), options
    return None


def _confirm(fix: Fix, resolution: Resolution) -> Fix | None:
    """Check a hint read from exclusions by resolving again with it applied (a check of one
    change, not a search): discovery has to read releases it had excluded.

    A correction set checked on the clauses is checked so too. On a lazy read the releases
    not read yet require nothing there, so "requests 2.26.0 would work" could be said of a
    release that, read, requires what fails again; and a requirement loosened to any
    version no longer names a prerelease, so the prereleases it let in rank after the final
    releases again (or are out, under "explicit").
    Resolved with the change, the fix names the version the plan then takes; None when the
    change is not enough (a fix that does not fix is not offered)."""
    if not resolution.sources:
        return fix
    if fix.confirmed:
        if _applied(fix, resolution) is None:
            return fix  # (it relaxes what a request cannot say: the clauses' check stands)
        # A requirement the fix drops is tried loosened first ("any version of it" keeps
        # what you asked for): read eagerly, the versions it left out were never read, so
        # the clauses could only say "drop".
        droppable = tuple(i for i in fix.groups if i not in fix.loosened
                          and (label := resolution.encoding.groups[i][0]).kind is LabelKind.ROOT
                          and label.requirement is not None and str(label.requirement.specifier))
        tries = [fix.loosened + droppable, fix.loosened] if droppable else [fix.loosened]
        for loosened in tries:
            checked = _resolved_fix(attrs.evolve(fix, loosened=loosened), resolution)
            if checked is not None:
                return attrs.evolve(checked, note=fix.note)
        return None
    relaxed = _relaxed(fix, resolution)
    if relaxed is None:
        return fix
    request, options = relaxed
    retry = resolve(request, resolution.sources, resolution.universe.target, options)
    if not retry.ok:
        return attrs.evolve(fix, note="checked: not enough on its own")
    return attrs.evolve(fix, confirmed=True, note="")


def why(resolution: Resolution, package: str, *, budget_seconds: float = 5.0) -> WhyReport:
    """Why `package` is in the plan at its version: who requires it, and which rules block
    each newer version (or that only the preferences did)."""
    if resolution.plan is None:
        raise ValueError("why() needs a resolution with a plan; use explain() for a failure")
    from depsat.explain import why as why_in_plan

    options = resolution.options or ResolveOptions()
    report = why_in_plan(_unpruned(resolution.encoding, options), resolution.plan, package,
                         budget_seconds=budget_seconds)
    # Read lazily, the best plan with a newer version may take releases not read yet (there
    # they require nothing): resolve again reading them too, and ask again, a few times.
    for _ in range(_WHY_READS):
        unread = {(c.name, str(c.version)) for blocker in report.newer for c in blocker.unread}
        if not unread or not resolution.sources:
            break
        options = attrs.evolve(options, also_read=options.also_read | unread)
        again = resolve(resolution.universe.request, resolution.sources,
                        resolution.universe.target, options)
        if again.plan is None:  # pragma: no cover - reading more never loses the plan
            break
        report = why_in_plan(_unpruned(again.encoding, options), again.plan, package,
                             budget_seconds=budget_seconds)
    return report


def _unpruned(encoding: Encoding, options: ResolveOptions) -> Encoding:
    """`encoding`, or when version pruning left releases out, the same universe encoded
    with every release: a release `why` asks about may be one a better one dominates (a 1.0
    beside a 1.1 that requires the same, both better than a prerelease taken as the
    fallback), and its blocker is read from its clauses."""
    if not encoding.pruned:
        return encoding
    return encode(encoding.universe, options.objectives, prune=False)


_WHY_READS = 3
"""Times `why` resolves again to read what its answers took unread."""


def parse_requirement(text: str) -> Requirement:
    """A PEP 508 requirement, or an error that names it. As pip and uv take them, a wheel's
    or an sdist's path or URL is a direct reference to that file (named by its filename), a
    project directory's path one to that project (named by its pyproject.toml), a bare
    ``git+URL#egg=NAME`` one to that project's repository, and a relative path, alone or
    after ``name @``, is from the current directory."""
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        reference = _path_reference(text) or _vcs_reference(text)
        if reference is not None:
            return reference
        if any(mark in text for mark in ("/", "\\")):
            raise InvalidRequirementError(
                f"{text!r} is a path or a URL, but neither a wheel's or an sdist's, a "
                "project directory's nor a git repository's", text) from exc
        first_line = str(exc).splitlines()[0] if str(exc) else "not PEP 508"
        raise InvalidRequirementError(f"invalid requirement {text!r}: {first_line}",
                                      text) from exc
    if requirement.url and len(urlsplit(requirement.url).scheme) < 2:
        requirement.url = _as_url(requirement.url)  # (``name @ ./dist/x.whl``)
    return requirement


def _as_url(location: str) -> str:
    """`location` if it is a URL, else the ``file:`` URL of the path (a drive letter is not
    a scheme)."""
    if len(urlsplit(location).scheme) > 1:
        return location
    return Path(location).resolve().as_uri()


def _path_reference(text: str) -> Requirement | None:
    """``name[extras] @ URL`` for a distribution file's path or URL, or a project
    directory's path (``.[dev]``); markers after ``;`` kept. None when it is neither."""
    import re

    from depsat.sources.distfiles import DistFileError, UnsupportedDistFile, parse_dist_filename

    location, semicolon, marker = text.partition(";")
    location = location.strip()
    extras = ""
    split = re.fullmatch(r"(.+?)(\[[^\]]*\])", location)
    if split:
        location, extras = split.group(1), split.group(2)
    suffix = f" ; {marker.strip()}" if semicolon else ""
    if not location or " " in location:
        return None
    if "://" not in location and Path(location).is_dir():
        name = _project_name(Path(location), text)
        url = Path(location).resolve().as_uri()
    elif location.lower().endswith((".whl", ".tar.gz", ".zip")):
        url = _as_url(location)
        try:
            name = parse_dist_filename(url.rsplit("/", 1)[-1]).name
        except (DistFileError, UnsupportedDistFile):
            return None
    else:
        return None
    try:
        return Requirement(f"{name}{extras} @ {url}{suffix}")
    except InvalidRequirement:
        return None


def _vcs_reference(text: str) -> Requirement | None:
    """``NAME @ URL`` for a bare VCS URL that names its project as pip reads it
    (``git+https://host/repo@v1#egg=NAME``); None when `text` is no VCS URL. Without
    ``#egg=``, only the checkout's metadata could say the name: an error asks for it."""
    from depsat.sources.vcs import egg_name, is_vcs_url

    url, semicolon, marker = text.partition(" ;")
    url = url.strip()
    if not is_vcs_url(url) or " " in url:
        return None
    name = egg_name(url)
    if name is None:
        raise InvalidRequirementError(
            f"{text!r} does not say which project it is: write NAME @ {url} (or add "
            "#egg=NAME, as pip reads it)", text)
    try:
        return Requirement(f"{name} @ {url}{' ;' + marker if semicolon else ''}")
    except InvalidRequirement:
        return None


def _project_name(directory: Path, text: str) -> str:
    """The ``[project] name`` of the pyproject.toml in `directory`."""
    from depsat._toml import tomllib

    try:
        data = tomllib.loads((directory / "pyproject.toml").read_text(encoding="utf-8"))
        name = data["project"]["name"]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError):
        name = None
    if not isinstance(name, str):
        raise InvalidRequirementError(
            f"{text!r} is a directory without a pyproject.toml that names its [project]: "
            "only its build could tell what it is, and depsat builds no project", text)
    return name


def request_from_strings(
    requirements: Iterable[str],
    *,
    constraints: Iterable[str] = (),
    prerelease: PrereleaseMode = PrereleaseMode.IF_NECESSARY_OR_EXPLICIT,
) -> Request:
    return Request(
        requirements=tuple(parse_requirement(r) for r in requirements),
        constraints=tuple(parse_requirement(c) for c in constraints),
        prerelease=prerelease,
    )


def request_from_universe_file(
    world: UniverseFile, requirements: Iterable[str] = (),
    prerelease: PrereleaseMode | None = None,
) -> Request:
    """The universe file's root requirements (or the given ones) with its resolver options."""
    reqs = tuple(parse_requirement(r) for r in requirements) or world.root_requires
    mode = prerelease or (PrereleaseMode.ALLOW if world.prereleases
                          else PrereleaseMode.IF_NECESSARY_OR_EXPLICIT)
    return Request(
        requirements=reqs,
        prerelease=mode,
        no_binary=world.no_binary,
        only_binary=world.no_build,
    )


def target_for(world: UniverseFile) -> Target:
    """The target a universe file describes (its Python and platform), else the running one."""
    if world.python is None and world.python_platform is None:
        return Target.current()
    python = world.python or ".".join(map(str, Target.current().python_version.release[:2]))
    return Target.for_python(python, platform=world.python_platform)


def _encode_and_solve(universe: Universe, options: ResolveOptions, timings: dict[str, float],
                      prune: bool, previous: Encoding | None = None, reuse: object = None,
                      effort_limit: int | None = None,
                      ) -> tuple[Encoding, Optimum | Refutation | Unfinished]:
    """Encode (or grow `previous`, a lazy round's encoding, to `universe`) and solve; `reuse`
    is what the backend reported for the previous round (`Optimum.reusable`); `Unfinished`
    only with an `effort_limit`."""
    start = time.perf_counter()
    if previous is None:
        encoding = encode(universe, options.objectives, prune=prune)
    else:
        encoding = grow(previous, universe, options.objectives)
    problem = Problem(
        hard=encoding.hard,
        groups=[clauses for _, clauses in encoding.groups],
        tiers=[tier for _, tier in encoding.tiers],
        top=encoding.pool.top,
        phases=encoding.phase_hints(),
        implied=encoding.implied_softs(),
        preferences=encoding.preferences(),
        # A model taking an unread release starts another lazy round, not an answer.
        provisional=[var for key in universe.free
                     if (var := encoding.var_of.get(key)) is not None],
        reuse=reuse,
        effort_limit=effort_limit,
    )
    timings["encoding"] += time.perf_counter() - start
    start = time.perf_counter()
    outcome = options.backend.solve(problem)
    timings["solving"] += time.perf_counter() - start
    return encoding, outcome


_SIBLINGS = 8
"""Free releases on each side of a release the optimum took that a lazy round reads too, the
first time it takes one of that project; each later time, twice as many as the last.

Eight rather than four (session 11): on 15 generated universes (1000 and 3000 packages, 10
and 20 versions, conflict 0 and 0.2, seeds 1-3) 99,000 releases read in 134 rounds instead
of 121,000 in 169, since fewer runs reached `lazy_round_effort` and read every free release.
Cold over HTTP, 1000 x 20 at 0.2 went 5.1-5.9 s -> 2.1-2.3 s; one universe read more (3000 x
20 at 0.2, seed 1: 16,195 -> 21,100). Six, twelve and sixteen were worse overall."""


def _siblings(universe: Universe, picked: Sequence[Candidate], taken: set[CandidateKey],
              windows: dict[NormalizedName, int]) -> list[Candidate]:
    """The free releases next to the picked ones (in each project's best-first order).

    A project whose free releases keep being taken (its newest ones keep failing) gets a
    window twice as wide each round: 100 failing releases take 6 rounds instead of 21."""
    siblings: dict[CandidateKey, Candidate] = {}
    widened: dict[NormalizedName, int] = {}
    for candidate in picked:
        width = windows.get(candidate.name, _SIBLINGS)
        widened[candidate.name] = width * 2
        releases = universe.projects[candidate.name].candidates
        at = next(i for i, c in enumerate(releases) if c.key == candidate.key)
        for sibling in releases[max(0, at - width):at + width + 1]:
            if sibling.key in universe.free and sibling.key not in taken:
                siblings.setdefault(sibling.key, sibling)
    windows.update(widened)
    return list(siblings.values())


_ESCALATION = 3
"""After a lazy round gives up and every free release is read, the next rounds may use this
many times `ResolveOptions.lazy_round_effort`; past that, discovery reads everything and one
pruned round ends the resolve. Rounds after the first give-up needed 430-6,100 conflicts on
seven generated universes, but 3000 x 20 at conflict 0.2 with seed 2 needed 40,000 and then
82,000 (12 s and 26 s, in all 42 s, while the eager resolve took 4.5 s), since the reads reach
new projects whose releases are all free."""


def _escalated(limit: int | None) -> int | None:
    return None if limit is None else limit * _ESCALATION


def _run(discovery: Discovery, also_read: frozenset[tuple[NormalizedName, str]]) -> Universe:
    """`Discovery.run`, and the `also_read` releases of the projects it reached, until none
    is left unread: a project first reached by this run has its asked releases read now, not
    never (when this run's round turns out to be the last)."""
    universe = discovery.run()
    while wanted := _also_read(universe, also_read):
        discovery.expand(wanted, speculative=True)
        universe = discovery.run()
    return universe


def _also_read(universe: Universe,
               wanted: frozenset[tuple[NormalizedName, str]]) -> list[Candidate]:
    """The free releases of the projects reached that `ResolveOptions.also_read` names (read
    as soon as their project is: a project reached in a later round, in that round)."""
    if not wanted:
        return []
    return [c for project in universe.projects.values() for c in project.candidates
            if (c.name, str(c.version)) in wanted and c.key in universe.free]


def _all_free(universe: Universe, taken: set[CandidateKey]) -> list[Candidate]:
    """Every free release of the projects reached (read speculatively: each one's
    dependencies' projects are loaded, their releases left free)."""
    return [candidate for project in universe.projects.values()
            for candidate in project.candidates
            if candidate.key in universe.free and candidate.key not in taken]


def resolve(
    request: Request,
    sources: Iterable[Source],
    target: Target | None = None,
    options: ResolveOptions | None = None,
    *,
    loaded: LoadedProjects | None = None,
) -> Resolution:
    """Find the best plan for `request` from `sources`, or the facts that rule every plan out.

    Several resolves of one request over the same sources (one per platform or Python, as a
    universal lock makes) may share `loaded` (`LoadedProjects`): each project's releases are
    then filtered, ranked and matched once per Python instead of once per resolve."""
    with collector_paused():
        return _resolve(request, sources, target, options, loaded)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while resolving, and restore it after.

    Discovery and encoding allocate about a million long-lived objects and hardly any
    cycles; each generational pass rescans them and frees nothing (one full pass took
    0.6-0.7 s at 3000 x 20). Reference counting still frees everything else at once.

    `resolve` pauses it itself. The objects allocated during a pause all wait in the youngest
    generation, and the first passes after it would scan them all, twice on their way to the
    oldest generation (0.18-0.20 s after a resolve at 3000 x 20, and the caller's own young
    collections slower after it). What outlives the pause is the `Resolution`, long-lived by
    nature, so the pause ends by moving every tracked object straight to the oldest generation
    (`gc.freeze` then `gc.unfreeze`, as documented; not when the program has frozen objects
    of its own): 0.02 s. A resolve leaves about 330 objects of cyclic garbage there, which
    the next full pass frees. A program that goes on working with the `Resolution`
    (rendering, explaining) and then exits can hold the pause longer (the CLI does)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _resolve(request: Request, sources: Iterable[Source], target: Target | None,
             options: ResolveOptions | None, loaded: LoadedProjects | None) -> Resolution:
    options = options or ResolveOptions()
    target = target or Target.current()
    sources = list(sources)
    lazy = options.lazy if options.lazy is not None else any(
        getattr(s, "lazy_metadata", False) for s in sources)
    timings = {"discovery": 0.0, "encoding": 0.0, "solving": 0.0}
    start = time.perf_counter()
    discovery = Discovery(request, sources, target, source_policy=options.source_policy,
                          lazy=lazy, loaded=loaded)
    universe = _run(discovery, options.also_read if lazy else frozenset())
    timings["discovery"] += time.perf_counter() - start
    rounds = 0
    # Lazy rounds grow one encoding instead of encoding everything again; pruning is left
    # out there, since a release dominated now may not be once more requirements are read.
    # Pruning keeps the optimum only under objectives that say so (not "oldest").
    can_prune = options.prune and pruning_safe(options.objectives)
    prune = can_prune and not lazy
    previous: Encoding | None = None
    windows: dict[NormalizedName, int] = {}  # per project, for `_siblings`
    reuse: object = None  # what the backend can reuse from the last round
    limit = options.lazy_round_effort if lazy else None  # this round's (`_LAZY_ROUND_EFFORT`)
    escalated = False  # whether a round gave up, or needed more than the limit, already
    while True:
        rounds += 1
        encoding, outcome = _encode_and_solve(
            universe, options, timings, prune, previous, reuse,
            limit if universe.free else None)
        previous = None if prune else encoding  # (a pruned encoding cannot grow)
        if not isinstance(outcome, Unfinished):  # (else the last finished round's cores)
            reuse = outcome.reusable if isinstance(outcome, Optimum) else None
        if isinstance(outcome, Unfinished):
            start = time.perf_counter()
            if not escalated:
                # The relaxation ran away: read every free release, and solve again with a
                # higher limit (the next relaxation has few free releases, or the reads go on).
                discovery.expand(_all_free(universe, set()), speculative=True)
                escalated, limit = True, _escalated(limit)
            else:
                # It ran away again, past the higher limit (`_ESCALATION` has the figures):
                # read everything reachable, as an eager resolve does, and solve once, pruned,
                # to the end. (The lazy rounds' cores name variables of another encoding.)
                discovery = Discovery(request, sources, target,
                                      source_policy=options.source_policy, lazy=False)
                prune, previous, reuse, limit = can_prune, None, None, None
            universe = _run(discovery, options.also_read)
            timings["discovery"] += time.perf_counter() - start
            continue
        if isinstance(outcome, Refutation) and encoding.pruned:
            # Cores of a pruned encoding are not facts about the full problem.
            encoding, outcome = _encode_and_solve(universe, options, timings, False)
        if isinstance(outcome, Unfinished):  # (only a solve with a limit gives up)
            raise AssertionError("an unlimited solve gave up")
        if isinstance(outcome, Refutation):
            # Free candidates only relax the problem: no plan here means none at all.
            core = tuple(encoding.groups[i][0] for i in outcome.core)
            timings["rounds"] = rounds
            return Resolution(universe, encoding, None, Failure(core), timings,
                              tuple(sources), options)
        chosen, _ = encoding.chosen(outcome.model)
        unread = [c for c in chosen if c.key in universe.free]
        if not unread:
            # Optimal for the relaxation and uses nothing unread, so optimal for the whole
            # problem: every full plan is also a plan of the relaxation, costing no less.
            # It is also the tie-break's pick among the whole problem's optimal plans (the
            # plan a warm or an eager run answers): any of those, with the projects not
            # reached here left out, is an optimal plan of the relaxation, and no worse by
            # the tie-break ("not installed" comes first); so the relaxation's best, being
            # one of the whole problem's optimal plans, is their best too.
            plan = decode_plan(encoding, outcome.model, outcome.costs)
            timings["rounds"] = rounds
            return Resolution(universe, encoding, plan, None, timings, tuple(sources),
                              options)
        start = time.perf_counter()
        # Read the free releases the optimum took, and the free releases next to them
        # (`_siblings`): the next round often wants a neighbour, and reading it now saves
        # that round (all of a project's releases would be unbounded for projects with
        # hundreds). Only the releases taken lead on to their dependencies'
        # best releases; their siblings are read speculatively, so their dependencies'
        # pages are read but not their releases (docs/architecture.md has the figures).
        picked = sorted(unread, key=lambda c: (c.name, c.version))
        taken = {c.key for c in picked}
        discovery.expand(picked)
        discovery.expand(_siblings(universe, picked, taken, windows), speculative=True)
        if options.lazy_round_effort is not None and outcome.effort > options.lazy_round_effort:
            # Finished, but past the limit: the next relaxations would be as hard.
            discovery.expand(_all_free(universe, taken), speculative=True)
            if not escalated:
                escalated, limit = True, _escalated(limit)
        universe = _run(discovery, options.also_read)
        timings["discovery"] += time.perf_counter() - start
