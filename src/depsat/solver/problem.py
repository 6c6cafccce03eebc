"""What a solver backend sees: integers only. It never learns what they mean."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

__all__ = ["Optimum", "Problem", "Refutation", "Unfinished"]

Clause = Sequence[int]


@attrs.frozen(slots=True)
class Problem:
    """Hard clauses, labelled groups of hard clauses, and lexicographic soft tiers.

    `groups[i]` is one fact (a requirement, a dependency): explanations name groups by index.
    `tiers[k]` lists (literal, weight): prefer the literal true; minimise the weight of false
    ones; tier k strictly before tier k+1.
    """

    hard: Sequence[Clause]
    groups: Sequence[Sequence[Clause]]
    tiers: Sequence[Sequence[tuple[int, int]]] = ()
    top: int = 0
    """The largest variable used; backends number their own auxiliaries above it."""
    phases: Sequence[int] = ()
    """Decision hints: literals a backend's SAT oracle should try first. They change how
    fast an answer comes, never the answer (the encoder hints "install nothing" so that an
    oracle left without soft assumptions searches like a greedy resolver)."""
    implied: Sequence[tuple[int, int]] = ()
    """Pairs (a, b) of soft literals of one tier where the hard clauses make a imply b (an
    order encoding's ladder: "not one step stale" implies "not two steps stale"). While a
    backend assumes a, assuming b too adds nothing, so it may hold b back until a is given
    up. Like `phases`, this changes how fast an answer comes, never the answer."""
    reuse: object = None
    """What the backend reported (`Optimum.reusable`) for an earlier problem much like this
    one (the previous round of lazy reading: the same variables, fewer hard clauses). A
    backend may reuse what still holds, checking it first. Like `phases`, this changes how
    fast an answer comes, never the answer."""
    preferences: Sequence[Sequence[Sequence[int]]] = ()
    """A tie-break among optimal models, so that the answer is a function of the problem and
    not of how it was numbered or found: lists of alternatives, each alternative a
    conjunction of literals, exactly one alternative of each list true in every model, best
    first. A backend that honours it returns, among the optimal models, the one whose first
    list's alternative is best, then the second's, and so on."""
    provisional: Sequence[int] = ()
    """Literals that make a model provisional: when the optimum sets one of them, the caller
    will not answer with it (a lazy round that took an unread release reads it and solves
    again), so a backend may skip the tie-break."""
    effort_limit: int | None = None
    """A backend that counts its search (`Optimum.effort`) may give up once it has used this
    many SAT conflicts, returning `Unfinished`; None: solve to the end."""


@attrs.frozen(slots=True)
class Optimum:
    """An optimal model and the cost reached in each tier."""

    model: tuple[int, ...]
    costs: tuple[int, ...]
    reusable: object = attrs.field(default=None, eq=False, repr=False)
    """Backend-specific facts a later, similar problem can start from (`Problem.reuse`)."""
    effort: int = attrs.field(default=0, eq=False)
    """How hard the search was, in SAT conflicts (0 when a backend does not count them): a
    measure that, unlike time, is the same on every machine, so decisions taken on it (lazy
    reading's, in `depsat.api`) do not change the plan from one machine to another."""


@attrs.frozen(slots=True)
class Refutation:
    """No model: `core` lists group indices that cannot hold together (not always minimal)."""

    core: tuple[int, ...]


@attrs.frozen(slots=True)
class Unfinished:
    """The search passed `Problem.effort_limit` before it found the answer."""

    effort: int
