"""Facts: the labels of a core read back as statements about packages, merged over versions.

A core names clause groups one candidate at a time ("b 1.0.0 requires a==1.0.0", "b 2.0.0
requires a==1.0.0", …). People read ranges, as PubGrub's reports do: "all versions of b
depend on a==1.0.0". Facts about candidates that discovery left out (yanked, prerelease,
Requires-Python, no wheel) are not clauses at all, so they are read from the universe's
exclusions for every package the core requires: they say *why* nothing else matches.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence

import attrs
from packaging.requirements import Requirement
from packaging.utils import NormalizedName
from packaging.version import Version

from depsat.encoding import Label, LabelKind
from depsat.encoding.labels import requirement_text
from depsat.model import DIRECT, ArtifactKind, Candidate, Exclusion, ExclusionKind
from depsat.target import Target
from depsat.universe import Universe, meets

__all__ = ["Fact", "FactKind", "Hypothesis", "facts_from_core", "versions_phrase"]

# At most this many exclusion facts per package: more is noise, not explanation.
_EXCLUSIONS_PER_PACKAGE = 3


class FactKind(enum.Enum):
    """What a fact states. The values are the JSON schema's `kind` strings."""

    REQUIREMENT = "requirement"
    """You require it."""
    DEPENDENCY = "dependency"
    """Some versions of a package depend on it."""
    CONSTRAINT = "constraint"
    """You constrain it (``-c``)."""
    MISSING = "missing"
    """No source lists the package at all."""
    NO_MATCH = "no-match"
    """The package exists, but no usable version matches a requirement."""
    EXCLUDED = "excluded"
    """Versions exist that would match, but a filter or policy rules them out."""
    HYPOTHESIS = "hypothesis"
    """A question's assumption ("suppose b 3.0.0 is chosen"), for `why`."""
    RULE = "rule"
    """Any other labelled rule (keep installed, read-only layer, source policy)."""


@attrs.frozen(slots=True)
class Hypothesis:
    """An assumption added to the problem as its own group: `name` at one of `versions`."""

    name: NormalizedName
    version: Version


@attrs.frozen(slots=True)
class Fact:
    """One statement of an explanation.

    `package` is who the fact is about (the parent for a dependency); `target` is the package a
    requirement names; `versions` are the package's versions the fact covers (a dependency's
    parents, an exclusion's releases); `groups` are the core's group indices it stands for
    (empty for exclusion facts, which are read from discovery rather than from clauses).
    """

    kind: FactKind
    text: str
    package: NormalizedName | None = None
    target: NormalizedName | None = None
    requirement: str | None = None
    versions: tuple[Version, ...] = ()
    extra: NormalizedName | None = None
    source: str = ""
    detail: str = ""
    groups: tuple[int, ...] = ()
    label_kind: str | None = None
    relaxable: bool = False


