"""`depsat env`: every layer and every distribution of an environment, with its provenance.

The view `pip list` and `uv pip list` do not give: which layer each distribution lives in,
which copies are shadowed, how each was installed, and what in the environment is broken.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from depsat.errors import DepsatError

if TYPE_CHECKING:  # imported where used: `depsat --help` should not load them
    from depsat.model import Diagnostic
    from depsat.sources.environment import Environment
    from depsat.sources.installed import InstalledDistribution, InstalledSource
    from depsat.sources.stamps import ReadLog

__all__ = ["add_env_parser", "env_to_json", "run_env"]

_EXIT_OK = 0
_EXIT_BAD_INPUT = 2


def add_env_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `env` on the top-level subparsers; the handler is `run_env`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "env",
        help="list the layers and distributions of an installed environment",
        description="List every layer and every installed distribution of an environment, "
        "with version, format, layer, installer, shadowing and warnings. Nothing is imported.",
    )
    parser.add_argument(
        "--python", metavar="PATH",
        help="the interpreter whose environment to read (default: the one running depsat)",
    )
    parser.add_argument(
        "--layer", dest="layers", action="append", default=[], metavar="[NAME=]PATH",
        help="a site directory to read instead of asking an interpreter; repeat, top first",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run_env)
    return parser


def _layer_argument(text: str) -> tuple[str | None, str]:
    name, sep, path = text.partition("=")
    if sep and name and name.replace("-", "").replace("_", "").replace(":", "").isalnum():
        return name, path
    return None, text


def run_env(args: argparse.Namespace) -> int:
    """Read the environment the options describe and print it."""
    try:
        source = installed_source(args)
        distributions = source.distributions()
        diagnostics = tuple(source.diagnostics())
    except DepsatError as exc:
        print(f"depsat: error: {exc}", file=sys.stderr)
        return _EXIT_BAD_INPUT
    if args.json:
        document = env_to_json(source.environment, distributions, diagnostics)
        print(json.dumps(document, indent=2))
    else:
        for line in _table(source.environment, distributions, diagnostics):
            print(line)
    return _EXIT_OK


def installed_source(args: argparse.Namespace,
                     read_log: ReadLog | None = None) -> InstalledSource:
    """The environment that ``--python`` / ``--layer`` describe (shared with ``resolve``);
    `read_log` hears what it reads."""
    from depsat.sources.installed import InstalledSource

    layers: list[str] = list(args.layers or [])
    if not layers:
        return InstalledSource.from_interpreter(args.python, read_log=read_log)
    parsed = [_layer_argument(text) for text in layers]
    names = [name or f"layer{i}" for i, (name, _path) in enumerate(parsed)]
    return InstalledSource.from_paths(
        [path for _name, path in parsed], names=names, python=args.python, read_log=read_log
    )


def _sorted(distributions: tuple[InstalledDistribution, ...]) -> list[InstalledDistribution]:
    return sorted(distributions, key=lambda d: (d.name, d.layer.index, d.shadowed))


def env_to_json(
    environment: Environment,
    distributions: tuple[InstalledDistribution, ...],
    diagnostics: tuple[Diagnostic, ...],
) -> dict[str, Any]:
    """The JSON document `depsat env --json` prints (stable keys, plain types)."""
    return {
        "interpreter": environment.interpreter,
        "python_version": str(environment.python_version) if environment.python_version else None,
        "markers": dict(environment.markers) if environment.markers is not None else None,
        "tags": [str(tag) for tag in environment.tags[:10]],
        "tag_count": len(environment.tags),
        "layers": [
            {
                "index": layer.index,
                "name": layer.name,
                "path": layer.path,
                "read_only": layer.read_only,
                "search_path": list(layer.entries),
            }
            for layer in environment.layers
        ],
        "distributions": [
            {
                "name": d.name,
                "version": str(d.version),
                "format": d.info.format,
                "layer": d.info.layer,
                "layer_index": d.info.layer_index,
                "path": d.info.path,
                "read_only": d.info.read_only,
                "installer": d.info.installer,
                "requested": d.info.requested,
                "direct_url": d.info.direct_url,
                "editable": d.info.editable,
                "shadowed": d.shadowed,
                "shadowed_by": d.shadowed_by,
                "requires": [str(r) for r in d.candidate.requires],
                "provides_extras": sorted(d.candidate.provides_extras),
                "requires_python": (
                    str(d.candidate.requires_python) if d.candidate.requires_python else None
                ),
                "warnings": [w.message for w in d.warnings],
            }
            for d in _sorted(distributions)
        ],
        "warnings": [{"message": w.message, "culprit": w.culprit} for w in diagnostics],
    }


def _table(
    environment: Environment,
    distributions: tuple[InstalledDistribution, ...],
    diagnostics: tuple[Diagnostic, ...],
) -> list[str]:
    lines: list[str] = []
    if environment.interpreter:
        lines.append(f"Python {environment.python_version} at {environment.interpreter}")
    lines.append("Layers (import order):")
    for layer in environment.layers:
        mode = "read-only" if layer.read_only else "writable"
        lines.append(f"  {layer.index}  {layer.name}  {layer.path}  ({mode})")
        lines.extend(f"       + {entry}" for entry in layer.entries if entry != layer.path)
    rows = [("NAME", "VERSION", "FORMAT", "LAYER", "INSTALLER", "NOTES")]
    for d in _sorted(distributions):
        notes = []
        if d.shadowed:
            notes.append("shadowed")
        if d.info.editable:
            notes.append("editable")
        if d.info.direct_url and not d.info.editable:
            notes.append(d.info.direct_url)
        if d.warnings:
            notes.append(f"{len(d.warnings)} warning(s)")
        rows.append((d.name, str(d.version), d.info.format, d.info.layer,
                     d.info.installer or "-", ", ".join(notes)))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines.append("")
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[5]]).rstrip())
    if diagnostics:
        lines.append("")
        lines.append(f"Warnings ({len(diagnostics)}):")
        lines.extend(f"  {diagnostic}" for diagnostic in diagnostics)
    return lines
