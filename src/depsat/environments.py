"""Sets of marker environments, for universal resolution: which environments a resolution
covers, one environment that stands for all of them, and the marker that names them.

A universal resolution must hold on every environment a project supports, and there are
infinitely many. They fall into finitely many classes, though: a marker compares a variable
with a constant, so two environments that agree on every comparison met so far are alike.
`Cell` is a product of one region per variable (a set of values, or all values but some; for
Python, an interval of versions), and `Cell.uniform` says whether a comparison holds on all of
the cell or on none of it: it evaluates the comparison at one value per class (the constants
met so far, one value met nowhere, the version cut points) instead of at every environment.
The same classes answer whether a marker `may_hold` somewhere in a cell, cut a cell into the
`classes` a plan's markers tell apart, and are `split` off where a resolution must differ
(`depsat.universal`); `marker_text` writes a union of cells back as a short marker.

packaging parses markers but publishes no syntax tree, so the comparisons are read from
`Marker._markers` (a list of (left, op, right) triples, nested lists and "and"/"or", stable
since packaging 16); everything is evaluated by packaging's own `Marker.evaluate`.

Approximations, documented: variables are independent but for ``sys_platform`` and
``platform_system``, whose usual pairs go together (`_SYSTEMS`, as uv assumes), the
``os_name`` each of those platforms has (`_OS_NAMES`), and the ``platform_machine`` values
only Windows reports (`_MACHINE_PLATFORMS`); the substring
operators ``in`` and ``not in`` and ordered comparisons of a variable other than the Python
version are classed by the constants met and one value met nowhere.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache

import attrs
from packaging._parser import Op, Value, Variable  # (the nodes of `Marker._markers`)
from packaging.markers import Marker
from packaging.version import InvalidVersion, Version

__all__ = [
    "ELSEWHERE",
    "PYTHON",
    "Cell",
    "Comparison",
    "PythonRange",
    "Space",
    "StringRegion",
    "comparisons",
    "marker_text",
    "plausible",
    "python_cut_points",
    "system_of",
    "told_apart",
]

PYTHON = "python"
"""The one axis for ``python_version`` and ``python_full_version`` (they move together)."""
_PYTHON_VARIABLES = frozenset({"python_version", "python_full_version"})
_NOT_ENVIRONMENT = frozenset({"extra", "extras", "dependency_groups"})
ELSEWHERE = "\x00elsewhere"
"""A value no marker names: it stands for every value of a variable that no constant met."""


_SYSTEMS = {"linux": "Linux", "darwin": "Darwin", "win32": "Windows",
            "emscripten": "Emscripten", "android": "Android", "ios": "iOS"}
"""``sys_platform`` -> ``platform_system`` where one names the other on every Python that has
them (3.13 on for Android and iOS), as uv assumes too: a comparison of ``platform_system``
with one of these is read as one of ``sys_platform`` (``platform_system == 'Windows'`` is
``sys_platform == 'win32'``), and an environment's ``platform_system`` follows its
``sys_platform`` (`_follow`), so cells hold no environment a machine cannot have."""
_PLATFORMS = {system: platform for platform, system in _SYSTEMS.items()}
_OS_NAMES = {platform: "nt" if platform == "win32" else "posix" for platform in _SYSTEMS}
"""``sys_platform`` -> ``os_name`` on the platforms `_SYSTEMS` names: Windows says ``nt``,
the others ``posix``. An environment's ``os_name`` follows its ``sys_platform`` there
(`_follow`), so a cell such as ``os_name == 'nt' and sys_platform == 'linux'`` holds no
machine and is skipped (uv skips it too); on a platform named nowhere (``cli``, ``java``)
``os_name`` stays free."""
_PLATFORM_VARIABLES = frozenset({"sys_platform", "platform_system", "platform_machine",
                                 "os_name"})
_MACHINE_PLATFORMS = {"AMD64": "win32", "ARM64": "win32"}
"""``platform_machine`` values only one ``sys_platform`` reports: Windows says ``AMD64`` and
``ARM64`` where Linux says ``x86_64`` and ``aarch64`` and macOS ``x86_64`` and ``arm64``. An
environment with one of them is on that platform (`_follow`), so a cell such as
``platform_machine == 'AMD64' and sys_platform == 'linux'`` holds no machine and is skipped (a
universal lock of ``transformers[torch]`` had five of them among its 31 forks)."""


def _fits(machine: str, platform: str) -> bool:
    """Whether a machine on `platform` can report `machine` (`_MACHINE_PLATFORMS`)."""
    return _MACHINE_PLATFORMS.get(machine, platform) == platform


def system_of(platform: str) -> str:
    """The ``platform_system`` of a ``sys_platform`` (`_SYSTEMS`; a value named nowhere for
    the others)."""
    return _SYSTEMS.get(platform, ELSEWHERE)


def plausible(environment: Mapping[str, str]) -> bool:
    """Whether a machine can have `environment`'s ``sys_platform``, ``platform_system``,
    ``os_name`` and ``platform_machine`` together (`_SYSTEMS`, `_OS_NAMES`,
    `_MACHINE_PLATFORMS`): to compare locks only where it matters."""
    platform, system = environment.get("sys_platform"), environment.get("platform_system")
    if not _fits(environment.get("platform_machine", ""), platform or ""):
        return False
    if platform in _SYSTEMS:
        return (system == _SYSTEMS[platform]
                and environment.get("os_name", _OS_NAMES[platform]) == _OS_NAMES[platform])
    return system not in _SYSTEMS.values()


def told_apart(markers: Iterable[Marker | None], floor: Version,
               base: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """One environment (`base` changed) per class of environments that `markers` tell
    apart, from Python `floor` on, leaving out those no machine has (`plausible`): where two
    locks install the same in each, they install the same everywhere."""
    constants: dict[str, set[str]] = {}
    pythons = {floor}
    for marker in markers:
        for comparison in comparisons(marker):
            if comparison.axis == PYTHON:
                pythons.update(python_cut_points(comparison.constant))
            else:
                constants.setdefault(comparison.variable, set()).add(comparison.constant)
    names = sorted(constants)
    for values in itertools.product(*([*sorted(constants[n]), ELSEWHERE] for n in names)):
        for python in sorted(p for p in pythons if p >= floor):
            environment = {**base, **_python_values(python)}
            environment.update(zip(names, values, strict=True))
            if "platform_system" not in names:  # (else the base's, whatever the platform)
                environment["platform_system"] = system_of(environment["sys_platform"])
            os_name = _OS_NAMES.get(environment["sys_platform"])
            if os_name is not None:  # (one os_name there: the class that holds it, once)
                if "os_name" in names and environment["os_name"] != (
                        os_name if os_name in constants["os_name"] else ELSEWHERE):
                    continue
                environment["os_name"] = os_name
            if plausible(environment):
                yield environment


@attrs.frozen(slots=True)
class Comparison:
    """One ``left op right`` of a marker, with exactly one side a variable."""

    variable: str
    text: str
    """The comparison as marker text, to evaluate it alone."""
    constant: str

    @property
    def axis(self) -> str:
        return PYTHON if self.variable in _PYTHON_VARIABLES else self.variable


def comparisons(marker: Marker | None) -> tuple[Comparison, ...]:
    """The comparisons of environment variables in `marker` (``extra`` is not one),
    remembered by the marker's text: a universal resolution asks for the same markers in
    every cell (transformers[torch]: 300,000 times, for a few thousand markers)."""
    if marker is None:
        return ()
    text = str(marker)
    found = _COMPARISONS.get(text)
    if found is None:
        if len(_COMPARISONS) > _REMEMBERED:
            _COMPARISONS.clear()
        found = _COMPARISONS[text] = tuple(_walk(marker._markers))
    return found


_COMPARISONS: dict[str, tuple[Comparison, ...]] = {}
_REMEMBERED = 100_000


def _walk(items: object) -> Iterator[Comparison]:
    if isinstance(items, list):
        for item in items:
            yield from _walk(item)
    elif isinstance(items, tuple) and len(items) == 3:
        left, op, right = items
        if not isinstance(op, Op):
            return
        if isinstance(left, Variable) and isinstance(right, Value):
            variable, constant = left.value, right.value
        elif isinstance(left, Value) and isinstance(right, Variable):
            variable, constant = right.value, left.value
        else:
            return  # two constants or two variables: no environment class to tell apart
        if variable in _NOT_ENVIRONMENT:
            return
        if variable == "platform_system" and op.value in ("==", "!=") and constant in _PLATFORMS:
            platform = _PLATFORMS[constant]  # (`_SYSTEMS`)
            yield Comparison("sys_platform", f"sys_platform {op.value} {platform!r}", platform)
            return
        yield Comparison(variable, f"{_side(left)} {op.value} {_side(right)}", constant)


def _side(item: Variable | Value) -> str:
    return item.value if isinstance(item, Variable) else repr(item.value)


def python_cut_points(constant: str) -> tuple[Version, ...]:
    """Python versions at which a comparison with `constant` may change its answer: the
    version itself and the next patch and minor release (``== '3.10'`` holds from 3.10.0
    to before 3.11.0). More points than needed only cost evaluations."""
    text = constant.rstrip(".*")
    try:
        version = Version(text)
    except InvalidVersion:
        return ()
    release = (*version.release, 0, 0)[:3]
    major, minor, patch = release
    return (Version(f"{major}.{minor}.{patch}"), Version(f"{major}.{minor}.{patch + 1}"),
            Version(f"{major}.{minor + 1}.0"))


@attrs.frozen(slots=True)
class StringRegion:
    """The values of one variable: exactly `values`, or (`complement`) all but them."""

    values: frozenset[str] = frozenset()
    complement: bool = True

    @property
    def whole(self) -> bool:
        return self.complement and not self.values

    def contains(self, value: str) -> bool:
        return (value in self.values) is not self.complement

    def points(self, known: Iterable[str]) -> list[str]:
        """One value per class: the known constants inside, and one named nowhere."""
        if not self.complement:
            return sorted(self.values)
        return [*sorted(set(known) - self.values), ELSEWHERE]

    def of_points(self, points: Iterable[str], all_points: Iterable[str]) -> StringRegion:
        """The part of this region that `points` (some of its `points`) stand for."""
        chosen = set(points)
        if ELSEWHERE not in chosen:
            return StringRegion(frozenset(chosen), complement=False)
        return StringRegion(self.values | (set(all_points) - chosen), complement=True)

    def overlaps(self, other: StringRegion) -> bool:
        if self.complement and other.complement:
            return True  # (each leaves out finitely many of infinitely many values)
        if self.complement or other.complement:
            inside, outside = (other, self) if self.complement else (self, other)
            return bool(inside.values - outside.values)
        return bool(self.values & other.values)

    def intersection(self, other: StringRegion) -> StringRegion:
        if self.complement and other.complement:
            return StringRegion(self.values | other.values)
        if self.complement or other.complement:
            inside, outside = (other, self) if self.complement else (self, other)
            return StringRegion(inside.values - outside.values, complement=False)
        return StringRegion(self.values & other.values, complement=False)

    def within(self, other: StringRegion) -> bool:
        if other.complement:
            return (other.values <= self.values if self.complement
                    else not self.values & other.values)
        return not self.complement and self.values <= other.values

    def union(self, other: StringRegion) -> StringRegion:
        if self.complement and other.complement:
            return StringRegion(self.values & other.values)
        if self.complement or other.complement:
            inside, outside = (other, self) if self.complement else (self, other)
            return StringRegion(outside.values - inside.values)
        return StringRegion(self.values | other.values, complement=False)

    def condition(self, variable: str) -> str:
        if self.complement:
            return " and ".join(f"{variable} != {value!r}" for value in sorted(self.values))
        return " or ".join(f"{variable} == {value!r}" for value in sorted(self.values))


@attrs.frozen(slots=True)
class PythonRange:
    """Python versions from `low` (included) to `high` (excluded; None: no end)."""

    low: Version
    high: Version | None = None

    def points(self, cuts: Iterable[Version]) -> list[Version]:
        return [self.low, *sorted(c for c in cuts
                                  if c > self.low and (self.high is None or c < self.high))]

    def overlaps(self, other: PythonRange) -> bool:
        return ((self.high is None or other.low < self.high)
                and (other.high is None or self.low < other.high))

    def within(self, other: PythonRange) -> bool:
        return self.low >= other.low and (other.high is None or (
            self.high is not None and self.high <= other.high))

    def union(self, other: PythonRange) -> PythonRange | None:
        """The two as one range, or None when there is a gap between them."""
        first, second = sorted((self, other), key=lambda r: r.low)
        if first.high is not None and first.high < second.low:
            return None
        high = None if first.high is None or second.high is None else max(first.high,
                                                                          second.high)
        return PythonRange(first.low, high)

    def condition(self, floor: Version, *, but: Version | None = None) -> str:
        """The range as marker text; `but`, a patch release inside it, left out (a
        Requires-Python hole such as ``!=3.9.7``)."""
        low = (*self.low.release, 0, 0)
        high = (*self.high.release, 0, 0) if self.high is not None else None
        if self.low > floor and high is not None and but is None:
            if low[2] == 0 and high[2] == 0 and high[:2] == (low[0], low[1] + 1):
                return f"python_full_version == '{low[0]}.{low[1]}.*'"  # (one minor version)
            if self.high == _next_patch(self.low):
                return f"python_full_version == '{self.low}'"  # (one patch release)
        parts = []
        if self.low > floor:
            parts.append(_python_bound(">=", self.low))
        if but is not None:
            parts.append(f"python_full_version != '{but}'")
        if self.high is not None:
            parts.append(_python_bound("<", self.high))
        return " and ".join(parts)


def _next_patch(version: Version) -> Version | None:
    """The patch release after `version` (``3.9.8`` after ``3.9.7``), or None when it is
    not a plain ``X.Y.Z``."""
    if len(version.release) != 3 or version.pre or version.post or version.dev \
            or version.local or version.epoch:
        return None
    major, minor, patch = version.release
    return Version(f"{major}.{minor}.{patch + 1}")


def _python_bound(op: str, version: Version) -> str:
    """A bound on the Python version, as uv writes it: always of ``python_full_version``
    (a lock from both tools then differs only where the pins do)."""
    major, minor, patch = (*version.release, 0, 0)[:3]
    if patch == 0:
        return f"python_full_version {op} '{major}.{minor}'"
    return f"python_full_version {op} '{major}.{minor}.{patch}'"


Region = StringRegion | PythonRange


def _sorted_regions(
    regions: Iterable[tuple[str, StringRegion]],
) -> tuple[tuple[str, StringRegion], ...]:
    return tuple(sorted((v, r) for v, r in regions if not r.whole))


@attrs.frozen(slots=True)
class Space:
    """What is known of the environments so far: every constant met per variable, the
    Python cut points, the floor (the oldest Python supported) and the environment whose
    values stand in for variables no cell divides."""

    floor: Version
    base: Mapping[str, str] = attrs.field(eq=False)
    constants: Mapping[str, frozenset[str]] = attrs.field(factory=dict)
    cuts: frozenset[Version] = frozenset()

    def knowing(self, found: Iterable[Comparison]) -> Space:
        """This space, knowing the constants and cut points of `found` too."""
        constants = {k: set(v) for k, v in self.constants.items()}
        cuts = set(self.cuts)
        for comparison in found:
            if comparison.axis == PYTHON:
                cuts.update(python_cut_points(comparison.constant))
            else:
                constants.setdefault(comparison.variable, set()).add(comparison.constant)
        return Space(self.floor, self.base,
                     {k: frozenset(v) for k, v in constants.items()}, frozenset(cuts))


@attrs.frozen(slots=True)
class Cell:
    """A product of regions: the variables it names are restricted, the others are whole."""

    python: PythonRange
    regions: tuple[tuple[str, StringRegion], ...] = attrs.field(default=(),
                                                               converter=_sorted_regions)
    """(variable, region) by variable, the whole regions left out."""

    @classmethod
    def whole(cls, space: Space) -> Cell:
        return cls(PythonRange(space.floor))

    def region(self, axis: str) -> Region:
        if axis == PYTHON:
            return self.python
        return dict(self.regions).get(axis, StringRegion())

    def environment(self, space: Space) -> dict[str, str]:
        """One environment of the cell: the base's values where they are inside, else the
        first value inside (the value named nowhere last)."""
        environment = dict(space.base)
        environment.update(_python_values(self.python.low))
        for variable, region in self.regions:
            current = environment.get(variable)
            if current is None or not region.contains(current):
                environment[variable] = region.points(space.constants.get(variable, ()))[0]
        systems, names = _string(self.region("platform_system")), _string(self.region("os_name"))

        def suits(platform: str) -> bool:  # (a platform `_SYSTEMS` leaves out says anything)
            return platform not in _SYSTEMS or (systems.contains(_SYSTEMS[platform])
                                                and names.contains(_OS_NAMES[platform]))

        if not suits(environment.get("sys_platform", "")):
            # The cell names a system of its own (FreeBSD), or an os_name not this platform's
            # (`nt` off Windows): the cell's first platform that has them, or says nothing.
            others = [p for p in _string(self.region("sys_platform")).points(
                space.constants.get("sys_platform", ())) if suits(p)]
            if others:
                environment["sys_platform"] = others[0]
        platform = environment.get("sys_platform", "")
        if not _fits(environment.get("platform_machine", ""), platform):
            # A machine of another platform (AMD64 on Linux): the cell's first machine this
            # platform can have instead, if it has one (else the platform follows the machine).
            fitting = [m for m in _string(self.region("platform_machine")).points(
                space.constants.get("platform_machine", ()))
                if _fits(m, platform)]
            if fitting:
                environment["platform_machine"] = fitting[0]
        _follow(environment)
        return environment

    def _points(self, axis: str, space: Space) -> list[str] | list[Version]:
        region = self.region(axis)
        if isinstance(region, PythonRange):
            return region.points(space.cuts)
        return region.points(space.constants.get(axis, ()))

    def answers(self, comparison: Comparison, space: Space) -> list[bool]:
        """The comparison's answer at each class of the cell along its axis."""
        environment = self.environment(space)
        return [_holds(comparison.text, _at(comparison.axis, point, environment))
                for point in self._points(comparison.axis, space)]

    def uniform(self, comparison: Comparison, space: Space) -> bool:
        return len(set(self.answers(comparison, space))) == 1

    def split(self, by: Sequence[Comparison], space: Space) -> list[Cell]:
        """The cell cut into parts on which each comparison of `by` (all of one axis) has
        one answer: a Python range into intervals, the values of a variable into groups (the
        group of the value named nowhere becomes "all but the others"). Cutting on all of an
        axis's comparisons at once saves resolving the parts in between."""
        axis = by[0].axis
        assert all(c.axis == axis for c in by)
        points = self._points(axis, space)
        answers = list(zip(*(self.answers(c, space) for c in by), strict=True))
        if axis == PYTHON:
            versions = [p for p in points if isinstance(p, Version)]
            parts: list[Cell] = []
            start = 0
            for index in range(1, len(versions) + 1):
                if index == len(versions) or answers[index] != answers[start]:
                    high = versions[index] if index < len(versions) else self.python.high
                    parts.append(attrs.evolve(self, python=PythonRange(versions[start], high)))
                    start = index
            return parts
        region = self.region(axis)
        assert isinstance(region, StringRegion)
        names = [p for p in points if isinstance(p, str)]
        groups: dict[tuple[bool, ...], list[str]] = {}
        for name, answer in zip(names, answers, strict=True):
            groups.setdefault(answer, []).append(name)
        out = []
        for group in groups.values():
            regions = dict(self.regions)
            regions[axis] = region.of_points(group, names)
            out.append(attrs.evolve(self, regions=tuple(regions.items())))
        return out

    def classes(self, by: Iterable[Comparison], space: Space) -> list[Cell]:
        """The cell cut into the classes of environments on which every comparison of `by`
        has one answer each."""
        by_axis: dict[str, list[Comparison]] = {}
        for comparison in dict.fromkeys(by):
            by_axis.setdefault(comparison.axis, []).append(comparison)
        cells = [self]
        for axis in sorted(by_axis):
            cells = [part for cell in cells
                     for part in (cell.split(by_axis[axis], space)
                                  if any(not cell.uniform(c, space) for c in by_axis[axis])
                                  else [cell])]
        return cells

    def may_hold(self, marker: Marker, extra: str, space: Space) -> bool:
        """Whether `marker` holds in some environment of the cell (for a release's `extra`,
        "" for its base): evaluated at one environment per class of the variables it
        reads, the constants it names among them. The answer depends on the cell's regions
        of those variables alone (`reach`), not on the constants met elsewhere: a value the
        marker does not name behaves as the value named nowhere."""
        own: dict[str, list[Comparison]] = {}
        for comparison in comparisons(marker):
            own.setdefault(comparison.axis, []).append(comparison)
        values: list[Sequence[str | Version]] = []
        for axis, found in sorted(own.items()):
            if axis == PYTHON:
                cuts = {p for c in found for p in python_cut_points(c.constant)}
                values.append(self.python.points(space.cuts | cuts))
            else:
                region = _string(self.region(axis))
                values.append(region.points(space.constants.get(axis, frozenset())
                                            | {c.constant for c in found}))
        environment = {**self.environment(space), "extra": extra}
        for combination in itertools.product(*values):
            for axis, point in zip(sorted(own), combination, strict=True):
                _put(axis, point, environment)
            if _evaluate(marker, environment):
                return True
        return False

    def reach(self, marker: Marker) -> tuple[object, ...]:
        """What of the cell `may_hold` reads for `marker`: its regions of the marker's
        variables, and of all four platform variables when it reads one (they go together:
        `_SYSTEMS`, `_OS_NAMES`, `_MACHINE_PLATFORMS`); a key under which the answer may be
        remembered."""
        axes = {c.axis for c in comparisons(marker)}
        if axes & _PLATFORM_VARIABLES:
            axes |= _PLATFORM_VARIABLES
        return tuple((axis, self.region(axis)) for axis in sorted(axes))

    def condition(self, space: Space, *, but: Version | None = None) -> str:
        """The cell as marker text ("" for every environment); `but` as
        `PythonRange.condition` has it."""
        parts = []
        python = self.python.condition(space.floor, but=but)
        if python:
            parts.append(python)
        for variable, region in self.regions:
            text = region.condition(variable)
            if text:
                parts.append(text)
        if len(parts) == 1:
            return parts[0]
        return " and ".join(f"({text})" if " or " in text else text for text in parts)

    def overlaps(self, other: Cell) -> bool:
        """Whether some environment is in both cells."""
        axes = {v for v, _ in self.regions} | {v for v, _ in other.regions}
        return self.python.overlaps(other.python) and all(
            _string(self.region(a)).overlaps(_string(other.region(a))) for a in axes)

    def meets(self, other: Cell, space: Space) -> bool:
        """Whether some machine's environment is in both cells: they overlap, and their
        common part is `possible` (``platform_machine == 'AMD64'`` and ``sys_platform ==
        'linux'`` overlap, but no machine is in both)."""
        if not self.overlaps(other):
            return False
        python = PythonRange(max(self.python.low, other.python.low), min(
            (h for h in (self.python.high, other.python.high) if h is not None), default=None))
        axes = {v for v, _ in self.regions} | {v for v, _ in other.regions}
        return Cell(python, tuple(
            (a, _string(self.region(a)).intersection(_string(other.region(a))))
            for a in axes)).possible(space)

    def within(self, other: Cell) -> bool:
        """Whether every environment of this cell is in `other`."""
        return self.python.within(other.python) and all(
            _string(self.region(v)).within(region) for v, region in other.regions)

    def possible(self, space: Space) -> bool:
        """Whether a machine can be in the cell: its standing environment is one of its own
        (``platform_system == 'FreeBSD'`` with ``sys_platform == 'win32'`` is not)."""
        return self.contains(self.environment(space))

    def contains(self, environment: Mapping[str, str]) -> bool:
        """Whether `environment` (a full marker environment) is one of the cell's."""
        python = Version(environment["python_full_version"])
        if python < self.python.low or (self.python.high is not None
                                        and python >= self.python.high):
            return False
        return all(region.contains(environment.get(variable, ""))
                   for variable, region in self.regions)


