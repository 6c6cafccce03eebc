"""Index, find-links and source-rule options, spelled as pip and uv spell them.

Priority (highest first), as uv orders them: ``--index`` entries in the order given, then
``--explicit-index``, the configuration file's named indexes, ``--extra-index-url`` entries,
and last the default index (``--default-index`` / ``--index-url``, the configuration's
``default = true`` index, or PyPI when nothing else gives a source).
"""

from __future__ import annotations

import argparse
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import attrs
from packaging.utils import NormalizedName, canonicalize_name

from depsat.config import CONFIG_NAMES, IndexConfig, Settings, find_config, load_settings
from depsat.errors import ConfigurationError
from depsat.source_rules import IndexStrategy, InstalledPinRule, SourceRules, parse_pins

if TYPE_CHECKING:
    from depsat.sources.base import Source
    from depsat.sources.build_metadata import MetadataBuilder
    from depsat.sources.http import ProgressCallback
    from depsat.sources.stamps import ReadLog

__all__ = ["PYPI", "add_source_arguments", "config_candidates", "emitted_locations",
           "index_sources", "load_config", "source_locations"]

PYPI = "https://pypi.org/simple"


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("indexes and source rules")
    group.add_argument("--index", dest="indexes", action="append", default=[],
                       metavar="NAME=URL", help="a named index; repeat, first is preferred")
    group.add_argument("--default-index", metavar="URL",
                       help="the lowest-priority index (default: PyPI)")
    group.add_argument("-i", "--index-url", metavar="URL", help="pip's name for --default-index")
    group.add_argument("--extra-index-url", action="append", default=[], metavar="URL",
                       help="another index, preferred over the default index")
    group.add_argument("--explicit-index", action="append", default=[], metavar="NAME=URL",
                       help="an index used only for the packages pinned to it")
    group.add_argument("-f", "--find-links", action="append", default=[], metavar="PATH|URL",
                       help="a folder or page of distributions")
    group.add_argument("--pin", action="append", default=[], metavar="PACKAGE=INDEX",
                       help="take PACKAGE only from the index named INDEX")
    group.add_argument("--index-strategy", metavar="STRATEGY",
                       help="first-index (default), unsafe-first-match or unsafe-best-match")
    group.add_argument("--package-strategy", action="append", default=[],
                       metavar="PACKAGE=STRATEGY",
                       help="an index strategy for one package, over --index-strategy")
    group.add_argument("--installed-pins", choices=[r.value for r in InstalledPinRule],
                       help="whether an installed copy satisfies a pin (default: trust)")
    group.add_argument("--no-index", action="store_true",
                       help="use no package index: only what is installed, --find-links and "
                            "--universe")
    group.add_argument("--offline", action="store_true", help="use only the HTTP cache")
    group.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    group.add_argument("--cache-dir", metavar="DIR", help="where the HTTP cache lives")
    group.add_argument("--build-metadata", action="store_true",
                       help="run the build backend of sdists whose dependencies are only "
                            "known after a build (runs code from the sdist; cached)")
    group.add_argument("--config", metavar="FILE",
                       help="a depsat.toml or pyproject.toml (default: the one in the current "
                            "directory, if any)")
    group.add_argument("--no-config", action="store_true", help="read no configuration file")


def config_candidates(args: argparse.Namespace) -> list[Path]:
    """The configuration files `load_config` reads or looks for (and would read if they
    appeared)."""
    if args.no_config:
        return []
    if args.config:
        return [Path(args.config)]
    return [Path.cwd() / name for name in CONFIG_NAMES]


def load_config(args: argparse.Namespace,
                environment: Mapping[str, str] | None = None) -> Settings:
    """The configuration file's settings (``--config``, else the one found from the current
    directory); `environment`, the target's markers, decides marked uv source entries."""
    if args.no_config:
        return Settings()
    if args.config:
        return load_settings(Path(args.config), environment)
    found = find_config(Path.cwd())
    return load_settings(found, environment) if found else Settings()


