"""Why a request fails: a minimal core of labelled groups, read as a chain of facts.

The solver finds the core (`depsat.solver.mus`); this module decides which groups the
solver sees, turns the core into facts and orders them from the user's request down to the
contradiction, and asks `fixes` what a person could change.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import attrs
from packaging.utils import NormalizedName

from depsat.encoding import Encoding, Label, LabelKind
from depsat.explain.facts import Fact, FactKind, Hypothesis, facts_from_core, join_words
from depsat.solver import GroupSolver, Problem
from depsat.solver.mus import clause_core, minimal_core

__all__ = ["Explanation", "Fix", "Step", "explain_encoding", "problem_for"]

Clause = list[int]


@attrs.frozen(slots=True)
class Step:
    """One sentence of the chain, and the facts (indices into `Explanation.facts`) it states."""

    text: str
    facts: tuple[int, ...]


@attrs.frozen(slots=True)
class Fix:
    """Something a person can change so that the request resolves.

    `confirmed`: a SAT check with the change applied found a solution (fixes read from
    exclusions, e.g. "allow prereleases", are hints: depsat never read those releases'
    dependencies, so it cannot check them without discovering again).
    """

    action: str
    """"drop", "loosen", "drop-constraint", "relax", "allow-prerelease", "allow-yanked",
    "change-python", "change-platform", "allow-build", "allow-wheels"."""
    text: str
    cost: int
    confirmed: bool
    packages: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    groups: tuple[int, ...] = ()
    note: str = ""
    loosened: tuple[int, ...] = ()
    """Of `groups`, the root requirements loosened to any version (the others dropped)."""


@attrs.frozen(slots=True)
class Explanation:
    """Why no plan exists (or, with a hypothesis, why an assumption cannot hold)."""

    facts: tuple[Fact, ...]
    chain: tuple[Step, ...]
    conclusion: str
    fixes: tuple[Fix, ...]
    core: tuple[int, ...]
    """Group indices of the core, into `Encoding.groups` (then hypotheses)."""
    minimal: bool
    smallest: bool
    method: str
    seconds: float

    @property
    def sentences(self) -> tuple[str, ...]:
        return (*(step.text for step in self.chain), self.conclusion)

    def text(self) -> str:
        from depsat.explain.render import explanation_text

        return explanation_text(self)


def problem_for(encoding: Encoding, extra: Sequence[Sequence[Clause]] = ()) -> Problem:
    """The encoding's hard clauses and groups (then `extra` groups), without soft tiers."""
    return Problem(hard=encoding.hard,
                   groups=[*(clauses for _, clauses in encoding.groups), *extra],
                   top=encoding.pool.top)


_WORDS = ("all", "you", "no", "suppose", "so", "only", "every", "nothing")


def sentence(clause: str) -> str:
    """A clause as a sentence: capitalised when it starts with an English word (never a
    package name), with a full stop."""
    first = clause.split(" ", 1)[0]
    if first in _WORDS:
        clause = clause[0].upper() + clause[1:]
    return clause if clause.endswith((".", "?", "!")) else clause + "."


def _chain(facts: Sequence[Fact]) -> tuple[list[Step], list[NormalizedName]]:
    """Order facts from the request down: assumptions and your requirements first, then
    dependencies breadth first from what is reached, each requirement followed by why the
    package it names is (un)available. Returns the steps and the requested names."""
    steps: list[Step] = []
    used: set[int] = set()
    roots = [i for i, f in enumerate(facts) if f.kind is FactKind.REQUIREMENT]
    constraints = [i for i, f in enumerate(facts) if f.kind is FactKind.CONSTRAINT]
    heads = [i for i, f in enumerate(facts) if f.kind in (FactKind.HYPOTHESIS, FactKind.RULE)]
    unavailable: dict[NormalizedName, list[int]] = {}
    for i, fact in enumerate(facts):
        if fact.kind in (FactKind.MISSING, FactKind.NO_MATCH, FactKind.EXCLUDED) \
                and fact.target is not None:
            unavailable.setdefault(fact.target, []).append(i)
    explained: set[NormalizedName] = set()

    def with_reasons(indices: list[int], text: str) -> Step:
        reasons: list[int] = []
        for i in indices:
            target = facts[i].target
            if target is not None and target not in explained and target in unavailable:
                explained.add(target)
                reasons.extend(unavailable[target])
        used.update(indices)
        used.update(reasons)
        if reasons:
            text += ", but " + join_words([facts[r].text for r in reasons])
        return Step(sentence(text), (*indices, *reasons))

    queue: deque[NormalizedName] = deque()
    for i in heads:
        steps.append(with_reasons([i], facts[i].text))
        head = facts[i].package
        if head is not None:
            queue.append(head)
    if roots:
        steps.append(with_reasons(roots, "you require " + join_words(
            [_as_required(facts[i]) for i in roots])))
        queue.extend(t for i in roots if (t := facts[i].target) is not None)
    if constraints:
        steps.append(with_reasons(constraints, "you constrain " + join_words(
            [facts[i].requirement or "" for i in constraints])))
    reached: set[NormalizedName] = set(queue)
    dependencies = [i for i, f in enumerate(facts) if f.kind is FactKind.DEPENDENCY]
    while True:
        while queue:
            name = queue.popleft()
            for i in dependencies:
                fact = facts[i]
                if i in used or fact.package != name:
                    continue
                steps.append(with_reasons([i], fact.text))
                if fact.target is not None and fact.target not in reached:
                    reached.add(fact.target)
                    queue.append(fact.target)
        rest = [i for i in dependencies if i not in used]
        if not rest:
            break
        first = facts[rest[0]].package
        assert first is not None
        reached.add(first)
        queue.append(first)
    for name, indices in unavailable.items():
        if name not in explained:
            explained.add(name)
            steps.append(Step(sentence(join_words([facts[i].text for i in indices])),
                              tuple(indices)))
    requested = [t for i in roots if (t := facts[i].target) is not None]
    return steps, list(dict.fromkeys(requested))