def marker_text(cells: Iterable[Cell], space: Space, partition: Sequence[Cell] = ()) -> str:
    """The union of `cells` as marker text ("" when it is every environment): cells that
    differ along one axis only are merged first, as long as the union is one region. With
    `partition` (cells that divide all environments, `cells` among them), each cell is then
    widened, an axis at a time, as long as every part of the partition it reaches is one of
    `cells` (environments outside them all are nobody's concern), and cells inside another
    are left out: ``python_full_version < '3.11' or (python_full_version >= '3.11' and X)`` becomes
    ``python_full_version < '3.11' or X``."""
    chosen = list(dict.fromkeys(cells))
    merged = _merged(chosen)
    if partition:
        inside = set(chosen)
        others = [part for part in partition if part not in inside]
        merged = [_widened(cell, others, space) for cell in merged]
        merged = _merged([c for i, c in enumerate(merged)
                          if not any(j != i and (_narrowed(c).within(o) and (o != c or j < i))
                                     for j, o in enumerate(merged))])
    python = merged[0].python if merged else None
    if len(merged) > 1 and all(cell.python == python for cell in merged):
        # One Python range for all: said once, as uv factors it (`A and (B or C)`).
        assert python is not None
        shared = python.condition(space.floor)
        rest = _union([Cell(PythonRange(space.floor), c.regions).condition(space)
                       for c in merged])
        if shared and rest:
            return f"{shared} and ({rest})" if " or " in rest else f"{shared} and {rest}"
        return shared or rest
    return _union(_conditions(merged, space))


