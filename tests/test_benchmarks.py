"""Smoke test of the benchmark suite: generator, adapters and worker on tiny universes.

The same code path as `python -m benchmarks.run` (one worker process per tool and
universe), on 20 packages x 3 versions: every tool must agree on satisfiability and every
answer must pass depsat's verifier. No timing assertions.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from benchmarks.adapters import solv_available
from benchmarks.generate import (
    GeneratorConfig,
    generate,
    universe_name,
    write_universe,
)
from benchmarks.run import format_table, plot, run_isolated, suite
from depsat.sources.universe_file import load_universe_file, parse_universe

TINY = [
    GeneratorConfig(packages=20, versions=3, conflict=0.0, seed=1),
    GeneratorConfig(packages=20, versions=3, conflict=0.2, seed=4),
    # Seed 8 at conflict 0.6 has no solution: unsatisfiability must agree too.
    GeneratorConfig(packages=20, versions=3, conflict=0.6, seed=8),
]


def _tools() -> list[str]:
    peers = ["resolvelib", "libsolv"] if solv_available() else ["resolvelib"]
    return ["depsat", "depsat-lex", *peers]


def test_generator_is_deterministic_and_loads(tmp_path: Path) -> None:
    config = GeneratorConfig(packages=20, versions=3, conflict=0.2, seed=5, extras=0.5,
                             markers=0.5)
    data = generate(config)
    assert data == generate(config)
    assert data != generate(GeneratorConfig(packages=20, versions=3, conflict=0.2, seed=6))
    assert 5 <= len(data["root"]["requires"]) <= 20
    assert len(data["packages"]) == 20
    assert all(len(p["versions"]) == 3 for p in data["packages"].values())
    world = parse_universe(data)
    assert sum(len(world.source.candidates(n)) for n in world.source.projects()) == 60
    # JSON and TOML on disk load to the same candidates.
    as_json = load_universe_file(write_universe(data, tmp_path / "u.json"))
    as_toml = load_universe_file(write_universe(data, tmp_path / "u.toml"))
    def shape(source: object, name: str) -> list[tuple[str, list[str], list[str]]]:
        assert isinstance(source, type(world.source))
        return [(str(c.version), [str(r) for r in c.requires], sorted(c.provides_extras))
                for c in source.candidates(canonicalize_name(name))]

    for name in world.source.projects():
        assert shape(as_json.source, name) == shape(as_toml.source, name)
        assert shape(as_json.source, name) == shape(world.source, name)
    assert universe_name(config) == data["name"]


@pytest.mark.parametrize("config", TINY, ids=[universe_name(c) for c in TINY])
def test_tools_agree_and_verify(config: GeneratorConfig, tmp_path: Path) -> None:
    if not solv_available():
        pytest.skip("libsolv part skipped: the 'solv' bindings are not importable "
                    "(pip install solv); depsat and resolvelib still run below")
    result = suite([config], _tools(), timeout=120, universe_dir=tmp_path, log=False)
    records = result.cells[0].records
    statuses = {tool: r.status for tool, r in records.items()}
    assert set(statuses.values()) <= {"solved", "unsat"}, {
        t: (r.status, r.detail, r.problems) for t, r in records.items()}
    assert len(set(statuses.values())) == 1, statuses
    for tool, record in records.items():
        if record.status == "solved":
            assert record.verified, (tool, record.problems)
            assert record.packages and record.staleness is not None
            assert record.total is not None and record.peak_mb
    depsat = records["depsat"]
    if depsat.status == "solved":
        # depsat optimises newest-direct first, then newest for the rest.
        for record in records.values():
            assert (depsat.staleness_direct, depsat.staleness) <= (
                record.staleness_direct, record.staleness)
    assert "depsat" in format_table(result)
    plot(result, tmp_path / "plots" / "time.png")
    assert (tmp_path / "plots" / "time.png").read_bytes().startswith(b"\x89PNG")


def test_without_libsolv_depsat_and_resolvelib_agree(tmp_path: Path) -> None:
    """Runs whether or not `solv` is installed: the pure-Python tools on one universe. depsat
    tier by tier (`LexicographicRC2`) answers the default's plan, not only its cost."""
    path = write_universe(generate(TINY[1]), tmp_path / "u.json")
    records = [run_isolated(tool, path, 120, keep_versions=True)
               for tool in ("depsat", "resolvelib", "depsat-lex")]
    assert all(r.status == "solved" for r in records), [r.detail for r in records]
    assert all(r.verified for r in records), [r.problems for r in records]
    assert records[0].versions and records[2].versions == records[0].versions
