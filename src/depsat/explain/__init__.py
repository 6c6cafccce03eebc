"""Explanations: why a request fails (minimal cores as facts), how to fix it (minimal
correction sets), and why a plan chose what it chose. Pure: no sources, no I/O."""

from depsat.explain.analysis import Explanation, Fix, Step, explain_encoding
from depsat.explain.facts import Fact, FactKind, Hypothesis
from depsat.explain.render import (
    EXPLANATION_SCHEMA,
    WHY_SCHEMA,
    explanation_text,
    explanation_to_json,
    why_text,
    why_to_json,
)
from depsat.explain.why import Blocker, WhyReport, why

__all__ = [
    "EXPLANATION_SCHEMA",
    "WHY_SCHEMA",
    "Blocker",
    "Explanation",
    "Fact",
    "FactKind",
    "Fix",
    "Hypothesis",
    "Step",
    "WhyReport",
    "explain_encoding",
    "explanation_text",
    "explanation_to_json",
    "why",
    "why_text",
    "why_to_json",
]