def _union(texts: list[str]) -> str:
    """Marker texts joined with ``or`` ("" when one is every environment)."""
    if any(not text for text in texts):
        return ""
    if len(texts) == 1:
        return texts[0]
    return " or ".join(f"({text})" if " and " in text or " or " in text else text
                       for text in sorted(texts))


def _conditions(cells: list[Cell], space: Space) -> list[str]:
    """Each cell's marker text, except that two cells alike but for a Python range with
    one patch release between them are written as one: ``python_full_version != '3.9.7'``,
    not ``python_full_version < '3.9.7' or python_full_version >= '3.9.8'``."""
    texts = []
    done: set[int] = set()
    for i, cell in enumerate(cells):
        if i in done:
            continue
        hole = cell.python.high
        partner = next((j for j, other in enumerate(cells)
                        if j not in done and j != i and hole is not None
                        and other.regions == cell.regions
                        and other.python.low == _next_patch(hole)), None)
        if partner is None:
            texts.append(cell.condition(space))
            continue
        done.update((i, partner))
        both = Cell(PythonRange(cell.python.low, cells[partner].python.high), cell.regions)
        texts.append(both.condition(space, but=hole))
    return texts


def _narrowed(cell: Cell) -> Cell:
    """`cell` with the ``os_name`` its platforms have (`_OS_NAMES`) when it names only
    platforms that have one: the same environments, so that ``sys_platform == 'win32'`` is
    seen to lie within ``os_name == 'nt'``."""
    platforms = _string(cell.region("sys_platform"))
    if platforms.complement or not platforms.values <= _OS_NAMES.keys():
        return cell
    names = StringRegion(frozenset(_OS_NAMES[p] for p in platforms.values), complement=False)
    regions = dict(cell.regions)
    regions["os_name"] = names.intersection(_string(cell.region("os_name")))
    return attrs.evolve(cell, regions=tuple(regions.items()))