def _named(items: list[str], option: str, *, explicit: bool = False) -> list[IndexConfig]:
    found: list[IndexConfig] = []
    for item in items:
        name, sep, url = item.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise ConfigurationError(f"expected NAME=URL, got {item!r}", option)
        found.append(IndexConfig(name.strip(), url.strip(), explicit=explicit))
    return found


def _locations(args: argparse.Namespace, settings: Settings,
               other_sources: bool) -> tuple[list[IndexConfig], list[str]]:
    """The indexes (highest priority first) and find-links locations of the options and the
    configuration; PyPI when nothing (not even `other_sources`) gives candidates."""
    indexes: list[IndexConfig] = [
        *_named(args.indexes, "--index"),
        *_named(args.explicit_index, "--explicit-index", explicit=True),
        *[i for i in settings.ordered_indexes() if not i.default],
        *[IndexConfig(url, url) for url in args.extra_index_url],
    ]
    default_url = args.default_index or args.index_url
    if default_url:
        indexes.append(IndexConfig(default_url, default_url, default=True))
    else:
        indexes.extend(i for i in settings.ordered_indexes() if i.default)
    find_links = [*args.find_links, *settings.find_links]
    # One URL given twice without a name (a file's --extra-index-url X beside --index-url
    # X): one index, where it is first named (its highest priority), the default if either
    # mention is, as uv reads it.
    first: dict[str, int] = {}
    merged: list[IndexConfig] = []
    for index in indexes:
        at = first.get(index.url) if index.name == index.url else None
        if at is None:
            if index.name == index.url:
                first[index.url] = len(merged)
            merged.append(index)
        elif index.default:
            merged[at] = attrs.evolve(merged[at], default=True)
    indexes = merged
    if args.no_index:
        indexes = []
    elif not indexes and not find_links and not other_sources:
        indexes.append(IndexConfig("pypi", PYPI, default=True))
    names = [i.name for i in indexes]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ConfigurationError(f"index name {duplicate!r} is given twice", "--index")
    return indexes, find_links


def emitted_locations(args: argparse.Namespace, settings: Settings, other_sources: bool
                      ) -> list[str]:
    """The option lines ``--emit-index-url`` and ``--emit-find-links`` put above the pins,
    as ``uv pip compile`` writes them: the default index, then the others a resolve looks in
    (an explicit index only serves the packages pinned to it: left out), then the find-links
    locations. Without credentials: the file is shared; pip finds them in ``~/.netrc``.
    (Only ``resolve`` has the options: ``why`` and ``explain`` print no pins.)"""
    index_urls = getattr(args, "emit_index_url", False)
    if not (index_urls or getattr(args, "emit_find_links", False)):
        return []
    indexes, find_links = _locations(args, settings, other_sources)
    lines = []
    if index_urls:
        lines += [f"--index-url {_without_credentials(i.url)}" for i in indexes if i.default]
        lines += [f"--extra-index-url {_without_credentials(i.url)}" for i in indexes
                  if not i.default and not i.explicit]
    if getattr(args, "emit_find_links", False):
        lines += [f"--find-links {_without_credentials(location)}" for location in find_links]
    return lines


def _without_credentials(location: str) -> str:
    parts = urlsplit(location)
    if "@" not in parts.netloc:
        return location
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def source_locations(args: argparse.Namespace, settings: Settings) -> list[str]:
    """Every index URL and find-links location the options and configuration name, as
    given (with any credentials in them)."""
    indexes, find_links = _locations(args, settings, other_sources=True)
    return [*(i.url for i in indexes), *find_links]


