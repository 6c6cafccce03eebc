"""Targets for other machines: the wheel tags a uv-style platform name stands for."""

from __future__ import annotations

import pytest
from packaging.tags import Tag

from depsat.errors import ConfigurationError
from depsat.target import Target


def _platforms(target: Target) -> set[str]:
    return {tag.platform for tag in target.tags or ()}


def test_a_mac_target_is_the_oldest_supported_macos_unless_told(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """As uv: macOS 13 by default (a wheel built for macOS 14 would not install there), or
    MACOSX_DEPLOYMENT_TARGET."""
    monkeypatch.delenv("MACOSX_DEPLOYMENT_TARGET", raising=False)
    default = _platforms(Target.for_python("3.12", platform="aarch64-apple-darwin"))
    assert "macosx_13_0_arm64" in default and "macosx_11_0_arm64" in default
    assert "macosx_14_0_arm64" not in default
    monkeypatch.setenv("MACOSX_DEPLOYMENT_TARGET", "14")
    told = Target.for_python("3.12", platform="aarch64-apple-darwin")
    assert "macosx_14_0_arm64" in _platforms(told)
    assert Tag("cp312", "cp312", "macosx_14_0_arm64") in (told.tags or ())
    monkeypatch.setenv("MACOSX_DEPLOYMENT_TARGET", "sonoma")
    with pytest.raises(ConfigurationError, match="MACOSX_DEPLOYMENT_TARGET"):
        Target.for_python("3.12", platform="aarch64-apple-darwin")


def test_linux_targets_are_uvs() -> None:
    gnu = _platforms(Target.for_python("3.12", platform="x86_64-unknown-linux-gnu"))
    assert "manylinux_2_28_x86_64" in gnu and "manylinux_2_31_x86_64" not in gnu
    musl = _platforms(Target.for_python("3.12", platform="x86_64-unknown-linux-musl"))
    assert "musllinux_1_2_x86_64" in musl and not any("manylinux" in p for p in musl)
