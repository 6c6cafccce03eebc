"""Documented, versioned renderings of a resolution: JSON data, requirements lines, a table.

The JSON schema (``depsat.plan/1``) is described in docs/json.md. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Literal

from depsat.api import Resolution, explain
from depsat.model import DIRECT, Action, Candidate, Diagnostic, PlanStep
from depsat.universal import Fork, UniversalResolution

__all__ = [
    "PLAN_SCHEMA",
    "UNIVERSAL_SCHEMA",
    "requirements_lines",
    "resolution_to_json",
    "table_lines",
    "unhashed",
    "universal_requirements_lines",
    "universal_to_json",
    "warning_lines",
]

PLAN_SCHEMA = "depsat.plan/1"
UNIVERSAL_SCHEMA = "depsat.universal/1"


def _source(step: PlanStep) -> str:
    candidate = step.candidate or step.previous
    return str(candidate.origin) if candidate else ""


def _step_json(step: PlanStep) -> dict[str, Any]:
    return {
        "name": step.name,
        "version": str(step.version) if step.version else None,
        "action": step.action.value,
        "source": _source(step),
        "extras": sorted(step.extras),
        "previous": str(step.previous.version) if step.previous else None,
        "note": step.note,
        "reason": [
            {"requirement": r.requirement, "required_by": r.required_by} for r in step.chain
        ],
    }


def warning_lines(diagnostics: Iterable[Diagnostic]) -> list[str]:
    """One line per distinct message, naming its first culprit and counting the others.

    A real index repeats one problem on many files: resolving jupyterlab on PyPI met 244
    files of pyzmq with the same invalid Requires-Python, 244 lines of warnings where one
    says it. The JSON form (`resolution_to_json`) keeps every culprit."""
    culprits: dict[str, dict[str, None]] = {}  # (dicts: distinct, in the order met)
    for diagnostic in diagnostics:
        named = culprits.setdefault(diagnostic.message, {})
        if diagnostic.culprit:
            named[diagnostic.culprit] = None
    lines = []
    for message, named in culprits.items():
        if not named:
            lines.append(message)
            continue
        first, more = next(iter(named)), len(named) - 1
        lines.append(f"{first} (and {more} more): {message}" if more else f"{first}: {message}")
    return lines


def resolution_to_json(resolution: Resolution) -> dict[str, Any]:
    """The machine-readable form of a resolution; an unsatisfiable one carries its
    explanation (schema ``depsat.explanation/1``)."""
    universe = resolution.universe
    data: dict[str, Any] = {
        "schema": PLAN_SCHEMA,
        "status": "solved" if resolution.ok else "unsatisfiable",
        "target": {
            "python_version": str(universe.target.python_version),
            "platform": universe.target.platform,
        },
        "request": [str(r) for r in universe.request.requirements],
        "diagnostics": [
            {"message": d.message, "culprit": d.culprit} for d in resolution.diagnostics
        ],
        "timings": {k: round(v, 6) for k, v in resolution.timings.items()},
    }
    if resolution.plan is not None:
        data["packages"] = [_step_json(s) for s in resolution.plan.steps]
        data["costs"] = dict(resolution.plan.costs)
    if resolution.failure is not None:
        from depsat.explain import explanation_to_json  # (only a failure needs it)

        explanation = explain(resolution)
        data["summary"] = (explanation.text() if explanation is not None
                           else resolution.failure.summary())
        if explanation is not None:
            data["explanation"] = explanation_to_json(explanation)
        data["core"] = [
            {
                "kind": label.kind.value,
                "text": str(label),
                "package": label.name,
                "requirement": str(label.requirement) if label.requirement else None,
                "required_by": (str(label.candidate) if label.candidate else None),
            }
            for label in resolution.failure.core
        ]
    return data


def requirements_lines(resolution: Resolution, *, hashes: bool = False,
                       strip_extras: bool = False, annotate: bool = True,
                       omit: Collection[str] = (),
                       origins: Mapping[str, Sequence[str]] | None = None,
                       written: Mapping[str, str] | None = None,
                       annotation_style: Literal["split", "line"] = "split") -> list[str]:
    """Pinned ``name==version`` lines with ``# via`` comments, as ``uv pip compile`` prints;
    the file of a direct reference, or what was installed from a URL (PEP 610), is pinned to
    it, ``name @ URL`` (``-e URL`` when editable), as ``pip freeze`` writes it: its name and
    version alone would fetch another file. With `hashes`, each pin is followed by the
    ``--hash`` of every file of its release the index published one for, as
    ``pip-compile --generate-hashes`` writes them (`unhashed` says which have none). With
    `strip_extras`, pins name no extras (``uv pip compile``'s default): the extras'
    dependencies are pinned lines of their own anyway. ``# via`` names, as uv does, where
    you asked for it (`origins`: package -> ``-r requirements.in``, ``app (pyproject.toml)``)
    and every package of the plan that requires it; without `annotate`, none. The packages
    in `omit` (normalized names) get no line at all. Editable pins come first, then the
    others, each by name, as uv orders them; a reference you gave as a path is written as
    you wrote it (`written`: its URL -> the path), as uv writes it. `annotation_style`
    "line" (uv's ``--annotation-style line``) puts ``# via`` beside the pin, the requirers
    before where you asked, comma-separated (below the hashes when there are any)."""
    assert resolution.plan is not None
    lines: list[str] = []
    requirers = _requirers(resolution) if annotate else {}
    for step in sorted(resolution.plan.steps, key=lambda s: (not _editable(s), s.name)):
        if step.action is Action.REMOVE or step.candidate is None or step.name in omit:
            continue
        pin = _pin(step.candidate, frozenset() if strip_extras else step.extras, written)
        digests = _hashes(step.candidate) if hashes else []
        asked = sorted(set((origins or {}).get(step.name, ()))) if annotate else []
        required = sorted(requirers.get(step.name, ()))
        line_style = annotation_style == "line"
        via = [*required, *asked] if line_style else [*asked, *required]
        lines += _pin_lines(pin, digests, via, line_style)
    return lines


def _pin(candidate: Candidate, extras: Collection[str], written: Mapping[str, str] | None,
         ) -> str:
    """How a requirements file names `candidate`: ``name[extras]==version``, or the file or
    URL it came from (see `requirements_lines`)."""
    listed = f"[{','.join(sorted(extras))}]" if extras else ""
    installed = candidate.installed
    origin = candidate.origin
    as_written = (written or {}).get(origin.location) if origin.kind == DIRECT else None
    if origin.kind == DIRECT and origin.editable:
        return f"-e {as_written or origin.name}"
    if as_written:
        return f"{as_written}{listed}"
    if origin.kind == DIRECT:  # (its name: the URL without a password)
        return f"{candidate.name}{listed} @ {origin.name}"
    if installed is not None and installed.direct_url and installed.editable:
        return f"-e {installed.direct_url}"
    if installed is not None and installed.direct_url:
        return f"{candidate.name}{listed} @ {installed.direct_url}"
    return f"{candidate.name}{listed}=={candidate.version}"


def _pin_lines(pin: str, digests: Sequence[str], via: Sequence[str], line_style: bool,
               ) -> list[str]:
    """A pin, its hashes and its ``# via`` lines."""
    if line_style and via and not digests:
        return [f"{pin:<24}  # via {', '.join(via)}"]
    lines = [pin + (" \\" if digests else "")]
    lines += [f"    --hash={d}" + (" \\" if i < len(digests) - 1 else "")
              for i, d in enumerate(digests)]
    if line_style and via:
        lines.append(f"    # via {', '.join(via)}")
    elif len(via) == 1:
        lines.append(f"    # via {via[0]}")
    elif via:
        lines += ["    # via", *(f"    #   {item}" for item in via)]
    return lines


def universal_requirements_lines(
    universal: UniversalResolution, *, hashes: bool = False, strip_extras: bool = False,
    annotate: bool = True, omit: Collection[str] = (),
    origins: Mapping[str, Sequence[str]] | None = None,
    written: Mapping[str, str] | None = None,
    annotation_style: Literal["split", "line"] = "split",
) -> list[str]:
    """`requirements_lines` for a universal resolution: each pin followed by its marker
    (``a==1.0 ; sys_platform == 'darwin'``, as ``uv pip compile --universal`` writes it),
    ``# via`` naming the packages that require it in the forks that take it. A release
    installed with an extra in some places and without it in others is two lines
    (``b[x]==1.0 ; sys_platform == 'linux'``, ``b==1.0 ; sys_platform != 'linux'``), so
    that no extra is installed where its requirements are not pinned; `strip_extras` writes
    one line per release."""
    requirers = [_requirers(fork.resolution) if annotate else {} for fork in universal.forks]
    lines: list[str] = []
    line_style = annotation_style == "line"
    pins = universal.bare_pins if strip_extras else universal.pins
    for pin in sorted(pins, key=lambda p: (not _is_editable(p.candidate), p.candidate.name,
                                           p.candidate.version, sorted(p.extras))):
        name = pin.candidate.name
        if name in omit:
            continue
        text = _pin(pin.candidate, pin.extras, written)
        if pin.marker:
            text += f" ; {pin.marker}"
        asked = sorted(set((origins or {}).get(name, ()))) if annotate else []
        required = sorted({r for fork in pin.forks for r in requirers[fork].get(name, ())})
        via = [*required, *asked] if line_style else [*asked, *required]
        lines += _pin_lines(text, _hashes(pin.candidate) if hashes else [], via, line_style)
    return lines


def universal_to_json(universal: UniversalResolution) -> dict[str, Any]:
    """The machine-readable form of a universal resolution (``depsat.universal/1``): the
    pins with their markers, the forks (forks with the same plan merged, as uv merges them:
    their environments, as one marker, and their plan), or the fork where no plan exists
    with its explanation."""
    group_of = {fork: number for number, merged in enumerate(universal.merged)
                for fork in merged.forks}
    data: dict[str, Any] = {
        "schema": UNIVERSAL_SCHEMA,
        "status": "solved" if universal.ok else "unsatisfiable",
        "python_floor": str(universal.space.floor),
        "resolves": universal.resolves,
        "packages": [
            {"name": pin.candidate.name, "version": str(pin.candidate.version),
             "marker": pin.marker or None, "extras": sorted(pin.extras),
             "source": str(pin.candidate.origin),
             "forks": sorted({group_of[fork] for fork in pin.forks})}
            for pin in universal.pins],
        "forks": [
            {"marker": merged.marker or None,
             "packages": dict(sorted(_plan_versions(universal.forks[merged.forks[0]])))}
            for merged in universal.merged],
    }
    if universal.failed is not None:
        data["failed"] = {"marker": universal.failed.marker or None,
                          **resolution_to_json(universal.failed.resolution)}
    return data


def _plan_versions(fork: Fork) -> Iterable[tuple[str, str]]:
    plan = fork.resolution.plan
    assert plan is not None  # (forks have plans: a cell without one is `failed`)
    return plan.versions().items()


def _is_editable(candidate: Candidate) -> bool:
    installed = candidate.installed
    return (candidate.origin.kind == DIRECT and candidate.origin.editable) or (
        installed is not None and bool(installed.direct_url) and installed.editable)


def _editable(step: PlanStep) -> bool:
    return step.candidate is not None and _is_editable(step.candidate)


def _requirers(resolution: Resolution) -> dict[str, set[str]]:
    """Package -> the other packages of the plan whose requirements (with the extras the
    plan installs) the release taken meets."""
    assert resolution.plan is not None
    universe = resolution.universe
    taken = {c.key for c in resolution.plan.chosen}
    found: dict[str, set[str]] = {}
    for step in resolution.plan.steps:
        if step.candidate is None or step.action is Action.REMOVE:
            continue
        key = step.candidate.key
        dependencies = [*universe.dependencies.get(key, ()),
                        *(d for extra in step.extras
                          for d in universe.extra_dependencies.get((key, extra), ()))]
        for dependency in dependencies:
            # (not a package's own extras asking for its others: uv names no self-requirer)
            if dependency.name != step.name and any(match.key in taken
                                                    for match in dependency.matches):
                found.setdefault(dependency.name, set()).add(step.name)
    return found


def _hashes(candidate: Candidate | None) -> list[str]:
    """``algorithm:digest`` of each file of the release, sha256 where given, sorted."""
    found = set()
    for artifact in candidate.artifacts if candidate is not None else ():
        algorithm = next((a for a in ("sha256", "sha384", "sha512") if a in artifact.hashes),
                         None)
        if algorithm is not None:
            found.add(f"{algorithm}:{artifact.hashes[algorithm]}")
    return sorted(found)


def unhashed(resolution: Resolution) -> list[str]:
    """The pins `requirements_lines` can give no hash (installed, or published without
    one): pip's ``--require-hashes`` would refuse them."""
    assert resolution.plan is not None
    return [str(step.candidate) for step in resolution.plan.steps
            if step.action is not Action.REMOVE and step.candidate is not None
            and not _hashes(step.candidate)]


def table_lines(resolution: Resolution) -> list[str]:
    """A readable table: package, version, action, source, why."""
    assert resolution.plan is not None
    rows = [("package", "version", "action", "source", "why")]
    for step in resolution.plan.steps:
        why = str(step.chain[-1]) if step.chain else ""
        why = "; ".join(part for part in (why, step.note) if part)
        rows.append((step.name, str(step.version or (step.previous and step.previous.version)),
                     step.action.value, _source(step), why))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]
            for row in rows]
