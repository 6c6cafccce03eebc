"""Why a plan has this package at this version, and what blocks a newer one (an older one
under ``--resolution lowest``).

"Who requires it" is the plan's reason chain. "Why not newer" is asked of the solver, not
guessed: the newer version is added as an assumption group; if everything still holds, the
newer version was possible and only the preferences ranked it lower; if not, the minimal
core with that assumption names exactly the rules that block it.
"""

from __future__ import annotations

import attrs
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from depsat.encoding import Encoding, prefers_oldest
from depsat.encoding.labels import requirement_text
from depsat.explain.analysis import Explanation, explain_encoding
from depsat.explain.facts import Hypothesis
from depsat.model import Candidate, Exclusion, PlanStep
from depsat.plan import Plan, decode_plan
from depsat.solver import Optimum, Problem, StratifiedRC2

__all__ = ["Blocker", "WhyReport", "why"]


@attrs.frozen(slots=True)
class Blocker:
    """A newer version and why it is not in the plan.

    `explanation` None: the version would work too; `preference` says why it lost.
    """

    version: Version
    explanation: Explanation | None
    preference: str = ""
    unread: tuple[Candidate, ...] = ()
    """Possible only if these releases, which the best plan with the version takes but a lazy
    read has not read, require nothing that conflicts (there they require nothing)."""
    refused_by: tuple[str, ...] = ()
    """When no requirement on the package allows this version, so that discovery, reading
    eagerly, never encoded it: the plan's requirements that refuse it, as sentences ("You
    require b==1.1."). (Whether a plan without them could take it is not asked.)"""


@attrs.frozen(slots=True)
class WhyReport:
    """The answer to `depsat why NAME`."""

    name: NormalizedName
    step: PlanStep | None
    newer: tuple[Blocker, ...] = ()
    """The versions the objective prefers to the one taken (newer ones; older ones when
    `prefers` is "oldest"), each with what kept it out."""
    excluded: tuple[Exclusion, ...] = ()
    """Preferred releases that discovery left out, with the reason."""
    prefers: str = "newest"
    """"newest", or "oldest" under an oldest-version tier (``--resolution lowest``)."""
    fallback: tuple[Version, ...] = ()
    """Newer prereleases that rank after every final release (`Project.fallback_rank`): a
    plan takes one only where no final release will do."""

    def text(self) -> str:
        from depsat.explain.render import why_text

        return why_text(self)


def _preferred_versions(encoding: Encoding, name: NormalizedName, chosen: Candidate,
                        limit: int, oldest: bool) -> list[Version]:
    """The best usable version the objective prefers to `chosen` and the one just past it
    (the two ends a person asks about), best first: newer ones, or older with `oldest`
    (a prerelease taken only as a fallback is never preferred to a final release)."""
    project = encoding.universe.projects.get(name)
    if project is None:
        return []
    cost = project.steps(chosen.key, oldest=oldest)
    better: dict[Version, int] = {}
    for candidate in project.candidates:
        steps = project.steps(candidate.key, oldest=oldest)
        if steps < cost and candidate.version != chosen.version:
            better[candidate.version] = min(steps, better.get(candidate.version, steps))
    ordered = sorted(better, key=better.__getitem__)
    if len(ordered) <= limit:
        return ordered
    return [*ordered[: limit - 1], ordered[-1]]


def _refusing(encoding: Encoding, plan: Plan, name: NormalizedName,
              version: Version) -> tuple[str, ...]:
    """The plan's requirements on `name` that `version` does not meet, as sentences: yours,
    and those of the releases (and extras) the plan installs."""
    universe = encoding.universe
    requirements = [*universe.root]
    for step in plan.steps:
        if step.candidate is not None:
            key = step.candidate.key
            requirements += universe.dependencies.get(key, ())
            for extra in step.extras:
                requirements += universe.extra_dependencies.get((key, extra), ())
    sentences = []
    for dependency in requirements:
        if dependency.name != name or any(m.version == version for m in dependency.matches):
            continue
        text = requirement_text(dependency.requirement)
        sentences.append(f"You require {text}." if dependency.parent is None
                         else f"{dependency.describe_parent()} requires {text}.")
    return tuple(dict.fromkeys(sentences))


_WHAT_A_TIER_KEEPS = {
    "fewest-removals": "it removes fewer installed packages",
    "unbroken": "it breaks fewer installed packages",
    "fewest-downgrades": "it downgrades fewer installed packages",
    "keep-installed": "it keeps what is installed (-U or -P NAME prefers newer versions)",
    "keep-locked": "it keeps the versions the output file pinned (-U or -P NAME frees them)",
    "newest-direct": "it has newer versions of what you require",
    "newest-required": "it has newer versions of what your requirements require",
    "newest-other": "it has newer versions overall",
    "oldest-direct": "it has older versions of what you require",
    "oldest-other": "it has older versions overall",
    "fewest-packages": "it installs fewer packages",
}
"""What the chosen plan does better, by the first tier in which the other plan costs more."""


