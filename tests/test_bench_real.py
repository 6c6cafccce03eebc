"""The real-index benchmark, run against a local index served on 127.0.0.1 (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from indexbuild import build_index, serve

from benchmarks.bench_index import VENV_BIN
from benchmarks.bench_real import main

SPEC = {
    "app": {"1.0": {"requires": ["lib>=1"]}, "2.0": {"requires": ["lib>=2"]}},
    "lib": {"1.0": {}, "2.0": {}, "3.0": {"requires_python": "<3"}},
}


@pytest.mark.skipif(not (VENV_BIN / "uv").is_file() or not (VENV_BIN / "depsat").is_file(),
                    reason="needs .venv/bin/uv and .venv/bin/depsat")
def test_bench_real_on_a_local_index(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     ) -> None:
    build_index(SPEC, tmp_path / "index", pep658=False)
    plot = tmp_path / "real.png"
    with serve(tmp_path / "index") as url:
        assert main(["-r", "app", "--index-url", url.index_url, "--tools", "uv,depsat",
                     "--repeat", "1", "--out", str(tmp_path / "out"), "--plot", str(plot)]) == 0
    table = capsys.readouterr().out
    assert "depsat/uv cold" in table and "depsat/uv warm" in table
    assert plot.read_bytes().startswith(b"\x89PNG")
    result = json.loads(next((tmp_path / "out").glob("bench-real-*.json")).read_text())
    runs = {(r["tool"], r["cache"]): r for r in result["runs"]}
    assert set(runs) == {(tool, cache) for tool in ("uv", "depsat")
                         for cache in ("cold", "warm")}
    for run in runs.values():
        assert run["status"] == "solved", run
        assert run["pins"] == 2  # app 2.0 and lib 2.0: both tools read the same index
        assert run["seconds"] > 0 and run["cpu"] > 0
        assert (run["ratio"] is None) == (run["tool"] == "uv")


UNIVERSAL = {
    "app": {"1.0": {"requires": ["lib", "winlib ; sys_platform == 'win32'"]}},
    "lib": {"1.0": {}, "2.0": {"requires_python": ">=3.10"}},
    "winlib": {"1.0": {}},
}


@pytest.mark.skipif(not (VENV_BIN / "uv").is_file() or not (VENV_BIN / "depsat").is_file(),
                    reason="needs .venv/bin/uv and .venv/bin/depsat")
def test_bench_real_compares_universal_locks(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """``--universal``: both tools lock for every platform from Python 3.9 on, and agree on
    every class of environments their markers tell apart (lib 1.0 before 3.10, winlib on
    Windows)."""
    build_index(UNIVERSAL, tmp_path / "index", pep658=False)
    with serve(tmp_path / "index") as url:
        assert main(["-r", "app", "--index-url", url.index_url, "--tools", "uv,depsat",
                     "--repeat", "1", "--out", str(tmp_path / "out"), "--universal",
                     "--python-version", "3.9"]) == 0
    capsys.readouterr()
    result = json.loads(next((tmp_path / "out").glob("bench-real-*.json")).read_text())
    assert result["universal"] == "3.9"
    for run in result["runs"]:
        assert run["status"] == "solved", run
        assert run["pins"] == 4  # app, lib twice (by Python), winlib
        if run["tool"] == "depsat":
            same, total = run["agreement"]
            assert same == total >= 4  # Python below / from 3.10, on Windows or not
