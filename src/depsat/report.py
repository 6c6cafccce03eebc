"""Documented, versioned renderings of a resolution: JSON data, requirements lines, a table.

The JSON schema (``depsat.plan/1``) is described in docs/json.md. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Literal

from depsat.api import Resolution, explain
from depsat.model import DIRECT, Action, Diagnostic, PlanStep

__all__ = ["PLAN_SCHEMA", "requirements_lines", "resolution_to_json", "table_lines",
           "unhashed", "warning_lines"]

PLAN_SCHEMA = "depsat.plan/1"


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
        extras = f"[{','.join(sorted(step.extras))}]" if step.extras and not strip_extras else ""
        installed = step.candidate.installed
        origin = step.candidate.origin
        as_written = (written or {}).get(origin.location) if origin.kind == DIRECT else None
        if origin.kind == DIRECT and origin.editable:
            pin = f"-e {as_written or origin.name}"
        elif as_written:
            pin = f"{as_written}{extras}"
        elif origin.kind == DIRECT:  # (its name: the URL without a password)
            pin = f"{step.name}{extras} @ {origin.name}"
        elif installed is not None and installed.direct_url and installed.editable:
            pin = f"-e {installed.direct_url}"
        elif installed is not None and installed.direct_url:
            pin = f"{step.name}{extras} @ {installed.direct_url}"
        else:
            pin = f"{step.name}{extras}=={step.version}"
        digests = _hashes(step) if hashes else []
        asked = sorted(set((origins or {}).get(step.name, ()))) if annotate else []
        required = sorted(requirers.get(step.name, ()))
        line_style = annotation_style == "line"
        via = [*required, *asked] if line_style else [*asked, *required]
        if line_style and via and not digests:
            lines.append(f"{pin:<24}  # via {', '.join(via)}")
            continue
        lines.append(pin + (" \\" if digests else ""))
        lines += [f"    --hash={d}" + (" \\" if i < len(digests) - 1 else "")
                  for i, d in enumerate(digests)]
        if line_style and via:
            lines.append(f"    # via {', '.join(via)}")
        elif len(via) == 1:
            lines.append(f"    # via {via[0]}")
        elif via:
            lines += ["    # via", *(f"    #   {item}" for item in via)]
    return lines


def _editable(step: PlanStep) -> bool:
    candidate = step.candidate
    if candidate is None:
        return False
    installed = candidate.installed
    return (candidate.origin.kind == DIRECT and candidate.origin.editable) or (
        installed is not None and bool(installed.direct_url) and installed.editable)


def _requirers(resolution: Resolution) -> dict[str, set[str]]:
    """Package -> the packages of the plan whose requirements (with the extras the plan
    installs) the release taken meets."""
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
            if any(match.key in taken for match in dependency.matches):
                found.setdefault(dependency.name, set()).add(step.name)
    return found


def _hashes(step: PlanStep) -> list[str]:
    """``algorithm:digest`` of each file of the step's release, sha256 where given, sorted."""
    found = set()
    for artifact in step.candidate.artifacts if step.candidate is not None else ():
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
            and not _hashes(step)]


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