def _trade_off(encoding: Encoding, plan: Plan,
               variables: list[int]) -> tuple[str, tuple[Candidate, ...]]:
    """What the best plan with the newer version gives up: re-optimise with it forced (the
    same lexicographic objectives) and name the packages whose choice changes; and the
    releases that plan takes unread (a lazy read's: they require nothing here, so the plan
    is real only if, read, they still fit)."""
    problem = Problem(hard=encoding.hard,
                      groups=[*(clauses for _, clauses in encoding.groups), [variables]],
                      tiers=[tier for _, tier in encoding.tiers], top=encoding.pool.top,
                      phases=encoding.phase_hints(),
                      implied=encoding.implied_softs())
    outcome = StratifiedRC2().solve(problem)
    if not isinstance(outcome, Optimum):  # pragma: no cover - a SAT check said it holds
        return "the preferences rank the chosen plan higher", ()
    forced = decode_plan(encoding, outcome.model, outcome.costs).costs
    losing = next((tier for tier, _ in encoding.tiers
                   if forced.get(tier, 0) > plan.costs.get(tier, 0)), None)
    reason = _WHAT_A_TIER_KEEPS.get(losing or "", "the preferences rank the chosen plan higher")
    before = {c.name: c.version for c in plan.chosen}
    taken = encoding.chosen(outcome.model)[0]
    after = {c.name: c.version for c in taken}
    unread = tuple(c for c in taken if c.key in encoding.universe.free)
    direct = encoding.universe.request.direct_names
    changes = [f"{name} {after[name]} instead of {before[name]}"
               for name in sorted(before.keys() & after.keys(), key=lambda n: (n not in direct, n))
               if before[name] != after[name] and variables
               and encoding.candidate_of[variables[0]].name != name]
    changes += [f"{name} {after[name]} in addition"
                for name in sorted(after.keys() - before.keys())]
    changes += [f"no {name}" for name in sorted(before.keys() - after.keys())]
    if not changes:
        return f"the chosen plan is preferred: {reason}", unread
    more = len(changes) - 3
    shown = changes[:3] + ([f"{more} other change{'s' if more > 1 else ''}"] if more > 0 else [])
    return "the best plan with it needs " + ", ".join(shown[:-1]) + (
        " and " if len(shown) > 1 else "") + shown[-1] + f", and the chosen plan is " \
        f"preferred: {reason}", unread


def why(encoding: Encoding, plan: Plan, package: str, *, budget_seconds: float = 5.0,
        limit: int = 2) -> WhyReport:
    """The reason chain of `package` in `plan`, and for up to `limit` versions the objective
    prefers (newer ones; older under an oldest-version tier) what blocks each (or which
    preference ranked the plan higher)."""
    name = canonicalize_name(package)
    step = plan.step(name)
    if step is None or step.candidate is None:
        return WhyReport(name, step)
    chosen = step.candidate.version
    oldest = prefers_oldest((tier for tier, _ in encoding.tiers), name,
                            encoding.universe.request)
    project = encoding.universe.projects.get(name)
    excluded = tuple(e for e in (project.exclusions if project else ())
                     if (e.candidate.version < chosen if oldest else e.candidate.version > chosen))
    blockers: list[Blocker] = []
    for version in _preferred_versions(encoding, name, step.candidate, limit, oldest):
        variables = [encoding.var_of[c.key] for c in (project.candidates if project else ())
                     if c.version == version and c.key in encoding.var_of]
        if not variables:  # (read eagerly, a version nothing allows is not encoded)
            blockers.append(Blocker(version, None,
                                    refused_by=_refusing(encoding, plan, name, version)))
            continue
        explanation = explain_encoding(
            encoding, budget_seconds=budget_seconds, fixes=False,
            hypotheses=[(Hypothesis(name, version), [variables])])
        preference, unread = ("", ()) if explanation is not None else _trade_off(
            encoding, plan, variables)
        blockers.append(Blocker(version, explanation, preference, unread))
    first = project.fallback_rank if project is not None and not oldest else None
    fallback = () if project is None or first is None else tuple(sorted(
        {c.version for c in project.candidates
         if project.ranks[c.key] >= first and c.version > chosen}, reverse=True))
    return WhyReport(name, step, tuple(blockers), excluded,
                     "oldest" if oldest else "newest", fallback)
