"""Smoke test of `benchmarks.bench_installed` on the smallest useful input: both parts run,
print their tables and draw the plot, so the benchmark cannot rot unnoticed. No timing
assertions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.bench_installed import main


@pytest.mark.slow  # writes a real venv for part 1
def test_bench_installed_prints_both_tables_and_a_plot(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "plots" / "p.png"
    argv = ["--distributions", "20", "--installed", "10", "--repeat", "1", "--plot", str(png),
            "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "Reading 20 distributions in mixed formats (best of 1)" in out
    depsat = next(line for line in out.splitlines() if line.startswith("depsat (in process)"))
    assert depsat.split()[-2:] == ["20", "1.00x"], depsat  # depsat sees every format
    assert "importlib.metadata (in the venv)" in out
    assert "Resolving over " in out and " solved " in out
    assert f"plot: {png}" in err
    assert png.read_bytes().startswith(b"\x89PNG")
    (written,) = (tmp_path / "out").glob("bench-installed-*.json")
    result = json.loads(written.read_text())
    assert [row["tool"] for row in result["reading"]][:2] == ["depsat", "importlib.metadata"]
    assert result["reading"][0]["seen"] == 20
    assert result["resolving"]["status"] == "solved" and result["resolving"]["installed"] > 0