def _widened(cell: Cell, outside: Sequence[Cell], space: Space) -> Cell:
    """`cell` with each axis widened (to the whole axis, else an "all but" region by one
    value fewer at a time; a Python range to either end) while it meets none of the cells
    `outside` (`Cell.meets`: shares no environment a machine can have with them)."""
    def clear(candidate: Cell) -> bool:
        return not any(candidate.meets(other, space) for other in outside)

    for variable, _ in cell.regions:
        wider = attrs.evolve(cell, regions=tuple(
            (v, r) for v, r in cell.regions if v != variable))
        if clear(wider):
            cell = wider
            continue
        region = _string(cell.region(variable))
        for value in sorted(region.values) if region.complement else ():
            # "All but" one value fewer, where that value's environments are nobody's (the
            # cells of ``AMD64`` on Linux are in no partition: `_MACHINE_PLATFORMS`).
            fewer = StringRegion(_string(cell.region(variable)).values - {value})
            wider = attrs.evolve(cell, regions=tuple(
                (v, fewer if v == variable else r) for v, r in cell.regions))
            if clear(wider):
                cell = wider
    for python in (PythonRange(space.floor, cell.python.high),
                   PythonRange(cell.python.low, None)):
        wider = attrs.evolve(cell, python=PythonRange(min(python.low, cell.python.low),
                                                      None if python.high is None
                                                      else cell.python.high))
        if wider != cell and clear(wider):
            cell = wider
    return cell


