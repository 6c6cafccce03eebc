"""Smoke test of `benchmarks.bench_policy` on the tiniest universe: every strategy on 1 and 3
indexes, with pins; the table, the JSON and the plot are all written. No timing
assertions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from benchmarks import bench_policy
from benchmarks.bench_policy import NO_POLICY, STRATEGIES, main


def test_bench_policy_on_a_tiny_universe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    real_suite = bench_policy.suite

    def suite(*args: Any, **kwargs: Any) -> Sequence[bench_policy.Cell]:
        # main() keeps generated universes in benchmarks/results; keep the test's out of it.
        return real_suite(*args, **kwargs, universe_dir=tmp_path / "universes")

    monkeypatch.setattr(bench_policy, "suite", suite)
    out, png = tmp_path / "out", tmp_path / "plot" / "p.png"
    argv = ["--sizes", "30x3", "--conflicts", "0", "--indexes", "1,3", "--repeat", "1",
            "--roots", "5", "--timeout", "120", "--out", str(out), "--plot", str(png)]
    assert main(argv) == 0

    captured = capsys.readouterr()
    assert "strategy" in captured.out and "xtotal" in captured.out
    for strategy in (NO_POLICY, *STRATEGIES):
        assert f" {strategy} " in captured.out
    assert f"plot: {png}" in captured.err

    [written] = out.glob("bench-policy-*.json")
    result = json.loads(written.read_text(encoding="utf-8"))
    assert result["schema"] == "depsat.bench-policy/1"
    [cell] = result["cells"]
    records = cell["records"]
    # none; every strategy on 1 index; on 3 indexes plain and pinned
    assert len(records) == 1 + 3 * len(STRATEGIES)
    assert {(r["indexes"], r["strategy"]) for r in records} == {
        (0, NO_POLICY), *((n, s) for n in (1, 3) for s in STRATEGIES)}
    assert sorted((r["indexes"], r["strategy"]) for r in records if r["pinned"]) == [
        (3, s) for s in sorted(STRATEGIES)]  # recorded, even where a tiny universe has no pins
    for record in records:
        assert record["status"] in ("solved", "unsat"), record
        assert record["verified"] is not False, record

    assert png.is_file()
    assert png.read_bytes().startswith(b"\x89PNG")
