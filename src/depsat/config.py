"""Configuration files: ``[tool.depsat]`` in pyproject.toml, a standalone ``depsat.toml``, and
the index settings users already write for uv (``[[tool.uv.index]]``, ``[tool.uv.sources]``).

Reading is pure: a file becomes a `Settings` value; command-line flags are merged over it by
the CLI. A malformed file is an error naming the file, the key and the problem.

depsat's own keys (``[tool.depsat]`` or the top level of ``depsat.toml``)::

    index-strategy = "first-index"        # or unsafe-first-match, unsafe-best-match
    installed-pins = "trust"              # or strict
    find-links = ["./wheels"]
    objectives = ["fewest-removals", "keep-installed", "newest-direct"]

    [[index]]                             # [[tool.depsat.index]] in pyproject.toml
    name = "pypi"
    url = "https://pypi.org/simple"
    explicit = false                      # serve only packages pinned to it
    default = false                       # the lowest-priority fallback, like --index-url

    [pins]
    cryptography = "pypi"

    [package-strategies]
    reportlab = "unsafe-best-match"
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from packaging.utils import NormalizedName, canonicalize_name

from depsat._toml import tomllib
from depsat.errors import ConfigurationError
from depsat.source_rules import IndexStrategy, InstalledPinRule
from depsat.sources.uv_sources import first_holding

__all__ = ["CONFIG_NAMES", "IndexConfig", "Settings", "find_config", "load_settings",
           "parse_settings"]


@attrs.frozen(slots=True)
class IndexConfig:
    """One named index."""

    name: str
    url: str
    explicit: bool = False
    default: bool = False


@attrs.frozen(slots=True)
class Settings:
    """Everything configuration can say. `indexes` is in priority order, default index last."""

    indexes: tuple[IndexConfig, ...] = ()
    find_links: tuple[str, ...] = ()
    pins: Mapping[NormalizedName, str] = attrs.field(factory=dict)
    strategy: IndexStrategy | None = None
    package_strategies: Mapping[NormalizedName, IndexStrategy] = attrs.field(factory=dict)
    installed_pins: InstalledPinRule | None = None
    objectives: tuple[str, ...] | None = None
    source: str = ""
    """The file these settings came from."""

    def ordered_indexes(self) -> tuple[IndexConfig, ...]:
        """Priority order: non-default indexes as listed, then the default one(s)."""
        return (tuple(i for i in self.indexes if not i.default)
                + tuple(i for i in self.indexes if i.default))


CONFIG_NAMES = ("depsat.toml", "pyproject.toml")
"""The configuration files looked for in a directory, in order."""


def find_config(directory: Path) -> Path | None:
    """``depsat.toml`` in `directory`, else a ``pyproject.toml`` there (or None)."""
    for name in CONFIG_NAMES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def load_settings(path: Path, environment: Mapping[str, str] | None = None) -> Settings:
    """Read one configuration file (see the module docstring for the keys); `environment`:
    the target's markers, for ``[tool.uv.sources]`` entries that have one."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"cannot read: {exc.strerror}", str(path)) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"not valid TOML: {exc}", str(path)) from exc
    return parse_settings(data, str(path), pyproject=path.name == "pyproject.toml",
                          environment=environment)