def _merged(cells: list[Cell]) -> list[Cell]:
    """`cells` with those that differ along one axis only joined, as long as the union is
    one region, until no two can be: axis by axis, the cells alike on every other axis are
    joined at once (a pass is linear; pairwise it took seconds over hundreds of classes)."""
    cells = list(dict.fromkeys(cells))
    changed = True
    while changed and len(cells) > 1:
        changed = False
        axes = sorted({v for cell in cells for v, _ in cell.regions})
        for axis in (PYTHON, *axes):
            alike: dict[object, list[Cell]] = {}
            for cell in cells:
                alike.setdefault(_without(cell, axis), []).append(cell)
            joined: list[Cell] = []
            for group in alike.values():
                united = _united(group, axis)
                changed |= len(united) < len(group)
                joined += united
            cells = joined
    return cells


def _without(cell: Cell, axis: str) -> object:
    """What the cell is apart from its region along `axis`."""
    if axis == PYTHON:
        return cell.regions
    return cell.python, tuple((v, r) for v, r in cell.regions if v != axis)


def _united(group: list[Cell], axis: str) -> list[Cell]:
    """Cells alike but along `axis`, joined: string regions into one, Python ranges into as
    few as their gaps allow."""
    if len(group) == 1:
        return group
    if axis == PYTHON:
        ranges = sorted((cell.python for cell in group), key=lambda r: r.low)
        united = [ranges[0]]
        for python in ranges[1:]:
            both = united[-1].union(python)
            if both is None:
                united.append(python)
            else:
                united[-1] = both
        return [attrs.evolve(group[0], python=python) for python in united]
    region = _string(group[0].region(axis))
    for cell in group[1:]:
        region = region.union(_string(cell.region(axis)))
    regions = dict(group[0].regions)
    regions[axis] = region
    return [attrs.evolve(group[0], regions=tuple(regions.items()))]


