"""The seed story end to end with real parts: an Alpine system layer with legacy egg-info
installs, a --system-site-packages venv over it, a PyPI-like and an Alpine-like index served
over HTTP on 127.0.0.1, a musllinux target, and per-index pins."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import envbuild as eb
import indexbuild
import pytest

pytestmark = pytest.mark.slow

MUSL = "cp37-abi3-musllinux_1_1_x86_64"
PYPI = {
    "cryptography": {"41.0.3": {"wheel_tags": ["cp37-abi3-manylinux_2_28_x86_64", MUSL],
                                "sdist": False, "requires_python": ">=3.7"}},
}
ALPINE = {
    "cryptography": {v: {"wheel_tags": [MUSL], "sdist": False, "requires_python": ">=3.7"}
                     for v in ("40.0.2", "41.0.3")},
    "mysqlclient": {"2.1.1": {"wheel_tags": ["cp311-cp311-musllinux_1_1_x86_64"],
                              "sdist": False, "requires_python": ">=3.7"}},
    "reportlab": {"4.0.4": {"wheel_tags": ["py3-none-any"], "sdist": False,
                            "requires_python": ">=3.7"}},
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("seed-indexes")
    base_python = eb.make_base_installation(root / "base")
    base_site = root / "base" / "lib" / f"python{eb.PY}" / "site-packages"
    eb.write_egg_info_dir(base_site, "mysqlclient", "2.1.1")
    eb.write_egg_info_dir(base_site, "cryptography", "40.0.2")
    venv = eb.make_venv(base_python, root / "venv", system_site_packages=True)
    indexbuild.build_index(PYPI, root / "pypi")
    indexbuild.build_index(ALPINE, root / "alpine")
    only_old = {**ALPINE, "cryptography": {"40.0.2": ALPINE["cryptography"]["40.0.2"]}}
    indexbuild.build_index(only_old, root / "alpine-old")
    with indexbuild.serve(root / "pypi") as pypi, indexbuild.serve(root / "alpine") as alpine, \
            indexbuild.serve(root / "alpine-old") as alpine_old:
        yield {"venv": venv, "pypi": pypi.index_url, "alpine": alpine.index_url,
               "alpine_old": alpine_old.index_url, "cache": root / "cache"}


def depsat(world: dict[str, Any], alpine: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "depsat", "resolve", "cryptography==41.0.3",
               "mysqlclient", "reportlab", "--python", str(world["venv"]),
               "--python-platform", "x86_64-unknown-linux-musl", "--python-version", "3.11",
               "--index", f"alpine={world[alpine]}", "--index", f"pypi={world['pypi']}",
               "--cache-dir", str(world["cache"]), "--no-config", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env=eb.clean_env(), check=False)


def plan(run: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert run.returncode == 0, run.stdout + run.stderr
    return {p["name"]: p for p in json.loads(run.stdout)["packages"]}


def test_pin_takes_cryptography_from_pypi(world: dict[str, Any]) -> None:
    packages = plan(depsat(world, "alpine", "--pin", "cryptography=pypi", "--json"))
    crypto = packages["cryptography"]
    assert (crypto["version"], crypto["source"], crypto["action"]) == (
        "41.0.3", "index pypi", "shadow")
    assert crypto["previous"] == "40.0.2" and "read-only" in crypto["note"]
    assert (packages["mysqlclient"]["action"], packages["mysqlclient"]["source"]) == (
        "keep", "installed system")
    assert (packages["reportlab"]["source"], packages["reportlab"]["action"]) == (
        "index alpine", "install")


def test_first_index_without_pin_takes_alpine(world: dict[str, Any]) -> None:
    packages = plan(depsat(world, "alpine", "--json"))
    assert packages["cryptography"]["source"] == "index alpine"
    assert packages["cryptography"]["version"] == "41.0.3"


def test_per_package_strategy_override(world: dict[str, Any]) -> None:
    # unsafe-first-match for cryptography alone searches every index: alpine comes first but
    # has no 41.0.3, so cryptography==41.0.3 is taken from pypi without a pin.
    first_match = plan(depsat(world, "alpine_old", "--package-strategy",
                              "cryptography=unsafe-first-match", "--json"))
    assert first_match["cryptography"]["source"] == "index pypi"
    bad = depsat(world, "alpine", "--package-strategy", "cryptography=fastest")
    assert bad.returncode == 2 and "--package-strategy" in bad.stderr


def test_first_index_hides_pypi_and_the_explanation_says_so(world: dict[str, Any]) -> None:
    run = depsat(world, "alpine_old")
    assert run.returncode == 1
    text = run.stderr
    assert "index pypi" in text and "index alpine" in text, text
    pin_fix = next(line for line in text.splitlines() if "--pin cryptography=pypi" in line)
    assert "not checked" not in pin_fix, pin_fix  # confirmed by resolving with the pin
    pinned = plan(depsat(world, "alpine_old", "--pin", "cryptography=pypi", "--json"))
    assert pinned["cryptography"]["source"] == "index pypi"
