"""Per-index source rules: named indexes in priority order, pins, explicit indexes, strategies.

A `SourceRules` object is a `SourcePolicy` for discovery: for each project it sees what every
source offers and says which candidates may be chosen. Nothing is forgotten: every candidate it
refuses becomes an `Exclusion` whose sentence names the rule and the indexes involved, so an
explanation can say "cryptography 41.0.3 exists on index pypi, but under first-index
cryptography is taken from alpine" and suggest the pin that would change it.

Strategies follow uv's documentation ("Searching across multiple indexes"):

* ``first-index`` (default): only the first index, in priority order, that has the project at
  all;
* ``unsafe-first-match``: every index, but any version from an earlier index is preferred over
  any version from a later one;
* ``unsafe-best-match``: the best version across all indexes.

Sources that are not indexes (installed layers, find-links folders) are always admitted; an
installed distribution satisfies a pin unless its provenance says it came from elsewhere
(``installed_pins``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

import attrs
from packaging.utils import NormalizedName, canonicalize_name

from depsat.errors import ConfigurationError
from depsat.model import Candidate, CandidateKey, Exclusion, ExclusionKind
from depsat.sources.base import Source
from depsat.universe import Admission

__all__ = ["IndexStrategy", "InstalledPinRule", "SourceRules", "parse_pins"]


class IndexStrategy(enum.Enum):
    FIRST_INDEX = "first-index"
    UNSAFE_FIRST_MATCH = "unsafe-first-match"
    UNSAFE_BEST_MATCH = "unsafe-best-match"

    @classmethod
    def parse(cls, text: str) -> IndexStrategy:
        """uv's names and its aliases (``first-match``, ``unsafe-any-match``)."""
        aliases = {"first-match": "first-index", "unsafe-any-match": "unsafe-first-match"}
        return cls(aliases.get(text, text))


class InstalledPinRule(enum.Enum):
    """When an installed distribution counts as coming from the index its project is pinned to."""

    TRUST = "trust"
    """Unless its provenance says otherwise (a direct URL or editable install)."""
    STRICT = "strict"
    """Never: a pinned project is always taken from its index."""


@attrs.frozen(slots=True)
class SourceRules:
    """Index order, pins and strategy for one resolution.

    `indexes` names the index sources in priority order (first is highest); sources not named
    there take no part in strategies. `pins` maps a project to the one source it must come
    from; `explicit` sources serve only the projects pinned to them.
    """

    indexes: tuple[str, ...] = ()
    pins: Mapping[NormalizedName, str] = attrs.field(factory=dict)
    explicit: frozenset[str] = frozenset()
    strategy: IndexStrategy = IndexStrategy.FIRST_INDEX
    package_strategies: Mapping[NormalizedName, IndexStrategy] = attrs.field(factory=dict)
    installed_pins: InstalledPinRule = InstalledPinRule.TRUST

    def strategy_for(self, name: NormalizedName) -> IndexStrategy:
        return self.package_strategies.get(name, self.strategy)

    def admit(
        self, name: NormalizedName, offered: Sequence[tuple[Source, Sequence[Candidate]]]
    ) -> Admission:
        admitted: list[Candidate] = []
        refused: list[Exclusion] = []
        pin = self.pins.get(name)
        index_offers: list[tuple[str, Sequence[Candidate]]] = []
        for source, candidates in offered:
            if source.name in self.indexes or source.name in self.explicit:
                index_offers.append((source.name, candidates))
                continue
            for candidate in candidates:
                why = self._refuse_other(candidate, pin)
                (refused.append(Exclusion(candidate, ExclusionKind.SOURCE_POLICY, why))
                 if why else admitted.append(candidate))
        if pin is not None:
            for index, candidates in index_offers:
                if index == pin:
                    admitted.extend(candidates)
                else:
                    refused.extend(Exclusion(c, ExclusionKind.SOURCE_POLICY,
                                             f"{name} is pinned to index {pin}, so {c} on "
                                             f"index {index} is not used") for c in candidates)
            return Admission(admitted, refused)
        usable = [(i, c) for i, c in index_offers if i not in self.explicit]
        for index, candidates in index_offers:
            if index in self.explicit:
                refused.extend(Exclusion(c, ExclusionKind.SOURCE_POLICY,
                                         f"index {index} is explicit (it serves only packages "
                                         f"pinned to it), so {c} there is not used")
                               for c in candidates)
        strategy = self.strategy_for(name)
        preference: dict[CandidateKey, int] = {}
        if strategy is IndexStrategy.FIRST_INDEX:
            first = next((index for index, cands in usable if cands), None)
            for index, candidates in usable:
                if index == first:
                    admitted.extend(candidates)
                    continue
                refused.extend(Exclusion(
                    c, ExclusionKind.SOURCE_POLICY,
                    f"under first-index, {name} is taken from index {first} (which has "
                    f"{_versions(usable, first)}), not from index {index}, which has "
                    f"{c.version}") for c in candidates)
        else:
            for order, (_, candidates) in enumerate(usable):
                admitted.extend(candidates)
                if strategy is IndexStrategy.UNSAFE_FIRST_MATCH:
                    preference.update((c.key, order) for c in candidates)
        return Admission(admitted, refused, preference)

    def _refuse_other(self, candidate: Candidate, pin: str | None) -> str | None:
        """Why a candidate from a non-index source (installed, find-links) breaks the pin."""
        if pin is None or candidate.origin.name == pin:
            return None
        info = candidate.installed
        if info is None:
            return (f"{candidate.name} is pinned to index {pin}, so {candidate} from "
                    f"{candidate.origin} is not used")
        if self.installed_pins is InstalledPinRule.STRICT:
            return (f"{candidate.name} is pinned to index {pin}, and installed copies are not "
                    f"trusted to match pins (installed-pins=strict), so the installed "
                    f"{candidate} is not used")
        if info.direct_url or info.editable:
            where = info.direct_url or "an editable checkout"
            return (f"{candidate.name} is pinned to index {pin}, so the installed {candidate}, "
                    f"which came from {where}, is not used")
        return None


def _versions(usable: Sequence[tuple[str, Sequence[Candidate]]], index: str | None) -> str:
    versions = sorted({c.version for i, cands in usable if i == index for c in cands},
                      reverse=True)
    shown = ", ".join(str(v) for v in versions[:5]) + (" …" if len(versions) > 5 else "")
    return f"only {shown}" if versions else "no versions"


def parse_pins(items: Sequence[str], known: Sequence[str], where: str) -> dict[NormalizedName,
                                                                              str]:
    """``PACKAGE=INDEX`` strings into a pin map; an unknown index name is an error."""
    pins: dict[NormalizedName, str] = {}
    for item in items:
        package, sep, index = item.partition("=")
        if not sep or not package.strip() or not index.strip():
            raise ConfigurationError(f"expected PACKAGE=INDEX, got {item!r}", where)
        if index.strip() not in known:
            raise ConfigurationError(
                f"pin {item!r} names index {index.strip()!r}, which is not defined "
                f"(known: {', '.join(known) or 'none'})", where)
        pins[canonicalize_name(package.strip())] = index.strip()
    return pins