def _string(region: Region) -> StringRegion:
    assert isinstance(region, StringRegion)
    return region


def _python_values(version: Version) -> dict[str, str]:
    major, minor, patch = (*version.release, 0, 0)[:3]
    full = f"{major}.{minor}.{patch}"
    return {"python_version": f"{major}.{minor}", "python_full_version": full,
            "implementation_version": full}


def _at(axis: str, point: str | Version, environment: dict[str, str]) -> dict[str, str]:
    changed = dict(environment)
    _put(axis, point, changed)
    return changed


def _put(axis: str, point: str | Version, environment: dict[str, str]) -> None:
    if isinstance(point, Version):
        environment.update(_python_values(point))
        return
    environment[axis] = point
    if axis in ("sys_platform", "platform_machine"):
        _follow(environment)
    elif (axis == "platform_system" and environment.get("sys_platform") in _SYSTEMS
          and _SYSTEMS[environment["sys_platform"]] != point):
        environment["sys_platform"] = ELSEWHERE  # (a platform with a system of its own)
    elif (axis == "os_name" and environment.get("sys_platform") in _OS_NAMES
          and _OS_NAMES[environment["sys_platform"]] != point):
        # Windows is the `nt` platform `_OS_NAMES` knows; another os_name, one it does not.
        environment["sys_platform"] = "win32" if point == "nt" else ELSEWHERE
        _follow(environment)


