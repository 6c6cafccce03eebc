"""The environment a resolution is for: Python version, marker values, wheel tags.

Defaults come from the running interpreter; everything can be overridden, so one machine can
resolve for another (a musllinux Alpine box, say) without running it.
"""

from __future__ import annotations

import os
import platform as _platform
from collections.abc import Callable, Mapping

import attrs
from packaging import tags as _tags
from packaging.markers import Marker, default_environment
from packaging.tags import Tag
from packaging.version import Version

from depsat.errors import ConfigurationError

__all__ = ["Target", "platform_tags"]


@attrs.frozen(slots=True)
class Target:
    """Python version, PEP 508 marker environment and supported wheel tags (best first).

    `tags` None means "any wheel is acceptable" (static universes without tag data).
    """

    python_version: Version
    markers: Mapping[str, str] = attrs.field(eq=False, hash=False)
    tags: tuple[Tag, ...] | None = None
    platform: str | None = None
    marker_holds: Callable[[Marker, str], bool] | None = attrs.field(default=None, eq=False,
                                                                     hash=False)
    """Whether a marker holds, given the extra it is read for, in place of evaluating it in
    `markers`: for a universal resolution's cell of environments, "in some of them"
    (`depsat.universal`). None: evaluated in `markers`."""

    @classmethod
    def current(cls) -> Target:
        """The running interpreter."""
        return cls(
            python_version=Version(_platform.python_version()),
            markers={k: str(v) for k, v in default_environment().items()},
            tags=tuple(_tags.sys_tags()),
        )

    @classmethod
    def for_python(
        cls,
        python_version: str,
        *,
        platform: str | None = None,
        marker_overrides: Mapping[str, str] | None = None,
    ) -> Target:
        """A target with the given Python version (``3.12`` or ``3.12.1``) and optional platform.

        The marker environment starts from the running interpreter's, with the Python version
        (and, for a platform, ``sys_platform``/``platform_system``/``platform_machine``) replaced.
        """
        try:
            version = Version(python_version)
        except Exception as exc:
            raise ConfigurationError(
                f"invalid Python version {python_version!r}", "--python-version"
            ) from exc
        release = version.release + (0,) * (3 - len(version.release))
        full = ".".join(str(p) for p in release[:3])
        markers = {k: str(v) for k, v in default_environment().items()}
        markers["python_version"] = f"{release[0]}.{release[1]}"
        markers["python_full_version"] = full
        markers["implementation_version"] = full
        tag_list: tuple[Tag, ...] | None = None
        if platform is not None:
            tag_list = platform_tags(platform, (release[0], release[1]))
            markers.update(_platform_markers(platform))
        elif python_version.count(".") >= 1:
            tag_list = tuple(
                _tags.cpython_tags((release[0], release[1]))
            ) + tuple(_tags.compatible_tags((release[0], release[1])))
        if marker_overrides:
            markers.update(marker_overrides)
        return cls(python_version=Version(full), markers=markers, tags=tag_list, platform=platform)


def _platform_markers(platform: str) -> dict[str, str]:
    arch = platform.split("-", 1)[0]
    if "windows" in platform:
        return {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
                "platform_machine": "AMD64" if arch == "x86_64" else arch}
    if "macos" in platform or "darwin" in platform:
        return {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix",
                "platform_machine": arch}
    return {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
            "platform_machine": arch}


_MANYLINUX_ALIASES = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def platform_tags(platform: str, python: tuple[int, int]) -> tuple[Tag, ...]:
    """Wheel tags for a uv-style platform name, best first.

    Understands ``x86_64-unknown-linux-gnu`` / ``-musl``, ``x86_64-manylinux_2_28``,
    ``x86_64-manylinux2014``, ``aarch64-apple-darwin``, ``x86_64-pc-windows-msvc``, ``linux``,
    ``macos``, ``windows``. packaging computes tags only for the running machine, so the platform
    list is built here by hand; packaging still orders interpreter and ABI tags.
    """
    arch, _, rest = platform.partition("-")
    if platform in ("linux", "macos", "windows"):
        arch, rest = "x86_64", platform
    platforms: list[str]
    if "musl" in rest:
        platforms = [f"musllinux_1_{minor}_{arch}" for minor in range(2, -1, -1)]
        platforms.append(f"linux_{arch}")
    elif "manylinux" in rest or rest in ("linux", "unknown-linux-gnu", "linux-gnu"):
        glibc = (2, 28) if "manylinux" not in rest else _manylinux_version(rest, platform)
        platforms = [
            f"manylinux_{glibc[0]}_{minor}_{arch}" for minor in range(glibc[1], 4, -1)
        ]
        legacy = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
        expanded: list[str] = []
        for plat in platforms:
            expanded.append(plat)
            minor = int(plat.split("_")[2])
            if (2, minor) in legacy:
                expanded.append(f"{legacy[(2, minor)]}_{arch}")
        platforms = [*expanded, f"linux_{arch}"]
    elif "apple" in rest or "darwin" in rest or rest == "macos":
        platforms = list(_tags.mac_platforms(_macos_version(),
                                             "arm64" if arch == "aarch64" else arch))
    elif "windows" in rest:
        platforms = ["win_amd64" if arch == "x86_64" else f"win_{arch}"]
    else:
        raise ConfigurationError(f"unknown platform {platform!r}", "--python-platform")
    return tuple(_tags.cpython_tags(python, platforms=platforms)) + tuple(
        _tags.compatible_tags(python, platforms=platforms)
    )


_MACOS_DEFAULT = (13, 0)
"""The macOS a darwin target runs when nothing says, as uv 0.13 assumes (the oldest macOS it
calls supported). 14.0 took wheels that macOS 13 cannot install: torch 2.12 on is built for
macOS 14, and uv resolves torch 2.11 for the same target."""


def _macos_version() -> tuple[int, int]:
    """``MACOSX_DEPLOYMENT_TARGET`` (``14`` or ``14.0``), as uv and the build tools read it;
    else `_MACOS_DEFAULT`."""
    given = os.environ.get("MACOSX_DEPLOYMENT_TARGET", "").strip()
    if not given:
        return _MACOS_DEFAULT
    major, _, minor = given.partition(".")
    try:
        return int(major), int(minor or 0)
    except ValueError:
        raise ConfigurationError(f"MACOSX_DEPLOYMENT_TARGET={given!r} is not a macOS "
                                 "version such as 14.0", "MACOSX_DEPLOYMENT_TARGET") from None


def _manylinux_version(rest: str, platform: str) -> tuple[int, int]:
    name = rest.split("-")[-1]
    if name in _MANYLINUX_ALIASES:
        return _MANYLINUX_ALIASES[name]
    parts = name.split("_")
    try:
        return int(parts[1]), int(parts[2])
    except (IndexError, ValueError) as exc:
        raise ConfigurationError(f"unknown platform {platform!r}", "--python-platform") from exc