class _Reader:
    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, key: str, problem: str) -> ConfigurationError:
        return ConfigurationError(f"{key}: {problem}", self.where)

    def table(self, data: Mapping[str, Any], key: str, prefix: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(prefix + key, "must be a table")
        return value

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(key, "must be a non-empty string")
        return value

    def strategy(self, value: Any, key: str) -> IndexStrategy:
        try:
            return IndexStrategy.parse(self.string(value, key))
        except ValueError:
            names = ", ".join(s.value for s in IndexStrategy)
            raise self.fail(key, f"unknown index strategy {value!r} (use {names})") from None

    def indexes(self, value: Any, key: str) -> list[IndexConfig]:
        if not isinstance(value, list):
            raise self.fail(key, "must be an array of tables ([[...]])")
        found: list[IndexConfig] = []
        for number, entry in enumerate(value, start=1):
            where = f"{key}[{number}]"
            if not isinstance(entry, dict):
                raise self.fail(where, "must be a table")
            unknown = set(entry) - {"name", "url", "explicit", "default", "format",
                                    "authenticate", "publish-url", "cache-control",
                                    "ignore-error-codes"}
            if unknown:
                raise self.fail(where, f"unknown keys {', '.join(sorted(unknown))}")
            url = self.string(entry.get("url"), f"{where}.url")
            name = entry.get("name", f"index-{number}" if entry.get("default") else None)
            found.append(IndexConfig(
                name=self.string(name, f"{where}.name"), url=url,
                explicit=bool(entry.get("explicit", False)),
                default=bool(entry.get("default", False))))
        names = [i.name for i in found]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise self.fail(key, f"index name {duplicate!r} is defined twice")
        return found


def parse_settings(data: Mapping[str, Any], where: str, *, pyproject: bool = False,
                   environment: Mapping[str, str] | None = None) -> Settings:
    """Settings from parsed TOML: ``[tool.depsat]`` and ``[tool.uv]`` for a pyproject.toml,
    the top level for a ``depsat.toml``. A ``[tool.uv.sources]`` index entry with a marker
    (uv's per-platform indexes, often a list) is a pin where the marker holds in the target's
    `environment`; without one, such entries are left out."""
    read = _Reader(where)
    if pyproject:
        tool = read.table(data, "tool", "")
        own = read.table(tool, "depsat", "tool.")
        uv = read.table(tool, "uv", "tool.")
        prefix = "tool.depsat."
    else:
        own, uv, prefix = data, {}, ""
    known = {"index", "pins", "index-strategy", "package-strategies", "installed-pins",
             "find-links", "objectives"}
    unknown = set(own) - known
    if unknown:
        raise read.fail(prefix.rstrip(".") or "top level",
                        f"unknown keys {', '.join(sorted(unknown))}")

    indexes = read.indexes(own.get("index", []), f"{prefix}index")
    uv_indexes = read.indexes(uv.get("index", []), "tool.uv.index")
    names = {i.name for i in indexes}
    indexes += [i for i in uv_indexes if i.name not in names]

    pins: dict[NormalizedName, str] = {}
    for package, given in read.table(uv, "sources", "tool.uv.").items():
        # uv's sources also name git/path/url sources (`depsat.sources.uv_sources` reads
        # them); only index entries are pins: the first entry whose marker holds.
        try:
            chosen = first_holding(given if isinstance(given, list) else [given],
                                   environment, strict=False)
        except ValueError as exc:
            raise read.fail(f"tool.uv.sources.{package}.marker", str(exc)) from exc
        if chosen is not None and "index" in chosen:
            pins[canonicalize_name(package)] = read.string(chosen["index"],
                                                           f"tool.uv.sources.{package}.index")
    for package, index in read.table(own, "pins", prefix).items():
        pins[canonicalize_name(package)] = read.string(index, f"{prefix}pins.{package}")
    defined = {i.name for i in indexes}
    for package, index in pins.items():
        if defined and index not in defined:
            raise read.fail(f"pins.{package}", f"names index {index!r}, which is not defined "
                                               f"(known: {', '.join(sorted(defined))})")

    strategy_value = own.get("index-strategy", uv.get("index-strategy"))
    strategy = (read.strategy(strategy_value, f"{prefix}index-strategy")
                if strategy_value is not None else None)
    package_strategies = {
        canonicalize_name(p): read.strategy(s, f"{prefix}package-strategies.{p}")
        for p, s in read.table(own, "package-strategies", prefix).items()}
    installed_pins = None
    if "installed-pins" in own:
        try:
            installed_pins = InstalledPinRule(read.string(own["installed-pins"],
                                                          f"{prefix}installed-pins"))
        except ValueError:
            raise read.fail(f"{prefix}installed-pins", "must be 'trust' or 'strict'") from None
    find_links = own.get("find-links", [])
    objectives = own.get("objectives")
    for key, value in (("find-links", find_links), ("objectives", objectives or [])):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise read.fail(f"{prefix}{key}", "must be a list of strings")
    return Settings(
        indexes=tuple(indexes),
        find_links=tuple(find_links),
        pins=pins,
        strategy=strategy,
        package_strategies=package_strategies,
        installed_pins=installed_pins,
        objectives=tuple(objectives) if objectives is not None else None,
        source=where,
    )
