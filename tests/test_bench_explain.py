"""Smoke test of `benchmarks.bench_explain` on one packse scenario (depsat and uv over a local
index) and one tiny generated universe: table, JSON and PNG are written. No timing
assertions; the plot's series are checked so a failed run is never drawn as a time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import PACKSE

from benchmarks.bench_explain import (
    SCHEMA,
    VENV_BIN,
    ScenarioRun,
    main,
    packse_panel,
)

SCENARIO = "backtrack-to-missing-package"


def _run(name: str, uv_status: str, uv_ms: float) -> ScenarioRun:
    return ScenarioRun(scenario=name, folder="f", python="3.12", roots=["a"],
                       depsat_status="unsat", resolve_ms=1.0, explain_ms=2.0,
                       uv_status=uv_status, uv_ms=uv_ms)


def test_a_uv_timeout_is_a_cross_at_the_limit_not_a_time() -> None:
    panel = packse_panel([_run("slow", "timeout", 60_000.0), _run("fast", "unsat", 30.0),
                          _run("odd", "error", 10.0)], timeout=60.0)
    uv = next(s for s in panel.series if s.label.startswith("uv"))
    assert list(panel.categories) == ["fast", "odd", "slow"]  # by uv's time, failures last
    assert uv.points == [(0.0, 0.03)]
    assert list(uv.failed) == [1.0, 2.0]
    assert panel.limit == 60.0
    depsat = panel.series[0]
    assert [y for _, y in depsat.points] == pytest.approx([0.003] * 3)
    assert not depsat.failed


@pytest.mark.slow  # serves the scenario as an index and runs uv
@pytest.mark.skipif(not (VENV_BIN / "uv").is_file(), reason="needs .venv/bin/uv")
@pytest.mark.skipif(not PACKSE.is_dir(), reason="needs the packse corpus")
def test_bench_explain_on_one_scenario_and_a_tiny_universe(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "p.png"
    argv = ["--match", SCENARIO, "--sizes", "20", "--repeat", "1", "--timeout", "60",
            "--examples", SCENARIO, "--out", str(tmp_path), "--plot", str(png)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "## packse: depsat explanation vs uv message" in captured.out
    assert f"/{SCENARIO}" in captured.out
    assert "## generated unsatisfiable universes" in captured.out
    assert "gen-20x10-c0.8-s" in captured.out
    assert f"plot: {png}" in captured.err
    (written,) = tmp_path.glob("bench-explain-*.json")
    result = json.loads(written.read_text(encoding="utf-8"))
    assert result["schema"] == SCHEMA
    (scenario,) = result["packse"]["scenarios"]
    assert scenario["scenario"] == SCENARIO
    assert scenario["depsat_status"] == "unsat" and scenario["uv_status"] == "unsat"
    (generated,) = result["generated"]
    assert generated["packages"] == 20 and len(generated["runs"]) == 2
    assert png.read_bytes().startswith(b"\x89PNG")
