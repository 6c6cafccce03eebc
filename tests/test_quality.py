"""The code-quality gates run as tests, so the README's one test command checks them too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

BIN = Path(sys.executable).parent


@pytest.mark.parametrize("command", [
    [str(BIN / "ruff"), "check", "src", "tests", "benchmarks"],
    [sys.executable, "-m", "mypy", "src"],
    [str(BIN / "lint-imports")],
], ids=["ruff", "mypy-strict", "import-contracts"])
def test_gate(command: list[str]) -> None:
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                         check=False)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