def _as_required(fact: Fact) -> str:
    """A root requirement as the story says it; a direct reference with the release its
    file is (``lib @ file:///…/lib-9.0-py3-none-any.whl (lib 9.0)``)."""
    text = fact.requirement or ""
    if fact.versions and " @ " in text:
        return f"{text} ({fact.package} {fact.versions[0]})"
    return text


def _one_version_step(facts: Sequence[Fact], encoding: Encoding) -> Step | None:
    """"Only one version of c can be installed", when two requirements in the core both
    match versions of c but different ones: the structural rule that closes the argument."""
    by_target: dict[NormalizedName, list[int]] = {}
    for i, fact in enumerate(facts):
        if fact.kind in (FactKind.REQUIREMENT, FactKind.DEPENDENCY, FactKind.CONSTRAINT) \
                and fact.target is not None:
            by_target.setdefault(fact.target, []).append(i)
    matched: list[NormalizedName] = []
    for name, indices in by_target.items():
        texts = {facts[i].requirement for i in indices}
        project = encoding.universe.projects.get(name)
        if len(texts) > 1 and project is not None and len(project.candidates) > 1:
            matched.append(name)
    if not matched:
        return None
    if len(matched) == 1:
        return Step(sentence(f"only one version of {matched[0]} can be installed"), ())
    return Step(sentence("only one version of each package can be installed"), ())


def _conclusion(facts: Sequence[Fact], requested: Sequence[NormalizedName]) -> str:
    hypotheses = [f for f in facts if f.kind is FactKind.HYPOTHESIS]
    if hypotheses:
        h = hypotheses[0]
        return sentence(f"so {h.package} {h.versions[0]} cannot be chosen")
    if len(requested) == 1:
        return sentence(f"so {requested[0]} cannot be installed")
    if requested:
        return sentence(f"so {join_words(list(requested))} cannot be installed together")
    return sentence("so these rules cannot all hold")


def explain_encoding(
    encoding: Encoding,
    *,
    smallest: bool = False,
    budget_seconds: float = 5.0,
    fixes: bool = True,
    hypotheses: Sequence[tuple[Hypothesis, Sequence[Clause]]] = (),
) -> Explanation | None:
    """Explain why the encoding's hard clauses (plus `hypotheses`, each its own group) cannot
    all hold; None when they can.

    `budget_seconds` bounds the core search (MUSX, then OptUx when `smallest`); when it runs
    out the explanation uses the plain core and says so (`minimal` False).
    """
    from depsat.explain.fixes import find_fixes

    problem = problem_for(encoding, [clauses for _, clauses in hypotheses])
    with GroupSolver(problem) as solver:
        core = minimal_core(problem, smallest=smallest, budget_seconds=budget_seconds,
                            solver=solver)
    if core is None:
        return None
    labels: list[tuple[int, Label | Hypothesis]] = []
    base = len(encoding.groups)
    for index in core.groups:
        labels.append((index, encoding.groups[index][0] if index < base
                       else hypotheses[index - base][0]))
    narrowed = _needed_extras(problem, core.groups, labels) if core.minimal else {}
    facts = facts_from_core(encoding.universe, labels, narrowed)
    steps, requested = _chain(facts)
    pinch = _one_version_step(facts, encoding)
    if pinch is not None:
        steps.append(pinch)
    found: tuple[Fix, ...] = ()
    if fixes and not hypotheses:
        found = tuple(find_fixes(encoding, facts, budget_seconds=max(budget_seconds / 2, 0.5)))
    return Explanation(
        facts=tuple(facts), chain=tuple(steps), conclusion=_conclusion(facts, requested),
        fixes=found, core=core.groups, minimal=core.minimal, smallest=core.smallest,
        method=core.method, seconds=core.seconds)


def _needed_extras(problem: Problem, groups: Sequence[int],
                   labels: Sequence[tuple[int, Label | Hypothesis]],
                   ) -> dict[int, frozenset[str]]:
    """The second level: for a requirement naming several extras, the extras the conflict
    actually needs. `requirement_clauses` makes one clause per extra, in sorted order."""
    with_extras = {index: sorted(label.dependency.extras) for index, label in labels
                   if isinstance(label, Label) and label.dependency is not None
                   and len(label.dependency.extras) > 1}
    if not with_extras:
        return {}
    kept = clause_core(problem, groups)
    narrowed: dict[int, frozenset[str]] = {}
    for index, extras in with_extras.items():
        needed = frozenset(extras[i] for i in kept.get(index, ()) if i < len(extras))
        if needed and len(needed) < len(extras):
            narrowed[index] = needed
    return narrowed


def root_label_groups(encoding: Encoding) -> list[int]:
    """Indices of the user's own requirement groups."""
    return [i for i, (label, _) in enumerate(encoding.groups) if label.kind is LabelKind.ROOT]
