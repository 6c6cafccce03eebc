"""The seed case, end to end with a real environment: legacy installs in a separate base
installation, a --system-site-packages venv over it, resolved offline from what is installed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import envbuild as eb
import pytest

pytestmark = pytest.mark.slow

PSYCOPG_REQUIRES = "typing-extensions>=4.1\n\n[c]\npsycopg-c==3.1.12\n\n[binary]\npsycopg-binary\n"


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seed")
    base_python = eb.make_base_installation(root / "base")
    base_site = root / "base" / "lib" / f"python{eb.PY}" / "site-packages"
    eb.write_egg_info_dir(base_site, "mysqlclient", "2.1.1")
    eb.write_egg_info_dir(base_site, "psycopg", "3.1.12", requires_txt=PSYCOPG_REQUIRES)
    eb.write_egg_dir(base_site, "psycopg-c", "3.1.12", requires_txt="psycopg==3.1.12\n")
    eb.write_dist_info(base_site, "typing-extensions", "4.8.0")
    return eb.make_venv(base_python, root / "venv", system_site_packages=True)


def depsat(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "depsat", *args], capture_output=True,
                          text=True, timeout=120, env=eb.clean_env(), check=False)


def test_keeps_system_packages_offline(venv: Path) -> None:
    run = depsat("resolve", "mysqlclient==2.1.1", "psycopg[c]", "--python", str(venv),
                 "--no-index", "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    packages = {p["name"]: p for p in json.loads(run.stdout)["packages"]}
    for name, version in [("mysqlclient", "2.1.1"), ("psycopg", "3.1.12"),
                          ("psycopg-c", "3.1.12"), ("typing-extensions", "4.8.0")]:
        assert packages[name]["version"] == version
        assert packages[name]["action"] == "keep", packages[name]
        assert packages[name]["source"] == "installed system"
    assert packages["psycopg"]["extras"] == ["c"]
    chain = packages["psycopg-c"]["reason"]
    assert chain[0] == {"requirement": "psycopg[c]", "required_by": None}
    assert chain[-1]["required_by"] == "psycopg[c] 3.1.12"


def test_unavailable_version_offline_is_unsatisfiable(venv: Path) -> None:
    run = depsat("resolve", "mysqlclient>=2.2", "--python", str(venv), "--no-index")
    assert run.returncode == 1
    assert "mysqlclient" in run.stderr