def index_sources(args: argparse.Namespace, settings: Settings, other_sources: bool, *,
                  progress: ProgressCallback | None = None, read_log: ReadLog | None = None,
                  direct: Sequence[tuple[NormalizedName, str]] = (),
                  editable: Collection[str] = (),
                  environment: Mapping[str, str] | None = None,
                  ) -> tuple[list[Source], SourceRules]:
    """The index and find-links sources the options and configuration name, and their rules;
    with `direct` references (name, URL), a source of the files they name (the project
    directories at the `editable` URLs taken as editable; the markers of their projects'
    ``[tool.uv.sources]`` decided in the target's marker `environment`).

    `other_sources` says whether a universe file or an environment already gives candidates:
    then PyPI is not added as a default index. `progress` hears of the sources' fetches,
    `read_log` of what they read.
    """
    indexes, find_links = _locations(args, settings, other_sources)
    names = [i.name for i in indexes]

    # Imported here, not at the top: `--help`, a universe-file or an environment run never
    # loads the index sources (the client itself is light until it makes a request).
    from depsat.sources.http import HttpClient, no_progress

    client = HttpClient(cache_dir=args.cache_dir, offline=args.offline, no_cache=args.no_cache,
                        progress=progress or no_progress, read_log=read_log)
    sources: list[Source] = []
    builder: MetadataBuilder | None = None
    if args.build_metadata:
        builder = _metadata_builder(args, client.cache_dir, indexes, find_links)
    if indexes:
        from depsat.sources.index import IndexSource

        sources += [IndexSource(i.url, i.name, client=client, metadata_builder=builder)
                    for i in indexes]
    if find_links:
        from depsat.sources.find_links import FindLinksSource

        sources += [FindLinksSource(location, client=client, metadata_builder=builder)
                    for location in find_links]
    if direct:
        from depsat.sources.direct import DirectSource

        sources.append(DirectSource(direct, editable=editable, client=client,
                                    metadata_builder=builder,
                                    uv_sources=not getattr(args, "no_sources", False),
                                    environment=environment))
    pins = dict(settings.pins)
    pins.update(parse_pins(args.pin, names + [s.name for s in sources], "--pin"))
    strategy: Any = settings.strategy or IndexStrategy.FIRST_INDEX
    if args.index_strategy:
        try:
            strategy = IndexStrategy.parse(args.index_strategy)
        except ValueError:
            raise ConfigurationError(
                f"unknown index strategy {args.index_strategy!r} (use "
                f"{', '.join(s.value for s in IndexStrategy)})", "--index-strategy") from None
    package_strategies = dict(settings.package_strategies)
    for item in args.package_strategy:
        package, sep, value = item.partition("=")
        try:
            if not sep or not package.strip():
                raise ValueError
            package_strategies[canonicalize_name(package.strip())] = IndexStrategy.parse(
                value.strip())
        except ValueError:
            raise ConfigurationError(
                f"expected PACKAGE=STRATEGY with STRATEGY one of "
                f"{', '.join(s.value for s in IndexStrategy)}, got {item!r}",
                "--package-strategy") from None
    rules = SourceRules(
        indexes=tuple(names),
        pins=pins,
        explicit=frozenset(i.name for i in indexes if i.explicit),
        strategy=strategy,
        package_strategies=package_strategies,
        installed_pins=(InstalledPinRule(args.installed_pins) if args.installed_pins
                        else settings.installed_pins or InstalledPinRule.TRUST),
    )
    return sources, rules


def _metadata_builder(args: argparse.Namespace, cache_dir: Path, indexes: list[IndexConfig],
                      find_links: list[str]) -> MetadataBuilder:
    """`--build-metadata`: one builder for every source, whose isolated build environments
    install from the same indexes and find-links (explicit indexes aside) as the resolution."""
    from depsat.sources.build_metadata import MetadataBuilder, build_environ

    def uri(location: str) -> str:
        return location if "://" in location else Path(location).resolve().as_uri()

    # pip's --index-url is the default index; the others are extra indexes to it.
    ordered = sorted((i for i in indexes if not i.explicit), key=lambda i: not i.default)
    environ = build_environ([uri(i.url) for i in ordered], [uri(f) for f in find_links],
                            offline=args.offline)
    return MetadataBuilder(None if args.no_cache else cache_dir, environ=environ)
