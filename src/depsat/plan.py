"""Reading a model back: which candidates, which action for each package, and why."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence

import attrs
from packaging.utils import NormalizedName

from depsat.encoding import Encoding
from depsat.encoding.labels import requirement_text
from depsat.model import Action, Candidate, CandidateKey, PlanStep, Reason
from depsat.universe import Dependency, Universe

__all__ = ["Plan", "decode_plan", "missing_extras", "reason_chains"]


@attrs.frozen(slots=True)
class Plan:
    """The chosen candidates and what to do for each package, sorted by name."""

    steps: tuple[PlanStep, ...]
    costs: Mapping[str, int] = attrs.field(factory=dict)
    """Cost reached in each objective tier, by objective name."""
    broken: tuple[str, ...] = ()
    """Installed packages' requirements the plan breaks (only with ``allow_breaking``)."""
    missing_extras: tuple[tuple[CandidateKey, NormalizedName], ...] = ()
    """Extras the plan's requirements ask of a chosen release that does not provide them: it
    is installed without them, as pip and uv do, and they warn about it."""

    @property
    def chosen(self) -> tuple[Candidate, ...]:
        return tuple(s.candidate for s in self.steps
                     if s.candidate is not None and s.action is not Action.REMOVE)

    def step(self, name: str) -> PlanStep | None:
        return next((s for s in self.steps if s.name == name), None)

    def versions(self) -> dict[str, str]:
        return {str(c.name): str(c.version) for c in self.chosen}


def reason_chains(
    universe: Universe,
    chosen: Sequence[Candidate],
    extras: Mapping[CandidateKey, set[NormalizedName]],
) -> dict[NormalizedName, tuple[Reason, ...]]:
    """For each chosen package, the shortest requirement chain from the user's request."""
    by_name = {c.name: c for c in chosen}
    chains: dict[NormalizedName, tuple[Reason, ...]] = {}
    queue: deque[tuple[Dependency, tuple[Reason, ...]]] = deque(
        (dep, ()) for dep in universe.root)
    while queue:
        dependency, before = queue.popleft()
        candidate = by_name.get(dependency.name)
        if candidate is None or dependency.name in chains:
            continue
        if all(m.key != candidate.key for m in dependency.matches):
            continue  # (keys: lazy discovery lists a release before reading its metadata)
        chain = (*before, Reason(requirement_text(dependency.requirement),
                                 None if dependency.parent is None
                                 else dependency.describe_parent()))
        chains[dependency.name] = chain
        queue.extend((dep, chain) for dep in _requirements_of(universe, candidate, extras))
    return chains


def _requirements_of(universe: Universe, candidate: Candidate,
                     extras: Mapping[CandidateKey, set[NormalizedName]]) -> list[Dependency]:
    """What a chosen release requires: its base requirements, then its chosen extras'."""
    found: list[Dependency] = list(universe.dependencies.get(candidate.key, ()))
    for extra in sorted(extras.get(candidate.key, ())):
        found.extend(universe.extra_dependencies.get((candidate.key, extra), ()))
    return found


def missing_extras(
    universe: Universe,
    chosen: Sequence[Candidate],
    extras: Mapping[CandidateKey, set[NormalizedName]],
) -> tuple[tuple[CandidateKey, NormalizedName], ...]:
    """The (release, extra) pairs that a requirement in force asks of a chosen release lacking
    the extra. Discovery notes every release it read without an asked-for extra, most of them
    never chosen; only these are worth a warning."""
    by_name = {c.name: c for c in chosen}
    in_force: list[Dependency] = list(universe.root)
    for candidate in chosen:
        in_force.extend(_requirements_of(universe, candidate, extras))
    found = {(target.key, extra) for dependency in in_force if dependency.extras
             and (target := by_name.get(dependency.name)) is not None
             for extra in dependency.extras if (target.key, extra) in universe.missing_extras}
    return tuple(sorted(found, key=str))


def _action(candidate: Candidate, previous: Candidate | None) -> tuple[Action, str]:
    if previous is None:
        return Action.INSTALL, ""
    if candidate.key == previous.key:
        return Action.KEEP, "already installed"
    assert previous.installed is not None
    if previous.installed.read_only and candidate.installed is None:
        return Action.SHADOW, (f"replaces {previous.version} from the {previous.installed.layer}"
                               " layer, which is read-only")
    if candidate.version > previous.version:
        return Action.UPGRADE, f"replaces {previous.version}"
    if candidate.version < previous.version:
        return Action.DOWNGRADE, f"replaces {previous.version}"
    return Action.INSTALL, f"reinstalls {previous.version} from {candidate.origin}"


def decode_plan(
    encoding: Encoding,
    model: Iterable[int],
    costs: Sequence[int] = (),
) -> Plan:
    """Map a model to a plan: one step per chosen package and per installed package removed."""
    universe = encoding.universe
    chosen, extras = encoding.chosen(model)
    chains = reason_chains(universe, chosen, extras)
    before = {c.name: c for c in universe.request.installed}
    present = {c.name for c in chosen}
    removals = [] if universe.request.ignore_installed else [
        name for name in before if name not in present]
    steps: list[PlanStep] = []
    for candidate in chosen:
        previous = before.get(candidate.name)
        action, note = _action(candidate, previous)
        steps.append(PlanStep(
            name=candidate.name, action=action, candidate=candidate, previous=previous,
            extras=frozenset(extras.get(candidate.key, ())),
            chain=chains.get(candidate.name, ()), note=note))
    for name in removals:
        previous = before.get(name)
        steps.append(PlanStep(name=name, action=Action.REMOVE, candidate=None, previous=previous,
                              note="nothing requires it" if universe.request.sync
                              else "it conflicts with the request"))
    steps.sort(key=lambda s: s.name)
    solved = dict(zip([name for name, tier in encoding.tiers if tier], costs, strict=False))
    reported = {name: solved.get(name, 0) + encoding.offsets.get(name, 0)
                for name, tier in encoding.tiers if tier or encoding.offsets.get(name)}
    true = set(model)
    broken = tuple(str(label) for label, var in encoding.breakable if var in true)
    return Plan(tuple(steps), reported, broken, missing_extras(universe, chosen, extras))
