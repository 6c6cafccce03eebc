"""How to fix it: minimal correction sets over the relaxable groups, phrased as actions.

A minimal correction set (MCS) is a smallest-by-inclusion set of relaxable rules whose
removal makes the whole request satisfiable: exactly "the least a person could change".
Each root requirement with a specifier also gets a *loosened* twin ("any version of x") as
its own relaxable group, so an MCS that removes the requirement but keeps its twin reads as
"loosen x<3" and one that removes both as "drop x<3". Every MCS is confirmed by one SAT
call with its groups switched off; the model names the version that would then be chosen.
On a lazy read that model may take a release not read yet (which requires nothing here):
`correction_fix` phrases the fix again from the plan `api.explain` resolves with it.

Exclusions (prereleases, yanked, Requires-Python, wheels) are not clauses: the releases they
rule out were never read, so fixes that re-admit them are offered as hints, unconfirmed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from packaging.utils import NormalizedName
from packaging.version import Version

from depsat.encoding import Encoding, LabelKind
from depsat.encoding.labels import requirement_text
from depsat.explain.analysis import Fix, problem_for
from depsat.explain.facts import Fact, FactKind, join_words
from depsat.model import ExclusionKind
from depsat.solver import GroupSolver
from depsat.solver.mus import correction_sets

__all__ = ["correction_fix", "find_fixes"]

# Costs rank fixes: loosening keeps what you asked for; re-admitting an excluded release is
# often what you meant but is unchecked; dropping a requirement gives something up.
_LOOSEN_COST = 1
_HINT_COST = 2
_DROP_COST = 3
_HINTS = 2
_SHOWN = 5


def _loosened_groups(encoding: Encoding) -> dict[int, list[list[int]]]:
    """For each relaxable root requirement with a specifier: "some version of it" as clauses."""
    twins: dict[int, list[list[int]]] = {}
    for index, (label, _) in enumerate(encoding.groups):
        dependency = label.dependency
        if (label.kind is not LabelKind.ROOT or not label.relaxable or dependency is None
                or dependency.extras or not str(dependency.requirement.specifier)):
            continue
        # The candidates with variables: those discovery expanded, and under lazy reading
        # the unread ones too, which require nothing here (`api.explain` then checks each
        # fix by resolving with it).
        known = [encoding.var_of[c.key]
                 for c in encoding.universe.projects[dependency.name].candidates
                 if c.key in encoding.var_of]
        if len(known) > len(dependency.matches):
            twins[index] = [known]
    return twins


def correction_fix(encoding: Encoding, groups: Sequence[int], loosened: Collection[int],
                   versions: Mapping[NormalizedName, Version]) -> Fix:
    """The fix that relaxes `groups` (a correction set): the root requirements in `loosened`
    loosened to any version of their package (``x 2.1 would work``, from `versions`: what a
    plan with the change takes), the others dropped."""
    parts: list[str] = []
    dropped: list[str] = []
    unconstrained: list[str] = []
    actions: list[str] = []
    packages: list[str] = []
    requirements: list[str] = []
    kept_loosened: list[int] = []
    cost = 0
    for index in groups:
        label = encoding.groups[index][0]
        text = (requirement_text(label.requirement) if label.requirement is not None
                else str(label))
        name = str(label.name or "")
        if label.kind is LabelKind.ROOT:
            if index in loosened and label.name is not None and label.name in versions:
                parts.append(f"loosen {text} ({name} {versions[label.name]} would work)")
                actions.append("loosen")
                kept_loosened.append(index)
                cost += _LOOSEN_COST
            else:
                dropped.append(text)
                actions.append("drop")
                cost += _DROP_COST
        elif label.kind is LabelKind.CONSTRAINT:
            unconstrained.append(text)
            actions.append("drop-constraint")
            cost += _LOOSEN_COST
        else:
            parts.append(f"give up: {label}")
            actions.append("relax")
            cost += _LOOSEN_COST
        packages.append(name)
        requirements.append(text)
    # One phrase per kind of change, each naming all its requirements: "drop the
    # requirements a, b and c", not "drop the requirement a and drop the requirement b ...".
    if dropped:
        parts.append(f"drop the requirement{'s' if len(dropped) > 1 else ''} "
                     f"{join_words(dropped)}")
    if unconstrained:
        parts.append(f"drop the constraint{'s' if len(unconstrained) > 1 else ''} "
                     f"{join_words(unconstrained)}")
    action = actions[0] if len(set(actions)) == 1 else "combined"
    return Fix(action=action, text="; ".join(parts), cost=cost, confirmed=True,
               packages=tuple(packages), requirements=tuple(requirements),
               groups=tuple(groups), loosened=tuple(kept_loosened))


def _mcs_fix(encoding: Encoding, mcs: Sequence[int], twin_of: dict[int, int],
             model: Sequence[int]) -> Fix:
    versions = {c.name: c.version for c in encoding.chosen(model)[0]}
    removed = set(mcs)
    groups = [i for i in mcs if i < len(encoding.groups)]  # (a twin: read with its group)
    loosened = {i for i in groups if (twin := twin_of.get(i)) is not None
                and twin not in removed}
    return correction_fix(encoding, groups, loosened, versions)


def _hint(fact: Fact) -> Fix | None:
    name = str(fact.package or "")
    newest = fact.versions[-1] if fact.versions else None
    note = "not checked: depsat has not read the dependencies of releases it excluded"
    if fact.kind is FactKind.MISSING:
        return Fix("add-source", f"check the name {name}, or add an index that provides it",
                   _DROP_COST + 1, False, (name,), note="no source lists it")
    if fact.kind is not FactKind.EXCLUDED:
        return None
    kind = ExclusionKind(fact.detail)
    if kind is ExclusionKind.PRERELEASE:
        return Fix("allow-prerelease", f"allow prereleases of {name} with --prerelease allow",
                   _HINT_COST, False, (name,), note=note)
    if kind is ExclusionKind.YANKED and newest is not None:
        return Fix("allow-yanked", f"allow the yanked {name} {newest} by pinning "
                   f"{name}=={newest}", _HINT_COST, False, (name,), (f"{name}=={newest}",),
                   note=note)
    if kind is ExclusionKind.REQUIRES_PYTHON and newest is not None:
        return Fix("change-python", f"target a Python that {name} {newest} supports "
                   "with --python-version", _HINT_COST + 1, False, (name,), note=note)
    if kind is ExclusionKind.NO_COMPATIBLE_WHEEL and newest is not None:
        return Fix("change-platform", f"target a platform that {name} {newest} has wheels "
                   "for, or provide a source distribution", _HINT_COST + 1, False, (name,),
                   note=note)
    if kind is ExclusionKind.SOURCE_POLICY and newest is not None:
        indexes = [origin.split(" ", 1)[1] for origin in fact.source.split(", ")
                   if origin.startswith("index ")]
        if indexes:
            return Fix("pin-index", f"take {name} from index {indexes[0]}, which has "
                       f"{name} {newest}: pin it with --pin {name}={indexes[0]}",
                       _HINT_COST, False, (name,), note=note)
    if kind is ExclusionKind.NO_BINARY:
        return Fix("allow-wheels", f"allow wheels of {name}: drop --no-binary", _HINT_COST,
                   False, (name,), note=note)
    if kind is ExclusionKind.NEEDS_BUILD and newest is not None:
        return Fix("build-metadata", f"let depsat read {name} {newest}'s dependencies by "
                   "building its metadata with --build-metadata (runs its build backend)",
                   _HINT_COST + 1, False, (name,),
                   note="not checked: its dependencies are known only after the build")
    if kind is ExclusionKind.ONLY_BINARY:
        return Fix("allow-build", f"allow building {name} from source: drop --only-binary",
                   _HINT_COST, False, (name,), note=note)
    return None


def _loosen_hints(facts: Sequence[Fact]) -> list[Fix]:
    """"loosen a>1 to allow a 1.0" when your requirement matches nothing that exists:
    unchecked, because discovery never read the dependencies of versions nothing matched."""
    yours = {f.target: f for f in facts if f.kind is FactKind.REQUIREMENT}
    hints: list[Fix] = []
    for fact in facts:
        mine = yours.get(fact.target)
        if fact.kind is FactKind.NO_MATCH and fact.versions and mine is not None:
            newest = fact.versions[-1]
            hints.append(Fix("loosen", f"loosen {mine.requirement} to allow {fact.target} "
                             f"{newest}", _LOOSEN_COST + 1, False, (str(fact.target),),
                             (mine.requirement or "",), mine.groups,
                             note="not checked: the dependencies of that version were not "
                                  "read"))
    return hints


def find_fixes(encoding: Encoding, facts: Sequence[Fact], *, budget_seconds: float = 2.0,
               limit: int = 4) -> list[Fix]:
    """Ranked fixes: confirmed minimal correction sets first by cost, then hints."""
    twins = _loosened_groups(encoding)
    twin_of: dict[int, int] = {}
    extra: list[list[list[int]]] = []
    for index, clauses in twins.items():
        twin_of[index] = len(encoding.groups) + len(extra)
        extra.append(clauses)
    problem = problem_for(encoding, extra)
    relaxable = [i for i, (label, _) in enumerate(encoding.groups) if label.relaxable]
    relaxable += list(twin_of.values())
    sets = correction_sets(problem, relaxable, limit=2 * limit, budget_seconds=budget_seconds)
    found: list[Fix] = []
    with GroupSolver(problem) as solver:
        for mcs in sets:
            removed = set(mcs)
            if not solver.satisfiable([i for i in range(len(problem.groups))
                                       if i not in removed]):
                continue  # pragma: no cover - LBX returns correction sets only
            found.append(_mcs_fix(encoding, mcs, twin_of, solver.model()))
    hints = [hint for fact in facts if (hint := _hint(fact)) is not None]
    hints += _loosen_hints(facts)
    confirmed = sorted(found, key=lambda f: (f.cost, len(f.groups), f.text))[:limit]
    offered = confirmed + sorted(hints, key=lambda f: (f.cost, f.text))[:_HINTS]
    seen: set[str] = set()
    ranked: list[Fix] = []
    for fix in sorted(offered, key=lambda f: (f.cost, not f.confirmed)):
        if fix.text not in seen:
            seen.add(fix.text)
            ranked.append(fix)
    return ranked[:_SHOWN]
