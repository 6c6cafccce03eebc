"""Explanations as plain English and as versioned JSON (``depsat.explanation/1``).

The JSON schema is documented in docs/json.md; a change that removes or renames a field
bumps the version. Nothing here prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from depsat.explain.analysis import Explanation, Fix
from depsat.explain.facts import Fact, join_words

if TYPE_CHECKING:
    from depsat.explain.why import WhyReport

__all__ = [
    "EXPLANATION_SCHEMA",
    "WHY_SCHEMA",
    "explanation_text",
    "explanation_to_json",
    "why_text",
    "why_to_json",
]

EXPLANATION_SCHEMA = "depsat.explanation/1"
WHY_SCHEMA = "depsat.why/1"


def _fix_line(fix: Fix) -> str:
    unchecked = "" if fix.confirmed else " (not checked)"
    return f"  - {fix.text}{unchecked}"


def explanation_text(explanation: Explanation, *, fixes: bool = True) -> str:
    """The chain, one sentence a line, then the fixes; marked when the core is not minimal."""
    lines = [*explanation.sentences]
    if not explanation.minimal:
        lines.append("(depsat ran out of time before reducing these facts to a minimal set; "
                     "some may not be needed.)")
    if fixes and explanation.fixes:
        lines.append("To fix it:")
        lines.extend(_fix_line(fix) for fix in explanation.fixes)
    return "\n".join(lines)


def _fact_json(fact: Fact, index: int) -> dict[str, Any]:
    return {
        "id": f"f{index + 1}",
        "kind": fact.kind.value,
        "text": fact.text,
        "package": fact.package,
        "versions": [str(v) for v in fact.versions],
        "extra": fact.extra,
        "requirement": fact.requirement,
        "target": fact.target,
        "source": fact.source or None,
        "detail": fact.detail or None,
        "label": fact.label_kind,
        "groups": list(fact.groups),
        "relaxable": fact.relaxable,
    }


def _fix_json(fix: Fix) -> dict[str, Any]:
    return {
        "action": fix.action,
        "text": fix.text,
        "cost": fix.cost,
        "confirmed": fix.confirmed,
        "packages": list(fix.packages),
        "requirements": list(fix.requirements),
        "groups": list(fix.groups),
        "note": fix.note or None,
    }


def explanation_to_json(explanation: Explanation) -> dict[str, Any]:
    """The machine-readable explanation (schema ``depsat.explanation/1``)."""
    return {
        "schema": EXPLANATION_SCHEMA,
        "minimal": explanation.minimal,
        "smallest": explanation.smallest,
        "method": explanation.method,
        "seconds": round(explanation.seconds, 6),
        "facts": [_fact_json(f, i) for i, f in enumerate(explanation.facts)],
        "chain": [{"text": step.text, "facts": [f"f{i + 1}" for i in step.facts]}
                  for step in explanation.chain],
        "conclusion": explanation.conclusion,
        "fixes": [_fix_json(fix) for fix in explanation.fixes],
        "text": explanation_text(explanation),
    }


def why_text(report: WhyReport) -> str:
    """Who requires the package, then why not each version the objective prefers."""
    step = report.step
    if step is None or step.candidate is None:
        return f"{report.name} is not in the plan: nothing you require needs it."
    lines = [f"{step.name} {step.candidate.version} ({step.action.value}, from "
             f"{step.candidate.origin})"]
    if step.chain:
        lines.append("Required by: " + " -> ".join(str(r) for r in step.chain))
    if step.note:
        lines.append(f"Note: {step.note}")
    if not report.newer:
        usable = "final release" if report.fallback else "usable version"
        lines.append(f"It is the {report.prefers} {usable} of {step.name}.")
    for blocker in report.newer:
        if blocker.refused_by:
            lines.append(f"Why not {step.name} {blocker.version}? The plan's requirements "
                         f"on {step.name} refuse it:")
            lines.extend(f"  {sentence}" for sentence in blocker.refused_by)
            continue
        if blocker.explanation is None and blocker.unread:
            unread = join_words([str(c) for c in blocker.unread])
            lines.append(f"Why not {step.name} {blocker.version}? Perhaps possible: the best "
                         f"plan with it takes {unread}, whose dependencies depsat has not "
                         f"read; if they fit, {blocker.preference}.")
            continue
        if blocker.explanation is None:
            lines.append(f"Why not {step.name} {blocker.version}? It is possible, but "
                         f"{blocker.preference}.")
            continue
        lines.append(f"Why not {step.name} {blocker.version}?")
        lines.extend(f"  {s}" for s in blocker.explanation.sentences)
    if report.fallback:
        shown = [str(v) for v in report.fallback[:3]]
        if len(report.fallback) > 3:
            shown[-1] = f"{len(report.fallback) - 2} others"
        are = "is a prerelease" if len(shown) == 1 else "are prereleases"
        lines.append(f"{step.name} {join_words(shown)} {are}, taken only where no final "
                     f"release will do (a requirement naming a prerelease, such as "
                     f"{step.name}>={report.fallback[0]}, or --prerelease allow, ranks "
                     f"prereleases by version).")
    for exclusion in report.excluded[:3]:
        lines.append(f"Not usable: {exclusion.detail}.")
    return "\n".join(lines)


def why_to_json(report: WhyReport) -> dict[str, Any]:
    """The machine-readable form of `why_text` (schema ``depsat.why/1``)."""
    step = report.step
    return {
        "schema": WHY_SCHEMA,
        "package": report.name,
        "version": str(step.candidate.version) if step and step.candidate else None,
        "action": step.action.value if step else None,
        "reason": [{"requirement": r.requirement, "required_by": r.required_by}
                   for r in (step.chain if step else ())],
        "prefers": report.prefers,
        "newer": [
            {"version": str(b.version),
             "possible": (None if b.unread else b.explanation is None and not b.refused_by),
             "preference": b.preference or None,
             "unread": [str(c) for c in b.unread],
             "refused_by": list(b.refused_by),
             "explanation": (explanation_to_json(b.explanation)
                             if b.explanation is not None else None)}
            for b in report.newer
        ],
        "excluded": [{"version": str(e.candidate.version), "kind": e.kind.value,
                      "detail": e.detail} for e in report.excluded],
        "fallback_prereleases": [str(v) for v in report.fallback],
    }