def _follow(environment: dict[str, str]) -> None:
    """``sys_platform`` as ``platform_machine`` has it, where only one platform reports the
    machine (`_MACHINE_PLATFORMS`); then ``platform_system`` and ``os_name`` as
    ``sys_platform`` has them (`_SYSTEMS`, `_OS_NAMES`): named by it, or, for a platform
    `_SYSTEMS` does not name, none of the systems it does name (and any ``os_name``)."""
    platform = _MACHINE_PLATFORMS.get(environment.get("platform_machine", ""))
    if platform is not None:
        environment["sys_platform"] = platform
    system = _SYSTEMS.get(environment.get("sys_platform", ""))
    if system is not None:
        environment["platform_system"] = system
        environment["os_name"] = _OS_NAMES[environment["sys_platform"]]
    elif environment.get("platform_system") in _PLATFORMS:
        environment["platform_system"] = ELSEWHERE


def _holds(text: str, environment: dict[str, str]) -> bool:
    return _evaluate(_marker(text), environment)


def _evaluate(marker: Marker, environment: dict[str, str]) -> bool:
    try:
        return marker.evaluate(environment)
    except Exception:  # an ordered comparison of text no version parses: it never holds
        return False


@lru_cache(maxsize=4096)
def _marker(text: str) -> Marker:
    return Marker(text)