def join_words(items: Sequence[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def versions_phrase(name: str, chosen: Iterable[Version], existing: Sequence[Version]) -> str:
    """`chosen` as runs over the versions that exist: "all versions of b", "b 1.0.0",
    "b>=2.0.0", "b<=1.1", "b 1.0 to 2.0", joined with commas."""
    wanted = set(chosen)
    ordered = sorted(set(existing) | wanted)
    if not wanted:
        return f"no version of {name}"
    if wanted >= set(ordered):
        if len(ordered) == 1:
            return f"{name} {ordered[0]} (the only version)"
        return f"all versions of {name}"
    runs: list[list[Version]] = []
    for version in ordered:
        if version in wanted:
            if runs and runs[-1][-1] == _previous(ordered, version):
                runs[-1].append(version)
            else:
                runs.append([version])
    parts: list[str] = []
    for run in runs:
        low, high = run[0], run[-1]
        if len(run) == 1:
            parts.append(f"{low}")
        elif high == ordered[-1]:
            parts.append(f">={low}")
        elif low == ordered[0]:
            parts.append(f"<={high}")
        else:
            parts.append(f"{low} to {high}")
    if len(parts) == 1 and parts[0][0] in "<>":
        return f"{name}{parts[0]}"
    return f"{name} {join_words(parts)}"


def _previous(ordered: Sequence[Version], version: Version) -> Version | None:
    index = ordered.index(version)
    return ordered[index - 1] if index else None


def _origins(candidates: Iterable[Candidate]) -> str:
    return ", ".join(sorted({str(c.origin) for c in candidates}))


def _wheels_for(candidate: Candidate, target: Target) -> str:
    """" (the newest, 2.11.1, has wheels for cp38, cp39 and cp310)": the Pythons its wheels
    are for when the target's is none of them, else their platforms (pip's message names
    neither, uv's the Pythons)."""
    tags = {tag for a in candidate.artifacts if a.kind is ArtifactKind.WHEEL for tag in a.tags}
    if not tags:
        return ""
    ours = {(t.interpreter, t.abi) for t in target.tags or ()}
    if ours and not any((t.interpreter, t.abi) in ours for t in tags):  # (the Python is not)
        shown = sorted({t.interpreter if t.abi == t.interpreter else f"{t.interpreter}-{t.abi}"
                        for t in tags}, key=_interpreter_order)
    else:
        shown = sorted({t.platform for t in tags})
    if len(shown) > 6:
        shown = [*shown[:5], f"{len(shown) - 5} more"]
    return f" (the newest, {candidate.version}, has wheels for {join_words(shown)})"


def _interpreter_order(text: str) -> tuple[str, int, str]:
    """cp38 before cp310: the letters, then the number (of ``cp38-abi3``, its first part)."""
    interpreter = text.split("-", 1)[0]
    letters = interpreter.rstrip("0123456789")
    digits = interpreter[len(letters):]
    return letters, int(digits) if digits else -1, text


def _exclusion_text(name: str, group: Sequence[Exclusion], existing: Sequence[Version],
                    target: Target) -> str:
    """One clause for exclusions of one kind: the policy's own sentence when there is one
    exclusion, a merged phrase over the versions when there are several."""
    if len(group) == 1:
        exclusion = group[0]
        prefix = f"{exclusion.candidate.name} {exclusion.candidate.version}"
        if exclusion.detail.startswith(prefix):
            return exclusion.detail
        return f"{prefix} cannot be used: {exclusion.detail}"
    versions = [e.candidate.version for e in group]
    who = versions_phrase(name, versions, existing)
    many = len(set(versions)) > 1
    kind = group[0].kind
    if kind is ExclusionKind.YANKED:
        return f"{who} {_plural(2 if many else 1, 'was', 'were')} yanked"
    if kind is ExclusionKind.PRERELEASE:
        return (f"{who} {_plural(2 if many else 1, 'is a prerelease', 'are prereleases')}, "
                f"and prereleases of {name} are not allowed")
    if kind is ExclusionKind.REQUIRES_PYTHON:
        needs = " or ".join(sorted({str(e.candidate.requires_python) for e in group}))
        return (f"{who} {_plural(2 if many else 1, 'requires', 'require')} Python {needs}, "
                f"and the target is Python {target.python_version}")
    if kind is ExclusionKind.NO_COMPATIBLE_WHEEL:
        newest = max(group, key=lambda e: e.candidate.version).candidate
        return (f"{who} {_plural(2 if many else 1, 'has', 'have')} no wheel for the target"
                + _wheels_for(newest, target))
    if kind is ExclusionKind.NEEDS_BUILD:
        return (f"{who} {_plural(2 if many else 1, 'needs', 'need')} a build to know "
                f"{_plural(2 if many else 1, 'its', 'their')} dependencies")
    if kind is ExclusionKind.TOO_NEW:
        return (f"{who} {_plural(2 if many else 1, 'is', 'are')} newer than the "
                "--exclude-newer cutoff, or not dated by the index")
    return "; ".join(dict.fromkeys(e.detail for e in group))


def _exclusion_facts(universe: Universe, name: NormalizedName,
                     requirements: Sequence[Requirement]) -> list[Fact]:
    """Exclusions of `name` that every one of `requirements` would otherwise accept (a
    direct reference only the file it names)."""
    project = universe.projects[name]
    relevant = [e for e in project.exclusions
                if all(meets(r, e.candidate, project) for r in requirements)]
    if not relevant:
        return []
    existing = sorted({c.version for c in project.candidates}
                      | {e.candidate.version for e in project.exclusions})
    groups: dict[ExclusionKind, list[Exclusion]] = {}
    for exclusion in relevant:
        groups.setdefault(exclusion.kind, []).append(exclusion)
    facts: list[Fact] = []
    for kind, group in sorted(groups.items(), reverse=True, key=lambda item: max(
            e.candidate.version for e in item[1])):
        facts.append(Fact(
            kind=FactKind.EXCLUDED, package=name, target=name,
            text=_exclusion_text(name, group, existing, universe.target),
            versions=tuple(sorted({e.candidate.version for e in group})),
            source=_origins(e.candidate for e in group), detail=kind.value))
    return facts[:_EXCLUSIONS_PER_PACKAGE]


def _unavailability(universe: Universe, name: NormalizedName, requirements: Sequence[Label],
                    ) -> list[Fact]:
    """Why the requirements on `name` in the core match so little (or nothing)."""
    direct = [label.requirement.url for label in requirements
              if label.requirement is not None and label.requirement.url
              and label.dependency is not None and not label.dependency.matches]
    if direct:  # (the file named, not the project's releases)
        return _direct_unavailability(universe, name, direct[0])
    project = universe.projects.get(name)
    if project is None or not project.known:
        return [Fact(kind=FactKind.MISSING, package=name, target=name,
                     text=f"no version of {name} exists")]
    # An excluded release matters when it would satisfy every requirement on the package
    # in the core (it would have resolved the conflict), or, for a requirement nothing
    # matches, when it would satisfy that one (it is why nothing matches).
    facts = _exclusion_facts(universe, name, [label.requirement for label in requirements
                                              if label.requirement is not None])
    if facts:
        return facts
    empty = [label for label in requirements
             if label.dependency is not None and not label.dependency.matches]
    if empty and empty[0].requirement is not None:
        spec = empty[0].requirement.specifier
        facts = _exclusion_facts(universe, name, [empty[0].requirement])
        if facts:
            return facts
        versions = sorted({c.version for c in project.candidates})
        if versions:
            shown = ", ".join(str(v) for v in versions[-4:])
            more = "…, " if len(versions) > 4 else ""
            available = f" (available: {more}{shown})"
        else:
            available = " (its other versions cannot be used)" if project.exclusions else ""
        return [Fact(kind=FactKind.NO_MATCH, package=name, target=name,
                     requirement=str(spec),
                     text=f"no version of {name} matches {spec}{available}",
                     versions=tuple(versions))]
    return []


def _direct_unavailability(universe: Universe, name: NormalizedName, url: str) -> list[Fact]:
    """Why the file a direct reference names cannot be installed: its exclusion, or that
    no source offers it (the one for direct references reads wheels and sdists by URL)."""
    from depsat.sources.direct import NOTHING_AT, is_direct_file
    from depsat.sources.http import redact_url

    project = universe.projects.get(name)
    excluded = [e for e in (project.exclusions if project is not None else ())
                if e.candidate.origin.kind == DIRECT and e.candidate.origin.location == url]
    if excluded:
        existing = sorted({e.candidate.version for e in excluded})
        return [Fact(kind=FactKind.EXCLUDED, package=name, target=name,
                     text=_exclusion_text(name, excluded, existing, universe.target),
                     versions=tuple(existing), source=_origins(e.candidate for e in excluded),
                     detail=excluded[0].kind.value)]
    nothing = [d.message for d in universe.diagnostics
               if d.culprit == redact_url(url) and d.message.startswith(NOTHING_AT)]
    if nothing:  # (the source looked: there is no file there)
        return [Fact(kind=FactKind.NO_MATCH, package=name, target=name,
                     requirement=f"{name} @ {url}", text=f"it cannot be read: {nothing[0]}")]
    what = ("" if is_direct_file(url) else
            " (depsat reads wheels, sdists, project directories and git repositories, not "
            f"{url.partition('+')[0] if '+' in url.split(':', 1)[0] else 'this kind of URL'})")
    offered = (f"that repository gave no project {name} (a warning says why)"
               if url.lower().startswith("git+") else
               f"no source offers that file as a release of {name}")
    return [Fact(kind=FactKind.NO_MATCH, package=name, target=name,
                 requirement=f"{name} @ {url}",
                 text=f"{offered}, and nothing installed came from it{what}")]


def _project_versions(universe: Universe, name: NormalizedName) -> list[Version]:
    project = universe.projects.get(name)
    return sorted({c.version for c in project.candidates}) if project else []


def facts_from_core(
    universe: Universe,
    labels: Sequence[tuple[int, Label | Hypothesis]],
    narrowed: Mapping[int, frozenset[str]] | None = None,
) -> list[Fact]:
    """Facts for a core given as (group index, label) pairs, merged across versions, with
    the unavailability facts of every package the core requires.

    `narrowed` maps a group to the only extras of its requirement that the conflict needs
    (the second-level core), so "you require a[x,y]" can read "you require a[x]"."""
    narrowed = narrowed or {}

    def shown(index: int, requirement: Requirement) -> str:
        extras = narrowed.get(index)
        if extras is None:
            return requirement_text(requirement)
        return requirement_text(Requirement(
            f"{requirement.name}[{','.join(sorted(extras))}]{requirement.specifier}"))

    facts: list[Fact] = []
    merged: dict[tuple[NormalizedName, NormalizedName | None, str], list[tuple[int, Label]]] = {}
    on_target: dict[NormalizedName, list[Label]] = {}
    for index, label in labels:
        if isinstance(label, Hypothesis):
            facts.append(Fact(kind=FactKind.HYPOTHESIS, package=label.name,
                              versions=(label.version,), groups=(index,),
                              text=f"suppose {label.name} {label.version} is chosen"))
            continue
        if label.name is not None and label.kind in (LabelKind.ROOT, LabelKind.DEPENDENCY,
                                                     LabelKind.CONSTRAINT):
            on_target.setdefault(label.name, []).append(label)
        if label.kind is LabelKind.DEPENDENCY and label.candidate is not None \
                and label.requirement is not None:
            extra = label.dependency.parent_extra if label.dependency else None
            key = (label.candidate.name, extra, shown(index, label.requirement))
            merged.setdefault(key, []).append((index, label))
            continue
        if label.kind is LabelKind.ROOT and label.requirement is not None:
            text = shown(index, label.requirement)
            matches = label.dependency.matches if label.dependency is not None else ()
            # A direct reference's one release, for the story to say which the file is.
            named = ((matches[0].version,) if label.requirement.url and len(matches) == 1
                     else ())
            facts.append(Fact(kind=FactKind.REQUIREMENT, package=label.name, target=label.name,
                              requirement=text, text=f"you require {text}", groups=(index,),
                              versions=named, label_kind=label.kind.value,
                              relaxable=label.relaxable))
        elif label.kind is LabelKind.CONSTRAINT and label.requirement is not None:
            text = requirement_text(label.requirement)
            facts.append(Fact(kind=FactKind.CONSTRAINT, package=label.name, target=label.name,
                              requirement=text, text=f"you constrain {text}", groups=(index,),
                              label_kind=label.kind.value, relaxable=label.relaxable))
        else:
            facts.append(Fact(kind=FactKind.RULE, package=label.name, text=str(label),
                              detail=label.detail, groups=(index,),
                              label_kind=label.kind.value, relaxable=label.relaxable))
    # Sorted, never in group order: group numbering follows discovery, whose order of
    # extras is a set's, so the same core must read the same in every process.
    for (parent, extra, text), members in sorted(merged.items(),
                                                 key=lambda item: (item[0][0], item[0][1] or "",
                                                                   item[0][2])):
        parents = [label.candidate for _, label in members if label.candidate is not None]
        versions = sorted({c.version for c in parents})
        who = versions_phrase(f"{parent}[{extra}]" if extra else parent, versions,
                              _project_versions(universe, parent))
        many = len(versions) > 1
        verb = "depend" if many else "depends"
        target = members[0][1].name
        facts.append(Fact(kind=FactKind.DEPENDENCY, package=parent, target=target,
                          requirement=text, versions=tuple(versions), extra=extra,
                          source=_origins(parents), text=f"{who} {verb} on {text}",
                          groups=tuple(sorted(i for i, _ in members)),
                          label_kind=LabelKind.DEPENDENCY.value,
                          relaxable=all(label.relaxable for _, label in members)))
    # Not for the package a hypothesis names: why its other versions cannot be had is beside
    # "this version cannot be chosen".
    supposed = {label.name for _, label in labels if isinstance(label, Hypothesis)}
    for name in sorted(on_target.keys() - supposed):
        facts.extend(_unavailability(universe, name, on_target[name]))
    return facts
