"""An independent checker for plans: no SAT, no encoding, only the candidates' own metadata.

Tests run it on every answer the solver gives, so a wrong encoding cannot hide behind a
wrong decoder: markers are re-evaluated here from the raw requirements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from depsat.model import DIRECT, Candidate
from depsat.source_rules import IndexStrategy, SourceRules
from depsat.universe import Universe

__all__ = ["policy_problem", "verify"]


def _holds(requirement: Requirement, environment: dict[str, str], extra: str) -> bool:
    if requirement.marker is None:
        return True
    return requirement.marker.evaluate({**environment, "extra": extra})


def policy_problem(candidate: Candidate, rules: SourceRules,
                   offered: Mapping[str, Iterable[Candidate]]) -> str | None:
    """Re-check one candidate against the index rules, from what each index offers."""
    origin = candidate.origin.name
    pin = rules.pins.get(candidate.name)
    if candidate.installed is not None or (origin not in rules.indexes
                                           and origin not in rules.explicit):
        if pin is not None and origin != pin and candidate.installed is None:
            return f"{candidate} is from {origin}, but {candidate.name} is pinned to {pin}"
        return None
    if pin is not None:
        return None if origin == pin else f"{candidate} is not from {pin}, its pinned index"
    if origin in rules.explicit:
        return f"{candidate} is from explicit index {origin} without a pin"
    if rules.strategy_for(candidate.name) is IndexStrategy.FIRST_INDEX:
        first = next((index for index in rules.indexes
                      if index not in rules.explicit and any(
                          c.name == candidate.name for c in offered.get(index, ()))), None)
        if origin != first:
            return f"{candidate} is from {origin}, but the first index with it is {first}"
    return None


def verify(
    universe: Universe,
    chosen: Iterable[Candidate],
    extras: Mapping[NormalizedName, Iterable[str]] | None = None,
    *,
    rules: SourceRules | None = None,
    offered: Mapping[str, Iterable[Candidate]] | None = None,
) -> list[str]:
    """Every way the chosen set fails the request; an empty list means the plan is valid.

    With `rules` (and `offered`: every candidate each index has, by index name), each chosen
    candidate is also checked against pins, explicit indexes and the index strategy.
    """
    extras = extras or {}
    problems: list[str] = []
    environment = dict(universe.target.markers)
    by_name: dict[NormalizedName, Candidate] = {}
    for candidate in chosen:
        if candidate.name in by_name:
            problems.append(f"two versions of {candidate.name}: "
                            f"{by_name[candidate.name].version} and {candidate.version}")
        by_name[candidate.name] = candidate
    chosen_extras = {name: {canonicalize_name(e) for e in values}
                     for name, values in extras.items()}
    # uv's overrides, read here again: a requirement on an overridden package is replaced
    # whole (its marker and extras too) by the package's overrides whose markers hold, each
    # to be met, and is dropped when none does; an extra's requirement stays its extra's.
    overridden = {canonicalize_name(o.name) for o in universe.request.overrides}
    overrides: dict[NormalizedName, list[Requirement]] = {}
    for override in universe.request.overrides:
        if override.marker is None or override.marker.evaluate(environment):
            overrides.setdefault(canonicalize_name(override.name), []).append(override)

    def applies(requirement: Requirement, extra: str) -> list[Requirement]:
        """What `requirement` asks here of the base (`extra` "") or of `extra`: itself, or
        the overrides that replace it (each must hold), or nothing."""
        name = canonicalize_name(requirement.name)
        in_extra = requirement.marker is not None and "extra" in str(requirement.marker)
        if name in overridden and not in_extra:
            return overrides.get(name, []) if not extra else []
        if not _holds(requirement, environment, extra):
            return []
        if extra and _holds(requirement, environment, ""):
            return []  # a base requirement, checked with the base
        return overrides.get(name, []) if name in overridden else [requirement]

    def satisfied(requirement: Requirement, shown: Requirement) -> str | None:
        name = canonicalize_name(requirement.name)
        candidate = by_name.get(name)
        if candidate is None:
            return f"{shown} is not installed"
        wanted = requirement
        requirement = shown
        if wanted.url and not _from(candidate, wanted.url, universe):
            return (f"{requirement} is not met by {candidate.version} from {candidate.origin}, "
                    "another file")
        if not wanted.url and not wanted.specifier.contains(candidate.version,
                                                            prereleases=True):
            return f"{requirement} is not met by {candidate.version}"
        for extra in wanted.extras:
            extra = canonicalize_name(extra)
            if extra in candidate.provides_extras and extra not in chosen_extras.get(name, ()):
                return f"{requirement} needs extra {extra} of {name}, which is not installed"
        return None

    for requirement in universe.request.requirements:
        for applied in applies(requirement, ""):
            why = satisfied(applied, requirement)
            if why:
                problems.append(f"your requirement {why}")
    for constraint in universe.request.constraints:
        found = by_name.get(canonicalize_name(constraint.name))
        if not _holds(constraint, environment, ""):
            continue  # (a constraint applies where its marker holds)
        if found and not (_from(found, constraint.url, universe) if constraint.url else
                          constraint.specifier.contains(found.version, prereleases=True)):
            problems.append(f"constraint {constraint} is not met by {found.version} from "
                            f"{found.origin}")
    for name, installed in universe.installed.items():
        if installed.installed and installed.installed.read_only and name not in by_name:
            problems.append(f"{installed} is in the read-only {installed.installed.layer} layer "
                            "but the plan removes it")
    if rules is not None:
        for candidate in by_name.values():
            why = policy_problem(candidate, rules, offered or {})
            if why:
                problems.append(why)
    python = universe.target.python_version
    may_break = universe.request.allow_breaking
    for name, candidate in by_name.items():
        project = universe.projects.get(name)
        if project is None or candidate not in project.candidates:
            problems.append(f"{candidate} is not a usable candidate (filtered out or unknown)")
        if candidate.installed is None and candidate.requires_python is not None:
            bounds = [spec for spec in candidate.requires_python
                      if universe.request.python_upper_bounds or spec.operator not in ("<", "<=")]
            if not all(spec.contains(python, prereleases=True) for spec in bounds):
                problems.append(f"{candidate} requires Python {candidate.requires_python}")
        for extra in ("", *sorted(chosen_extras.get(name, ()))):
            for requirement in () if universe.request.no_deps else candidate.requires:
                for applied in applies(requirement, extra):
                    why = satisfied(applied, requirement)
                    if why and not (may_break and candidate.installed is not None):
                        problems.append(f"{candidate}{f'[{extra}]' if extra else ''}: {why}")
    return problems


def _from(candidate: Candidate, url: str, universe: Universe) -> bool:
    """The file a direct reference names, checked here again (not `depsat.universe`'s):
    its own origin, or the distribution installed from that URL (PEP 610); for a git
    reference, also what was installed from the commit its checkout stood at (the
    reference's `DIRECT` candidates are shown as ``git+URL@<commit>``)."""
    if candidate.origin.kind == DIRECT and candidate.origin.location == url:
        return True
    installed = candidate.installed
    if installed is None or installed.direct_url is None:
        return False
    if installed.direct_url == url:
        return True
    project = universe.projects.get(candidate.name)
    if project is None or not url.startswith("git+"):
        return False
    commits = {_git_commit(c.origin.name) for c in project.candidates
               if c.origin.kind == DIRECT and c.origin.location == url}
    return _git_commit(installed.direct_url) in commits - {None}


def _git_commit(url: str) -> tuple[str, str, str] | None:
    """(host and path, commit, fragment's subdirectory) of ``git+SCHEME://HOST/PATH@<commit>``
    (no credentials), else None."""
    parts = urlsplit(url.removeprefix("git+"))
    path, at, commit = parts.path.rpartition("@")
    if not at or len(commit) != 40 or not all(ch in "0123456789abcdefABCDEF" for ch in commit):
        return None
    subdirectory = next((item.partition("=")[2].strip("/") for item in parts.fragment.split("&")
                         if item.startswith("subdirectory=")), "")
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}:{parts.port or ''}{path.rstrip('/')}", commit.lower(), \
        subdirectory
