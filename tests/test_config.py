"""Configuration files: depsat's own keys, uv's index keys, and errors that name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from depsat.config import find_config, load_settings
from depsat.errors import ConfigurationError
from depsat.source_rules import IndexStrategy, InstalledPinRule

PYPROJECT = """
[project]
name = "app"

[tool.depsat]
index-strategy = "unsafe-first-match"
installed-pins = "strict"
find-links = ["./wheels"]
objectives = ["keep-installed", "newest-direct"]

[[tool.depsat.index]]
name = "alpine"
url = "https://alpine.example/simple"

[tool.depsat.pins]
MySQLClient = "alpine"

[tool.depsat.package-strategies]
reportlab = "unsafe-best-match"

[[tool.uv.index]]
name = "pypi"
url = "https://pypi.example/simple"
default = true

[[tool.uv.index]]
name = "internal"
url = "https://internal.example/simple"
explicit = true

[tool.uv.sources]
cryptography = { index = "pypi" }
mylib = { git = "https://example.invalid/mylib" }
"""


def test_pyproject_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT)
    assert find_config(tmp_path) == path
    settings = load_settings(path)
    assert [i.name for i in settings.ordered_indexes()] == ["alpine", "internal", "pypi"]
    assert settings.pins == {"mysqlclient": "alpine", "cryptography": "pypi"}
    assert settings.strategy is IndexStrategy.UNSAFE_FIRST_MATCH
    assert settings.package_strategies == {"reportlab": IndexStrategy.UNSAFE_BEST_MATCH}
    assert settings.installed_pins is InstalledPinRule.STRICT
    assert settings.find_links == ("./wheels",)
    assert settings.objectives == ("keep-installed", "newest-direct")
    assert [i.name for i in settings.indexes if i.explicit] == ["internal"]


def test_per_platform_uv_index_sources_pin_by_the_target(tmp_path: Path) -> None:
    """uv's per-platform indexes (torch from one index on Linux, another elsewhere): the
    entry whose marker holds on the target is the pin; none when no target is given."""
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[[tool.uv.index]]\nname = "cpu"\nurl = "https://cpu.example/simple"\n'
        '[[tool.uv.index]]\nname = "cuda"\nurl = "https://cuda.example/simple"\n'
        "[tool.uv.sources]\ntorch = [\n"
        "  { index = \"cuda\", marker = \"sys_platform == 'linux'\" },\n"
        "  { index = \"cpu\", marker = \"sys_platform != 'linux'\" },\n]\n")
    for platform, pin in (("linux", "cuda"), ("darwin", "cpu")):
        settings = load_settings(path, {"sys_platform": platform})
        assert settings.pins == {"torch": pin}
    assert load_settings(path).pins == {}
    path.write_text(path.read_text().replace("sys_platform != 'linux'", "sys_platform !="))
    with pytest.raises(ConfigurationError, match=r"tool\.uv\.sources\.torch\.marker"):
        load_settings(path, {"sys_platform": "darwin"})


def test_standalone_file_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    own = tmp_path / "depsat.toml"
    own.write_text('index-strategy = "first-match"\n[[index]]\nname = "a"\nurl = "file:///x"\n')
    assert find_config(tmp_path) == own
    settings = load_settings(own)
    assert settings.strategy is IndexStrategy.FIRST_INDEX  # uv's alias
    assert [i.name for i in settings.indexes] == ["a"]


@pytest.mark.parametrize("text, key", [
    ('index-strategy = "fastest"', "index-strategy"),
    ('[[index]]\nname = "a"', "index[1].url"),
    ('[[index]]\nname = "a"\nurl = "x"\n[[index]]\nname = "a"\nurl = "y"', "index"),
    ('[[index]]\nname = "a"\nurl = "x"\n[pins]\nfoo = "b"', "pins.foo"),
    ('installed-pins = "maybe"', "installed-pins"),
    ('find-links = "one"', "find-links"),
    ('colour = "blue"', "top level"),
    ("index-strategy = ", "not valid TOML"),
])
def test_errors_name_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "depsat.toml"
    path.write_text(text)
    with pytest.raises(ConfigurationError) as info:
        load_settings(path)
    message = str(info.value)
    assert "depsat.toml" in message and key in message, message
