"""Smoke test of `benchmarks.bench_index` on a tiny generated index: uv, depsat and pip, HTTP
and file://, cold and warm; every answer is read back, measured and verified. No timing
assertions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from benchmarks.bench_index import (
    VENV_BIN,
    Run,
    _same_plans,
    main,
    parse_pins,
    spec_from_universe,
)
from benchmarks.generate import GeneratorConfig, generate


def test_parse_pins_reads_uv_and_depsat_output() -> None:
    text = ("# a comment\nfoo-bar==1.0\n    # via -r requirements.in\n"
            "baz[speed,fast]==2.1.post1\n")
    versions, extras = parse_pins(text)
    assert versions == {canonicalize_name("foo-bar"): Version("1.0"),
                        canonicalize_name("baz"): Version("2.1.post1")}
    assert extras == {canonicalize_name("baz"): {"speed", "fast"}}


def test_parse_pins_reads_pips_installation_report() -> None:
    report = {"version": "1", "install": [
        {"metadata": {"name": "Foo_Bar", "version": "1.0"}, "requested": True},
        {"metadata": {"name": "baz", "version": "2.1.post1"}, "requested": False}]}
    versions, extras = parse_pins(json.dumps(report, indent=2))
    assert versions == {canonicalize_name("foo-bar"): Version("1.0"),
                        canonicalize_name("baz"): Version("2.1.post1")}
    assert extras == {}


def test_the_summary_says_whether_each_tool_answered_one_plan() -> None:
    def run(tool: str, cache: str, versions: dict[str, str]) -> Run:
        return Run(universe="u", transport="http", tool=tool, cache=cache, status="solved",
                   versions=versions)

    runs = [run("uv", "cold", {"a": "1", "b": "2"}), run("uv", "warm", {"a": "1", "b": "1"}),
            run("depsat", "cold", {"a": "1"}), run("depsat-no-memo", "warm", {"a": "1"})]
    assert _same_plans(runs) == [
        "depsat: one plan in every run on 1 of 1 universes",
        "uv: one plan in every run on 0 of 1 universes (runs differ in up to 1 pins)"]


def test_spec_is_wheels_only_with_the_universe_metadata() -> None:
    data = generate(GeneratorConfig(packages=30, versions=3, seed=2, extras=0.5))
    spec = spec_from_universe(data)
    assert set(spec) == set(data["packages"])
    for name, releases in spec.items():
        for version, release in releases.items():
            meta = data["packages"][name]["versions"][version]
            assert release["requires"] == meta["requires"]
            assert release.get("extras") == meta.get("extras")
            assert release["sdist"] is False and release["wheel_tags"] == ["py3-none-any"]


@pytest.mark.slow
@pytest.mark.skipif(not (VENV_BIN / "uv").is_file() or not (VENV_BIN / "depsat").is_file(),
                    reason="needs .venv/bin/uv and .venv/bin/depsat")
def test_bench_index_on_a_tiny_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--sizes", "20x3", "--conflicts", "0", "--roots", "5", "--timeout", "120",
            "--tools", "uv,depsat,depsat-urllib3,pip", "--latency-ms", "1",
            "--profile", "never", "--index-cache", str(tmp_path / "indexes"),
            "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    plot = tmp_path / "plot" / "index.png"
    assert main([*argv, "--plot", str(plot)]) == 0  # now the index comes from the cache
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert len(list((tmp_path / "indexes").iterdir())) == 1
    table = capsys.readouterr().out
    assert "uv" in table and "depsat" in table
    assert "depsat: one plan in every run on 1 of 1 universes\n" in table
    result = json.loads(sorted((tmp_path / "out").glob("bench-index-*.json"))[-1].read_text())
    assert result["latency_ms"] == 1
    runs = result["runs"]
    assert {(r["tool"], r["transport"], r["cache"]) for r in runs} == {
        (tool, transport, cache) for tool in ("uv", "depsat", "depsat-urllib3", "pip")
        for transport in ("http", "file") for cache in ("cold", "warm")}
    for run in runs:
        assert run["status"] == "solved", run
        assert run["verified"], run
        assert run["packages"] >= 5
        assert (run["requests"] is None) == (run["transport"] == "file")
        assert 0 < run["cpu"] < 120
        assert (run["server_cpu"] is None) == (run["transport"] == "file")
    by_tool = {(r["tool"], r["transport"], r["cache"]): r for r in runs}
    for transport in ("http", "file"):  # the wire never changes the answer
        for cache in ("cold", "warm"):
            assert by_tool["depsat", transport, cache]["versions"] == by_tool[
                "depsat-urllib3", transport, cache]["versions"]
    cold_http = [r for r in runs if r["transport"] == "http" and r["cache"] == "cold"]
    assert all(r["requests"] > 0 for r in cold_http)
    assert all(r["server_cpu"] > 0 for r in cold_http)  # (answering takes the server CPU)
